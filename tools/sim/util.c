/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>

#include "util.h"


double
sim_util_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


double
sim_util_wall(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


void
sim_util_die(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    fprintf(stderr, "voice-sim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);

    exit(2);
}


void *
sim_util_grow(void *p, size_t *size, size_t need, size_t elt)
{
    size_t  n;

    if (need <= *size) {
        return p;
    }

    n = *size ? *size : 4096;

    while (n < need) {
        n *= 2;
    }

    p = realloc(p, n * elt);
    if (p == NULL) {
        sim_util_die("out of memory");
    }

    *size = n;

    return p;
}


void
sim_util_base64(const uint8_t *in, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *) out, in, (int) len);
}


void
sim_util_write_file(const char *name, const void *hdr, size_t hlen,
    const void *data, size_t len)
{
    FILE  *f;

    f = fopen(name, "wb");

    if (f == NULL || (hlen && fwrite(hdr, 1, hlen, f) != hlen)
        || (len && fwrite(data, 1, len, f) != len))
    {
        sim_util_die("cannot write %s", name);
    }

    fclose(f);
}

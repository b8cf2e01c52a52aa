/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"


static FILE  *bp_log_file;


int64_t
bp_log_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


int
bp_log_open(const char *file)
{
    bp_log_file = fopen(file, "w");
    if (bp_log_file == NULL) {
        fprintf(stderr, "bench-providers: cannot open %s: %s\n", file,
                strerror(errno));
        return -1;
    }

    setvbuf(bp_log_file, NULL, _IOFBF, 1 << 20);

    return 0;
}


void
bp_log_event(int64_t t, const char *event, const char *id, int k)
{
    fprintf(bp_log_file, "%lld %s %s %d\n", (long long) t, event,
            id[0] ? id : "-", k);
}


int
bp_log_key(const char *b64, size_t len)
{
    size_t    i;
    uint32_t  h;

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h = (h ^ (uint8_t) b64[i]) * 16777619u;
    }

    return (int) (h & 0x7fffffff);
}


void
bp_log_close(void)
{
    fflush(bp_log_file);
    fclose(bp_log_file);
}

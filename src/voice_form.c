/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdlib.h>
#include <string.h>

#include "voice_form.h"


static size_t voice_form_decode(uint8_t *s, size_t len);
static int voice_form_hex(uint8_t c);
static int voice_form_bytes_cmp(const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen);


size_t
voice_form_count(const uint8_t *body, size_t len)
{
    size_t  i, n;

    n = 1;

    for (i = 0; i < len; i++) {
        if (body[i] == '&') {
            n++;
        }
    }

    return n;
}


long
voice_form_parse(uint8_t *body, size_t len, voice_form_param_t *params,
    size_t max)
{
    size_t    n, nlen, vlen;
    uint8_t  *p, *end, *amp, *eq;

    n = 0;
    p = body;
    end = body + len;

    while (p < end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            p++;
            continue;
        }

        if (n == max) {
            return -1;
        }

        eq = memchr(p, '=', amp - p);

        if (eq == NULL) {
            nlen = voice_form_decode(p, amp - p);
            vlen = 0;
            params[n].value = amp;

        } else {
            nlen = voice_form_decode(p, eq - p);
            vlen = voice_form_decode(eq + 1, amp - eq - 1);
            params[n].value = eq + 1;
        }

        if (nlen == (size_t) -1 || vlen == (size_t) -1) {
            return -1;
        }

        params[n].name = p;
        params[n].name_len = nlen;
        params[n].value_len = vlen;
        n++;

        p = amp + 1;
    }

    return (long) n;
}


/* decodes "+" and "%XX" in place; the result never grows */
static size_t
voice_form_decode(uint8_t *s, size_t len)
{
    int     hi, lo;
    size_t  i, o;

    for (i = 0, o = 0; i < len; i++, o++) {

        if (s[i] == '+') {
            s[o] = ' ';

        } else if (s[i] == '%') {
            if (i + 2 >= len) {
                return (size_t) -1;
            }

            hi = voice_form_hex(s[i + 1]);
            lo = voice_form_hex(s[i + 2]);

            if (hi < 0 || lo < 0) {
                return (size_t) -1;
            }

            s[o] = (uint8_t) (hi << 4 | lo);
            i += 2;

        } else {
            s[o] = s[i];
        }
    }

    return o;
}


static int
voice_form_hex(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
voice_form_bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen)
{
    int  rc;

    rc = memcmp(a, b, alen < blen ? alen : blen);

    if (rc != 0) {
        return rc;
    }

    return (alen > blen) - (alen < blen);
}


int
voice_form_cmp(const void *a, const void *b)
{
    int                        rc;
    const voice_form_param_t  *pa, *pb;

    pa = a;
    pb = b;

    rc = voice_form_bytes_cmp(pa->name, pa->name_len, pb->name, pb->name_len);

    if (rc != 0) {
        return rc;
    }

    return voice_form_bytes_cmp(pa->value, pa->value_len, pb->value,
                           pb->value_len);
}


void
voice_form_sort(voice_form_param_t *params, size_t n)
{
    if (n > 1) {
        qsort(params, n, sizeof(voice_form_param_t), voice_form_cmp);
    }
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_utf8.h"


int
voice_utf8_valid(const uint8_t *p, size_t len)
{
    size_t          n;
    uint64_t        w;
    const uint8_t  *end;

    end = p + len;

    while (p < end) {

        /*
         * Text is mostly ASCII: eight bytes at a time while no high bit
         * is set, then the exact check from the first byte that has one.
         */

        if (end - p >= 8) {
            memcpy(&w, p, 8);

            if ((w & 0x8080808080808080ULL) == 0) {
                p += 8;
                continue;
            }
        }

        if (*p < 0x80) {
            p++;
            continue;
        }

        n = voice_utf8_seq_len(p, end - p);

        if (n == 0) {
            return 0;
        }

        p += n;
    }

    return 1;
}


size_t
voice_utf8_seq_len(const uint8_t *p, size_t len)
{
    size_t    n, i;
    uint32_t  u, min;

    if (len == 0) {
        return 0;
    }

    if (p[0] < 0x80) {
        return 1;
    }

    /* 0xc0 and 0xc1 could only start overlong forms, 0xf5 and up too big */

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        u = p[0] & 0x1f;
        min = 0x80;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        u = p[0] & 0x0f;
        min = 0x800;

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        u = p[0] & 0x07;
        min = 0x10000;

    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        u = u << 6 | (p[i] & 0x3f);
    }

    if (u < min || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
        return 0;
    }

    return n;
}


size_t
voice_utf8_cut(const uint8_t *p, size_t len, size_t max)
{
    size_t  i;

    if (len <= max) {
        return len;
    }

    /* p[max] continues a sequence: does the lead before it reach past */

    for (i = max; i > 0 && max - i < 3 && (p[i] & 0xc0) == 0x80; i--) {
        /* void */
    }

    if (i < max && voice_utf8_seq_len(p + i, len - i) > max - i) {
        return i;
    }

    return max;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include "voice_log.h"


size_t
voice_log_escape(uint8_t *out, const uint8_t *s, size_t len)
{
    size_t   i, n;
    uint8_t  c;

    static const char  hex[] = "0123456789abcdef";

    n = 0;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (out) {
                out[n] = c;
            }

            n++;
            continue;
        }

        if (out) {
            out[n] = '\\';
            out[n + 1] = 'x';
            out[n + 2] = hex[c >> 4];
            out[n + 3] = hex[c & 0x0f];
        }

        n += 4;
    }

    return n;
}

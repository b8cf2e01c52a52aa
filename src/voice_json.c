/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_json.h"


static size_t voice_utf8_len(const uint8_t *p, size_t len);


size_t
voice_json_escape(uint8_t *out, const uint8_t *in, size_t len)
{
    size_t          n, k;
    uint8_t         c;
    const uint8_t  *p, *end;
    static const char  hex[] = "0123456789abcdef";

    n = 0;
    p = in;
    end = in + len;

    while (p < end) {
        c = *p;

        if (c >= 0x80) {
            k = voice_utf8_len(p, end - p);

            if (k == 0) {
                /* not UTF-8: U+FFFD */
                if (out) {
                    memcpy(out + n, "\xef\xbf\xbd", 3);
                }

                n += 3;
                p++;
                continue;
            }

            if (out) {
                memcpy(out + n, p, k);
            }

            n += k;
            p += k;
            continue;
        }

        if (c == '"' || c == '\\') {
            if (out) {
                out[n] = '\\';
                out[n + 1] = c;
            }

            n += 2;

        } else if (c < 0x20) {
            if (out) {
                out[n] = '\\';

                switch (c) {
                case '\n': out[n + 1] = 'n'; break;
                case '\r': out[n + 1] = 'r'; break;
                case '\t': out[n + 1] = 't'; break;
                case '\b': out[n + 1] = 'b'; break;
                case '\f': out[n + 1] = 'f'; break;
                default:
                    memcpy(out + n + 1, "u00", 3);
                    out[n + 4] = hex[c >> 4];
                    out[n + 5] = hex[c & 0x0f];
                }
            }

            n += (c == '\n' || c == '\r' || c == '\t' || c == '\b'
                  || c == '\f') ? 2 : 6;

        } else {
            if (out) {
                out[n] = c;
            }

            n++;
        }

        p++;
    }

    return n;
}


/* the length of a valid UTF-8 sequence at p (RFC 3629), or 0 */

static size_t
voice_utf8_len(const uint8_t *p, size_t len)
{
    size_t    n, i;
    uint32_t  u, min;

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

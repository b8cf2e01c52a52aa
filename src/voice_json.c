/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_json.h"
#include "voice_utf8.h"


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
            k = voice_utf8_seq_len(p, end - p);

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


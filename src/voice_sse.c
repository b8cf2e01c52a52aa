/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_sse.h"


void
voice_sse_init(voice_sse_t *p, uint8_t *buf, size_t cap)
{
    memset(p, 0, sizeof(voice_sse_t));

    p->buf = buf;
    p->cap = cap;
    p->line_start = 1;
}


static void
voice_sse_put(voice_sse_t *p, uint8_t c)
{
    if (p->len == p->cap) {
        p->overflow = 1;
        return;
    }

    p->buf[p->len++] = c;
}


int
voice_sse_feed(voice_sse_t *p, const uint8_t *in, size_t len,
    size_t *consumed, const uint8_t **data, size_t *data_len)
{
    int      rc;
    size_t   i;
    uint8_t  c;

    for (i = 0; i < len; i++) {
        c = in[i];

        if (c == '\n' && p->last_cr) {
            /* the second half of a CRLF */
            p->last_cr = 0;
            continue;
        }

        p->last_cr = (c == '\r');

        if (c == '\r' || c == '\n') {

            if (p->line_start) {
                /* a blank line: dispatch */

                if (!p->has_data) {
                    continue;
                }

                rc = p->overflow ? VOICE_SSE_ERROR : VOICE_SSE_EVENT;

                *data = p->buf;
                *data_len = p->len;
                *consumed = i + 1;

                p->len = 0;
                p->has_data = 0;
                p->overflow = 0;

                return rc;
            }

            /* the end of a field line; "data" without a colon counts */

            if (!p->in_value && p->name_len == 4
                && memcmp(p->name, "data", 4) == 0)
            {
                if (p->has_data) {
                    voice_sse_put(p, '\n');
                }

                p->has_data = 1;
            }

            p->line_start = 1;
            p->in_value = 0;
            p->name_len = 0;
            p->field = 0;
            continue;
        }

        if (p->line_start) {
            p->line_start = 0;
            p->name_len = 0;
            p->in_value = 0;
            p->field = (c == ':') ? 2 : 0;

            if (c == ':') {
                /* a comment */
                p->in_value = 1;
                continue;
            }
        }

        if (!p->in_value) {
            if (c == ':') {
                p->in_value = 1;
                p->skip_space = 1;

                if (p->name_len == 4 && memcmp(p->name, "data", 4) == 0) {
                    p->field = 1;

                    if (p->has_data) {
                        voice_sse_put(p, '\n');
                    }

                    p->has_data = 1;

                } else {
                    p->field = 2;
                }

                continue;
            }

            if (p->name_len < sizeof(p->name)) {
                p->name[p->name_len] = (char) c;
            }

            p->name_len++;
            continue;
        }

        if (p->skip_space) {
            p->skip_space = 0;

            if (c == ' ') {
                continue;
            }
        }

        if (p->field == 1) {
            voice_sse_put(p, c);
        }
    }

    *consumed = len;

    return VOICE_SSE_AGAIN;
}

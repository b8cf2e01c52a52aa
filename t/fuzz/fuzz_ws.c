/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The frame parser on arbitrary bytes: never out of bounds, and the same
 * events whether the input arrives whole or cut at a point taken from the
 * input itself.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_ws.h"


#define CAP  4096

typedef struct {
    int       rc;
    unsigned  code;
    size_t    len;
    uint32_t  sum;
} ev_t;


static int
run(const uint8_t *in, size_t len, size_t cut, int server, ev_t *evs,
    int max)
{
    int                rc, n;
    size_t             used, from, to, i;
    voice_ws_event_t   e;
    voice_ws_parser_t  p;
    static uint8_t     msg[CAP];

    voice_ws_parser_init(&p, server, msg, CAP);

    n = 0;
    from = 0;
    to = cut;

    for ( ;; ) {
        while (from < to && n < max) {
            rc = voice_ws_parse(&p, in + from, to - from, &used, &e);

            if (used > to - from) {
                abort();
            }

            from += used;

            if (rc == VOICE_WS_AGAIN) {
                break;
            }

            evs[n].rc = rc;
            evs[n].code = e.close_code;
            evs[n].len = e.len;
            evs[n].sum = 0;

            for (i = 0; i < e.len; i++) {
                evs[n].sum = evs[n].sum * 31 + e.data[i];
            }

            n++;

            if (rc == VOICE_WS_ERROR) {
                return n;
            }
        }

        if (to == len || n == max) {
            return n;
        }

        to = len;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     n1, n2, i, server;
    size_t  cut;
    ev_t    a[64], b[64];

    if (size < 1) {
        return 0;
    }

    server = data[0] & 1;
    cut = size > 1 ? 1 + data[0] % (size - 1) : 1;

    n1 = run(data + 1, size - 1, size - 1, server, a, 64);
    n2 = run(data + 1, size - 1, cut - 1, server, b, 64);

    if (n1 != n2) {
        abort();
    }

    for (i = 0; i < n1; i++) {
        if (a[i].rc != b[i].rc || a[i].code != b[i].code
            || a[i].len != b[i].len || a[i].sum != b[i].sum)
        {
            abort();
        }
    }

    return 0;
}

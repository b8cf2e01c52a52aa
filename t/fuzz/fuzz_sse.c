/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * An LLM stream as the agent reads it: SSE events out of reads cut at
 * sizes taken from the input, each event's data through the delta parser.
 * Never out of bounds, every read consumed, and the same events and texts
 * whether the stream arrives whole or in pieces.
 *
 * Input: byte 0 (low 4 bits) is how many read sizes follow, each byte one
 * read of 1 to 256 bytes, used in turn; the rest is the stream.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_sse.h"
#include "voice_llm.h"


#define SSE_CAP   64                /* events overflow often */
#define TEXT_CAP  32                /* and so do texts */


typedef struct {
    uint64_t  sum;
    size_t    events;
} trace_t;


static uint8_t  sse_buf[SSE_CAP];
static uint8_t  text[TEXT_CAP];


static void
mix(trace_t *t, const uint8_t *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        t->sum = (t->sum ^ p[i]) * 0x100000001b3ULL;
    }
}


static void
mix_int(trace_t *t, size_t v)
{
    mix(t, (const uint8_t *) &v, sizeof(size_t));
}


static void
event(trace_t *t, int rc, const uint8_t *data, size_t len)
{
    int     drc;
    size_t  tlen;

    if (data < sse_buf || len > SSE_CAP || data + len > sse_buf + SSE_CAP) {
        abort();
    }

    t->events++;
    mix_int(t, rc);
    mix_int(t, len);
    mix(t, data, len);

    if (rc != VOICE_SSE_EVENT) {
        /* the agent drops an event that did not fit */
        return;
    }

    drc = voice_llm_delta(data, len, text, TEXT_CAP, &tlen, NULL);

    if (drc < VOICE_LLM_NONE || drc > VOICE_LLM_INVALID || tlen > TEXT_CAP
        || (drc == VOICE_LLM_TEXT && tlen == 0))
    {
        abort();
    }

    mix_int(t, drc);
    mix_int(t, tlen);
    mix(t, text, tlen);
}


static void
run(const uint8_t *in, size_t len, const uint8_t *sizes, size_t nsizes,
    trace_t *t)
{
    int             rc;
    size_t          pos, k, n, used, dlen;
    const uint8_t  *p, *data;
    voice_sse_t     sse;

    voice_sse_init(&sse, sse_buf, SSE_CAP);

    t->sum = 0xcbf29ce484222325ULL;
    t->events = 0;

    pos = 0;
    k = 0;

    while (pos < len) {
        n = nsizes ? (size_t) sizes[k++ % nsizes] + 1 : len - pos;
        n = n < len - pos ? n : len - pos;
        p = in + pos;
        pos += n;

        /* as the agent's read handler: until the read is used up */

        while (n) {
            data = NULL;
            dlen = 0;

            rc = voice_sse_feed(&sse, p, n, &used, &data, &dlen);

            if (used == 0 || used > n
                || (rc == VOICE_SSE_AGAIN && used != n))
            {
                abort();
            }

            p += used;
            n -= used;

            if (rc == VOICE_SSE_AGAIN) {
                continue;
            }

            if (rc != VOICE_SSE_EVENT && rc != VOICE_SSE_ERROR) {
                abort();
            }

            event(t, rc, data, dlen);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t   nsizes;
    trace_t  whole, split;

    if (size < 1) {
        return 0;
    }

    nsizes = data[0] & 0x0f;
    nsizes = nsizes < size - 1 ? nsizes : size - 1;

    run(data + 1 + nsizes, size - 1 - nsizes, NULL, 0, &whole);
    run(data + 1 + nsizes, size - 1 - nsizes, data + 1, nsizes, &split);

    if (whole.sum != split.sum || whole.events != split.events) {
        abort();
    }

    return 0;
}

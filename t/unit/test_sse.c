/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include "unit.h"
#include "voice_sse.h"


static const char  *stream =
    ": keep-alive comment\r\n"
    "data: {\"a\":1}\r\n"
    "\r\n"
    "event: message\n"
    "data: line one\n"
    "data:line two\n"
    "id: 7\n"
    "\n"
    "data: x\r\r"
    "data\n\n"
    "data: [DONE]\n\n";

static const char  *want[] = {
    "{\"a\":1}", "line one\nline two", "x", "", "[DONE]"
};


static int
run(const char *in, size_t len, size_t step, char out[][64])
{
    int             rc, n;
    size_t          pos, chunk, used, dlen;
    uint8_t         buf[256];
    voice_sse_t     p;
    const uint8_t  *data;

    voice_sse_init(&p, buf, sizeof(buf));

    n = 0;
    pos = 0;

    while (pos < len) {
        chunk = (len - pos < step) ? len - pos : step;

        while (chunk) {
            rc = voice_sse_feed(&p, (const uint8_t *) in + pos, chunk, &used,
                                &data, &dlen);
            pos += used;
            chunk -= used;

            if (rc == VOICE_SSE_EVENT && n < 16) {
                memcpy(out[n], data, dlen);
                out[n][dlen] = '\0';
                n++;
            }
        }
    }

    return n;
}


int
main(void)
{
    int     i, n;
    size_t  step, len, bad;
    char    out[16][64];
    char    big[600];
    uint8_t buf[64];
    voice_sse_t     p;
    size_t          used, dlen;
    const uint8_t  *data;

    len = strlen(stream);
    bad = 0;

    for (step = 1; step <= len; step++) {
        n = run(stream, len, step, out);

        if (n != 5) {
            bad++;
            continue;
        }

        for (i = 0; i < 5; i++) {
            bad += strcmp(out[i], want[i]) != 0;
        }
    }

    CHECK_INT(bad, 0);

    n = run(stream, len, len, out);
    CHECK_INT(n, 5);
    CHECK_STR(out[1], "line one\nline two");

    /* an event larger than the buffer is reported and skipped */

    memcpy(big, "data: ", 6);
    memset(big + 6, 'a', 100);
    memcpy(big + 106, "\n\ndata: ok\n\n", 12);

    voice_sse_init(&p, buf, sizeof(buf));
    CHECK_INT(voice_sse_feed(&p, (uint8_t *) big, 118, &used, &data, &dlen),
              VOICE_SSE_ERROR);
    CHECK_INT(voice_sse_feed(&p, (uint8_t *) big + used, 118 - used, &used,
                             &data, &dlen), VOICE_SSE_EVENT);
    CHECK_MEM(data, dlen, "ok", 2);

    UNIT_DONE("sse");
}

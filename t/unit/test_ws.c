/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include "unit.h"
#include "voice_ws.h"


#define MAX_EVENTS  32

typedef struct {
    int       rc;
    int       opcode;
    unsigned  code;
    size_t    len;
    uint8_t   data[70000];
} event_t;

static event_t  got[MAX_EVENTS], want[MAX_EVENTS];
static uint8_t  stream[200000];
static uint8_t  msgbuf[100000];
static const uint8_t  key[4] = { 0x12, 0x34, 0x56, 0x78 };


static size_t
frame(uint8_t *out, int opcode, int fin, const char *data, size_t len,
    int masked)
{
    size_t  n;

    n = voice_ws_frame_header(out, opcode, fin, len, masked ? key : NULL);
    memcpy(out + n, data, len);

    if (masked) {
        voice_ws_mask(out + n, len, key, 0);
    }

    return n + len;
}


/* parses the stream cut at the given points; returns the event count */

static int
run(const uint8_t *in, size_t len, const size_t *cuts, int ncuts,
    event_t *ev, int server, size_t cap)
{
    int                rc, n, c;
    size_t             used, from, to;
    voice_ws_event_t   e;
    voice_ws_parser_t  p;

    voice_ws_parser_init(&p, server, msgbuf, cap);

    n = 0;
    from = 0;

    for (c = 0; c <= ncuts; c++) {
        to = (c < ncuts) ? cuts[c] : len;

        while (from < to) {
            rc = voice_ws_parse(&p, in + from, to - from, &used, &e);
            from += used;

            if (rc == VOICE_WS_AGAIN) {
                if (from != to) {
                    return -1;
                }
                break;
            }

            if (n == MAX_EVENTS) {
                return -1;
            }

            ev[n].rc = rc;
            ev[n].opcode = e.opcode;
            ev[n].code = e.close_code;
            ev[n].len = e.len;
            memcpy(ev[n].data, e.data ? e.data : (const uint8_t *) "",
                   e.len);
            n++;

            if (rc == VOICE_WS_ERROR) {
                return n;
            }
        }
    }

    return n;
}


static int
same(const event_t *a, const event_t *b, int n)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (a[i].rc != b[i].rc || a[i].opcode != b[i].opcode
            || a[i].code != b[i].code || a[i].len != b[i].len
            || memcmp(a[i].data, b[i].data, a[i].len) != 0)
        {
            return 0;
        }
    }

    return 1;
}


static void
test_splits(void)
{
    int      n, m, bad;
    size_t   len, i, cut, cuts[200000];
    char     big[70000];
    uint8_t  close[5] = { 0x03, 0xe8, 'b', 'y', 'e' };

    memset(big, 'x', sizeof(big));

    len = 0;
    len += frame(stream + len, VOICE_WS_OP_TEXT, 1, "{\"event\":\"a\"}", 13,
                 1);
    len += frame(stream + len, VOICE_WS_OP_TEXT, 0, "frag", 4, 1);
    len += frame(stream + len, VOICE_WS_OP_PING, 1, "pi", 2, 1);
    len += frame(stream + len, VOICE_WS_OP_CONT, 0, "ment", 4, 1);
    len += frame(stream + len, VOICE_WS_OP_CONT, 1, "ed", 2, 1);
    len += frame(stream + len, VOICE_WS_OP_BINARY, 1, "\x00\x01\x02", 3, 1);
    len += frame(stream + len, VOICE_WS_OP_PONG, 1, "", 0, 1);
    len += frame(stream + len, VOICE_WS_OP_TEXT, 1, big, 126, 1);
    len += frame(stream + len, VOICE_WS_OP_TEXT, 1, "", 0, 1);
    len += frame(stream + len, VOICE_WS_OP_TEXT, 1, big, 700, 1);
    len += frame(stream + len, VOICE_WS_OP_CLOSE, 1, (char *) close, 5, 1);

    n = run(stream, len, NULL, 0, want, 1, sizeof(msgbuf));
    CHECK_INT(n, 9);

    CHECK_INT(want[0].rc, VOICE_WS_MESSAGE);
    CHECK_INT(want[0].opcode, VOICE_WS_TEXT);
    CHECK_MEM(want[0].data, want[0].len, "{\"event\":\"a\"}", 13);
    CHECK_INT(want[1].rc, VOICE_WS_PING);
    CHECK_MEM(want[1].data, want[1].len, "pi", 2);
    CHECK_INT(want[2].rc, VOICE_WS_MESSAGE);
    CHECK_MEM(want[2].data, want[2].len, "fragmented", 10);
    CHECK_INT(want[3].opcode, VOICE_WS_BINARY);
    CHECK_MEM(want[3].data, want[3].len, "\x00\x01\x02", 3);
    CHECK_INT(want[4].rc, VOICE_WS_PONG);
    CHECK_INT(want[4].len, 0);
    CHECK_INT(want[5].len, 126);
    CHECK_INT(want[6].len, 0);
    CHECK_INT(want[6].rc, VOICE_WS_MESSAGE);
    CHECK_INT(want[7].len, 700);
    CHECK(memcmp(want[7].data, big, 700) == 0);
    CHECK_INT(want[8].rc, VOICE_WS_CLOSE);
    CHECK_INT(want[8].code, 1000);
    CHECK_MEM(want[8].data + 2, want[8].len - 2, "bye", 3);

    /* every split point into two reads */

    bad = 0;

    for (cut = 1; cut < len; cut++) {
        m = run(stream, len, &cut, 1, got, 1, sizeof(msgbuf));
        bad += (m != n || !same(got, want, n));
    }

    CHECK_INT(bad, 0);

    /* one byte at a time */

    for (i = 0; i < len - 1; i++) {
        cuts[i] = i + 1;
    }

    m = run(stream, len, cuts, (int) len - 1, got, 1, sizeof(msgbuf));
    CHECK_INT(m, n);
    CHECK(same(got, want, n));
}


static void
expect_error(const char *name, const uint8_t *in, size_t len, unsigned code,
    int server, size_t cap)
{
    int  n;

    n = run(in, len, NULL, 0, got, server, cap);

    if (n < 1 || got[n - 1].rc != VOICE_WS_ERROR || got[n - 1].code != code)
    {
        UNIT_FAIL("%s: want error %u", name, code);
        return;
    }

    unit_passed++;
}


static void
test_errors(void)
{
    size_t   len;
    uint8_t  b[300];
    char     big[200];

    memset(big, 'a', sizeof(big));

    len = frame(b, VOICE_WS_OP_TEXT, 1, "{}", 2, 1);
    b[0] |= 0x40;
    expect_error("rsv1", b, len, 1002, 1, 1024);

    len = frame(b, 3, 1, "x", 1, 1);
    expect_error("opcode 3", b, len, 1002, 1, 1024);

    len = frame(b, 0xb, 1, "x", 1, 1);
    expect_error("opcode 0xb", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_PING, 1, big, 126, 1);
    expect_error("ping > 125", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_PING, 0, "x", 1, 1);
    expect_error("fragmented ping", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_TEXT, 1, "{}", 2, 0);
    expect_error("unmasked to server", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_TEXT, 1, "{}", 2, 1);
    expect_error("masked to client", b, len, 1002, 0, 1024);

    len = frame(b, VOICE_WS_OP_CONT, 1, "x", 1, 1);
    expect_error("continuation first", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_TEXT, 0, "x", 1, 1);
    len += frame(b + len, VOICE_WS_OP_TEXT, 1, "y", 1, 1);
    expect_error("text inside fragments", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x03", 1, 1);
    expect_error("close of 1 byte", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x03\xe7", 2, 1);
    expect_error("close 999", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x03\xed", 2, 1);
    expect_error("close 1005", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x13\x88", 2, 1);
    expect_error("close 5000", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_TEXT, 1, big, 101, 1);
    expect_error("message over cap", b, len, 1009, 1, 100);

    len = frame(b, VOICE_WS_OP_TEXT, 0, big, 60, 1);
    len += frame(b + len, VOICE_WS_OP_CONT, 1, big, 41, 1);
    expect_error("fragments over cap", b, len, 1009, 1, 100);

    /* a 64-bit length with the top bit set */
    memcpy(b, "\x81\xff\x80\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00", 14);
    expect_error("63-bit length", b, 14, 1002, 1, 1024);

    /* exactly at the cap is fine; control frames in a message are too */
    len = frame(b, VOICE_WS_OP_TEXT, 0, big, 60, 1);
    len += frame(b + len, VOICE_WS_OP_PING, 1, "p", 1, 1);
    len += frame(b + len, VOICE_WS_OP_CONT, 1, big, 40, 1);
    CHECK_INT(run(b, len, NULL, 0, got, 1, 100), 2);
    CHECK_INT(got[1].len, 100);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x03\xec", 2, 1);
    expect_error("close 1004", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x03\xee", 2, 1);
    expect_error("close 1006", b, len, 1002, 1, 1024);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x03\xf7", 2, 1);
    expect_error("close 1015", b, len, 1002, 1, 1024);

    /* valid close codes: 1012 to 1014 are IANA's since RFC 6455 */
    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x0f\xa0", 2, 1);
    CHECK_INT(run(b, len, NULL, 0, got, 1, 100), 1);
    CHECK_INT(got[0].code, 4000);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x03\xf4", 2, 1);
    CHECK_INT(run(b, len, NULL, 0, got, 1, 100), 1);
    CHECK_INT(got[0].code, 1012);

    len = frame(b, VOICE_WS_OP_CLOSE, 1, "\x03\xf6", 2, 1);
    CHECK_INT(run(b, len, NULL, 0, got, 1, 100), 1);
    CHECK_INT(got[0].code, 1014);
}


static void
test_builder(void)
{
    size_t    lens[] = { 0, 1, 125, 126, 65535, 65536, 70000 };
    size_t    i, len, hl;
    uint8_t   hdr[VOICE_WS_MAX_HEADER];
    char      big[70000];

    memset(big, 'q', sizeof(big));

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        len = frame(stream, VOICE_WS_OP_TEXT, 1, big, lens[i], 0);
        CHECK_INT(run(stream, len, NULL, 0, got, 0, sizeof(msgbuf)), 1);
        CHECK_INT(got[0].len, lens[i]);

        len = frame(stream, VOICE_WS_OP_TEXT, 1, big, lens[i], 1);
        CHECK_INT(run(stream, len, NULL, 0, got, 1, sizeof(msgbuf)), 1);
        CHECK(got[0].len == lens[i]
              && memcmp(got[0].data, big, lens[i]) == 0);
    }

    hl = voice_ws_frame_header(hdr, VOICE_WS_OP_TEXT, 1, 5, NULL);
    CHECK_MEM(hdr, hl, "\x81\x05", 2);
    hl = voice_ws_frame_header(hdr, VOICE_WS_OP_PONG, 1, 300, NULL);
    CHECK_MEM(hdr, hl, "\x8a\x7e\x01\x2c", 4);
    hl = voice_ws_frame_header(hdr, VOICE_WS_OP_BINARY, 0, 65536, key);
    CHECK_MEM(hdr, hl, "\x02\xff\x00\x00\x00\x00\x00\x01\x00\x00"
              "\x12\x34\x56\x78", 14);
}


/*
 * The word-at-a-time masking against the byte-wise definition: every
 * offset into the key, every length up to 100 (the tail and several
 * words), at every alignment, in place and copying.
 */

static void
test_mask(void)
{
    size_t    off, len, align, i;
    unsigned  bad;
    uint8_t   mask[4], src[128], ref[128], buf[128], dst[128];

    srand(6455);

    for (i = 0; i < 4; i++) {
        mask[i] = (uint8_t) rand();
    }

    bad = 0;

    for (off = 0; off < 8; off++) {
        for (len = 0; len <= 100; len++) {
            for (align = 0; align < 8; align++) {

                for (i = 0; i < len; i++) {
                    src[align + i] = (uint8_t) rand();
                    ref[i] = src[align + i] ^ mask[(off + i) % 4];
                }

                memcpy(buf + align, src + align, len);
                voice_ws_mask(buf + align, len, mask, off);
                bad += memcmp(buf + align, ref, len) != 0;

                memset(dst, 0xa5, sizeof(dst));
                voice_ws_mask_copy(dst + align, src + align, len, mask, off);
                bad += memcmp(dst + align, ref, len) != 0;

                /* nothing written past the end */
                bad += align + len < sizeof(dst)
                       && dst[align + len] != 0xa5;
            }
        }
    }

    CHECK_INT(bad, 0);

    /* masking twice gives the data back */

    memcpy(buf, src, 100);
    voice_ws_mask(buf, 100, mask, 3);
    voice_ws_mask(buf, 100, mask, 3);
    CHECK(memcmp(buf, src, 100) == 0);
}


int
main(void)
{
    test_splits();
    test_errors();
    test_builder();
    test_mask();

    UNIT_DONE("ws");
}

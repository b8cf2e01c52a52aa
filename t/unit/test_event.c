/*
 * Copyright (C) ngx_http_voice_module authors
 *
 * The events' JSON writer: both passes agree, the output is valid JSON
 * (yajl reads it) whatever the text, and the time is UTC.
 */

#include <stdint.h>

#include <yajl/yajl_parse.h>

#include "unit.h"
#include "voice_event.h"


static int
valid_json(const uint8_t *p, size_t len)
{
    int          ok;
    yajl_handle  h;

    h = yajl_alloc(NULL, NULL, NULL);
    ok = yajl_parse(h, p, len) == yajl_status_ok
         && yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);

    return ok;
}


/* a turn event, written twice: counted, then into a buffer of that size */

static size_t
write_turn(uint8_t *out, const uint8_t *text, size_t len, unsigned depth)
{
    unsigned       i;
    voice_event_t  e;

    voice_event_begin(&e, out, "turn", 3, 1764780000123ULL,
                      (const uint8_t *) "CA1", 3, (const uint8_t *) "MZ1", 3);
    voice_event_str_open(&e, "transcript");
    voice_event_str_more(&e, text, len / 2);
    voice_event_str_more(&e, text + len / 2, len - len / 2);
    voice_event_str_close(&e);
    voice_event_bool(&e, "interrupted", 1);
    voice_event_null(&e, "timings");
    voice_event_array(&e, "tool_calls");
    voice_event_raw(&e, NULL, (const uint8_t *) "{\"a\":1}", 7);
    voice_event_raw(&e, NULL, (const uint8_t *) "{\"b\":2}", 7);
    voice_event_close(&e);

    for (i = 0; i < depth; i++) {
        voice_event_object(&e, "in");
    }

    voice_event_uint(&e, "n", UINT64_MAX);

    return voice_event_end(&e);
}


static void
test_turn(void)
{
    size_t   n, m;
    uint8_t  buf[512];
    static const char  want[] =
        "{\"event\":\"turn\",\"seq\":3,\"time\":\"2025-12-03T16:40:00.123Z\","
        "\"call_sid\":\"CA1\",\"stream_sid\":\"MZ1\","
        "\"transcript\":\"say \\\"hi\\\"\\n\",\"interrupted\":true,"
        "\"timings\":null,\"tool_calls\":[{\"a\":1},{\"b\":2}],"
        "\"in\":{\"in\":{\"n\":18446744073709551615}}}";

    n = write_turn(NULL, (const uint8_t *) "say \"hi\"\n", 9, 2);
    CHECK_INT(n, sizeof(want) - 1);

    m = write_turn(buf, (const uint8_t *) "say \"hi\"\n", 9, 2);
    CHECK_INT(m, n);
    CHECK_MEM(buf, m, want, sizeof(want) - 1);
    CHECK(valid_json(buf, m));

    /* nested as deep as allowed, and one more: nothing */

    CHECK(write_turn(NULL, (const uint8_t *) "", 0, VOICE_EVENT_DEPTH) > 0);
    CHECK_INT(write_turn(NULL, (const uint8_t *) "", 0,
                         VOICE_EVENT_DEPTH + 1), 0);
}


/* every byte value, in random text: the result is valid JSON */

static void
test_any_text(void)
{
    size_t    n, m, len, i, k;
    uint8_t   text[64], *buf;
    uint32_t  x;

    x = 12345;

    for (k = 0; k < 20000; k++) {
        len = k % sizeof(text);

        for (i = 0; i < len; i++) {
            x = x * 1103515245 + 12345;
            text[i] = (uint8_t) (x >> 16);
        }

        n = write_turn(NULL, text, len, 1);
        buf = malloc(n);
        m = write_turn(buf, text, len, 1);

        CHECK_INT(m, n);

        if (!valid_json(buf, m)) {
            UNIT_FAIL("invalid JSON for text %zu", k);
        }

        free(buf);
    }

    /* each byte alone */

    for (i = 0; i < 256; i++) {
        text[0] = (uint8_t) i;
        n = write_turn(NULL, text, 1, 0);
        buf = malloc(n);
        m = write_turn(buf, text, 1, 0);
        CHECK_INT(m, n);
        CHECK(valid_json(buf, m));
        free(buf);
    }
}


/* the time: UTC, with milliseconds */

static void
test_time(void)
{
    uint8_t  got[VOICE_EVENT_TIME_LEN];

    voice_event_time(got, 0);
    CHECK_MEM(got, VOICE_EVENT_TIME_LEN, "1970-01-01T00:00:00.000Z", 24);

    voice_event_time(got, 951782400000ULL);     /* a leap day */
    CHECK_MEM(got, VOICE_EVENT_TIME_LEN, "2000-02-29T00:00:00.000Z", 24);

    voice_event_time(got, 1764780000123ULL);
    CHECK_MEM(got, VOICE_EVENT_TIME_LEN, "2025-12-03T16:40:00.123Z", 24);

    voice_event_time(got, 4102444799999ULL);
    CHECK_MEM(got, VOICE_EVENT_TIME_LEN, "2099-12-31T23:59:59.999Z", 24);
}


int
main(void)
{
    test_turn();
    test_any_text();
    test_time();

    UNIT_DONE("event");
}

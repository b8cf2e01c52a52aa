/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <yajl/yajl_tree.h>

#include "unit.h"
#include "voice_json.h"
#include "voice_twilio.h"


static voice_twilio_parser_t  p;
static voice_twilio_msg_t     m;


static int
parse(const char *json)
{
    return voice_twilio_parse(&p, (const uint8_t *) json, strlen(json), &m);
}


static void
test_messages(void)
{
    const char  *media;

    /* as Twilio sends them, all through one parser */

    CHECK_INT(parse("{\"event\":\"connected\",\"protocol\":\"Call\","
                    "\"version\":\"1.0.0\"}"), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_CONNECTED);

    CHECK_INT(parse("{\"event\":\"start\",\"sequenceNumber\":\"1\","
                    "\"start\":{\"accountSid\":\"AC123\","
                    "\"streamSid\":\"MZ456\",\"callSid\":\"CA789\","
                    "\"tracks\":[\"inbound\"],"
                    "\"customParameters\":{\"callId\":\"abc\","
                    "\"lang\":\"en-US\"},"
                    "\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\","
                    "\"sampleRate\":8000,\"channels\":1}},"
                    "\"streamSid\":\"MZ456\"}"), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_START);
    CHECK_INT(m.sequence, 1);
    CHECK_STR(m.stream_sid, "MZ456");
    CHECK_STR(m.call_sid, "CA789");
    CHECK_STR(m.account_sid, "AC123");
    CHECK_STR(m.encoding, "audio/x-mulaw");
    CHECK_INT(m.sample_rate, 8000);
    CHECK_INT(m.channels, 1);
    CHECK_INT(m.nparams, 2);
    CHECK_STR(m.params[0].name, "callId");
    CHECK_STR(m.params[0].value, "abc");
    CHECK_STR(m.params[1].name, "lang");
    CHECK_STR(m.params[1].value, "en-US");

    /* numbers as strings */

    CHECK_INT(parse("{\"event\":\"start\",\"start\":{\"mediaFormat\":"
                    "{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":\"8000\","
                    "\"channels\":\"1\"}}}"), VOICE_TWILIO_OK);
    CHECK_INT(m.sample_rate, 8000);
    CHECK_INT(m.channels, 1);

    CHECK_INT(parse("{\"event\":\"media\",\"sequenceNumber\":\"3\","
                    "\"media\":{\"track\":\"inbound\",\"chunk\":\"2\","
                    "\"timestamp\":\"40\",\"payload\":\"//79/A==\"},"
                    "\"streamSid\":\"MZ456\"}"), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);
    CHECK_INT(m.sequence, 3);
    CHECK_INT(m.chunk, 2);
    CHECK_INT(m.timestamp, 40);
    CHECK_INT(m.track_outbound, 0);
    CHECK_MEM(m.payload, m.payload_len, "//79/A==", 8);

    /*
     * The payload as it stands in the message, not copied; escaped (JSON
     * may write "/" as "\/"), in the parser, unescaped, and the same
     * after later strings went through yajl's buffer
     */

    media = "{\"event\":\"media\",\"media\":{\"payload\":\"QUJD\"}}";
    CHECK_INT(parse(media), VOICE_TWILIO_OK);
    CHECK(m.payload == strstr(media, "QUJD") && m.payload_len == 4);

    CHECK_INT(parse("{\"event\":\"media\",\"media\":{\"payload\":"
                    "\"\\/\\/79\\/A==\"},\"streamSid\":\"M\\u005a1\"}"),
              VOICE_TWILIO_OK);
    CHECK(m.payload == p.payload);
    CHECK_MEM(m.payload, m.payload_len, "//79/A==", 8);
    CHECK_STR(m.stream_sid, "MZ1");

    CHECK_INT(parse("{\"event\":\"dtmf\",\"streamSid\":\"MZ1\","
                    "\"sequenceNumber\":\"5\",\"dtmf\":{\"track\":"
                    "\"inbound_track\",\"digit\":\"7\"}}"), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_DTMF);
    CHECK_STR(m.digit, "7");

    CHECK_INT(parse("{\"event\":\"mark\",\"sequenceNumber\":\"4\","
                    "\"streamSid\":\"MZ1\",\"mark\":{\"name\":\"s-1\"}}"),
              VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_MARK);
    CHECK_STR(m.mark_name, "s-1");

    CHECK_INT(parse("{\"event\":\"stop\",\"sequenceNumber\":\"9\","
                    "\"streamSid\":\"MZ1\",\"stop\":{\"accountSid\":\"AC1\","
                    "\"callSid\":\"CA1\"}}"), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_STOP);
    CHECK_STR(m.call_sid, "CA1");

    /* unknown events and keys, nested at any depth */

    CHECK_INT(parse("{\"x\":{\"y\":[1,{\"z\":[[],{}]}],\"media\":"
                    "{\"payload\":\"no\"}},\"event\":\"future\","
                    "\"n\":null,\"b\":true,\"f\":1.5e3}"), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_UNKNOWN);
    CHECK_STR(p.event_name, "future");
    CHECK_INT(m.payload_len, 0);

    /* key order does not matter */

    CHECK_INT(parse("{\"media\":{\"payload\":\"QQ==\"},\"event\":\"media\"}"),
              VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);
    CHECK_INT(m.payload_len, 4);

    CHECK_INT(parse("  {\"event\":\"clear\",\"streamSid\":\"MZ\"}\n"),
              VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_CLEAR);
}


static void
test_errors(void)
{
    char  big[20000];
    char  json[21000];
    int   i;

    CHECK_INT(parse("{\"event\":"), VOICE_TWILIO_ERROR);
    CHECK_STR(p.error, "truncated JSON");
    CHECK_INT(parse("{\"event\":\"media\"}"), VOICE_TWILIO_OK);

    CHECK_INT(parse("{} x"), VOICE_TWILIO_ERROR);
    CHECK_INT(parse("{}\""), VOICE_TWILIO_ERROR);
    CHECK_INT(parse("{} 1"), VOICE_TWILIO_ERROR);
    CHECK_INT(parse("{\"event\":\"media\"}"), VOICE_TWILIO_OK);
    CHECK_INT(parse("{}{}"), VOICE_TWILIO_ERROR);
    CHECK_STR(p.error, "more than one JSON value");
    CHECK_INT(parse("[1,2]"), VOICE_TWILIO_ERROR);
    CHECK_STR(p.error, "message is not a JSON object");
    CHECK_INT(parse("\"x\""), VOICE_TWILIO_ERROR);
    CHECK_INT(parse("12"), VOICE_TWILIO_ERROR);
    CHECK_INT(parse(""), VOICE_TWILIO_ERROR);
    CHECK_INT(parse("{\"a\":tru}"), VOICE_TWILIO_ERROR);
    CHECK_INT(parse("{\"event\":\"media\"}"), VOICE_TWILIO_OK);

    memset(big, 'A', 70);
    big[70] = '\0';
    snprintf(json, sizeof(json), "{\"streamSid\":\"%s\"}", big);
    CHECK_INT(parse(json), VOICE_TWILIO_ERROR);
    CHECK_STR(p.error, "string value too long");

    memset(big, 'A', 17000);
    big[17000] = '\0';
    snprintf(json, sizeof(json), "{\"media\":{\"payload\":\"%s\"}}", big);
    CHECK_INT(parse(json), VOICE_TWILIO_ERROR);
    CHECK_STR(p.error, "media payload too large");

    CHECK_INT(parse("{\"sequenceNumber\":\"12a\"}"), VOICE_TWILIO_ERROR);
    CHECK_INT(parse("{\"sequenceNumber\":-1}"), VOICE_TWILIO_ERROR);
    CHECK_INT(parse("{\"sequenceNumber\":\"99999999999999999999\"}"),
              VOICE_TWILIO_ERROR);
    CHECK_STR(p.error, "invalid number");

    /* more than 16 custom parameters: the rest are ignored */

    strcpy(json, "{\"start\":{\"customParameters\":{");

    for (i = 0; i < 20; i++) {
        snprintf(json + strlen(json), 40, "%s\"p%d\":\"v%d\"",
                 i ? "," : "", i, i);
    }

    strcat(json, "}}}");
    CHECK_INT(parse(json), VOICE_TWILIO_OK);
    CHECK_INT(m.nparams, 16);
    CHECK_STR(m.params[15].value, "v15");

    /* deep nesting is bounded */

    strcpy(json, "{\"a\":");
    memset(json + 5, '[', 100);
    strcpy(json + 105, "}");
    CHECK_INT(parse(json), VOICE_TWILIO_ERROR);

    CHECK_INT(parse("{\"event\":\"connected\"}"), VOICE_TWILIO_OK);
}


/*
 * A media message in Twilio's own shape is read without yajl; whatever
 * the fast path takes or leaves, the result is the one yajl gives, which
 * the parser "slow", made to use yajl for everything, gives.
 */

static voice_twilio_parser_t  slow;
static voice_twilio_msg_t     sm;


static void
check_fast(const char *json, size_t len, int taken)
{
    int            rc, src;
    unsigned long  before;

    before = p.fast;
    rc = voice_twilio_parse(&p, (const uint8_t *) json, len, &m);
    src = voice_twilio_parse(&slow, (const uint8_t *) json, len, &sm);

    CHECK_INT(p.fast - before, taken);
    CHECK_INT(slow.fast, 0);

    CHECK_INT(rc, src);
    CHECK((p.error == NULL && slow.error == NULL)
          || (p.error && slow.error && strcmp(p.error, slow.error) == 0));

    CHECK_INT(m.event, sm.event);
    CHECK_STR(p.event_name, slow.event_name);
    CHECK_INT(m.sequence, sm.sequence);
    CHECK_INT(m.track_outbound, sm.track_outbound);
    CHECK_INT(m.chunk, sm.chunk);
    CHECK_INT(m.timestamp, sm.timestamp);
    CHECK_MEM(m.payload, m.payload_len, sm.payload, sm.payload_len);
    CHECK_STR(m.stream_sid, sm.stream_sid);
    CHECK_STR(m.call_sid, sm.call_sid);
    CHECK_INT(m.nparams, sm.nparams);

    /* the payload where yajl leaves it: in the message, or the parser's */

    CHECK_INT(m.payload == p.payload, sm.payload == slow.payload);

    if (sm.payload != slow.payload) {
        CHECK_INT(m.payload - json, sm.payload - json);
    }
}


static void
fast(const char *json, int taken)
{
    check_fast(json, strlen(json), taken);
}


/* Twilio's shape around the fields' text as it stands between quotes */

static const char *
shape(const char *seq, const char *track, const char *chunk, const char *ts,
    const char *payload, const char *sid)
{
    static char  json[17000];

    snprintf(json, sizeof(json), "{\"event\":\"media\",\"sequenceNumber\":"
             "\"%s\",\"media\":{\"track\":\"%s\",\"chunk\":\"%s\","
             "\"timestamp\":\"%s\",\"payload\":\"%s\"},\"streamSid\":\"%s\"}",
             seq, track, chunk, ts, payload, sid);

    return json;
}


static void
test_fast(void)
{
    size_t       n, i, k;
    char         big[16400], json[17100];
    const char  *media;
    uint8_t      out[512];

    static const unsigned char  edge[] = {
        0x01, 0x1f, 0x20, '!', '#', '[', '\\', ']', 0x7e, 0x7f, 0x80,
        0xc3, 0xff
    };

    CHECK_INT(voice_twilio_parser_init(&slow, NULL), VOICE_TWILIO_OK);
    slow.slow_only = 1;

    /* as Twilio writes it: every field the same, the payload in place */

    media = "{\"event\":\"media\",\"sequenceNumber\":\"3\",\"media\":"
            "{\"track\":\"inbound\",\"chunk\":\"2\",\"timestamp\":\"40\","
            "\"payload\":\"//79/A==\"},\"streamSid\":\"MZ456\"}";
    fast(media, 1);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);
    CHECK_INT(m.sequence, 3);
    CHECK_INT(m.chunk, 2);
    CHECK_INT(m.timestamp, 40);
    CHECK_INT(m.track_outbound, 0);
    CHECK(m.payload == strstr(media, "//79/A==") && m.payload_len == 8);
    CHECK_STR(m.stream_sid, "MZ456");
    CHECK_STR(p.event_name, "media");
    CHECK(p.error == NULL);

    fast(shape("007", "outbound", "999999999999999", "0", "", ""), 1);
    CHECK_INT(m.track_outbound, 1);
    CHECK_INT(m.sequence, 7);
    CHECK_INT(m.chunk, 999999999999999UL);
    CHECK_INT(m.payload_len, 0);

    fast(shape("1", "outbound_x", "1", "1", "QQ==", "MZ 1~"), 1);
    CHECK_INT(m.track_outbound, 0);
    CHECK_STR(m.stream_sid, "MZ 1~");

    /* what the simulator sends, as Twilio does */

    n = voice_twilio_build_media(out, sizeof(out), "MZ9", 7, 6, 120,
                                 (const uint8_t *) "QUJD", 4);
    check_fast((const char *) out, n, 1);
    CHECK_INT(m.timestamp, 120);

    /* the limits: a SID of 64 characters and a payload of 16,384 are in */

    memset(big, 'A', 65);
    big[64] = '\0';
    fast(shape("3", "inbound", "2", "40", "QQ==", big), 1);
    CHECK_INT(strlen(m.stream_sid), 64);

    big[64] = 'A';
    big[65] = '\0';
    fast(shape("3", "inbound", "2", "40", "QQ==", big), 0);
    CHECK_STR(p.error, "string value too long");

    memset(big, 'A', 16385);
    big[16384] = '\0';
    fast(shape("3", "inbound", "2", "40", big, "MZ1"), 1);
    CHECK_INT(m.payload_len, 16384);

    big[16384] = 'A';
    big[16385] = '\0';
    fast(shape("3", "inbound", "2", "40", big, "MZ1"), 0);
    CHECK_STR(p.error, "media payload too large");

    /* numbers: 16 digits, none, a sign, a JSON number */

    fast(shape("1234567890123456", "inbound", "2", "40", "QQ==", "MZ1"), 0);
    CHECK_STR(p.error, "invalid number");

    fast(shape("3", "inbound", "", "40", "QQ==", "MZ1"), 0);
    CHECK_STR(p.error, "invalid number");

    fast(shape("3", "inbound", "2", "-40", "QQ==", "MZ1"), 0);
    CHECK_STR(p.error, "invalid number");

    fast("{\"event\":\"media\",\"sequenceNumber\":3,\"media\":"
         "{\"track\":\"inbound\",\"chunk\":\"2\",\"timestamp\":\"40\","
         "\"payload\":\"QQ==\"},\"streamSid\":\"MZ1\"}", 0);
    CHECK_INT(m.sequence, 3);

    /* escapes: in the payload, the SID, the track */

    fast(shape("3", "inbound", "2", "40", "\\/\\/79\\/A==", "MZ1"), 0);
    CHECK(m.payload == p.payload);
    CHECK_MEM(m.payload, m.payload_len, "//79/A==", 8);

    fast(shape("3", "inbound", "2", "40", "QQ==", "M\\u005a1"), 0);
    CHECK_STR(m.stream_sid, "MZ1");

    fast(shape("3", "out\\u0062ound", "2", "40", "QQ==", "MZ1"), 0);
    CHECK_INT(m.track_outbound, 1);

    /* bytes outside printable ASCII: UTF-8, invalid UTF-8, controls */

    fast(shape("3", "inbound", "2", "40", "QQ==", "MZ\xc3\xa9"), 0);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);

    fast(shape("3", "inbound", "2", "40", "QQ==\xff", "MZ1"), 0);
    CHECK(p.error != NULL);

    fast(shape("3", "inbound", "2", "40", "QQ==", "MZ\x01"), 0);
    fast(shape("3", "inbound", "2", "40", "QQ==\x7f", "MZ1"), 0);

    /*
     * Each byte at each place of a payload read eight bytes at a time:
     * those at the edges of what the fast path takes are taken, the
     * others left to yajl, wherever they stand in their word
     */

    for (i = 0; i < 40; i++) {
        for (k = 0; k < sizeof(edge); k++) {
            memset(big, 'A', 40);
            big[40] = '\0';
            big[i] = edge[k];
            fast(shape("3", "inbound", "2", "40", big, "MZ1"),
                 edge[k] >= 0x20 && edge[k] <= 0x7e && edge[k] != '\\');
        }
    }

    /* the keys in another order, one missing, one more */

    fast("{\"event\":\"media\",\"streamSid\":\"MZ1\",\"sequenceNumber\":"
         "\"3\",\"media\":{\"track\":\"inbound\",\"chunk\":\"2\","
         "\"timestamp\":\"40\",\"payload\":\"QQ==\"}}", 0);
    CHECK_STR(m.stream_sid, "MZ1");

    fast("{\"event\":\"media\",\"sequenceNumber\":\"3\",\"media\":"
         "{\"track\":\"inbound\",\"timestamp\":\"40\","
         "\"payload\":\"QQ==\"},\"streamSid\":\"MZ1\"}", 0);
    CHECK_INT(m.chunk, 0);

    fast("{\"event\":\"media\",\"sequenceNumber\":\"3\",\"media\":"
         "{\"track\":\"inbound\",\"chunk\":\"2\",\"timestamp\":\"40\","
         "\"payload\":\"QQ==\"}}", 0);
    CHECK_STR(m.stream_sid, "");

    /* white space, something before or after, cut short */

    strcpy(json, shape("3", "inbound", "2", "40", "QQ==", "MZ1"));
    n = strlen(json);

    json[n - 1] = '\0';
    fast(json, 0);
    CHECK_STR(p.error, "truncated JSON");

    strcpy(json + n - 1, ",\"x\":1}");
    fast(json, 0);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);

    strcpy(json + n - 1, "}\r\n");
    fast(json, 0);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);

    strcpy(json + n - 1, "}{}");
    fast(json, 0);
    CHECK_STR(p.error, "more than one JSON value");

    json[n - 1] = '}';
    json[n] = '\0';
    memmove(json + 1, json, n + 1);
    json[0] = ' ';
    fast(json, 0);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);

    fast("{\"event\": \"media\",\"sequenceNumber\":\"3\",\"media\":"
         "{\"track\":\"inbound\",\"chunk\":\"2\",\"timestamp\":\"40\","
         "\"payload\":\"QQ==\"},\"streamSid\":\"MZ1\"}", 0);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);

    fast("{\"event\":\"mediax\",\"sequenceNumber\":\"3\",\"media\":"
         "{\"track\":\"inbound\",\"chunk\":\"2\",\"timestamp\":\"40\","
         "\"payload\":\"QQ==\"},\"streamSid\":\"MZ1\"}", 0);
    CHECK_INT(m.event, VOICE_TWILIO_UNKNOWN);

    /* and the next media message after all of these is taken again */

    fast(media, 1);
    CHECK_STR(m.stream_sid, "MZ456");

    voice_twilio_parser_free(&slow);
}

static void
test_builders(void)
{
    size_t   n, k, sn;
    uint8_t  out[512], sid[64];
    voice_twilio_param_t  params[1] = { { "callId", "a\"b" } };
    static const char  odd[] = "MZ\"q\\\n\x01\xc3\xa9";

    n = voice_twilio_media(out, sizeof(out), "MZ1", 3,
                           (const uint8_t *) "QUJD", 4);
    CHECK_MEM(out, n, "{\"event\":\"media\",\"streamSid\":\"MZ1\","
              "\"media\":{\"payload\":\"QUJD\"}}", 62);
    CHECK_INT(n, voice_twilio_media_size(3, 4));
    CHECK_INT(voice_twilio_media(out, n - 1, "MZ1", 3,
                                 (const uint8_t *) "QUJD", 4), 0);

    /* the same in parts, the payload written in place */

    k = voice_twilio_media_head(out, sizeof(out), "MZ1", 3);
    memcpy(out + k, "QUJD", 4);
    k += 4;
    k += voice_twilio_media_tail(out + k, sizeof(out) - k);
    CHECK_MEM(out, k, "{\"event\":\"media\",\"streamSid\":\"MZ1\","
              "\"media\":{\"payload\":\"QUJD\"}}", 62);
    CHECK_INT(voice_twilio_media_head(out, 10, "MZ1", 3), 0);
    CHECK_INT(voice_twilio_media_tail(out, 2), 0);

    n = voice_twilio_mark(out, sizeof(out), "MZ1", 3,
                          (const uint8_t *) "s\"1", 3);
    CHECK_MEM(out, n, "{\"event\":\"mark\",\"streamSid\":\"MZ1\","
              "\"mark\":{\"name\":\"s\\\"1\"}}", 57);
    CHECK_INT(n, voice_twilio_mark_size(3, (const uint8_t *) "s\"1", 3));

    n = voice_twilio_clear(out, sizeof(out), "MZ1", 3);
    CHECK_MEM(out, n, "{\"event\":\"clear\",\"streamSid\":\"MZ1\"}", 35);
    CHECK_INT(n, voice_twilio_clear_size(3));
    CHECK_INT(voice_twilio_clear(out, 10, "MZ1", 3), 0);

    /*
     * The SID goes in escaped for JSON, as the module escapes the peer's
     * once for the call, and comes out of the parser as it was
     */

    sn = voice_json_escape(sid, (const uint8_t *) odd, strlen(odd));
    CHECK_MEM(sid, sn, "MZ\\\"q\\\\\\n\\u0001\xc3\xa9", 17);

    n = voice_twilio_media(out, sizeof(out), (char *) sid, sn,
                           (const uint8_t *) "QUJD", 4);
    CHECK_INT(n, voice_twilio_media_size(sn, 4));
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_STR(m.stream_sid, odd);
    CHECK_MEM(m.payload, m.payload_len, "QUJD", 4);

    n = voice_twilio_mark(out, sizeof(out), (char *) sid, sn,
                          (const uint8_t *) "\\\"", 2);
    CHECK_INT(n, voice_twilio_mark_size(sn, (const uint8_t *) "\\\"", 2));
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_STR(m.stream_sid, odd);
    CHECK_STR(m.mark_name, "\\\"");

    n = voice_twilio_clear(out, sizeof(out), (char *) sid, sn);
    CHECK_INT(n, voice_twilio_clear_size(sn));
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_STR(m.stream_sid, odd);

    /* round trips through the parser */

    n = voice_twilio_build_start(out, sizeof(out), "MZ9", "CA9", "AC9",
                                 params, 1);
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_START);
    CHECK_STR(m.stream_sid, "MZ9");
    CHECK_STR(m.params[0].value, "a\"b");
    CHECK_INT(m.sample_rate, 8000);

    n = voice_twilio_build_media(out, sizeof(out), "MZ9", 7, 6, 120,
                                 (const uint8_t *) "QUJD", 4);
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_MEDIA);
    CHECK_INT(m.timestamp, 120);
    CHECK_MEM(m.payload, m.payload_len, "QUJD", 4);

    n = voice_twilio_build_mark(out, sizeof(out), "MZ9", 8, "m1");
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_STR(m.mark_name, "m1");

    n = voice_twilio_build_dtmf(out, sizeof(out), "MZ9", 9, '#');
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_STR(m.digit, "#");

    n = voice_twilio_build_stop(out, sizeof(out), "MZ9", "CA9", "AC9", 10);
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_STOP);

    n = voice_twilio_build_connected(out, sizeof(out));
    CHECK_INT(voice_twilio_parse(&p, out, n, &m), VOICE_TWILIO_OK);
    CHECK_INT(m.event, VOICE_TWILIO_CONNECTED);
}


static void
test_json_escape(void)
{
    int           c, bad;
    size_t        n;
    uint8_t       in[8], out[64], wrapped[80];
    yajl_val      v;
    char          err[128];

    CHECK_INT(voice_json_escape(out, (const uint8_t *) "a\"b\\c\n\t\x01", 8),
              17);
    CHECK_MEM(out, 17, "a\\\"b\\\\c\\n\\t\\u0001", 17);

    n = voice_json_escape(out, (const uint8_t *) "caf\xc3\xa9 \xf0\x9f\x98\x80",
                          10);
    CHECK_MEM(out, n, "caf\xc3\xa9 \xf0\x9f\x98\x80", 10);

    /* invalid: bad lead, truncated, overlong, surrogate, > U+10FFFF */

    n = voice_json_escape(out, (const uint8_t *) "\xff", 1);
    CHECK_MEM(out, n, "\xef\xbf\xbd", 3);
    n = voice_json_escape(out, (const uint8_t *) "a\xc3", 2);
    CHECK_MEM(out, n, "a\xef\xbf\xbd", 4);
    n = voice_json_escape(out, (const uint8_t *) "\xc0\xaf", 2);
    CHECK_MEM(out, n, "\xef\xbf\xbd\xef\xbf\xbd", 6);
    n = voice_json_escape(out, (const uint8_t *) "\xed\xa0\x80", 3);
    CHECK_INT(n, 9);
    n = voice_json_escape(out, (const uint8_t *) "\xf4\x90\x80\x80", 4);
    CHECK_INT(n, 12);

    /* every single byte gives JSON that parses back */

    bad = 0;

    for (c = 0; c < 256; c++) {
        in[0] = (uint8_t) c;
        n = voice_json_escape(NULL, in, 1);

        wrapped[0] = '"';
        voice_json_escape(wrapped + 1, in, 1);
        wrapped[n + 1] = '"';
        wrapped[n + 2] = '\0';

        v = yajl_tree_parse((const char *) wrapped, err, sizeof(err));

        if (v == NULL || !YAJL_IS_STRING(v)) {
            bad++;

        } else if (c > 0 && c < 0x80) {
            const char  *s = YAJL_GET_STRING(v);

            if (s == NULL || strlen(s) != 1 || (uint8_t) s[0] != c) {
                bad++;
            }
        }

        yajl_tree_free(v);
    }

    CHECK_INT(bad, 0);
}


int
main(void)
{
    CHECK_INT(voice_twilio_parser_init(&p, NULL), VOICE_TWILIO_OK);

    test_messages();
    test_errors();
    test_fast();
    test_builders();
    test_json_escape();

    voice_twilio_parser_free(&p);

    UNIT_DONE("twilio");
}

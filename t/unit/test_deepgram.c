/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Deepgram's live messages: each type the server sends read into its
 * code, flags, times and text, the same in whatever order the keys
 * come; the transcript cut to the buffer on a character boundary at
 * every size; errors told by their description; and what is not one
 * JSON object refused.
 */

#include "unit.h"
#include "voice_deepgram.h"
#include "voice_json.h"


#define RESULTS  "{\"type\":\"Results\",\"channel_index\":[0,1]," \
                 "\"duration\":1.04,\"start\":0.5,\"is_final\":true," \
                 "\"speech_final\":false,\"from_finalize\":false," \
                 "\"channel\":{\"alternatives\":[{\"transcript\":" \
                 "\"Hello there.\",\"confidence\":0.98,\"words\":[{" \
                 "\"word\":\"hello\",\"start\":0.5,\"end\":0.9}]}]}," \
                 "\"metadata\":{\"request_id\":\"r\",\"model_info\":{" \
                 "\"name\":\"general\"}}}"


static const struct {
    const char  *json;
    int          rc;
    int          is_final;
    int          speech_final;
    int          from_finalize;
    double       start;
    double       duration;
    const char  *text;
} messages[] = {

    /* results, interim and final, and flushed by Finalize */
    { RESULTS, VOICE_DEEPGRAM_RESULTS, 1, 0, 0, 0.5, 1.04, "Hello there." },
    { "{\"type\":\"Results\",\"is_final\":false,\"start\":2,"
      "\"duration\":0.25,\"channel\":{\"alternatives\":[{\"transcript\":"
      "\"hel\"}]}}", VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 2, 0.25, "hel" },
    { "{\"type\":\"Results\",\"is_final\":true,\"speech_final\":true,"
      "\"from_finalize\":true,\"channel\":{\"alternatives\":["
      "{\"transcript\":\"Yes.\"}]}}",
      VOICE_DEEPGRAM_RESULTS, 1, 1, 1, 0, 0, "Yes." },

    /* silence is a result with no words */
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"transcript\":\"\"}]}}", VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "" },
    { "{\"type\":\"Results\"}", VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "" },

    /* the first alternative only, and only where Deepgram puts it */
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"transcript\":\"one\"},{\"transcript\":\"two\"}]}}",
      VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "one" },
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"confidence\":0},{\"transcript\":\"two\"}]}}",
      VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "" },
    { "{\"type\":\"Results\",\"transcript\":\"top\",\"channel\":{"
      "\"transcript\":\"mid\",\"alternatives\":{\"transcript\":\"obj\"}}}",
      VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "" },
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"transcript\":7}]},\"is_final\":\"true\",\"start\":\"1\"}",
      VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "" },

    /* escapes come out as the characters they are */
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"transcript\":\"caf\\u00e9 \\\"ok\\\"\"}]}}",
      VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "caf\xc3\xa9 \"ok\"" },

    /* the type last: the transcript before it still counts */
    { "{\"channel\":{\"alternatives\":[{\"transcript\":\"late\"}]},"
      "\"is_final\":true,\"type\":\"Results\"}",
      VOICE_DEEPGRAM_RESULTS, 1, 0, 0, 0, 0, "late" },

    /* a second, different type: the last one is the message's */
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"transcript\":\"x\"}]},\"type\":\"Metadata\"}",
      VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },
    { "{\"type\":\"Metadata\",\"channel\":{\"alternatives\":["
      "{\"transcript\":\"x\"}]},\"type\":\"Results\"}",
      VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "x" },

    /* the end of an utterance, and the start of speech */
    { "{\"type\":\"UtteranceEnd\",\"channel\":[0,1],"
      "\"last_word_end\":2.395}",
      VOICE_DEEPGRAM_UTTERANCE_END, 0, 0, 0, 2.395, 0, "" },
    { "{\"type\":\"SpeechStarted\",\"channel\":[0],\"timestamp\":9.54}",
      VOICE_DEEPGRAM_SPEECH_STARTED, 0, 0, 0, 9.54, 0, "" },

    /* what the agent has no use for */
    { "{\"type\":\"Metadata\",\"transaction_key\":\"deprecated\","
      "\"request_id\":\"8c8e\",\"created\":\"2024-08-29T22:37:55.202Z\","
      "\"duration\":0.0,\"channels\":0}",
      VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },
    { "{\"type\":\"Warning\",\"message\":\"w\"}",
      VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },
    { "{\"type\":\"results\"}", VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },
    { "{\"type\":1,\"description\":\"d\"}",
      VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },
    { "{\"channel\":{\"alternatives\":[{\"transcript\":\"no type\"}]}}",
      VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },
    { "{}", VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },
    { VOICE_DEEPGRAM_KEEPALIVE, VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },

    /* errors: the most telling field of those there */
    { "{\"type\":\"Error\",\"variant\":\"x\",\"message\":\"Bad Request\","
      "\"description\":\"Failed to decode audio.\"}",
      VOICE_DEEPGRAM_ERROR, 0, 0, 0, 0, 0, "Failed to decode audio." },
    { "{\"type\":\"Error\",\"message\":\"Bad Request\"}",
      VOICE_DEEPGRAM_ERROR, 0, 0, 0, 0, 0, "Bad Request" },
    { "{\"type\":\"Error\"}", VOICE_DEEPGRAM_ERROR, 0, 0, 0, 0, 0, "" },
    { "{\"description\":\"first\",\"type\":\"Error\",\"err_msg\":\"best\"}",
      VOICE_DEEPGRAM_ERROR, 0, 0, 0, 0, 0, "best" },
    { "{\"err_code\":\"INVALID_AUTH\",\"err_msg\":\"Invalid credentials.\","
      "\"request_id\":\"r\"}",
      VOICE_DEEPGRAM_ERROR, 0, 0, 0, 0, 0, "Invalid credentials." },
    { "{\"err_code\":\"INVALID_AUTH\"}",
      VOICE_DEEPGRAM_OTHER, 0, 0, 0, 0, 0, "" },

    /* not one JSON object */
    { "", VOICE_DEEPGRAM_INVALID, 0, 0, 0, 0, 0, "" },
    { "[{\"type\":\"Results\"}]", VOICE_DEEPGRAM_INVALID, 0, 0, 0, 0, 0, "" },
    { "\"Results\"", VOICE_DEEPGRAM_INVALID, 0, 0, 0, 0, 0, "" },
    { "{\"type\":\"Results\"} {}", VOICE_DEEPGRAM_INVALID, 0, 0, 0, 0, 0,
      "" },
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"transcript\":\"\xff\"}]}}", VOICE_DEEPGRAM_INVALID, 0, 0, 0, 0, 0,
      "" },
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"transcript\":\"\xc0\xaf\"}]}}", VOICE_DEEPGRAM_INVALID, 0, 0, 0, 0,
      0, "" },
    { "{\"type\":\"Results\",\"channel\":{\"alternatives\":["
      "{\"transcript\":\"\xf5\x80\x80\x80\"}]}}", VOICE_DEEPGRAM_INVALID, 0,
      0, 0, 0, 0, "" },
    { "{\"type\":\"Results\",\"a\":[[[[[[[1]]]]]]]}",
      VOICE_DEEPGRAM_INVALID, 0, 0, 0, 0, 0, "" },
    { "{\"type\":\"Results\",\"a\":[[[[[[1]]]]]]}",
      VOICE_DEEPGRAM_RESULTS, 0, 0, 0, 0, 0, "" }
};


static int
parse(const char *json, size_t len, voice_deepgram_result_t *res,
    uint8_t *text, size_t cap, size_t *n)
{
    return voice_deepgram_parse((const uint8_t *) json, len, res, text, cap,
                                n, NULL);
}


static void
test_messages(void)
{
    int                      rc;
    size_t                   i, n;
    uint8_t                  text[256];
    voice_deepgram_result_t  res;

    for (i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
        memset(&res, 0xff, sizeof(res));

        rc = parse(messages[i].json, strlen(messages[i].json), &res, text,
                   sizeof(text), &n);

        CHECK_INT(rc, messages[i].rc);
        CHECK_INT(res.is_final, messages[i].is_final);
        CHECK_INT(res.speech_final, messages[i].speech_final);
        CHECK_INT(res.from_finalize, messages[i].from_finalize);
        CHECK(res.start == messages[i].start);
        CHECK(res.duration == messages[i].duration);
        CHECK_MEM(text, n, messages[i].text, strlen(messages[i].text));
    }
}


/* the five members of a result in each of their 120 orders */

static void
test_orders(void)
{
    int                      used[5], wrong;
    size_t                   i, k, len, n, p[5];
    char                     json[512];
    uint8_t                  text[64];
    voice_deepgram_result_t  res;
    static const char *const  members[5] = {
        "\"type\":\"Results\"",
        "\"is_final\":true",
        "\"start\":1.5",
        "\"metadata\":{\"transcript\":\"no\",\"model\":[\"a\"]}",
        "\"channel\":{\"alternatives\":[{\"transcript\":\"order\"}]}"
    };

    wrong = 0;

    for (i = 0; i < 5 * 5 * 5 * 5 * 5; i++) {
        memset(used, 0, sizeof(used));

        for (k = 0, n = i; k < 5; k++, n /= 5) {
            p[k] = n % 5;
            used[p[k]]++;
        }

        if (used[0] != 1 || used[1] != 1 || used[2] != 1 || used[3] != 1) {
            continue;
        }

        len = 0;
        json[len++] = '{';

        for (k = 0; k < 5; k++) {
            len += (size_t) sprintf(json + len, "%s%s", k ? "," : "",
                                    members[p[k]]);
        }

        json[len++] = '}';

        if (parse(json, len, &res, text, sizeof(text), &n)
                != VOICE_DEEPGRAM_RESULTS
            || !res.is_final || res.start != 1.5
            || n != 5 || memcmp(text, "order", 5) != 0)
        {
            wrong++;
        }
    }

    CHECK_INT(wrong, 0);
}


/*
 * Every buffer size for a transcript of one-, two-, three- and
 * four-byte characters: the longest prefix that ends on a character
 */

static void
test_cap(void)
{
    int                      wrong;
    size_t                   cap, n, want;
    uint8_t                  text[32];
    voice_deepgram_result_t  res;
    static const char        t[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    static const size_t      ends[] = { 0, 1, 3, 6, 10, 11 };
    static const char        error[] =
        "{\"type\":\"Error\",\"description\":\"\xc3\xa9t\xc3\xa9\"}";
    static const char        json[] =
        "{\"type\":\"Results\",\"channel\":{\"alternatives\":[{"
        "\"transcript\":\"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z\"}]}}";

    wrong = 0;

    for (cap = 0; cap <= sizeof(t) + 1; cap++) {
        for (want = 0, n = 0; n < sizeof(ends) / sizeof(ends[0]); n++) {
            if (ends[n] <= cap) {
                want = ends[n];
            }
        }

        memset(text, 0, sizeof(text));

        if (parse(json, sizeof(json) - 1, &res, cap ? text : NULL, cap, &n)
                != VOICE_DEEPGRAM_RESULTS
            || n != want || memcmp(text, t, n) != 0
            || (cap < sizeof(text) && n < cap && text[n] != 0))
        {
            wrong++;
        }
    }

    CHECK_INT(wrong, 0);

    /* an error's text is cut the same way */
    CHECK_INT(parse(error, sizeof(error) - 1, &res, text, 3, &n),
              VOICE_DEEPGRAM_ERROR);
    CHECK_MEM(text, n, "\xc3\xa9t", 3);
}


/* no prefix of a message is a message */

static void
test_prefixes(void)
{
    int                      wrong;
    size_t                   k, n;
    uint8_t                  text[64];
    voice_deepgram_result_t  res;

    wrong = 0;

    for (k = 0; k < sizeof(RESULTS) - 1; k++) {
        if (parse(RESULTS, k, &res, text, sizeof(text), &n)
            != VOICE_DEEPGRAM_INVALID || n != 0)
        {
            wrong++;
        }
    }

    CHECK_INT(wrong, 0);
}


int
main(void)
{
    test_messages();
    test_orders();
    test_cap();
    test_prefixes();

    /* what the client sends, byte for byte, and the codes */

    CHECK_STR(VOICE_DEEPGRAM_KEEPALIVE, "{\"type\":\"KeepAlive\"}");
    CHECK_STR(VOICE_DEEPGRAM_FINALIZE, "{\"type\":\"Finalize\"}");
    CHECK_STR(VOICE_DEEPGRAM_CLOSESTREAM, "{\"type\":\"CloseStream\"}");
    CHECK_INT(VOICE_DEEPGRAM_INVALID, VOICE_JSON_EVENT_INVALID);
    CHECK_INT(VOICE_DEEPGRAM_OTHER, VOICE_JSON_EVENT_OTHER);

    UNIT_DONE("deepgram");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * OpenAI's realtime transcription: the session update and the audio
 * appends byte for byte (every length of audio up to a few frames, every
 * byte value, decoded back), and the server's events read into their
 * codes and texts whatever the order of their keys, cut to the buffer on
 * a character boundary.
 */

#include <openssl/evp.h>

#include "unit.h"
#include "voice_json.h"
#include "voice_realtime.h"


#define DELTA      "conversation.item.input_audio_transcription.delta"
#define COMPLETED  "conversation.item.input_audio_transcription.completed"
#define FAILED     "conversation.item.input_audio_transcription.failed"

#define HEAD       "{\"type\":\"input_audio_buffer.append\",\"audio\":\""


static const struct {
    const char  *json;
    int          rc;
    const char  *text;
} events[] = {

    /* the transcript as it grows, and whole */
    { "{\"type\":\"" DELTA "\",\"event_id\":\"e1\",\"item_id\":\"i1\","
      "\"content_index\":0,\"delta\":\"Hel\"}", VOICE_REALTIME_DELTA, "Hel" },
    { "{\"type\":\"" DELTA "\",\"delta\":\"\"}", VOICE_REALTIME_DELTA, "" },
    { "{\"type\":\"" COMPLETED "\",\"item_id\":\"i1\",\"content_index\":0,"
      "\"transcript\":\"Hello, \\u00e9t\\u00e9.\",\"usage\":{\"type\":"
      "\"tokens\",\"total_tokens\":9}}",
      VOICE_REALTIME_COMPLETED, "Hello, \xc3\xa9t\xc3\xa9." },

    /* each its own field: a delta's transcript is none of its text */
    { "{\"type\":\"" DELTA "\",\"transcript\":\"no\"}",
      VOICE_REALTIME_DELTA, "" },
    { "{\"type\":\"" COMPLETED "\",\"delta\":\"no\",\"transcript\":\"yes\"}",
      VOICE_REALTIME_COMPLETED, "yes" },
    { "{\"type\":\"" COMPLETED "\",\"x\":{\"transcript\":\"no\"}}",
      VOICE_REALTIME_COMPLETED, "" },

    /* the type last */
    { "{\"item_id\":\"i2\",\"transcript\":\"late\",\"type\":\"" COMPLETED
      "\"}", VOICE_REALTIME_COMPLETED, "late" },
    { "{\"delta\":\"d\",\"type\":\"" DELTA "\"}", VOICE_REALTIME_DELTA,
      "d" },

    /* speech, as server VAD sees it */
    { "{\"type\":\"input_audio_buffer.speech_started\",\"event_id\":\"e\","
      "\"audio_start_ms\":1000,\"item_id\":\"i3\"}",
      VOICE_REALTIME_SPEECH_STARTED, "" },
    { "{\"type\":\"input_audio_buffer.speech_stopped\","
      "\"audio_end_ms\":2000,\"item_id\":\"i3\"}",
      VOICE_REALTIME_SPEECH_STOPPED, "" },

    /* errors, the session's and a transcription's */
    { "{\"type\":\"error\",\"event_id\":\"e\",\"error\":{\"type\":"
      "\"invalid_request_error\",\"code\":\"input_audio_buffer_commit_empty\","
      "\"message\":\"Buffer too small.\",\"param\":null,\"event_id\":null}}",
      VOICE_REALTIME_ERROR, "Buffer too small." },
    { "{\"error\":{\"message\":\"first\"},\"type\":\"error\"}",
      VOICE_REALTIME_ERROR, "first" },
    { "{\"type\":\"error\",\"message\":\"top\",\"error\":{\"code\":\"c\"}}",
      VOICE_REALTIME_ERROR, "" },
    { "{\"type\":\"" FAILED "\",\"item_id\":\"i4\",\"content_index\":0,"
      "\"error\":{\"type\":\"transcription_error\",\"code\":\"audio\","
      "\"message\":\"Audio unreadable.\"}}",
      VOICE_REALTIME_ERROR, "Audio unreadable." },

    /* the rest of the conversation, and what has no type */
    { "{\"type\":\"session.created\",\"session\":{\"type\":"
      "\"transcription\"}}", VOICE_REALTIME_OTHER, "" },
    { "{\"type\":\"session.updated\"}", VOICE_REALTIME_OTHER, "" },
    { "{\"type\":\"input_audio_buffer.committed\",\"item_id\":\"i\"}",
      VOICE_REALTIME_OTHER, "" },
    { "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\"}",
      VOICE_REALTIME_OTHER, "" },
    { "{\"type\":\"ERROR\",\"error\":{\"message\":\"m\"}}",
      VOICE_REALTIME_OTHER, "" },
    { "{\"error\":{\"message\":\"no type\"}}", VOICE_REALTIME_OTHER, "" },
    { "{\"delta\":\"no type\"}", VOICE_REALTIME_OTHER, "" },
    { VOICE_REALTIME_COMMIT, VOICE_REALTIME_OTHER, "" },

    /* not one JSON object */
    { "", VOICE_REALTIME_INVALID, "" },
    { "null", VOICE_REALTIME_INVALID, "" },
    { "[{\"type\":\"error\"}]", VOICE_REALTIME_INVALID, "" },
    { "{\"type\":\"" DELTA "\",\"delta\":\"a\"", VOICE_REALTIME_INVALID, "" },
    { "{\"type\":\"" DELTA "\",\"delta\":\"\xc3\"}", VOICE_REALTIME_INVALID,
      "" },

    /*
     * what yajl lets through but is not UTF-8 (RFC 3629): an overlong
     * form, a surrogate, beyond U+10FFFF; in a key too
     */
    { "{\"type\":\"" COMPLETED "\",\"transcript\":\"Hello \xc1\x89.\"}",
      VOICE_REALTIME_INVALID, "" },
    { "{\"type\":\"" DELTA "\",\"delta\":\"\xed\xa0\x80\"}",
      VOICE_REALTIME_INVALID, "" },
    { "{\"type\":\"" DELTA "\",\"delta\":\"\xf4\x90\x80\x80\"}",
      VOICE_REALTIME_INVALID, "" },
    { "{\"type\":\"" DELTA "\",\"d\xe0\x80\x80\":1,\"delta\":\"a\"}",
      VOICE_REALTIME_INVALID, "" }
};


static void
test_events(void)
{
    size_t   i, n;
    uint8_t  text[256];

    for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        CHECK_INT(voice_realtime_parse((const uint8_t *) events[i].json,
                                       strlen(events[i].json), text,
                                       sizeof(text), &n, NULL),
                  events[i].rc);
        CHECK_MEM(text, n, events[i].text, strlen(events[i].text));
    }
}


/* a delta of "Aé€😀" at every buffer size keeps whole characters */

static void
test_cap(void)
{
    int                  wrong;
    size_t               cap, n, k, want;
    uint8_t              text[16];
    static const size_t  ends[] = { 0, 1, 3, 6, 10 };
    static const char    json[] =
        "{\"type\":\"" DELTA "\",\"delta\":\"A\xc3\xa9\xe2\x82\xac"
        "\xf0\x9f\x98\x80\"}";

    wrong = 0;

    for (cap = 0; cap <= 12; cap++) {
        for (want = 0, k = 0; k < sizeof(ends) / sizeof(ends[0]); k++) {
            want = ends[k] <= cap ? ends[k] : want;
        }

        if (voice_realtime_parse((const uint8_t *) json, sizeof(json) - 1,
                                 cap ? text : NULL, cap, &n, NULL)
                != VOICE_REALTIME_DELTA
            || n != want
            || memcmp(text, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", n) != 0)
        {
            wrong++;
        }
    }

    CHECK_INT(wrong, 0);
}


static void
test_session(void)
{
    size_t             n;
    uint8_t            out[512];
    static const char  want[] =
        "{\"type\":\"session.update\",\"session\":{\"type\":\"transcription\","
        "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcmu\"},"
        "\"transcription\":{\"model\":\"gpt-4o-transcribe\","
        "\"language\":\"en\"},\"turn_detection\":null}}}}";
    static const char  bare[] =
        "{\"type\":\"session.update\",\"session\":{\"type\":\"transcription\","
        "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcmu\"},"
        "\"transcription\":{\"model\":\"m\\\"1\\\\\"},"
        "\"turn_detection\":null}}}}";

    n = voice_realtime_session(out, "gpt-4o-transcribe", "en");
    CHECK_MEM(out, n, want, sizeof(want) - 1);
    CHECK_INT(voice_realtime_session(NULL, "gpt-4o-transcribe", "en"), n);

    /* no language, either way; a model is escaped like any text */
    n = voice_realtime_session(out, "m\"1\\", NULL);
    CHECK_MEM(out, n, bare, sizeof(bare) - 1);
    CHECK_INT(voice_realtime_session(NULL, "m\"1\\", ""), n);
}


/*
 * Appends of 0 to 480 bytes (up to three 20 ms frames), every byte value
 * among them: exact, and the audio decodes back
 */

static void
test_append(void)
{
    int                wrong;
    size_t             n, len, b64;
    uint8_t            ulaw[480], out[1024], back[480 + 3];

    for (n = 0; n < sizeof(ulaw); n++) {
        ulaw[n] = (uint8_t) (n * 167 + 13);
    }

    wrong = 0;

    for (n = 0; n <= sizeof(ulaw); n++) {
        memset(out, '#', sizeof(out));

        len = voice_realtime_append(out, ulaw, n);
        b64 = (n + 2) / 3 * 4;

        if (len != voice_realtime_append(NULL, ulaw, n)
            || len != sizeof(HEAD) - 1 + b64 + 2 || out[len] != '#'
            || memcmp(out, HEAD, sizeof(HEAD) - 1) != 0
            || memcmp(out + len - 2, "\"}", 2) != 0
            || EVP_DecodeBlock(back, out + sizeof(HEAD) - 1, (int) b64)
               != (int) (b64 / 4 * 3)
            || memcmp(back, ulaw, n) != 0)
        {
            wrong++;
        }
    }

    CHECK_INT(wrong, 0);
}


/* six seconds, past the first piece the encoding is done in */

static void
test_append_long(void)
{
    size_t          n, len, b64;
    static uint8_t  a[3 * 16384 + 1000], o[70000], b[sizeof(a) + 3];

    for (n = 0; n < sizeof(a); n++) {
        a[n] = (uint8_t) (n ^ (n >> 8));
    }

    len = voice_realtime_append(o, a, sizeof(a));
    b64 = (sizeof(a) + 2) / 3 * 4;

    CHECK_INT(voice_realtime_append(NULL, a, sizeof(a)), len);
    CHECK_INT(len, sizeof(HEAD) - 1 + b64 + 2);
    CHECK_INT(EVP_DecodeBlock(b, o + sizeof(HEAD) - 1, (int) b64),
              b64 / 4 * 3);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    CHECK_MEM(o + len - 2, 2, "\"}", 2);
}


int
main(void)
{
    test_events();
    test_cap();
    test_session();
    test_append();
    test_append_long();

    CHECK_STR(VOICE_REALTIME_COMMIT,
              "{\"type\":\"input_audio_buffer.commit\"}");
    CHECK_STR(VOICE_REALTIME_CLEAR,
              "{\"type\":\"input_audio_buffer.clear\"}");
    CHECK_INT(VOICE_REALTIME_INVALID, VOICE_JSON_EVENT_INVALID);
    CHECK_INT(VOICE_REALTIME_OTHER, VOICE_JSON_EVENT_OTHER);

    UNIT_DONE("realtime");
}

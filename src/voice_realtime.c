/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include <openssl/evp.h>

#include "voice_buf.h"
#include "voice_json.h"
#include "voice_realtime.h"


/*
 * Audio is encoded in pieces of a multiple of 3 bytes, so that
 * EVP_EncodeBlock()'s int takes any length; each piece's NUL is where
 * the next piece, or the tail, goes.
 */
#define VOICE_REALTIME_PIECE  (3 * 16384)


static const char *const  voice_realtime_delta[] = { "delta", NULL };
static const char *const  voice_realtime_transcript[] = {
    "transcript", NULL
};
static const char *const  voice_realtime_error[] = {
    "error", "message", NULL
};


static const voice_json_event_t  voice_realtime_events[] = {
    { "conversation.item.input_audio_transcription.delta",
      VOICE_REALTIME_DELTA, { voice_realtime_delta } },
    { "conversation.item.input_audio_transcription.completed",
      VOICE_REALTIME_COMPLETED, { voice_realtime_transcript } },
    { "conversation.item.input_audio_transcription.failed",
      VOICE_REALTIME_ERROR, { voice_realtime_error } },
    { "input_audio_buffer.speech_started",
      VOICE_REALTIME_SPEECH_STARTED, { NULL } },
    { "input_audio_buffer.speech_stopped",
      VOICE_REALTIME_SPEECH_STOPPED, { NULL } },
    { "error", VOICE_REALTIME_ERROR, { voice_realtime_error } }
};


size_t
voice_realtime_session(uint8_t *out, const char *model, const char *language)
{
    size_t  n;

    n = voice_buf_str(out, 0, "{\"type\":\"session.update\",\"session\":{"
                      "\"type\":\"transcription\",\"audio\":{\"input\":{"
                      "\"format\":{\"type\":\"audio/pcmu\"},"
                      "\"transcription\":{\"model\":\"");
    n += voice_json_put(out, n, (const uint8_t *) model, strlen(model));

    if (language && language[0]) {
        n += voice_buf_str(out, n, "\",\"language\":\"");
        n += voice_json_put(out, n, (const uint8_t *) language,
                            strlen(language));
    }

    n += voice_buf_str(out, n, "\"},\"turn_detection\":null}}}}");

    return n;
}


size_t
voice_realtime_append(uint8_t *out, const uint8_t *ulaw, size_t n)
{
    size_t  len, at, k;

    len = voice_buf_str(out, 0, "{\"type\":\"input_audio_buffer.append\","
                        "\"audio\":\"");

    for (at = 0; at < n; at += k) {
        k = n - at < VOICE_REALTIME_PIECE ? n - at : VOICE_REALTIME_PIECE;

        if (out) {
            EVP_EncodeBlock(out + len, ulaw + at, (int) k);
        }

        len += (k + 2) / 3 * 4;
    }

    len += voice_buf_str(out, len, "\"}");

    return len;
}


int
voice_realtime_parse(const uint8_t *json, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, const yajl_alloc_funcs *af)
{
    return voice_json_event(json, len, voice_realtime_events,
                            sizeof(voice_realtime_events)
                            / sizeof(voice_realtime_events[0]),
                            NULL, NULL, text, cap, text_len, af);
}

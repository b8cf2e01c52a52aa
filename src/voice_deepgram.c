/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdlib.h>
#include <string.h>

#include "voice_deepgram.h"
#include "voice_json.h"


static void voice_deepgram_scalar(void *ctx, const voice_json_walk_t *w,
    int type, const uint8_t *s, size_t len);
static double voice_deepgram_number(const uint8_t *s, size_t len);


static const char *const  voice_deepgram_transcript[] = {
    "channel", "alternatives", VOICE_JSON_FIRST, "transcript", NULL
};

static const char *const  voice_deepgram_err_msg[] = { "err_msg", NULL };
static const char *const  voice_deepgram_description[] = {
    "description", NULL
};
static const char *const  voice_deepgram_message[] = { "message", NULL };


static const voice_json_event_t  voice_deepgram_events[] = {
    { "Results", VOICE_DEEPGRAM_RESULTS, { voice_deepgram_transcript } },
    { "UtteranceEnd", VOICE_DEEPGRAM_UTTERANCE_END, { NULL } },
    { "SpeechStarted", VOICE_DEEPGRAM_SPEECH_STARTED, { NULL } },
    { "Error", VOICE_DEEPGRAM_ERROR,
      { voice_deepgram_err_msg, voice_deepgram_description,
        voice_deepgram_message } },

    /* the HTTP error body, which has no type */
    { NULL, VOICE_DEEPGRAM_ERROR, { voice_deepgram_err_msg } }
};


int
voice_deepgram_parse(const uint8_t *json, size_t len,
    voice_deepgram_result_t *res, uint8_t *text, size_t cap,
    size_t *text_len, const yajl_alloc_funcs *af)
{
    memset(res, 0, sizeof(*res));

    return voice_json_event(json, len, voice_deepgram_events,
                            sizeof(voice_deepgram_events)
                            / sizeof(voice_deepgram_events[0]),
                            voice_deepgram_scalar, res, text, cap, text_len,
                            af);
}


/* the flags and times, whatever the type: each type has its own */

static void
voice_deepgram_scalar(void *ctx, const voice_json_walk_t *w, int type,
    const uint8_t *s, size_t len)
{
    voice_deepgram_result_t  *res = ctx;

    if (type == VOICE_JSON_WALK_BOOL) {
        if (voice_json_walk_top(w, "is_final")) {
            res->is_final = s[0] == 't';

        } else if (voice_json_walk_top(w, "speech_final")) {
            res->speech_final = s[0] == 't';

        } else if (voice_json_walk_top(w, "from_finalize")) {
            res->from_finalize = s[0] == 't';
        }

        return;
    }

    if (type != VOICE_JSON_WALK_NUMBER) {
        return;
    }

    if (voice_json_walk_top(w, "duration")) {
        res->duration = voice_deepgram_number(s, len);

    } else if (voice_json_walk_top(w, "start")
               || voice_json_walk_top(w, "last_word_end")
               || voice_json_walk_top(w, "timestamp"))
    {
        res->start = voice_deepgram_number(s, len);
    }
}


/* a JSON number, as yajl checked it; one too long to be a time is 0 */

static double
voice_deepgram_number(const uint8_t *s, size_t len)
{
    char  buf[64];

    if (len >= sizeof(buf)) {
        return 0;
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    return strtod(buf, NULL);
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <math.h>

#include "voice_vad.h"


#define VOICE_VAD_FRAME_MS  20


void
voice_vad_init(voice_vad_t *v, const voice_vad_conf_t *conf)
{
    voice_vad_t  zero = { 0 };

    *v = zero;
    v->conf = *conf;
    v->floor_db = 0;            /* set by the first frame */
}


double
voice_vad_level(const int16_t *pcm, size_t n)
{
    size_t  i;
    double  sum;

    sum = 0;

    for (i = 0; i < n; i++) {
        sum += (double) pcm[i] * pcm[i];
    }

    sum /= n ? n : 1;

    /* digital silence: a floor, not -inf */
    if (sum < 1) {
        sum = 1;
    }

    return 10 * log10(sum / (32768.0 * 32768.0));
}


int
voice_vad_frame(voice_vad_t *v, const int16_t *pcm)
{
    int     voiced;
    double  db, threshold;

    db = voice_vad_level(pcm, VOICE_VAD_FRAME);

    if (v->floor_db == 0) {
        v->floor_db = db;
    }

    threshold = v->floor_db + v->conf.threshold_db;

    if (v->echo) {
        threshold = threshold > v->echo_db ? threshold : v->echo_db;

    } else if (v->speaking) {
        threshold += v->conf.speaking_margin_db;
    }

    if (threshold < v->conf.min_level_db) {
        threshold = v->conf.min_level_db;
    }

    voiced = db > threshold;

    /*
     * The floor follows quiet frames quickly downwards and rises slowly
     * outside speech (slower still on voiced frames), so talking does
     * not lift it but a louder line does.
     */

    if (db < v->floor_db) {
        v->floor_db += (db - v->floor_db) * 0.5;

    } else if (!v->in_speech) {
        v->floor_db += (db - v->floor_db) * (voiced ? 0.01 : 0.05);
    }

    if (!v->in_speech) {

        if (voiced) {
            v->voiced_ms += VOICE_VAD_FRAME_MS;
            v->gap_ms = 0;

        } else if (v->voiced_ms) {
            v->gap_ms += VOICE_VAD_FRAME_MS;

            /*
             * Gaps between syllables are allowed; a longer one means
             * what came before was a click or a cough.
             */
            if (v->gap_ms > 250) {
                v->voiced_ms = 0;
                v->gap_ms = 0;
            }
        }

        if (v->voiced_ms >= (v->speaking ? v->conf.barge_in_ms
                                         : v->conf.min_speech_ms))
        {
            v->in_speech = 1;
            v->utterance_ms = v->voiced_ms + v->gap_ms;
            v->silence_run_ms = 0;
            v->voiced_ms = 0;
            v->gap_ms = 0;
            v->ended_by_limit = 0;

            return VOICE_VAD_SPEECH_START;
        }

        return VOICE_VAD_NONE;
    }

    v->utterance_ms += VOICE_VAD_FRAME_MS;
    v->silence_run_ms = voiced ? 0 : v->silence_run_ms + VOICE_VAD_FRAME_MS;

    if (v->silence_run_ms >= v->conf.silence_ms
        || v->utterance_ms >= v->conf.max_utterance_ms)
    {
        v->ended_by_limit = v->utterance_ms >= v->conf.max_utterance_ms;
        v->in_speech = 0;
        v->silence_run_ms = 0;

        return VOICE_VAD_UTTERANCE_END;
    }

    return VOICE_VAD_NONE;
}


void
voice_vad_set_speaking(voice_vad_t *v, int speaking)
{
    v->speaking = speaking;
}


void
voice_vad_set_echo(voice_vad_t *v, double db)
{
    v->echo = 1;
    v->echo_db = db;
}


void
voice_vad_end(voice_vad_t *v)
{
    v->in_speech = 0;
    v->silence_run_ms = 0;
    v->utterance_ms = 0;
    v->ended_by_limit = 0;
}

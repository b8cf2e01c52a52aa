/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Endpointing: finds where the caller starts and stops talking in 8 kHz
 * PCM16, 20 ms at a time.  A frame is voiced when its energy stands
 * above an adaptive noise floor by a threshold (raised while our own
 * audio plays, so line echo does not interrupt us: by a fixed margin, or
 * to the level voice_echo.c predicts for the echo); speech starts after
 * min_speech of voiced frames (short gaps allowed), barge_in while our
 * audio plays, and the utterance ends
 * after silence of unvoiced frames, or at max_utterance.
 */

#ifndef VOICE_VAD_H
#define VOICE_VAD_H

#include <stddef.h>
#include <stdint.h>


#define VOICE_VAD_FRAME          160        /* 20 ms at 8 kHz */

#define VOICE_VAD_NONE           0
#define VOICE_VAD_SPEECH_START   1
#define VOICE_VAD_UTTERANCE_END  2


typedef struct {
    unsigned   min_speech_ms;       /* 200 */
    unsigned   barge_in_ms;         /* the same while we speak: 200 */
    unsigned   silence_ms;          /* 500 */
    unsigned   max_utterance_ms;    /* 30000 */
    double     threshold_db;        /* above the floor: 10 */
    double     speaking_margin_db;  /* extra while we speak: 8 */
    double     min_level_db;        /* absolute floor for speech: -50 */
} voice_vad_conf_t;


typedef struct {
    voice_vad_conf_t  conf;

    double            floor_db;
    int               in_speech;        /* utterance in progress */
    int               speaking;         /* our audio is playing */
    int               echo;             /* echo_db replaces the margin */
    double            echo_db;
    unsigned          voiced_ms;        /* towards min_speech */
    unsigned          gap_ms;           /* unvoiced inside the onset */
    unsigned          silence_run_ms;
    unsigned          utterance_ms;
    int               ended_by_limit;

    int16_t           pending[VOICE_VAD_FRAME];
    size_t            npending;
} voice_vad_t;


void voice_vad_init(voice_vad_t *v, const voice_vad_conf_t *conf);

/* energy of one 20 ms frame, dBFS */
double voice_vad_level(const int16_t *pcm, size_t n);

/*
 * Feeds one 20 ms frame (VOICE_VAD_FRAME samples); returns the event it
 * completes, if any.
 */
int voice_vad_frame(voice_vad_t *v, const int16_t *pcm);

void voice_vad_set_speaking(voice_vad_t *v, int speaking);

/*
 * From now on, a frame must also stand above db (dBFS) to be voiced: the
 * level our own echo may reach on the line, as voice_echo_frame() gives
 * it for the frame fed next.  It replaces speaking_margin_db.
 */
void voice_vad_set_echo(voice_vad_t *v, double db);

/*
 * The utterance was ended by other means (a streaming recognizer's own
 * end of speech): the next voiced frames are a new onset.
 */
void voice_vad_end(voice_vad_t *v);

#endif /* VOICE_VAD_H */

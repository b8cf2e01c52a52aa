/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * OpenAI's transcriptions endpoint, answered by pocketsphinx, and the
 * utterances that it and the live endpoint (listen.c) decode.
 */

#ifndef VP_STT_H
#define VP_STT_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"


#define VP_STT_MODEL_DIR  "/usr/share/pocketsphinx/model/en-us"
#define VP_STT_TEXT_MAX   1024
#define VP_STT_WORDS_MAX  64
#define VP_STT_WORD_MAX   40


typedef struct {
    char            text[VP_STT_WORD_MAX];
    double          start;              /* seconds into the utterance */
    double          end;
    double          confidence;         /* 0 to 1 */
} vp_stt_word_t;


/* a transcript and its words, as far as they fit */
typedef struct {
    char            text[VP_STT_TEXT_MAX];
    vp_stt_word_t   words[VP_STT_WORDS_MAX];
    unsigned        nwords;
    double          confidence;         /* 0 to 1 */
    const char     *search;             /* "faq" or "lm" */
    double          faq;                /* the grammar's score a frame */
} vp_stt_result_t;


/*
 * An utterance: audio added as it arrives, at any rate, made into what
 * the model hears (16 kHz, with the noise floor).  Closing it decodes it
 * whole, so the same audio gets the same transcript however it came, in
 * one WAV file or in 20 ms frames.  A live utterance is decoded as it
 * grows too, for the hypotheses on the way; there is one decoder, so
 * one live utterance at a time.
 */
typedef struct vp_stt_utt_s  vp_stt_utt_t;


/* loads the model from vp_conf.model_dir, and the FAQ grammar: 0 or -1 */
int vp_stt_init(void);

/* POST /v1/audio/transcriptions */
void vp_stt_handle(vp_http_conn_t *c);

void vp_stt_free(void);

/* rate: of the samples to come; NULL when out of memory */
vp_stt_utt_t *vp_stt_utt_open(unsigned rate, int live);

/* 0, or -1 when out of memory or longer than the batch endpoint takes */
int vp_stt_utt_add(vp_stt_utt_t *u, const int16_t *pcm, size_t n);

/* a live utterance's best hypothesis so far */
void vp_stt_utt_partial(vp_stt_utt_t *u, vp_stt_result_t *r);

/* the whole utterance's transcript; no audio can be added after it */
void vp_stt_utt_close(vp_stt_utt_t *u, vp_stt_result_t *r);

void vp_stt_utt_free(vp_stt_utt_t *u);

#endif /* VP_STT_H */

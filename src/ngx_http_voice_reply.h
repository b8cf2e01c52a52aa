/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The agent's reply: text in, cut into sentences; each sentence to the
 * voice_tts location at once; their audio, converted to μ-law 8 kHz as
 * it arrives, played in sentence order in 20 ms media messages, with a
 * mark after each sentence to learn what the caller heard.
 */

#ifndef NGX_HTTP_VOICE_REPLY_H
#define NGX_HTTP_VOICE_REPLY_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_provider.h"
#include "voice_sentence.h"
#include "voice_tts_audio.h"


#define NGX_HTTP_VOICE_REPLY_ELEVENLABS  0
#define NGX_HTTP_VOICE_REPLY_OPENAI      1

/* sentences a reply may have, and the longest before it is cut */
#define NGX_HTTP_VOICE_REPLY_SENTENCES     32
#define NGX_HTTP_VOICE_REPLY_SENTENCE_MAX  300


typedef struct {
    ngx_str_t                    uri;           /* voice_tts */
    ngx_uint_t                   dialect;       /* voice_tts_dialect */
    ngx_str_t                    model;         /* voice_tts_model */
    ngx_str_t                    voice;         /* voice_tts_voice */
    ngx_uint_t                   format;        /* VOICE_TTS_AUDIO_* */
    ngx_uint_t                   rate;          /* of voice_tts_format */
} ngx_http_voice_reply_conf_t;


typedef struct {
    u_char                         *text;
    size_t                          text_len;
    ngx_uint_t                      index;

    u_char                         *audio;         /* μ-law, not yet sent */
    size_t                          audio_len;
    size_t                          audio_size;
    size_t                          sent;
    voice_tts_audio_t               conv;

    ngx_http_voice_provider_req_t  *pr;
    unsigned                        done:1;
    unsigned                        marked:1;
    unsigned                        first_byte:1;  /* from TTS */
    unsigned                        failed:1;  /* TTS failed: unheard */
} ngx_http_voice_reply_sentence_t;


typedef void (*ngx_http_voice_reply_pt)(void *data);


typedef struct {
    ngx_http_voice_reply_conf_t     *conf;
    ngx_http_voice_stream_t         *stream;

    voice_sentence_t                 splitter;
    u_char                           splitter_buf[2048];

    ngx_http_voice_reply_sentence_t  sentences[NGX_HTTP_VOICE_REPLY_SENTENCES];
    ngx_uint_t                       nsentences;
    ngx_uint_t                       playing;       /* sentences sent whole */
    ngx_uint_t                       heard;         /* by their marks */

    /* in the marks' names, so those of a cleared reply are told apart */
    ngx_uint_t                       turn;

    /* the reply's timings */
    ngx_msec_t                       begun;
    ngx_msec_t                       sentence_ms;   /* to the first sentence */
    ngx_msec_t                       tts_first_ms;  /* its TTS first byte */
    uint64_t                         tts_us;        /* sentence -> TTS */
    uint64_t                         media_us;      /* TTS bytes -> media */

    ngx_http_voice_reply_pt          on_speaking;   /* first audio sent */
    ngx_http_voice_reply_pt          on_timed;      /* the timings are in */

    /* each piece of audio as it is sent to Twilio; NULL: none */
    void                           (*on_audio)(void *data, u_char *ulaw,
                                               size_t n);
    void                            *data;

    unsigned                         complete:1;    /* no more text */
    unsigned                         held:1;        /* nothing played yet */
    unsigned                         speaking:1;
    unsigned                         timed:1;
} ngx_http_voice_reply_t;


void ngx_http_voice_reply_init(ngx_http_voice_reply_t *reply,
    ngx_http_voice_reply_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_reply_pt on_speaking, ngx_http_voice_reply_pt on_timed,
    void *data);

/*
 * A new reply's text is coming.  "held": its requests go, but none of
 * its audio plays before ngx_http_voice_reply_release() (a speculative
 * reply, made before the caller is known to have finished).
 */
void ngx_http_voice_reply_begin(ngx_http_voice_reply_t *reply,
    ngx_uint_t held);
void ngx_http_voice_reply_release(ngx_http_voice_reply_t *reply);

/* more text; NULL: the end of it, the last sentence goes too */
void ngx_http_voice_reply_text(ngx_http_voice_reply_t *reply,
    const u_char *text, size_t len);

/* no more text: an unfinished sentence is dropped */
void ngx_http_voice_reply_close(ngx_http_voice_reply_t *reply);

/* a mark came back; NGX_DECLINED: not of this reply */
ngx_int_t ngx_http_voice_reply_mark(ngx_http_voice_reply_t *reply,
    u_char *name);

/* all of it said, and every mark back */
ngx_uint_t ngx_http_voice_reply_over(ngx_http_voice_reply_t *reply);

/* the sentences the caller heard, one text (mem_alloc'd), or NULL */
u_char *ngx_http_voice_reply_heard_text(ngx_http_voice_reply_t *reply,
    size_t *len);

/* abandons what is left, frees it all; the next reply gets a new turn */
void ngx_http_voice_reply_end(ngx_http_voice_reply_t *reply);
void ngx_http_voice_reply_cleanup(ngx_http_voice_reply_t *reply);

#endif /* NGX_HTTP_VOICE_REPLY_H */

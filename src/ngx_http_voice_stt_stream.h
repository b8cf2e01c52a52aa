/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Speech-to-text, streaming: one WebSocket to the recognizer for the
 * whole call (ngx_http_voice_upstream.c), the caller's audio sent while
 * they speak, interim words back as they come, the final transcript
 * within voice_stt_stream_timeout of the end of the utterance.
 * Dialects: Deepgram's live API, OpenAI's realtime transcription.
 */

#ifndef NGX_HTTP_VOICE_STT_STREAM_H
#define NGX_HTTP_VOICE_STT_STREAM_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_stream.h"
#include "ngx_http_voice_upstream.h"


#define NGX_HTTP_VOICE_STT_STREAM_DEEPGRAM  0
#define NGX_HTTP_VOICE_STT_STREAM_OPENAI    1

/* what an utterance's text may hold, and the audio kept from before it */
#define NGX_HTTP_VOICE_STT_STREAM_TEXT_MAX  4096
#define NGX_HTTP_VOICE_STT_STREAM_PREROLL   2400        /* 300 ms */

/* a KeepAlive this long after the last audio; Deepgram closes at 10 s */
#define NGX_HTTP_VOICE_STT_STREAM_KEEPALIVE  4000

/* reconnecting: the first wait, doubled each time up to the last */
#define NGX_HTTP_VOICE_STT_STREAM_BACKOFF      250
#define NGX_HTTP_VOICE_STT_STREAM_BACKOFF_MAX  8000


typedef struct {
    ngx_http_voice_upstream_conf_t  upstream;   /* voice_stt_stream */
    ngx_uint_t                      dialect;    /* _stream_dialect */
    ngx_msec_t                      timeout;    /* _stream_timeout */
    ngx_str_t                       model;      /* voice_stt_model */
    ngx_str_t                       language;   /* voice_stt_language */
} ngx_http_voice_stt_stream_conf_t;


#define NGX_HTTP_VOICE_STT_STREAM_INTERIM  1   /* the words so far */
#define NGX_HTTP_VOICE_STT_STREAM_FINAL    2   /* the utterance, whole */
#define NGX_HTTP_VOICE_STT_STREAM_ENDED    3   /* the recognizer's own end */
#define NGX_HTTP_VOICE_STT_STREAM_LOST     4   /* this utterance is lost */

/*
 * INTERIM: text is all heard of the utterance so far.  FINAL: the
 * transcript after ngx_http_voice_stt_stream_finalize() (maybe empty).
 * ENDED: the recognizer decided the caller finished (speech_final), with
 * the transcript.  LOST: the connection failed during the utterance or
 * the final transcript did not come in time; the audio must go another
 * way.  Each utterance ends with exactly one FINAL, ENDED or LOST.
 */
typedef void (*ngx_http_voice_stt_stream_pt)(void *data, ngx_uint_t event,
    u_char *text, size_t len);


typedef struct {
    ngx_http_voice_stt_stream_conf_t  *conf;
    ngx_http_voice_stream_t           *stream;
    ngx_http_voice_upstream_t         *upstream;

    ngx_event_t                        reconnect;
    ngx_event_t                        keepalive;
    ngx_event_t                        deadline;
    ngx_msec_t                         backoff;
    ngx_msec_t                         last_sent;

    /* the last 300 ms of the caller, sent at the utterance's onset */
    u_char                            *preroll;
    size_t                             preroll_pos;
    size_t                             preroll_len;

    /* the utterance's text: final segments, then the interim tail */
    u_char                            *text;
    size_t                             final_len;
    size_t                             text_len;
    size_t                             kept;        /* of earlier parts */

    ngx_http_voice_stt_stream_pt       handler;
    void                              *data;

    ngx_uint_t                         utterances;  /* of this connection */

    unsigned                           open:1;
    unsigned                           speaking:1;  /* audio is sent */
    unsigned                           finalizing:1;
    unsigned                           timed_out:1;   /* for the metrics */
    unsigned                           failed:1;    /* this utterance */
} ngx_http_voice_stt_stream_t;


/* opens the connection; NGX_ERROR only when out of memory */
ngx_int_t ngx_http_voice_stt_stream_init(ngx_http_voice_stt_stream_t *ss,
    ngx_http_voice_stt_stream_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_stt_stream_pt handler, void *data);

/* every frame of the caller's μ-law, as Twilio sent it */
void ngx_http_voice_stt_stream_audio(ngx_http_voice_stt_stream_t *ss,
    u_char *ulaw, size_t n);

/*
 * The caller starts to speak: the utterance's audio goes from "preroll"
 * bytes before the latest frame on.  NGX_DECLINED: the recognizer is not
 * open, the utterance goes another way.
 */
ngx_int_t ngx_http_voice_stt_stream_begin(ngx_http_voice_stt_stream_t *ss,
    size_t preroll);

/* the same, keeping what was transcribed of the utterance so far */
ngx_int_t ngx_http_voice_stt_stream_resume(ngx_http_voice_stt_stream_t *ss,
    size_t preroll);

/* the caller stopped: the final transcript, in voice_stt_stream_timeout */
ngx_int_t ngx_http_voice_stt_stream_finalize(
    ngx_http_voice_stt_stream_t *ss);

/* the utterance needs no transcript (what it said was not an utterance) */
void ngx_http_voice_stt_stream_abandon(ngx_http_voice_stt_stream_t *ss);

/* the agent took ENDED: the utterance is over, no more of it is sent */
void ngx_http_voice_stt_stream_stop(ngx_http_voice_stt_stream_t *ss);

void ngx_http_voice_stt_stream_cleanup(ngx_http_voice_stt_stream_t *ss);

#endif /* NGX_HTTP_VOICE_STT_STREAM_H */

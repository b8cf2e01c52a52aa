/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Speech-to-text, batch: one utterance as a WAV file in a multipart POST
 * to the voice_stt location, its {"text"} reply read whole.
 */

#ifndef NGX_HTTP_VOICE_STT_H
#define NGX_HTTP_VOICE_STT_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_provider.h"


/* the longest reply body read, and the longest transcript kept */
#define NGX_HTTP_VOICE_STT_REPLY_MAX  65536
#define NGX_HTTP_VOICE_STT_TEXT_MAX   4096


typedef struct {
    ngx_str_t                    uri;           /* voice_stt */
    ngx_str_t                    model;         /* voice_stt_model */
    ngx_str_t                    language;      /* voice_stt_language */
} ngx_http_voice_stt_conf_t;


/*
 * The transcript, or NULL: the request failed (stt->failed) or heard
 * nothing; logged either way
 */
typedef void (*ngx_http_voice_stt_pt)(void *data, u_char *text, size_t len);


typedef struct {
    ngx_http_voice_stt_conf_t      *conf;
    ngx_http_voice_stream_t        *stream;
    ngx_http_voice_provider_req_t  *pr;            /* NULL: none running */

    u_char                         *reply;         /* kept for the call */
    size_t                          reply_len;

    ngx_msec_t                      ms;            /* the last request took */
    uint64_t                        done_us;       /* its reply was in */
    unsigned                        failed:1;      /* the last one */

    ngx_http_voice_stt_pt           handler;
    void                           *data;
} ngx_http_voice_stt_t;


void ngx_http_voice_stt_init(ngx_http_voice_stt_t *stt,
    ngx_http_voice_stt_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_stt_pt handler, void *data);

/* the utterance, 8 kHz in host order; not kept past the call */
ngx_int_t ngx_http_voice_stt_start(ngx_http_voice_stt_t *stt,
    int16_t *pcm, size_t n);
void ngx_http_voice_stt_cancel(ngx_http_voice_stt_t *stt);
void ngx_http_voice_stt_cleanup(ngx_http_voice_stt_t *stt);

#endif /* NGX_HTTP_VOICE_STT_H */

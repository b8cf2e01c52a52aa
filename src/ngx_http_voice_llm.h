/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The conversation with the model: a bounded history of messages, and a
 * streamed chat completion (SSE) per turn whose text is handed on as it
 * arrives.
 */

#ifndef NGX_HTTP_VOICE_LLM_H
#define NGX_HTTP_VOICE_LLM_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_provider.h"
#include "voice_sse.h"


/* one SSE event's data, and one delta's text */
#define NGX_HTTP_VOICE_LLM_EVENT_MAX  16384
#define NGX_HTTP_VOICE_LLM_TEXT_MAX   4096


typedef struct {
    ngx_str_t                    uri;           /* voice_llm */
    ngx_str_t                    model;         /* voice_llm_model */
    ngx_str_t                    system_prompt; /* voice_system_prompt */
    ngx_uint_t                   max_history;   /* voice_llm_max_history */
    size_t                       max_reply;     /* voice_llm_max_reply */
} ngx_http_voice_llm_conf_t;


typedef struct {
    const char                  *role;
    u_char                      *text;
    size_t                       len;
} ngx_http_voice_llm_message_t;


/* text of the reply as it streams in */
typedef void (*ngx_http_voice_llm_text_pt)(void *data, u_char *text,
    size_t len);

/* the stream ended: ok with "[DONE]", else failed (logged) */
typedef void (*ngx_http_voice_llm_done_pt)(void *data, ngx_uint_t ok);


typedef struct {
    ngx_http_voice_llm_conf_t      *conf;
    ngx_http_voice_stream_t        *stream;
    ngx_http_voice_provider_req_t  *pr;            /* NULL: none running */

    ngx_http_voice_llm_message_t   *history;
    ngx_uint_t                      nhistory;

    voice_sse_t                     sse;
    u_char                          sse_buf[NGX_HTTP_VOICE_LLM_EVENT_MAX];

    ngx_msec_t                      first_ms;      /* to the first text */
    size_t                          reply_len;     /* text handed on */

    /* a reply past voice_llm_max_reply ends from here */
    ngx_event_t                     stop;

    ngx_http_voice_llm_text_pt      on_text;
    ngx_http_voice_llm_done_pt      on_done;
    void                           *data;

    unsigned                        first:1;
    unsigned                        saw_done:1;
    unsigned                        failed:1;
} ngx_http_voice_llm_t;


ngx_int_t ngx_http_voice_llm_init(ngx_http_voice_llm_t *llm,
    ngx_http_voice_llm_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_llm_text_pt on_text, ngx_http_voice_llm_done_pt on_done,
    void *data);

/* the oldest message goes when the history is full */
void ngx_http_voice_llm_history_add(ngx_http_voice_llm_t *llm,
    const char *role, const u_char *text, size_t len);

/* takes back the last message (a speculative turn the caller went on) */
void ngx_http_voice_llm_history_pop(ngx_http_voice_llm_t *llm);

/* a completion of the system prompt and the history */
ngx_int_t ngx_http_voice_llm_start(ngx_http_voice_llm_t *llm);
void ngx_http_voice_llm_cancel(ngx_http_voice_llm_t *llm);
void ngx_http_voice_llm_cleanup(ngx_http_voice_llm_t *llm);

#endif /* NGX_HTTP_VOICE_LLM_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The conversation with the model: a bounded history of messages, and a
 * streamed chat completion (SSE) per turn whose text is handed on as it
 * arrives; when the model calls functions, the rounds of the turn: the
 * calls run, their results go back in a completion more.
 */

#ifndef NGX_HTTP_VOICE_LLM_H
#define NGX_HTTP_VOICE_LLM_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_provider.h"
#include "ngx_http_voice_tool.h"
#include "voice_sse.h"
#include "voice_tools.h"


/* one SSE event's data, and one delta's text */
#define NGX_HTTP_VOICE_LLM_EVENT_MAX  16384
#define NGX_HTTP_VOICE_LLM_TEXT_MAX   4096


typedef struct {
    ngx_str_t                    uri;           /* voice_llm */
    ngx_str_t                    model;         /* voice_llm_model */
    ngx_str_t                    system_prompt; /* voice_system_prompt */
    ngx_uint_t                   max_history;   /* voice_llm_max_history */
    size_t                       max_reply;     /* voice_llm_max_reply */
    ngx_http_voice_tool_conf_t   tool;
} ngx_http_voice_llm_conf_t;


/*
 * A message of the history.  "extra" is an assistant's tool_calls (a
 * JSON array; no text: "content": null) or the id of the call a "tool"
 * message answers.  text and extra are one allocation.
 */
typedef struct {
    const char                  *role;
    u_char                      *text;
    size_t                       len;
    u_char                      *extra;
    size_t                       extra_len;
} ngx_http_voice_llm_message_t;


/* text of the reply as it streams in */
typedef void (*ngx_http_voice_llm_text_pt)(void *data, u_char *text,
    size_t len);

/* the stream ended: ok with "[DONE]", else failed (logged) */
typedef void (*ngx_http_voice_llm_done_pt)(void *data, ngx_uint_t ok);

/*
 * What a built-in function asks of the call.  END: it ends (or moves)
 * once the reply is heard, which the caller cannot cut short;
 * TRANSFERRED: Twilio took the call elsewhere, the stream may close;
 * RESUME: the transfer failed, and the model is to say so (a new reply).
 */
#define NGX_HTTP_VOICE_LLM_END          1
#define NGX_HTTP_VOICE_LLM_TRANSFERRED  2
#define NGX_HTTP_VOICE_LLM_RESUME       3

typedef void (*ngx_http_voice_llm_action_pt)(void *data, ngx_uint_t action);


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

    /* the calls the completion streams, and the rounds of the turn */
    voice_tool_calls_t              calls;
    ngx_uint_t                      rounds;
    ngx_uint_t                      round;         /* 0: none going on */
    ngx_uint_t                      serial;
    ngx_uint_t                      pending;       /* results not in */
    ngx_uint_t                      ncalls;
    ngx_uint_t                      closing;       /* end_call, transfer */
    ngx_queue_t                     runs;          /* calls running */

    /* transfer_call, and the call's account for Twilio's REST API */
    ngx_http_voice_tool_t          *transfer;
    u_char                          transfer_id[VOICE_TOOL_ID_MAX];
    size_t                          transfer_id_len;
    ngx_http_voice_tool_req_t       twilio;
    ngx_str_t                       account_sid;

    ngx_http_voice_llm_text_pt      on_text;
    ngx_http_voice_llm_done_pt      on_done;
    ngx_http_voice_llm_action_pt    on_action;
    void                           *data;

    unsigned                        first:1;
    unsigned                        saw_done:1;
    unsigned                        failed:1;
    unsigned                        said:1;        /* this completion */
    unsigned                        held:1;        /* no calls run yet */
    unsigned                        waiting:1;     /* calls held back */
    unsigned                        transferring:1;
} ngx_http_voice_llm_t;


ngx_int_t ngx_http_voice_llm_init(ngx_http_voice_llm_t *llm,
    ngx_http_voice_llm_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_llm_text_pt on_text, ngx_http_voice_llm_done_pt on_done,
    ngx_http_voice_llm_action_pt on_action, void *data);

/* the oldest message goes when the history is full */
void ngx_http_voice_llm_history_add(ngx_http_voice_llm_t *llm,
    const char *role, const u_char *text, size_t len);

/*
 * takes back the last turn: the caller's message and what came after it
 * (a speculative turn the caller went on)
 */
void ngx_http_voice_llm_history_pop(ngx_http_voice_llm_t *llm);

/*
 * A turn: a completion of the system prompt and the history, and more
 * if the model calls functions.  Held (a speculative turn): its calls
 * wait for ngx_http_voice_llm_release(), as they may do things.
 */
ngx_int_t ngx_http_voice_llm_start(ngx_http_voice_llm_t *llm,
    ngx_uint_t held);
void ngx_http_voice_llm_release(ngx_http_voice_llm_t *llm);

/*
 * Drops the turn.  Calls running go on: their results still go into the
 * history, as what they did is done.
 */
void ngx_http_voice_llm_cancel(ngx_http_voice_llm_t *llm);

/*
 * The reply that ends the call was heard: a transfer asked for starts
 * (NGX_AGAIN: on_action says how it went), or there is none.
 */
ngx_int_t ngx_http_voice_llm_hand_off(ngx_http_voice_llm_t *llm);

void ngx_http_voice_llm_cleanup(ngx_http_voice_llm_t *llm);

#endif /* NGX_HTTP_VOICE_LLM_H */

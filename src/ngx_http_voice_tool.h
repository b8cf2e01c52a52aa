/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The model's functions, each an nginx location: their configuration
 * (voice_tools, voice_tool, voice_end_call, voice_transfer,
 * voice_twilio_api), a call to a function's location, and the update of
 * the live call through Twilio's REST API that moves it to a person.
 */

#ifndef NGX_HTTP_VOICE_TOOL_H
#define NGX_HTTP_VOICE_TOOL_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_provider.h"
#include "voice_tools.h"


/* the longest answer of a tool taken; a longer one is a failure */
#define NGX_HTTP_VOICE_TOOL_RESULT_MAX  16384

/* the largest tools file */
#define NGX_HTTP_VOICE_TOOLS_FILE_MAX   (256 * 1024)


/*
 * voice_tool and voice_transfer: a name the model sees, and where it
 * leads: a function's location, a transfer's number or SIP URI
 */
typedef struct {
    ngx_str_t                    name;
    ngx_str_t                    to;
} ngx_http_voice_tool_t;


typedef struct {
    ngx_str_t                    file;          /* voice_tools */
    u_char                      *data;          /* its text, as checked */
    voice_tools_file_t          *functions;     /* NULL: no file */
    ngx_array_t                 *tools;         /* voice_tool */
    ngx_flag_t                   end_call;      /* voice_end_call */
    ngx_array_t                 *transfers;     /* voice_transfer */
    ngx_str_t                    twilio_api;    /* voice_twilio_api */
    ngx_uint_t                   max_rounds;    /* voice_llm_max_tool_rounds */

    /* the "tools" array offered with each completion; empty: none */
    ngx_str_t                    offer;
} ngx_http_voice_tool_conf_t;


typedef struct ngx_http_voice_tool_req_s  ngx_http_voice_tool_req_t;

typedef void (*ngx_http_voice_tool_done_pt)(ngx_http_voice_tool_req_t *tr);


/* a function's call, or the Twilio update; the caller's memory */

struct ngx_http_voice_tool_req_s {
    ngx_http_voice_stream_t        *stream;
    ngx_http_voice_provider_req_t  *pr;            /* NULL: not running */
    const char                     *what;          /* "tool", "transfer" */
    ngx_str_t                       name;          /* for messages */
    ngx_str_t                       uri;

    u_char                         *answer;        /* the body, bounded */
    size_t                          len;
    ngx_uint_t                      status;

    ngx_http_voice_tool_done_pt     on_done;
    void                           *data;

    unsigned                        ok:1;
    unsigned                        too_long:1;
};


/*
 * POSTs the arguments (application/json) to a function's location, with
 * headers naming the call; on_done, set after, runs once it answered.
 */
ngx_int_t ngx_http_voice_tool_call(ngx_http_voice_tool_req_t *tr,
    ngx_http_voice_stream_t *st, ngx_http_voice_tool_t *tool,
    u_char *id, size_t id_len, u_char *args, size_t args_len);

/*
 * Updates the live call with <Dial> to the destination: a POST to
 * voice_twilio_api's /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json
 */
ngx_int_t ngx_http_voice_tool_transfer(ngx_http_voice_tool_req_t *tr,
    ngx_http_voice_stream_t *st, ngx_http_voice_tool_conf_t *conf,
    ngx_str_t *account_sid, ngx_http_voice_tool_t *to);

/*
 * What the model is told (mem_alloc'd): the tool's answer, or JSON
 * saying why it failed
 */
u_char *ngx_http_voice_tool_result(ngx_http_voice_tool_req_t *tr,
    size_t *len);

/* stops the request, if it runs, and frees what it holds */
void ngx_http_voice_tool_cancel(ngx_http_voice_tool_req_t *tr);

/* the call is over: frees what it holds (nginx ended the request) */
void ngx_http_voice_tool_free(ngx_http_voice_tool_req_t *tr);

/* the function a name declares, with its location, or NULL */
ngx_http_voice_tool_t *ngx_http_voice_tool_find(
    ngx_http_voice_tool_conf_t *conf, u_char *name, size_t len);

/* the transfer destination of that name, or NULL */
ngx_http_voice_tool_t *ngx_http_voice_tool_destination(
    ngx_http_voice_tool_conf_t *conf, u_char *name, size_t len);


/* the directives; cmd->offset is where the conf sits */
char *ngx_http_voice_tool_set_tools(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_voice_tool_set_tool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_voice_tool_set_transfer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

void ngx_http_voice_tool_init_conf(ngx_http_voice_tool_conf_t *conf);
void ngx_http_voice_tool_merge_conf(ngx_http_voice_tool_conf_t *conf,
    ngx_http_voice_tool_conf_t *prev);

/* a location that runs the agent: what it offers, checked and built */
char *ngx_http_voice_tool_check_conf(ngx_conf_t *cf,
    ngx_http_voice_tool_conf_t *conf);

#endif /* NGX_HTTP_VOICE_TOOL_H */

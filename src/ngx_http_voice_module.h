/*
 * Copyright (C) ngx_http_voice_module authors
 */

#ifndef NGX_HTTP_VOICE_MODULE_H
#define NGX_HTTP_VOICE_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "voice_signature.h"
#include "voice_twilio.h"
#include "voice_ws.h"


#define NGX_HTTP_VOICE_AGENT  0
#define NGX_HTTP_VOICE_ECHO   1

/* the largest decoded media payload accepted from Twilio (20 ms is 160) */
#define NGX_HTTP_VOICE_MAX_PAYLOAD  12288


typedef struct {
    ngx_str_t                    name;
    ngx_http_complex_value_t     value;
} ngx_http_voice_param_conf_t;


typedef struct {
    ngx_http_complex_value_t    *stream_url;
    ngx_array_t                 *stream_params;
    ngx_str_t                    auth_token;
    ngx_http_complex_value_t    *public_url;
    size_t                       max_form_size;

    ngx_uint_t                   mode;
    size_t                       max_message;
    size_t                       max_pending;
    ngx_msec_t                   idle_timeout;

    /* the location that declared a content handler, for messages */
    ngx_str_t                   *handler_location;
    ngx_uint_t                   twiml;             /* unsigned:1 */
} ngx_http_voice_loc_conf_t;


typedef struct ngx_http_voice_call_s  ngx_http_voice_call_t;

typedef void (*ngx_http_voice_audio_pt)(ngx_http_voice_call_t *call,
    u_char *ulaw, size_t n);
typedef void (*ngx_http_voice_event_pt)(ngx_http_voice_call_t *call,
    u_char *value);
typedef void (*ngx_http_voice_cleanup_pt)(ngx_http_voice_call_t *call);


/* one call: a Media Streams WebSocket from handshake to hang-up */

struct ngx_http_voice_call_s {
    ngx_http_request_t          *request;
    ngx_connection_t            *connection;
    ngx_http_voice_loc_conf_t   *conf;

    ngx_str_t                    call_sid;
    ngx_str_t                    stream_sid;
    ngx_msec_t                   start;

    voice_ws_parser_t            ws;
    u_char                      *msg;
    voice_twilio_parser_t        twilio;
    voice_twilio_msg_t           tmsg;

    /* the output queue: bytes [out_pos, out_len) are not sent yet */
    u_char                      *out;
    size_t                       out_pos;
    size_t                       out_len;
    size_t                       out_size;

    ngx_event_t                  idle;
    ngx_event_t                  send;
    ngx_event_t                  closing;

    /* what the call's mode (echo, agent) hooks in */
    ngx_http_voice_audio_pt      on_audio;
    ngx_http_voice_event_pt      on_mark;
    ngx_http_voice_event_pt      on_dtmf;
    ngx_http_voice_cleanup_pt    mode_cleanup;
    void                        *mode_ctx;

    ngx_uint_t                   echo_samples;
    ngx_uint_t                   echo_seconds;

    ngx_uint_t                   frames_in;
    ngx_uint_t                   frames_out;
    ngx_uint_t                   media_in;
    ngx_uint_t                   media_out;
    ngx_uint_t                   marks_in;
    ngx_uint_t                   marks_out;
    off_t                        bytes_out;
    ngx_uint_t                   close_code;

    unsigned                     started:1;
    unsigned                     close_sent:1;
    unsigned                     close_received:1;
    unsigned                     closing_frame:1;
    unsigned                     ws_failed:1;
    unsigned                     done:1;
};


typedef struct {
    ngx_flag_t                   warned_no_token;
} ngx_http_voice_main_conf_t;


ngx_int_t ngx_http_voice_twiml_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_voice_media_stream_handler(ngx_http_request_t *r);

/* outbound Twilio messages, queued on the call's WebSocket */
ngx_int_t ngx_http_voice_send_media(ngx_http_voice_call_t *call,
    u_char *ulaw, size_t n);
ngx_int_t ngx_http_voice_send_mark(ngx_http_voice_call_t *call,
    u_char *name, size_t len);
ngx_int_t ngx_http_voice_send_clear(ngx_http_voice_call_t *call);
void ngx_http_voice_close(ngx_http_voice_call_t *call, ngx_uint_t code,
    const char *reason);

void *ngx_http_voice_malloc(void *ctx, size_t size);
void *ngx_http_voice_realloc(void *ctx, void *ptr, size_t size);
void ngx_http_voice_free(void *ctx, void *ptr);

ngx_table_elt_t *ngx_http_voice_find_header(ngx_http_request_t *r,
    const char *name, size_t len);

/*
 * Checks X-Twilio-Signature over the URL Twilio requested and the given
 * form parameters.  "scheme" is used when voice_public_url is not set.
 * NGX_OK: valid or no token configured; NGX_DECLINED: missing or wrong;
 * NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_voice_check_signature(ngx_http_request_t *r,
    ngx_str_t *scheme, voice_param_t *params, size_t n);


extern ngx_module_t  ngx_http_voice_module;
extern ngx_uint_t    ngx_http_voice_live_allocs;
extern ngx_uint_t    ngx_http_voice_live_calls;

#endif /* NGX_HTTP_VOICE_MODULE_H */

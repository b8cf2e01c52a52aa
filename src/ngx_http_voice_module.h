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

#define NGX_HTTP_VOICE_ELEVENLABS  0
#define NGX_HTTP_VOICE_OPENAI      1

#define NGX_HTTP_VOICE_TTS_ULAW    0
#define NGX_HTTP_VOICE_TTS_PCM     1
#define NGX_HTTP_VOICE_TTS_WAV     2

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

    /* the agent */
    ngx_str_t                    stt;
    ngx_str_t                    llm;
    ngx_str_t                    tts;
    ngx_str_t                    stt_model;
    ngx_str_t                    stt_language;
    ngx_str_t                    llm_model;
    ngx_str_t                    system_prompt;
    ngx_uint_t                   llm_max_history;
    ngx_uint_t                   tts_dialect;
    ngx_str_t                    tts_model;
    ngx_str_t                    tts_voice;
    ngx_uint_t                   tts_format;
    ngx_uint_t                   tts_rate;
    ngx_str_t                    greeting;
    ngx_msec_t                   vad_silence;
    ngx_msec_t                   vad_min_speech;
    ngx_flag_t                   barge_in;
    ngx_msec_t                   max_utterance;

    /* the location that declared a content handler, for messages */
    ngx_str_t                   *handler_location;
    ngx_uint_t                   twiml;             /* unsigned:1 */
} ngx_http_voice_loc_conf_t;


typedef struct ngx_http_voice_call_s  ngx_http_voice_call_t;
typedef struct ngx_http_voice_preq_s  ngx_http_voice_preq_t;

typedef void (*ngx_http_voice_data_pt)(ngx_http_voice_preq_t *pr,
    u_char *data, size_t len);
typedef void (*ngx_http_voice_done_pt)(ngx_http_voice_preq_t *pr);


/* one provider request (a background subrequest) */

struct ngx_http_voice_preq_s {
    ngx_http_voice_call_t       *call;
    ngx_http_request_t          *sr;
    const char                  *name;
    u_char                      *body;
    ngx_msec_t                   started;
    ngx_uint_t                   status;

    ngx_http_voice_data_pt       on_data;
    ngx_http_voice_done_pt       on_done;
    ngx_http_voice_done_pt       body_free;
    void                        *data;

    unsigned                     header:1;
    unsigned                     last:1;
    unsigned                     done:1;
    unsigned                     cancelled:1;
    unsigned                     ok:1;
};

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
    ngx_event_t                  flushing;

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

ngx_http_voice_preq_t *ngx_http_voice_provider_request(
    ngx_http_voice_call_t *call, ngx_str_t *uri, const char *name,
    const char *content_type, u_char *body, size_t len);
void ngx_http_voice_provider_cancel(ngx_http_voice_preq_t *pr);
ngx_int_t ngx_http_voice_provider_init(ngx_conf_t *cf);

void ngx_http_voice_agent_start(ngx_http_voice_call_t *call);

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

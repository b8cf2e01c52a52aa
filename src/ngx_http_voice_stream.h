/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Twilio Media Streams: one call's WebSocket from the handshake to the
 * hang-up.  The stream calls the call's mode only through its table
 * (ngx_http_voice_mode.h); a mode calls only the functions below.
 */

#ifndef NGX_HTTP_VOICE_STREAM_H
#define NGX_HTTP_VOICE_STREAM_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_events.h"
#include "ngx_http_voice_mode.h"
#include "ngx_http_voice_signature.h"
#include "voice_twilio.h"
#include "voice_ws.h"


typedef struct ngx_http_voice_stream_s  ngx_http_voice_stream_t;


typedef struct {
    size_t                       max_message;   /* voice_max_message */
    size_t                       max_pending;   /* voice_max_pending */
    ngx_msec_t                   idle_timeout;  /* voice_idle_timeout */
    ngx_flag_t                   log_transcripts;   /* personal data */

    /* voice_media_stream [agent|echo], and that mode's configuration */
    const ngx_http_voice_mode_t *mode;
    void                        *mode_conf;

    /* what a "start" must carry: voiceToken, account */
    ngx_http_voice_signature_conf_t *signature;

    ngx_http_voice_events_conf_t events;        /* voice_events */
} ngx_http_voice_stream_conf_t;


struct ngx_http_voice_stream_s {
    ngx_http_request_t          *request;
    ngx_connection_t            *connection;
    ngx_http_voice_stream_conf_t *conf;

    ngx_str_t                    call_sid;
    ngx_str_t                    stream_sid;
    ngx_str_t                    stream_sid_json;   /* escaped, once */
    ngx_msec_t                   start;
    ngx_msec_t                   end;           /* 0: going on */

    voice_ws_parser_t            ws;
    u_char                      *msg;

    /* the output queue: bytes [out_pos, out_len) are not sent yet */
    u_char                      *out;
    size_t                       out_pos;
    size_t                       out_len;
    size_t                       out_size;

    ngx_event_t                  idle;
    ngx_event_t                  send;
    ngx_event_t                  closing;
    ngx_event_t                  flushing;
    ngx_event_t                  finishing;

    /* the connection's events' handler, while TLS shuts down */
    ngx_event_handler_pt         handler;

    void                        *mode_ctx;

    ngx_http_voice_events_t     *events;        /* NULL: none */

    /* for the log variables ($voice_frames_in, ...) */
    ngx_uint_t                   frames_in;
    ngx_uint_t                   frames_out;
    ngx_uint_t                   media_in;
    ngx_uint_t                   media_out;
    ngx_uint_t                   marks_in;
    ngx_uint_t                   marks_out;
    off_t                        bytes_out;
    ngx_uint_t                   close_code;
    ngx_uint_t                   peer_close_code;

    /* what the call's mode counts: $voice_turns and the like */
    ngx_uint_t                   turns;
    ngx_uint_t                   barge_ins;
    ngx_uint_t                   provider_failures;

    unsigned                     started:1;
    unsigned                     counted:1;     /* in voice_calls_active */
    unsigned                     close_sent:1;
    unsigned                     close_received:1;
    unsigned                     closing_frame:1;
    unsigned                     ws_failed:1;
    unsigned                     shut:1;        /* our write side */
    unsigned                     done:1;

    /*
     * Last, for they are large (the parser has room for a whole payload,
     * a message for 16 custom parameters), and what else each message
     * touches stays in a few cache lines before them.
     */
    voice_twilio_parser_t        twilio;
    voice_twilio_msg_t           tmsg;
};


/* the content handler of voice_media_stream */
ngx_int_t ngx_http_voice_stream_handler(ngx_http_request_t *r,
    ngx_http_voice_stream_conf_t *conf,
    ngx_http_voice_signature_conf_t *signature);

/*
 * What a mode may do.  Messages are queued and written as the socket
 * takes them; NGX_ERROR means the call is over (or out of memory), and
 * nothing more should be sent.
 */
ngx_int_t ngx_http_voice_stream_send_media(ngx_http_voice_stream_t *st,
    u_char *ulaw, size_t n);
ngx_int_t ngx_http_voice_stream_send_mark(ngx_http_voice_stream_t *st,
    u_char *name, size_t len);
ngx_int_t ngx_http_voice_stream_send_clear(ngx_http_voice_stream_t *st);

/* the closing handshake with a WebSocket close code (VOICE_WS_CLOSE_*) */
void ngx_http_voice_stream_close(ngx_http_voice_stream_t *st,
    ngx_uint_t code, const char *reason);


/* calls on this worker now: the allocation check at exit needs none */
extern ngx_uint_t  ngx_http_voice_stream_live;

#endif /* NGX_HTTP_VOICE_STREAM_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Twilio Media Streams: the WebSocket handshake, then the connection on
 * the worker's event loop.  Bytes in become frames (voice_ws.c), frames
 * become Twilio events (voice_twilio.c), and events go to the call's mode
 * (echo here, the agent in ngx_http_voice_agent.c).  Outbound messages are
 * queued in one buffer per call, bounded by voice_max_pending.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_voice_module.h"
#include "voice_g711.h"


#define NGX_HTTP_VOICE_WS_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#define NGX_HTTP_VOICE_UPGRADE_REQUIRED  426

/* the most μ-law bytes put into one outbound media message: 100 ms */
#define NGX_HTTP_VOICE_MEDIA_CHUNK  800

/* how long to wait for the peer's close frame after ours */
#define NGX_HTTP_VOICE_CLOSE_TIMEOUT  5000


static ngx_int_t ngx_http_voice_handshake_check(ngx_http_request_t *r,
    ngx_str_t *key);
static ngx_uint_t ngx_http_voice_header_has_token(ngx_table_elt_t *h,
    const char *token, size_t len);
static ngx_int_t ngx_http_voice_accept(ngx_http_request_t *r,
    ngx_str_t *key);
static void ngx_http_voice_call_cleanup(void *data);

static void ngx_http_voice_read_handler(ngx_http_request_t *r);

static yajl_alloc_funcs  ngx_http_voice_yajl_alloc = {
    ngx_http_voice_malloc,
    ngx_http_voice_realloc,
    ngx_http_voice_free,
    NULL
};

static void ngx_http_voice_write_handler(ngx_http_request_t *r);
static void ngx_http_voice_process(ngx_http_voice_call_t *call, u_char *p,
    size_t len);
static void ngx_http_voice_frame(ngx_http_voice_call_t *call, int rc,
    voice_ws_event_t *ev);
static void ngx_http_voice_message(ngx_http_voice_call_t *call,
    u_char *data, size_t len);
static ngx_uint_t ngx_http_voice_utf8_valid(u_char *p, size_t len);
static void ngx_http_voice_media(ngx_http_voice_call_t *call,
    voice_twilio_msg_t *m);
static void ngx_http_voice_start(ngx_http_voice_call_t *call,
    voice_twilio_msg_t *m);

static void ngx_http_voice_echo(ngx_http_voice_call_t *call, u_char *ulaw,
    size_t n);

static u_char *ngx_http_voice_reserve(ngx_http_voice_call_t *call,
    size_t len);
static ngx_int_t ngx_http_voice_send_frame(ngx_http_voice_call_t *call,
    int opcode, u_char *data, size_t len);
static void ngx_http_voice_flush(ngx_http_voice_call_t *call);
static void ngx_http_voice_idle_handler(ngx_event_t *ev);
static void ngx_http_voice_send_timeout_handler(ngx_event_t *ev);
static void ngx_http_voice_close_timeout_handler(ngx_event_t *ev);
static void ngx_http_voice_flush_handler(ngx_event_t *ev);
static void ngx_http_voice_finish(ngx_http_voice_call_t *call);


ngx_int_t
ngx_http_voice_media_stream_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;
    ngx_str_t  key;

    ngx_str_null(&key);

    rc = ngx_http_voice_handshake_check(r, &key);

    if (rc == NGX_HTTP_VOICE_UPGRADE_REQUIRED) {
        /* nginx 1.22 has no status line or error page for 426 */

        r->headers_out.status = NGX_HTTP_VOICE_UPGRADE_REQUIRED;
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");
        r->headers_out.content_length_n = 0;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_voice_accept(r, &key);
}


/* RFC 6455 4.2.1, then Twilio's signature over the stream URL */

static ngx_int_t
ngx_http_voice_handshake_check(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char            raw[32];
    ngx_int_t         rc;
    ngx_str_t         decoded, scheme;
    ngx_table_elt_t  *h;

    if (r->method != NGX_HTTP_GET) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: media stream request is not GET");
        return NGX_HTTP_BAD_REQUEST;
    }

    if (r->http_version != NGX_HTTP_VERSION_11) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: media stream request is not HTTP/1.1");
        return NGX_HTTP_BAD_REQUEST;
    }

    /* nginx 1.22 does not keep these two in headers_in */

    if (!ngx_http_voice_header_has_token(
             ngx_http_voice_find_header(r, "Upgrade", sizeof("Upgrade") - 1),
             "websocket", sizeof("websocket") - 1)
        || !ngx_http_voice_header_has_token(
                ngx_http_voice_find_header(r, "Connection",
                                           sizeof("Connection") - 1),
                "upgrade", sizeof("upgrade") - 1))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: media stream request without "
                      "\"Upgrade: websocket\"");
        return NGX_HTTP_BAD_REQUEST;
    }

    h = ngx_http_voice_find_header(r, "Sec-WebSocket-Version",
                                   sizeof("Sec-WebSocket-Version") - 1);

    if (h == NULL || h->value.len != 2
        || ngx_strncmp(h->value.data, "13", 2) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: unsupported WebSocket version");

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Sec-WebSocket-Version");
        ngx_str_set(&h->value, "13");

        return NGX_HTTP_VOICE_UPGRADE_REQUIRED;
    }

    h = ngx_http_voice_find_header(r, "Sec-WebSocket-Key",
                                   sizeof("Sec-WebSocket-Key") - 1);

    decoded.data = raw;

    if (h == NULL || h->value.len != ngx_base64_encoded_length(16)
        || ngx_decode_base64(&decoded, &h->value) != NGX_OK
        || decoded.len != 16)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: invalid Sec-WebSocket-Key");
        return NGX_HTTP_BAD_REQUEST;
    }

    *key = h->value;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "wss");

    } else
#endif
    {
        ngx_str_set(&scheme, "ws");
    }

    rc = ngx_http_voice_check_signature(r, &scheme, NULL, 0);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_FORBIDDEN;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


/* a comma-separated header contains the token, case-insensitively */

static ngx_uint_t
ngx_http_voice_header_has_token(ngx_table_elt_t *h, const char *token,
    size_t len)
{
    u_char  *p, *end, *start;

    if (h == NULL) {
        return 0;
    }

    p = h->value.data;
    end = p + h->value.len;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }

        if ((size_t) (p - start) == len
            && ngx_strncasecmp(start, (u_char *) token, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_voice_accept(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char                     *accept;
    ngx_str_t                   digest;
    ngx_sha1_t                  sha1;
    ngx_table_elt_t            *h;
    ngx_connection_t           *c;
    ngx_pool_cleanup_t         *cln;
    ngx_http_voice_call_t      *call;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_voice_loc_conf_t  *vlcf;
    u_char                      hash[20];

    c = r->connection;
    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voice_module);

    call = ngx_pcalloc(r->pool, sizeof(ngx_http_voice_call_t));
    if (call == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    call->request = r;
    call->connection = c;
    call->conf = vlcf;
    call->start = ngx_current_msec;

    call->msg = ngx_palloc(r->pool, vlcf->max_message);
    if (call->msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    voice_ws_parser_init(&call->ws, 1, call->msg, vlcf->max_message);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (voice_twilio_parser_init(&call->twilio, &ngx_http_voice_yajl_alloc)
        != VOICE_TWILIO_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_voice_call_cleanup;
    cln->data = call;

    ngx_http_voice_live_calls++;

    call->idle.handler = ngx_http_voice_idle_handler;
    call->idle.data = call;
    call->idle.log = c->log;

    call->send.handler = ngx_http_voice_send_timeout_handler;
    call->send.data = call;
    call->send.log = c->log;

    call->closing.handler = ngx_http_voice_close_timeout_handler;
    call->closing.data = call;
    call->closing.log = c->log;

    call->flushing.handler = ngx_http_voice_flush_handler;
    call->flushing.data = call;
    call->flushing.log = c->log;

    ngx_http_set_ctx(r, call, ngx_http_voice_module);

    /* Sec-WebSocket-Accept: base64(SHA-1(key + GUID)) */

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, key->data, key->len);
    ngx_sha1_update(&sha1, NGX_HTTP_VOICE_WS_GUID,
                    sizeof(NGX_HTTP_VOICE_WS_GUID) - 1);
    ngx_sha1_final(hash, &sha1);

    accept = ngx_pnalloc(r->pool, ngx_base64_encoded_length(20));
    if (accept == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    digest.len = 20;
    digest.data = hash;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Sec-WebSocket-Accept");
    h->value.data = accept;
    ngx_encode_base64(&h->value, &digest);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Upgrade");
    ngx_str_set(&h->value, "websocket");

    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    ngx_str_set(&r->headers_out.status_line, "101 Switching Protocols");
    r->headers_out.content_length_n = -1;
    r->keepalive = 0;

    if (ngx_http_send_header(r) == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (ngx_http_send_special(r, NGX_HTTP_FLUSH) == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* the call owns the request from here until ngx_http_voice_finish() */

    r->main->count++;

    c->log->action = "streaming media";

    r->read_event_handler = ngx_http_voice_read_handler;
    r->write_event_handler = ngx_http_voice_write_handler;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_add_timer(&call->idle, vlcf->idle_timeout);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "voice: media stream accepted");

    /* frames pipelined right behind the handshake */

    if (r->header_in->pos < r->header_in->last) {
        ngx_http_voice_process(call, r->header_in->pos,
                               r->header_in->last - r->header_in->pos);
        r->header_in->pos = r->header_in->last;

        if (call->done) {
            return NGX_DONE;
        }
    }

    if (c->read->ready) {
        ngx_http_voice_read_handler(r);

    } else if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_voice_finish(call);
    }

    return NGX_DONE;
}


static void
ngx_http_voice_call_cleanup(void *data)
{
    ngx_http_voice_call_t  *call = data;

    if (call->idle.timer_set) {
        ngx_del_timer(&call->idle);
    }

    if (call->send.timer_set) {
        ngx_del_timer(&call->send);
    }

    if (call->closing.timer_set) {
        ngx_del_timer(&call->closing);
    }

    if (call->flushing.posted) {
        ngx_delete_posted_event(&call->flushing);
    }

    if (call->mode_cleanup) {
        call->mode_cleanup(call);
    }

    voice_twilio_parser_free(&call->twilio);

    if (call->out) {
        ngx_http_voice_free(NULL, call->out);
        call->out = NULL;
    }

    ngx_http_voice_live_calls--;
}


static void
ngx_http_voice_read_handler(ngx_http_request_t *r)
{
    ssize_t                 n;
    ngx_connection_t       *c;
    ngx_http_voice_call_t  *call;
    u_char                  buf[4096];

    c = r->connection;
    call = ngx_http_get_module_ctx(r, ngx_http_voice_module);

    if (call == NULL || call->done) {
        return;
    }

    for ( ;; ) {

        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "voice: peer closed the media stream");
            ngx_http_voice_finish(call);
            return;
        }

        ngx_http_voice_process(call, buf, n);

        if (call->done) {
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_voice_finish(call);
    }
}


static void
ngx_http_voice_process(ngx_http_voice_call_t *call, u_char *p, size_t len)
{
    int               rc;
    size_t            used;
    voice_ws_event_t  ev;

    if (!call->close_sent) {
        ngx_add_timer(&call->idle, call->conf->idle_timeout);
    }

    while (len && !call->done) {

        rc = voice_ws_parse(&call->ws, p, len, &used, &ev);

        p += used;
        len -= used;

        if (rc == VOICE_WS_AGAIN) {
            break;
        }

        ngx_http_voice_frame(call, rc, &ev);

        if (rc == VOICE_WS_ERROR) {
            break;
        }
    }

    ngx_http_voice_flush(call);
}


static void
ngx_http_voice_frame(ngx_http_voice_call_t *call, int rc,
    voice_ws_event_t *ev)
{
    ngx_connection_t  *c;
    u_char             payload[2];

    c = call->connection;

    call->frames_in++;

    switch (rc) {

    case VOICE_WS_MESSAGE:

        if (call->close_sent) {
            /* after our close frame, data is discarded */
            return;
        }

        if (ev->opcode == VOICE_WS_BINARY) {
            ngx_http_voice_close(call, 1003, "binary frames not accepted");
            return;
        }

        if (!ngx_http_voice_utf8_valid((u_char *) ev->data, ev->len)) {
            ngx_http_voice_close(call, 1007, "invalid UTF-8");
            return;
        }

        ngx_http_voice_message(call, (u_char *) ev->data, ev->len);
        return;

    case VOICE_WS_PING:

        if (!call->close_sent) {
            (void) ngx_http_voice_send_frame(call, VOICE_WS_OP_PONG,
                                             (u_char *) ev->data, ev->len);
        }

        return;

    case VOICE_WS_PONG:
        return;

    case VOICE_WS_CLOSE:

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "voice: close frame %d", ev->close_code);

        call->close_received = 1;

        if (ev->len > 2
            && !ngx_http_voice_utf8_valid((u_char *) ev->data + 2,
                                          ev->len - 2))
        {
            ngx_http_voice_close(call, 1007, "invalid UTF-8 in close reason");
            return;
        }

        if (!call->close_sent) {

            /* echo the code; the connection closes once it is sent */

            call->close_sent = 1;

            if (ev->close_code == 1005) {
                (void) ngx_http_voice_send_frame(call, VOICE_WS_OP_CLOSE,
                                                 NULL, 0);

            } else {
                payload[0] = (u_char) (ev->close_code >> 8);
                payload[1] = (u_char) (ev->close_code & 0xff);
                (void) ngx_http_voice_send_frame(call, VOICE_WS_OP_CLOSE,
                                                 payload, 2);
            }
        }

        ngx_http_voice_flush(call);

        return;

    default: /* VOICE_WS_ERROR */

        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "voice: WebSocket protocol error, closing with %d",
                      ev->close_code);

        call->ws_failed = 1;
        ngx_http_voice_close(call, ev->close_code,
                             ev->close_code == 1009 ? "message too big"
                                                    : "protocol error");
        return;
    }
}


/* UTF-8 as RFC 3629 defines it: no overlongs, surrogates or > U+10FFFF */

static ngx_uint_t
ngx_http_voice_utf8_valid(u_char *p, size_t len)
{
    u_char    *end;
    uint32_t   u;

    end = p + len;

    while (p < end) {

        if (*p < 0x80) {
            p++;
            continue;
        }

        u = ngx_utf8_decode(&p, end - p);

        if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


static void
ngx_http_voice_message(ngx_http_voice_call_t *call, u_char *data,
    size_t len)
{
    voice_twilio_msg_t  *m;

    m = &call->tmsg;

    if (voice_twilio_parse(&call->twilio, data, len, m) != VOICE_TWILIO_OK) {
        ngx_log_error(NGX_LOG_INFO, call->connection->log, 0,
                      "voice: invalid Twilio message: %s",
                      call->twilio.error);
        ngx_http_voice_close(call, 1007, "invalid JSON");
        return;
    }

    switch (m->event) {

    case VOICE_TWILIO_CONNECTED:
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, call->connection->log, 0,
                       "voice: connected");
        return;

    case VOICE_TWILIO_START:
        ngx_http_voice_start(call, m);
        return;

    case VOICE_TWILIO_MEDIA:
        ngx_http_voice_media(call, m);
        return;

    case VOICE_TWILIO_DTMF:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, call->connection->log, 0,
                       "voice: dtmf \"%s\"", m->digit);

        if (call->on_dtmf) {
            call->on_dtmf(call, (u_char *) m->digit);
        }

        return;

    case VOICE_TWILIO_MARK:
        call->marks_in++;

        if (call->on_mark) {
            call->on_mark(call, (u_char *) m->mark_name);
        }

        return;

    case VOICE_TWILIO_STOP:
        ngx_log_error(NGX_LOG_INFO, call->connection->log, 0,
                      "voice: call \"%V\" stopped", &call->call_sid);
        ngx_http_voice_close(call, 1000, "");
        return;

    default:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, call->connection->log, 0,
                       "voice: ignored event \"%s\"", call->twilio.event_name);
        return;
    }
}


static void
ngx_http_voice_start(ngx_http_voice_call_t *call, voice_twilio_msg_t *m)
{
    size_t  len;

    if (call->started) {
        ngx_log_error(NGX_LOG_INFO, call->connection->log, 0,
                      "voice: second \"start\" event ignored");
        return;
    }

    if (ngx_strcmp(m->encoding, "audio/x-mulaw") != 0
        || m->sample_rate != 8000 || m->channels != 1)
    {
        ngx_log_error(NGX_LOG_INFO, call->connection->log, 0,
                      "voice: unsupported media format \"%s\" %ui Hz "
                      "%ui channels, only audio/x-mulaw 8000 Hz mono",
                      m->encoding, (ngx_uint_t) m->sample_rate,
                      (ngx_uint_t) m->channels);
        ngx_http_voice_close(call, 1003, "unsupported media format");
        return;
    }

    len = ngx_strlen(m->stream_sid);
    call->stream_sid.data = ngx_pnalloc(call->request->pool, len);
    if (call->stream_sid.data == NULL) {
        ngx_http_voice_close(call, 1011, "out of memory");
        return;
    }

    ngx_memcpy(call->stream_sid.data, m->stream_sid, len);
    call->stream_sid.len = len;

    len = ngx_strlen(m->call_sid);
    call->call_sid.data = ngx_pnalloc(call->request->pool, len);
    if (call->call_sid.data == NULL) {
        ngx_http_voice_close(call, 1011, "out of memory");
        return;
    }

    ngx_memcpy(call->call_sid.data, m->call_sid, len);
    call->call_sid.len = len;

    call->started = 1;

    ngx_log_error(NGX_LOG_INFO, call->connection->log, 0,
                  "voice: call \"%V\" stream \"%V\" started",
                  &call->call_sid, &call->stream_sid);

    if (call->conf->mode == NGX_HTTP_VOICE_ECHO) {
        call->on_audio = ngx_http_voice_echo;

    } else {
        ngx_http_voice_agent_start(call);
    }
}


static void
ngx_http_voice_media(ngx_http_voice_call_t *call, voice_twilio_msg_t *m)
{
    ngx_str_t  b64, ulaw;
    u_char     buf[NGX_HTTP_VOICE_MAX_PAYLOAD];

    call->media_in++;

    if (!call->started) {
        return;
    }

    if (m->track_outbound) {
        return;
    }

    b64.data = (u_char *) m->payload;
    b64.len = m->payload_len;

    if (ngx_base64_decoded_length(b64.len) > sizeof(buf)) {
        ngx_http_voice_close(call, 1009, "media payload too large");
        return;
    }

    ulaw.data = buf;

    if (ngx_decode_base64(&ulaw, &b64) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, call->connection->log, 0,
                      "voice: media payload is not base64");
        ngx_http_voice_close(call, 1007, "invalid media payload");
        return;
    }

    if (call->on_audio) {
        call->on_audio(call, ulaw.data, ulaw.len);
    }
}


/*
 * Echo mode: the caller's audio goes back through decode and encode, with
 * a mark after each second of it.
 */

static void
ngx_http_voice_echo(ngx_http_voice_call_t *call, u_char *ulaw, size_t n)
{
    size_t   i;
    u_char   name[32], *p;
    u_char   out[NGX_HTTP_VOICE_MAX_PAYLOAD];

    for (i = 0; i < n; i++) {
        out[i] = voice_ulaw_encode(voice_ulaw_decode(ulaw[i]));
    }

    if (ngx_http_voice_send_media(call, out, n) != NGX_OK) {
        return;
    }

    call->echo_samples += n;

    if (call->echo_samples >= 8000) {
        call->echo_samples -= 8000;
        call->echo_seconds++;

        p = ngx_sprintf(name, "echo-%ui", call->echo_seconds);
        (void) ngx_http_voice_send_mark(call, name, p - name);
    }
}


ngx_int_t
ngx_http_voice_send_media(ngx_http_voice_call_t *call, u_char *ulaw,
    size_t n)
{
    size_t     len, chunk;
    u_char    *p;
    ngx_str_t  src, b64;
    u_char     enc[ngx_base64_encoded_length(NGX_HTTP_VOICE_MEDIA_CHUNK)];

    while (n) {
        chunk = ngx_min(n, NGX_HTTP_VOICE_MEDIA_CHUNK);

        src.data = ulaw;
        src.len = chunk;
        b64.data = enc;
        ngx_encode_base64(&b64, &src);

        len = voice_twilio_media_size((char *) call->stream_sid.data,
                                      call->stream_sid.len, b64.data,
                                      b64.len);

        p = ngx_http_voice_reserve(call, len + VOICE_WS_MAX_HEADER);
        if (p == NULL) {
            return NGX_ERROR;
        }

        p += voice_ws_frame_header(p, VOICE_WS_OP_TEXT, 1, len, NULL);
        p += voice_twilio_media(p, len, (char *) call->stream_sid.data,
                                call->stream_sid.len, b64.data, b64.len);

        call->out_len = p - call->out;
        call->frames_out++;
        call->media_out++;

        ulaw += chunk;
        n -= chunk;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_voice_send_mark(ngx_http_voice_call_t *call, u_char *name,
    size_t len)
{
    size_t   size;
    u_char  *p;

    size = voice_twilio_mark_size((char *) call->stream_sid.data,
                                  call->stream_sid.len, name, len);

    p = ngx_http_voice_reserve(call, size + VOICE_WS_MAX_HEADER);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p += voice_ws_frame_header(p, VOICE_WS_OP_TEXT, 1, size, NULL);
    p += voice_twilio_mark(p, size, (char *) call->stream_sid.data,
                           call->stream_sid.len, name, len);

    call->out_len = p - call->out;
    call->frames_out++;
    call->marks_out++;

    return NGX_OK;
}


ngx_int_t
ngx_http_voice_send_clear(ngx_http_voice_call_t *call)
{
    size_t   size;
    u_char  *p;

    size = voice_twilio_clear_size((char *) call->stream_sid.data,
                                   call->stream_sid.len);

    p = ngx_http_voice_reserve(call, size + VOICE_WS_MAX_HEADER);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p += voice_ws_frame_header(p, VOICE_WS_OP_TEXT, 1, size, NULL);
    p += voice_twilio_clear(p, size, (char *) call->stream_sid.data,
                            call->stream_sid.len);

    call->out_len = p - call->out;
    call->frames_out++;

    return NGX_OK;
}


/*
 * Room for len more bytes at the end of the output queue.  The queue is
 * one buffer, compacted as it drains and grown up to voice_max_pending;
 * a peer that stops reading past that is cut off.
 */

static u_char *
ngx_http_voice_reserve(ngx_http_voice_call_t *call, size_t len)
{
    size_t   size, need;
    u_char  *out;

    if (call->done || (call->close_sent && !call->closing_frame)) {
        return NULL;
    }

    if (call->out_pos) {
        ngx_memmove(call->out, call->out + call->out_pos,
                    call->out_len - call->out_pos);
        call->out_len -= call->out_pos;
        call->out_pos = 0;
    }

    /*
     * Messages queued outside the connection's own events (provider
     * responses, timers) go out once the current event is done.
     */

    if (call->out_len == 0 && !call->flushing.posted) {
        ngx_post_event(&call->flushing, &ngx_posted_events);
    }

    need = call->out_len + len;

    if (need <= call->out_size) {
        return call->out + call->out_len;
    }

    if (need > call->conf->max_pending + VOICE_WS_MAX_HEADER + 128) {
        ngx_log_error(NGX_LOG_INFO, call->connection->log, 0,
                      "voice: peer is not reading, %uz bytes pending "
                      "(voice_max_pending %uz), closing",
                      call->out_len, call->conf->max_pending);
        ngx_http_voice_finish(call);
        return NULL;
    }

    size = call->out_size ? call->out_size : 4096;

    while (size < need) {
        size *= 2;
    }

    out = ngx_http_voice_malloc(NULL, size);
    if (out == NULL) {
        ngx_http_voice_finish(call);
        return NULL;
    }

    if (call->out) {
        ngx_memcpy(out, call->out, call->out_len);
        ngx_http_voice_free(NULL, call->out);
    }

    call->out = out;
    call->out_size = size;

    return call->out + call->out_len;
}


static ngx_int_t
ngx_http_voice_send_frame(ngx_http_voice_call_t *call, int opcode,
    u_char *data, size_t len)
{
    u_char  *p;

    if (opcode == VOICE_WS_OP_CLOSE) {
        call->closing_frame = 1;
    }

    p = ngx_http_voice_reserve(call, len + VOICE_WS_MAX_HEADER);

    call->closing_frame = 0;

    if (p == NULL) {
        return NGX_ERROR;
    }

    p += voice_ws_frame_header(p, opcode, 1, len, NULL);

    if (len) {
        p = ngx_cpymem(p, data, len);
    }

    call->out_len = p - call->out;
    call->frames_out++;

    return NGX_OK;
}


/*
 * Starts the closing handshake: our close frame with the code, then wait
 * (bounded) for the peer's close frame before closing the connection.
 */

void
ngx_http_voice_close(ngx_http_voice_call_t *call, ngx_uint_t code,
    const char *reason)
{
    size_t  len;
    u_char  payload[125];

    if (call->close_sent || call->done) {
        return;
    }

    len = ngx_min(ngx_strlen(reason), sizeof(payload) - 2);

    payload[0] = (u_char) (code >> 8);
    payload[1] = (u_char) (code & 0xff);
    ngx_memcpy(payload + 2, reason, len);

    call->close_code = code;

    (void) ngx_http_voice_send_frame(call, VOICE_WS_OP_CLOSE, payload,
                                     len + 2);
    call->close_sent = 1;

    if (call->idle.timer_set) {
        ngx_del_timer(&call->idle);
    }

    ngx_add_timer(&call->closing, NGX_HTTP_VOICE_CLOSE_TIMEOUT);

    ngx_http_voice_flush(call);
}


static void
ngx_http_voice_write_handler(ngx_http_request_t *r)
{
    ngx_http_voice_call_t  *call;

    call = ngx_http_get_module_ctx(r, ngx_http_voice_module);

    if (call == NULL || call->done) {
        return;
    }

    ngx_http_voice_flush(call);
}


static void
ngx_http_voice_flush(ngx_http_voice_call_t *call)
{
    ssize_t              n;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (call->done) {
        return;
    }

    r = call->request;
    c = call->connection;

    /* the rest of the 101 response, if the socket was full */

    if (r->out) {
        if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
            ngx_http_voice_finish(call);
            return;
        }

        if (r->out) {
            goto again;
        }
    }

    while (call->out_pos < call->out_len) {

        n = c->send(c, call->out + call->out_pos,
                    call->out_len - call->out_pos);

        if (n == NGX_AGAIN) {
            goto again;
        }

        if (n == NGX_ERROR) {
            c->error = 1;
            ngx_http_voice_finish(call);
            return;
        }

        call->out_pos += n;
        call->bytes_out += n;
    }

    call->out_pos = 0;
    call->out_len = 0;

    if (call->send.timer_set) {
        ngx_del_timer(&call->send);
    }

    if (call->close_sent && call->close_received) {
        ngx_http_voice_finish(call);
    }

    return;

again:

    if (!call->send.timer_set) {
        ngx_add_timer(&call->send,
                      ((ngx_http_core_loc_conf_t *)
                       ngx_http_get_module_loc_conf(r, ngx_http_core_module))
                      ->send_timeout);
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_voice_finish(call);
    }
}


static void
ngx_http_voice_flush_handler(ngx_event_t *ev)
{
    ngx_http_voice_call_t  *call = ev->data;

    ngx_http_voice_flush(call);
    ngx_http_run_posted_requests(call->connection);
}


static void
ngx_http_voice_idle_handler(ngx_event_t *ev)
{
    ngx_http_voice_call_t  *call = ev->data;

    ngx_log_error(NGX_LOG_INFO, call->connection->log, 0,
                  "voice: no data from the peer in %M ms, closing",
                  call->conf->idle_timeout);

    ngx_http_voice_close(call, 1001, "idle timeout");
    ngx_http_run_posted_requests(call->connection);
}


static void
ngx_http_voice_send_timeout_handler(ngx_event_t *ev)
{
    ngx_http_voice_call_t  *call = ev->data;

    ngx_log_error(NGX_LOG_INFO, call->connection->log, NGX_ETIMEDOUT,
                  "voice: peer timed out reading the media stream");

    call->connection->timedout = 1;
    ngx_http_voice_finish(call);
    ngx_http_run_posted_requests(call->connection);
}


static void
ngx_http_voice_close_timeout_handler(ngx_event_t *ev)
{
    ngx_http_voice_call_t  *call = ev->data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, call->connection->log, 0,
                   "voice: no close frame from the peer");

    ngx_http_voice_finish(call);
    ngx_http_run_posted_requests(call->connection);
}


/* ends the call: the request and everything it started are terminated */

static void
ngx_http_voice_finish(ngx_http_voice_call_t *call)
{
    if (call->done) {
        return;
    }

    call->done = 1;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, call->connection->log, 0,
                   "voice: call finished");

    ngx_http_finalize_request(call->request, NGX_HTTP_CLOSE);
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Twilio Media Streams: the WebSocket handshake, then the connection on
 * the worker's event loop.  Bytes in become frames (voice_ws.c), frames
 * become Twilio events (voice_twilio.c), and events go to the call's mode
 * through its table (ngx_http_voice_stream.h).  Outbound messages are
 * queued in one buffer per call, bounded by voice_max_pending.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include "ngx_http_voice_header.h"
#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_metrics.h"
#include "ngx_http_voice_module.h"
#include "ngx_http_voice_stream.h"
#include "voice_json.h"
#include "voice_log.h"
#include "voice_utf8.h"


#define NGX_HTTP_VOICE_STREAM_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#define NGX_HTTP_VOICE_STREAM_UPGRADE  426

/* the most μ-law bytes put into one outbound media message: 100 ms */
#define NGX_HTTP_VOICE_STREAM_CHUNK  800


static ngx_int_t ngx_http_voice_stream_handshake(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *signature, ngx_str_t *key);
static ngx_int_t ngx_http_voice_stream_accept(ngx_http_request_t *r,
    ngx_http_voice_stream_conf_t *conf, ngx_str_t *key);
static void ngx_http_voice_stream_cleanup(void *data);
static void ngx_http_voice_stream_terminate(void *data);

static void ngx_http_voice_stream_read_handler(ngx_http_request_t *r);

static void ngx_http_voice_stream_write_handler(ngx_http_request_t *r);
static void ngx_http_voice_stream_process(ngx_http_voice_stream_t *st,
    u_char *p, size_t len);
static void ngx_http_voice_stream_frame(ngx_http_voice_stream_t *st, int rc,
    voice_ws_event_t *ev);
static void ngx_http_voice_stream_message(ngx_http_voice_stream_t *st,
    u_char *data, size_t len);
static void ngx_http_voice_stream_media(ngx_http_voice_stream_t *st,
    voice_twilio_msg_t *m);
static void ngx_http_voice_stream_start(ngx_http_voice_stream_t *st,
    voice_twilio_msg_t *m);

static u_char *ngx_http_voice_stream_reserve(ngx_http_voice_stream_t *st,
    size_t len);
static ngx_int_t ngx_http_voice_stream_send_frame(
    ngx_http_voice_stream_t *st, int opcode, u_char *data, size_t len);
static void ngx_http_voice_stream_flush(ngx_http_voice_stream_t *st);
static void ngx_http_voice_stream_shutdown(ngx_http_voice_stream_t *st);
#if (NGX_HTTP_SSL)
static void ngx_http_voice_stream_ssl_shutdown(ngx_connection_t *c);
#endif
static void ngx_http_voice_stream_idle_handler(ngx_event_t *ev);
static void ngx_http_voice_stream_send_timeout(ngx_event_t *ev);
static void ngx_http_voice_stream_close_timeout(ngx_event_t *ev);
static void ngx_http_voice_stream_flush_handler(ngx_event_t *ev);
static void ngx_http_voice_stream_finish(ngx_http_voice_stream_t *st);
static void ngx_http_voice_stream_uncount(ngx_http_voice_stream_t *st);
static void ngx_http_voice_stream_finish_handler(ngx_event_t *ev);


ngx_uint_t  ngx_http_voice_stream_live;


ngx_int_t
ngx_http_voice_stream_handler(ngx_http_request_t *r,
    ngx_http_voice_stream_conf_t *conf,
    ngx_http_voice_signature_conf_t *signature)
{
    ngx_int_t  rc;
    ngx_str_t  key;

    ngx_str_null(&key);

    rc = ngx_http_voice_stream_handshake(r, signature, &key);

    if (rc == NGX_HTTP_VOICE_STREAM_UPGRADE) {
        /* nginx 1.22 has no status line or error page for 426 */

        r->headers_out.status = NGX_HTTP_VOICE_STREAM_UPGRADE;
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");
        r->headers_out.content_length_n = 0;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_voice_stream_accept(r, conf, &key);
}


/* RFC 6455 4.2.1, then Twilio's signature over the stream URL */

static ngx_int_t
ngx_http_voice_stream_handshake(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *signature, ngx_str_t *key)
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

    /*
     * The bytes after the handshake are frames; a body would be taken
     * for them, or swallowed if discarded.
     */

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: media stream request with a body");
        return NGX_HTTP_BAD_REQUEST;
    }

    /* nginx 1.22 does not keep these two in headers_in */

    if (!ngx_http_voice_header_has_token(
             ngx_http_voice_header_find(r, "Upgrade", sizeof("Upgrade") - 1),
             "websocket", sizeof("websocket") - 1)
        || !ngx_http_voice_header_has_token(
                ngx_http_voice_header_find(r, "Connection",
                                           sizeof("Connection") - 1),
                "upgrade", sizeof("upgrade") - 1))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: media stream request without "
                      "\"Upgrade: websocket\"");
        return NGX_HTTP_BAD_REQUEST;
    }

    h = ngx_http_voice_header_find(r, "Sec-WebSocket-Version",
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

        return NGX_HTTP_VOICE_STREAM_UPGRADE;
    }

    h = ngx_http_voice_header_find(r, "Sec-WebSocket-Key",
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

    rc = ngx_http_voice_signature_check(r, signature, &scheme, NULL, 0);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_FORBIDDEN;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_voice_stream_accept(ngx_http_request_t *r,
    ngx_http_voice_stream_conf_t *conf, ngx_str_t *key)
{
    u_char                     *accept;
    ngx_str_t                   digest;
    ngx_sha1_t                  sha1;
    ngx_table_elt_t            *h;
    ngx_connection_t           *c;
    ngx_pool_cleanup_t         *cln;
    ngx_http_cleanup_t         *hcln;
    ngx_http_voice_stream_t    *st;
    ngx_http_core_loc_conf_t   *clcf;
    u_char                      hash[20];

    c = r->connection;
    st = ngx_pcalloc(r->pool, sizeof(ngx_http_voice_stream_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    st->request = r;
    st->connection = c;
    st->conf = conf;
    st->start = ngx_current_msec;

    st->msg = ngx_palloc(r->pool, conf->max_message);
    if (st->msg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    voice_ws_parser_init(&st->ws, 1, st->msg, conf->max_message);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (voice_twilio_parser_init(&st->twilio, &ngx_http_voice_mem_yajl)
        != VOICE_TWILIO_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_voice_stream_cleanup;
    cln->data = st;

    ngx_http_voice_stream_live++;

    st->idle.handler = ngx_http_voice_stream_idle_handler;
    st->idle.data = st;
    st->idle.log = c->log;

    st->send.handler = ngx_http_voice_stream_send_timeout;
    st->send.data = st;
    st->send.log = c->log;

    st->closing.handler = ngx_http_voice_stream_close_timeout;
    st->closing.data = st;
    st->closing.log = c->log;

    st->flushing.handler = ngx_http_voice_stream_flush_handler;
    st->flushing.data = st;
    st->flushing.log = c->log;

    st->finishing.handler = ngx_http_voice_stream_finish_handler;
    st->finishing.data = st;
    st->finishing.log = c->log;

    ngx_http_set_ctx(r, st, ngx_http_voice_module);

    /* Sec-WebSocket-Accept: base64(SHA-1(key + GUID)) */

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, key->data, key->len);
    ngx_sha1_update(&sha1, NGX_HTTP_VOICE_STREAM_GUID,
                    sizeof(NGX_HTTP_VOICE_STREAM_GUID) - 1);
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

    /* from here on the peer is told with a close frame if nginx ends it */

    hcln = ngx_http_cleanup_add(r, 0);
    if (hcln == NULL) {
        return NGX_ERROR;
    }

    hcln->handler = ngx_http_voice_stream_terminate;
    hcln->data = st;

    /* the call owns the request until ngx_http_voice_stream_finish() */

    r->main->count++;

    c->log->action = "streaming media";

    r->read_event_handler = ngx_http_voice_stream_read_handler;
    r->write_event_handler = ngx_http_voice_stream_write_handler;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_add_timer(&st->idle, conf->idle_timeout);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "voice: media stream accepted");

    /* frames pipelined right behind the handshake */

    if (r->header_in->pos < r->header_in->last) {
        ngx_http_voice_stream_process(st, r->header_in->pos,
                               r->header_in->last - r->header_in->pos);
        r->header_in->pos = r->header_in->last;

        if (st->done) {
            return NGX_DONE;
        }
    }

    if (c->read->ready) {
        ngx_http_voice_stream_read_handler(r);

    } else if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_voice_stream_finish(st);
    }

    return NGX_DONE;
}


static void
ngx_http_voice_stream_cleanup(void *data)
{
    ngx_http_voice_stream_t  *st = data;

    if (st->idle.timer_set) {
        ngx_del_timer(&st->idle);
    }

    if (st->send.timer_set) {
        ngx_del_timer(&st->send);
    }

    if (st->closing.timer_set) {
        ngx_del_timer(&st->closing);
    }

    if (st->flushing.posted) {
        ngx_delete_posted_event(&st->flushing);
    }

    if (st->finishing.posted) {
        ngx_delete_posted_event(&st->finishing);
    }

    if (st->mode_ctx && st->conf->mode->cleanup) {
        st->conf->mode->cleanup(st->mode_ctx);
    }

    ngx_http_voice_stream_uncount(st);

    voice_twilio_parser_free(&st->twilio);

    if (st->out) {
        ngx_http_voice_mem_free(NULL, st->out);
        st->out = NULL;
    }

    ngx_http_voice_stream_live--;
}


/*
 * nginx ends the call itself, before the request is logged: at the end
 * of worker_shutdown_timeout it closes every connection, or a subrequest
 * failed so that nginx terminates its main request.  The caller is told
 * with a close frame, written now as far as the socket takes it, for
 * the connection goes right after.
 */

static void
ngx_http_voice_stream_terminate(void *data)
{
    ngx_uint_t                code;
    const char               *why, *reason;
    ngx_http_voice_stream_t  *st = data;

    if (st->done) {
        /* ended by ngx_http_voice_stream_finish() */
        return;
    }

    if (ngx_exiting && st->connection->close) {
        code = VOICE_WS_CLOSE_GOING_AWAY;
        why = "worker is shutting down";
        reason = "server shutting down";

    } else {
        code = VOICE_WS_CLOSE_INTERNAL_ERROR;
        why = "request terminated";
        reason = "internal error";
    }

    if (st->close_sent) {
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: %s, call \"%V\" closed", why, &st->call_sid);

    } else {
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: %s, call \"%V\" closed with %ui", why,
                      &st->call_sid, code);

        ngx_http_voice_stream_close(st, code, reason);
    }

    /* nothing more: the call's provider requests are ending too */

    st->done = 1;
}


static void
ngx_http_voice_stream_read_handler(ngx_http_request_t *r)
{
    ssize_t                   n;
    ngx_connection_t         *c;
    ngx_http_voice_stream_t  *st;
    u_char                    buf[4096];

    c = r->connection;
    st = ngx_http_get_module_ctx(r, ngx_http_voice_module);

    if (st == NULL || st->done) {
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
            ngx_http_voice_stream_finish(st);
            return;
        }

        ngx_http_voice_stream_process(st, buf, n);

        if (st->done) {
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_voice_stream_finish(st);
    }
}


static void
ngx_http_voice_stream_process(ngx_http_voice_stream_t *st, u_char *p,
    size_t len)
{
    int               rc;
    size_t            used;
    voice_ws_event_t  ev;

    if (st->ws_failed) {
        /* a failed connection: the peer's bytes are read and dropped */
        return;
    }

    if (!st->close_sent) {
        ngx_add_timer(&st->idle, st->conf->idle_timeout);
    }

    while (len && !st->done) {

        rc = voice_ws_parse(&st->ws, p, len, &used, &ev);

        p += used;
        len -= used;

        if (rc == VOICE_WS_AGAIN) {
            break;
        }

        ngx_http_voice_stream_frame(st, rc, &ev);

        if (rc == VOICE_WS_ERROR) {
            break;
        }
    }

    ngx_http_voice_stream_flush(st);
}


static void
ngx_http_voice_stream_frame(ngx_http_voice_stream_t *st, int rc,
    voice_ws_event_t *ev)
{
    ngx_connection_t  *c;
    u_char             payload[2];

    c = st->connection;

    st->frames_in++;

    switch (rc) {

    case VOICE_WS_MESSAGE:

        if (st->close_sent) {
            /* after our close frame, data is discarded */
            return;
        }

        if (ev->opcode == VOICE_WS_BINARY) {
            ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_UNSUPPORTED,
                                            "binary frames not accepted");
            return;
        }

        if (!voice_utf8_valid((uint8_t *) ev->data, ev->len)) {
            ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INVALID_DATA,
                                            "invalid UTF-8");
            return;
        }

        ngx_http_voice_stream_message(st, (u_char *) ev->data, ev->len);
        return;

    case VOICE_WS_PING:

        if (!st->close_sent) {
            (void) ngx_http_voice_stream_send_frame(st, VOICE_WS_OP_PONG,
                                             (u_char *) ev->data, ev->len);
        }

        return;

    case VOICE_WS_PONG:
        return;

    case VOICE_WS_CLOSE:

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "voice: close frame %d", ev->close_code);

        st->close_received = 1;

        if (ev->len > 2
            && !voice_utf8_valid((uint8_t *) ev->data + 2,
                                          ev->len - 2))
        {
            ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INVALID_DATA,
                                            "invalid UTF-8 in close reason");
            return;
        }

        st->peer_close_code = ev->close_code;

        if (!st->close_sent) {

            /* echo the code; the connection closes once it is sent */

            st->close_sent = 1;

            if (ev->close_code == VOICE_WS_CLOSE_NO_STATUS) {
                (void) ngx_http_voice_stream_send_frame(st, VOICE_WS_OP_CLOSE,
                                                 NULL, 0);

            } else {
                payload[0] = (u_char) (ev->close_code >> 8);
                payload[1] = (u_char) (ev->close_code & 0xff);
                (void) ngx_http_voice_stream_send_frame(st, VOICE_WS_OP_CLOSE,
                                                 payload, 2);
            }
        }

        ngx_http_voice_stream_flush(st);

        return;

    default: /* VOICE_WS_ERROR */

        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "voice: WebSocket protocol error, closing with %d",
                      ev->close_code);

        st->ws_failed = 1;
        ngx_http_voice_stream_close(st, ev->close_code,
                                    ev->close_code == VOICE_WS_CLOSE_TOO_BIG
                                    ? "message too big" : "protocol error");
        return;
    }
}



static void
ngx_http_voice_stream_message(ngx_http_voice_stream_t *st, u_char *data,
    size_t len)
{
    size_t               n;
    voice_twilio_msg_t  *m;

    /* the longest text logged here is a SID */
    u_char               text[VOICE_LOG_ESCAPED_LEN(VOICE_TWILIO_SID_MAX)];

    m = &st->tmsg;

    if (voice_twilio_parse(&st->twilio, data, len, m) != VOICE_TWILIO_OK) {
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: invalid Twilio message: %s",
                      st->twilio.error);
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INVALID_DATA,
                                        "invalid JSON");
        return;
    }

    switch (m->event) {

    case VOICE_TWILIO_CONNECTED:
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, st->connection->log, 0,
                       "voice: connected");
        return;

    case VOICE_TWILIO_START:
        ngx_http_voice_stream_start(st, m);
        return;

    case VOICE_TWILIO_MEDIA:
        ngx_http_voice_stream_media(st, m);
        return;

    case VOICE_TWILIO_DTMF:
        n = voice_log_escape(text, (u_char *) m->digit,
                             ngx_strlen(m->digit));
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, st->connection->log, 0,
                       "voice: dtmf \"%*s\"", n, text);

        if (st->mode_ctx && st->conf->mode->dtmf) {
            st->conf->mode->dtmf(st->mode_ctx, (u_char *) m->digit);
        }

        return;

    case VOICE_TWILIO_MARK:
        st->marks_in++;

        if (st->mode_ctx && st->conf->mode->mark) {
            st->conf->mode->mark(st->mode_ctx, (u_char *) m->mark_name);
        }

        return;

    case VOICE_TWILIO_STOP:
        n = voice_log_escape(text, st->call_sid.data, st->call_sid.len);
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: call \"%*s\" stopped", n, text);

        if (st->mode_ctx && st->conf->mode->stop) {
            st->conf->mode->stop(st->mode_ctx);
        }

        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_NORMAL, "");
        return;

    default:
        n = voice_log_escape(text, (u_char *) st->twilio.event_name,
                             ngx_strlen(st->twilio.event_name));
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, st->connection->log, 0,
                       "voice: ignored event \"%*s\"", n, text);
        return;
    }
}


static void
ngx_http_voice_stream_start(ngx_http_voice_stream_t *st,
    voice_twilio_msg_t *m)
{
    size_t     len, n, k;
    ngx_int_t  rc;
    u_char     call[VOICE_LOG_ESCAPED_LEN(VOICE_TWILIO_SID_MAX)];
    u_char     stream[VOICE_LOG_ESCAPED_LEN(VOICE_TWILIO_SID_MAX)];

    if (st->started) {
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: second \"start\" event ignored");
        return;
    }

    /*
     * The handshake's signature covers only the URL: whether this is the
     * stream of a call we answered is known now, before the mode starts
     * and makes any provider request.
     */

    rc = ngx_http_voice_signature_start(st->connection->log,
                                        st->conf->signature, m);

    if (rc == NGX_DECLINED) {
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_POLICY,
                                    "not a stream of this call");
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INTERNAL_ERROR,
                                    "voiceToken not checked");
        return;
    }

    if (ngx_strcmp(m->encoding, "audio/x-mulaw") != 0
        || m->sample_rate != 8000 || m->channels != 1)
    {
        n = voice_log_escape(stream, (u_char *) m->encoding,
                             ngx_strlen(m->encoding));
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: unsupported media format \"%*s\" %ui Hz "
                      "%ui channels, only audio/x-mulaw 8000 Hz mono",
                      n, stream, (ngx_uint_t) m->sample_rate,
                      (ngx_uint_t) m->channels);
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_UNSUPPORTED,
                                        "unsupported media format");
        return;
    }

    len = ngx_strlen(m->stream_sid);
    st->stream_sid.data = ngx_pnalloc(st->request->pool, len);
    if (st->stream_sid.data == NULL) {
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INTERNAL_ERROR,
                                        "out of memory");
        return;
    }

    ngx_memcpy(st->stream_sid.data, m->stream_sid, len);
    st->stream_sid.len = len;

    /* the peer's SID may hold anything: escaped once, for every message */

    len = voice_json_escape(NULL, st->stream_sid.data, st->stream_sid.len);
    st->stream_sid_json.data = ngx_pnalloc(st->request->pool, len);
    if (st->stream_sid_json.data == NULL) {
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INTERNAL_ERROR,
                                        "out of memory");
        return;
    }

    st->stream_sid_json.len = voice_json_escape(st->stream_sid_json.data,
                                                st->stream_sid.data,
                                                st->stream_sid.len);

    len = ngx_strlen(m->call_sid);
    st->call_sid.data = ngx_pnalloc(st->request->pool, len);
    if (st->call_sid.data == NULL) {
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INTERNAL_ERROR,
                                        "out of memory");
        return;
    }

    ngx_memcpy(st->call_sid.data, m->call_sid, len);
    st->call_sid.len = len;

    st->started = 1;

    n = voice_log_escape(call, st->call_sid.data, st->call_sid.len);
    k = voice_log_escape(stream, st->stream_sid.data, st->stream_sid.len);

    ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                  "voice: call \"%*s\" stream \"%*s\" started",
                  n, call, k, stream);

    st->counted = 1;
    ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_CALLS_ACTIVE);
    ngx_http_voice_metrics_inc(ngx_strcmp(st->conf->mode->name.data, "echo")
                               == 0 ? NGX_HTTP_VOICE_M_CALLS_ECHO
                                    : NGX_HTTP_VOICE_M_CALLS_AGENT);

    ngx_http_voice_events_start(st, m);

    st->mode_ctx = st->conf->mode->start(st, st->conf->mode_conf);

    if (st->mode_ctx == NULL && !st->done) {
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INTERNAL_ERROR,
                                    "call mode failed to start");
    }
}


static void
ngx_http_voice_stream_media(ngx_http_voice_stream_t *st,
    voice_twilio_msg_t *m)
{
    ngx_str_t  b64, ulaw;
    u_char     buf[VOICE_TWILIO_MEDIA_MAX];

    st->media_in++;
    ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_MEDIA_IN);

    if (!st->started) {
        return;
    }

    if (m->track_outbound) {
        return;
    }

    b64.data = (u_char *) m->payload;
    b64.len = m->payload_len;

    if (ngx_base64_decoded_length(b64.len) > sizeof(buf)) {
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_TOO_BIG,
                                        "media payload too large");
        return;
    }

    ulaw.data = buf;

    if (ngx_decode_base64(&ulaw, &b64) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: media payload is not base64");
        ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_INVALID_DATA,
                                        "invalid media payload");
        return;
    }

    if (st->mode_ctx && st->conf->mode->audio) {
        st->conf->mode->audio(st->mode_ctx, ulaw.data, ulaw.len);
    }
}


ngx_int_t
ngx_http_voice_stream_send_media(ngx_http_voice_stream_t *st, u_char *ulaw,
    size_t n)
{
    size_t     len, chunk;
    u_char    *p, *end;
    ngx_str_t  src, b64;

    while (n) {
        chunk = ngx_min(n, NGX_HTTP_VOICE_STREAM_CHUNK);

        len = voice_twilio_media_size(st->stream_sid_json.len,
                                      ngx_base64_encoded_length(chunk));

        p = ngx_http_voice_stream_reserve(st, len + VOICE_WS_MAX_HEADER);
        if (p == NULL) {
            return NGX_ERROR;
        }

        p += voice_ws_frame_header(p, VOICE_WS_OP_TEXT, 1, len, NULL);
        end = p + len;

        p += voice_twilio_media_head(p, len, (char *) st->stream_sid_json.data,
                                     st->stream_sid_json.len);

        /* the payload is encoded where it goes in the queue */

        src.data = ulaw;
        src.len = chunk;
        b64.data = p;
        ngx_encode_base64(&b64, &src);
        p += b64.len;

        p += voice_twilio_media_tail(p, end - p);

        st->out_len = p - st->out;
        st->frames_out++;
        st->media_out++;
        ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_MEDIA_OUT);

        ulaw += chunk;
        n -= chunk;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_voice_stream_send_mark(ngx_http_voice_stream_t *st, u_char *name,
    size_t len)
{
    size_t   size;
    u_char  *p;

    size = voice_twilio_mark_size(st->stream_sid_json.len, name, len);

    p = ngx_http_voice_stream_reserve(st, size + VOICE_WS_MAX_HEADER);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p += voice_ws_frame_header(p, VOICE_WS_OP_TEXT, 1, size, NULL);
    p += voice_twilio_mark(p, size, (char *) st->stream_sid_json.data,
                           st->stream_sid_json.len, name, len);

    st->out_len = p - st->out;
    st->frames_out++;
    st->marks_out++;

    return NGX_OK;
}


ngx_int_t
ngx_http_voice_stream_send_clear(ngx_http_voice_stream_t *st)
{
    size_t   size;
    u_char  *p;

    size = voice_twilio_clear_size(st->stream_sid_json.len);

    p = ngx_http_voice_stream_reserve(st, size + VOICE_WS_MAX_HEADER);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p += voice_ws_frame_header(p, VOICE_WS_OP_TEXT, 1, size, NULL);
    p += voice_twilio_clear(p, size, (char *) st->stream_sid_json.data,
                            st->stream_sid_json.len);

    st->out_len = p - st->out;
    st->frames_out++;

    return NGX_OK;
}


/*
 * Room for len more bytes at the end of the output queue.  The queue is
 * one buffer, compacted as it drains and grown up to voice_max_pending;
 * a peer that stops reading past that is cut off.
 */

static u_char *
ngx_http_voice_stream_reserve(ngx_http_voice_stream_t *st, size_t len)
{
    size_t   size, need;
    u_char  *out;

    if (st->done || (st->close_sent && !st->closing_frame)) {
        return NULL;
    }

    if (st->out_pos) {
        ngx_memmove(st->out, st->out + st->out_pos,
                    st->out_len - st->out_pos);
        st->out_len -= st->out_pos;
        st->out_pos = 0;
    }

    /*
     * Messages queued outside the connection's own events (provider
     * responses, timers) go out once the current event is done.
     */

    if (st->out_len == 0 && !st->flushing.posted) {
        ngx_post_event(&st->flushing, &ngx_posted_events);
    }

    need = st->out_len + len;

    if (need <= st->out_size) {
        return st->out + st->out_len;
    }

    if (need > st->conf->max_pending + VOICE_WS_MAX_HEADER + 128) {
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: peer is not reading, %uz bytes pending "
                      "(voice_max_pending %uz), closing",
                      st->out_len, st->conf->max_pending);
        ngx_http_voice_stream_finish(st);
        return NULL;
    }

    size = st->out_size ? st->out_size : 4096;

    while (size < need) {
        size *= 2;
    }

    out = ngx_http_voice_mem_alloc(NULL, size);
    if (out == NULL) {
        ngx_http_voice_stream_finish(st);
        return NULL;
    }

    if (st->out) {
        ngx_memcpy(out, st->out, st->out_len);
        ngx_http_voice_mem_free(NULL, st->out);
    }

    st->out = out;
    st->out_size = size;

    return st->out + st->out_len;
}


static ngx_int_t
ngx_http_voice_stream_send_frame(ngx_http_voice_stream_t *st, int opcode,
    u_char *data, size_t len)
{
    u_char  *p;

    if (opcode == VOICE_WS_OP_CLOSE) {
        st->closing_frame = 1;
    }

    p = ngx_http_voice_stream_reserve(st, len + VOICE_WS_MAX_HEADER);

    st->closing_frame = 0;

    if (p == NULL) {
        return NGX_ERROR;
    }

    p += voice_ws_frame_header(p, opcode, 1, len, NULL);

    if (len) {
        p = ngx_cpymem(p, data, len);
    }

    st->out_len = p - st->out;
    st->frames_out++;

    return NGX_OK;
}


/*
 * Starts the closing handshake: our close frame with the code, then wait
 * for the peer's close frame before closing the connection, as long as
 * nginx waits for a client's last bytes before it closes (the
 * lingering_timeout directive, 5 s by default).
 */

void
ngx_http_voice_stream_close(ngx_http_voice_stream_t *st, ngx_uint_t code,
    const char *reason)
{
    size_t                     len;
    u_char                     payload[125];
    ngx_http_core_loc_conf_t  *clcf;

    if (st->close_sent || st->done) {
        return;
    }

    len = ngx_min(ngx_strlen(reason), sizeof(payload) - 2);

    payload[0] = (u_char) (code >> 8);
    payload[1] = (u_char) (code & 0xff);
    ngx_memcpy(payload + 2, reason, len);

    st->close_code = code;

    (void) ngx_http_voice_stream_send_frame(st, VOICE_WS_OP_CLOSE, payload,
                                     len + 2);
    st->close_sent = 1;

    if (st->idle.timer_set) {
        ngx_del_timer(&st->idle);
    }

    clcf = ngx_http_get_module_loc_conf(st->request, ngx_http_core_module);

    ngx_add_timer(&st->closing, clcf->lingering_timeout);

    ngx_http_voice_stream_flush(st);
}


static void
ngx_http_voice_stream_write_handler(ngx_http_request_t *r)
{
    ngx_http_voice_stream_t  *st;

    st = ngx_http_get_module_ctx(r, ngx_http_voice_module);

    if (st == NULL || st->done) {
        return;
    }

    ngx_http_voice_stream_flush(st);
}


static void
ngx_http_voice_stream_flush(ngx_http_voice_stream_t *st)
{
    off_t                sent;
    ssize_t              n;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    if (st->done) {
        return;
    }

    r = st->request;
    c = st->connection;
    sent = c->sent;

    /* the rest of the 101 response, if the socket was full */

    if (r->out) {
        if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
            ngx_http_voice_stream_finish(st);
            return;
        }

        if (r->out) {
            goto again;
        }
    }

    while (st->out_pos < st->out_len) {

        n = c->send(c, st->out + st->out_pos,
                    st->out_len - st->out_pos);

        if (n == NGX_AGAIN) {
            goto again;
        }

        if (n == NGX_ERROR) {
            c->error = 1;
            ngx_http_voice_stream_finish(st);
            return;
        }

        st->out_pos += n;
        st->bytes_out += n;
    }

    st->out_pos = 0;
    st->out_len = 0;

    /*
     * All sent, from the connection's own handler as a rule: the flush
     * posted when the first message was queued has nothing left to do.
     */

    if (st->flushing.posted) {
        ngx_delete_posted_event(&st->flushing);
    }

    if (st->send.timer_set) {
        ngx_del_timer(&st->send);
    }

    if (st->close_sent && st->close_received) {
        ngx_http_voice_stream_finish(st);
        return;
    }

    if (st->ws_failed && st->close_sent && !st->shut) {
        ngx_http_voice_stream_shutdown(st);
    }

    return;

again:

    /*
     * As nginx's send_timeout: the time between two writes, not the time
     * until the queue is empty; a peer that reads slowly but steadily
     * keeps its call.
     */

    if (c->sent != sent || !st->send.timer_set) {
        ngx_add_timer(&st->send,
                      ((ngx_http_core_loc_conf_t *)
                       ngx_http_get_module_loc_conf(r, ngx_http_core_module))
                      ->send_timeout);
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_voice_stream_finish(st);
    }
}


/*
 * After a protocol error the connection is failed (RFC 6455 7.1.7): our
 * close frame is out, and nothing the peer sends may be processed any
 * more, its close frame included, so there is no closing handshake to
 * wait for.  Closing the socket at once would answer the peer's next
 * bytes with a reset, which can take our close frame with it.  So, as
 * nginx's lingering close does, the write side is shut (the peer sees
 * the end of the stream at once) and what comes is read and dropped
 * until the peer closes its side, which ends the call, or the close
 * wait runs out.
 */

static void
ngx_http_voice_stream_shutdown(ngx_http_voice_stream_t *st)
{
    ngx_connection_t  *c;

    c = st->connection;

    st->shut = 1;

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        ngx_int_t  rc;

        c->ssl->shutdown_without_free = 1;

        st->handler = c->read->handler;

        rc = ngx_ssl_shutdown(c);

        if (rc == NGX_ERROR) {
            ngx_http_voice_stream_finish(st);
            return;
        }

        if (rc == NGX_AGAIN) {
            /* nginx's shutdown handler has the events until it is sent */
            c->ssl->handler = ngx_http_voice_stream_ssl_shutdown;
            return;
        }
    }
#endif

    if (ngx_shutdown_socket(c->fd, NGX_WRITE_SHUTDOWN) == -1) {
        ngx_connection_error(c, ngx_socket_errno,
                             ngx_shutdown_socket_n " failed");
        ngx_http_voice_stream_finish(st);
    }
}


#if (NGX_HTTP_SSL)

/* TLS's close_notify is sent: the events are the request's again */

static void
ngx_http_voice_stream_ssl_shutdown(ngx_connection_t *c)
{
    ngx_http_request_t       *r;
    ngx_http_voice_stream_t  *st;

    r = c->data;
    st = ngx_http_get_module_ctx(r, ngx_http_voice_module);

    c->read->handler = st->handler;
    c->write->handler = st->handler;

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->timedout || st->done) {
        ngx_http_voice_stream_finish(st);
        ngx_http_run_posted_requests(c);
        return;
    }

    if (ngx_shutdown_socket(c->fd, NGX_WRITE_SHUTDOWN) == -1) {
        ngx_connection_error(c, ngx_socket_errno,
                             ngx_shutdown_socket_n " failed");
        ngx_http_voice_stream_finish(st);

    } else if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_voice_stream_finish(st);
    }

    ngx_http_run_posted_requests(c);
}

#endif


static void
ngx_http_voice_stream_flush_handler(ngx_event_t *ev)
{
    ngx_http_voice_stream_t  *st = ev->data;

    ngx_http_voice_stream_flush(st);
    ngx_http_run_posted_requests(st->connection);
}


static void
ngx_http_voice_stream_idle_handler(ngx_event_t *ev)
{
    ngx_http_voice_stream_t  *st = ev->data;

    ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                  "voice: no data from the peer in %M ms, closing",
                  st->conf->idle_timeout);

    ngx_http_voice_stream_close(st, VOICE_WS_CLOSE_GOING_AWAY, "idle timeout");
    ngx_http_run_posted_requests(st->connection);
}


static void
ngx_http_voice_stream_send_timeout(ngx_event_t *ev)
{
    ngx_http_voice_stream_t  *st = ev->data;

    ngx_log_error(NGX_LOG_INFO, st->connection->log, NGX_ETIMEDOUT,
                  "voice: peer timed out reading the media stream");

    st->connection->timedout = 1;
    ngx_http_voice_stream_finish(st);
    ngx_http_run_posted_requests(st->connection);
}


static void
ngx_http_voice_stream_close_timeout(ngx_event_t *ev)
{
    ngx_http_voice_stream_t  *st = ev->data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, st->connection->log, 0,
                   "voice: no close frame from the peer");

    ngx_http_voice_stream_finish(st);
    ngx_http_run_posted_requests(st->connection);
}


/*
 * Ends the call: the request and everything it started are terminated.
 * This is reached from inside handlers that still hold the call or one
 * of its subrequests (a provider response's body filter, run by the
 * upstream's read loop, queues audio past voice_max_pending); finalizing
 * there would close the upstream's connection under that loop.  So the
 * call is marked done here, which stops every read, send and callback,
 * and the request is finalized from a posted event, outside them.
 */

static void
ngx_http_voice_stream_finish(ngx_http_voice_stream_t *st)
{
    if (st->done) {
        return;
    }

    st->done = 1;
    st->end = ngx_current_msec;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, st->connection->log, 0,
                   "voice: call finished");

    /* the call is over for the metrics now, even if its events wait */

    ngx_http_voice_stream_uncount(st);

    if (st->mode_ctx && st->conf->mode->end) {
        st->conf->mode->end(st->mode_ctx);
    }

    ngx_http_voice_events_end(st);

    ngx_post_event(&st->finishing, &ngx_posted_events);
}


static void
ngx_http_voice_stream_uncount(ngx_http_voice_stream_t *st)
{
    if (st->counted) {
        st->counted = 0;
        ngx_http_voice_metrics_add(NGX_HTTP_VOICE_M_CALLS_ACTIVE, -1);
        ngx_http_voice_metrics_closed(st->close_code ? st->close_code
                                                     : st->peer_close_code);
    }
}


static void
ngx_http_voice_stream_finish_handler(ngx_event_t *ev)
{
    ngx_connection_t         *c;
    ngx_http_voice_stream_t  *st = ev->data;

    c = st->connection;

    ngx_http_set_log_request(c->log, st->request);

    /* the call's last events go before the request does */

    if (ngx_http_voice_events_wait(st)) {
        return;
    }

    ngx_http_finalize_request(st->request, NGX_HTTP_CLOSE);
    ngx_http_run_posted_requests(c);
}

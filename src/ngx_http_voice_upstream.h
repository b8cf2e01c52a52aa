/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The module's own WebSocket client, for providers that speak only
 * WebSocket (streaming speech-to-text now; streaming TTS and realtime
 * speech-to-speech later).  On the worker's event loop: nginx's
 * resolver, ngx_event_connect_peer(), nginx's SSL layer with SNI and
 * verification, and the project's pure framing (voice_ws.c) and opening
 * handshake (voice_ws_client.c).  One connection is owned by one call.
 */

#ifndef NGX_HTTP_VOICE_UPSTREAM_H
#define NGX_HTTP_VOICE_UPSTREAM_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct {
    ngx_str_t                    name;
    ngx_http_complex_value_t     value;
} ngx_http_voice_upstream_header_t;


typedef struct {
    ngx_str_t                    url;           /* as configured */
    ngx_str_t                    host;          /* Host, SNI, resolver */
    in_port_t                    port;
    ngx_str_t                    uri;           /* path and query */
    ngx_addr_t                  *addrs;         /* an address literal */
    ngx_uint_t                   naddrs;
    ngx_array_t                 *headers;       /* of the handshake */

    ngx_msec_t                   connect_timeout;
    ngx_msec_t                   read_timeout;
    size_t                       max_message;

#if (NGX_HTTP_SSL)
    ngx_ssl_t                   *ssl;           /* wss:// */
    ngx_flag_t                   ssl_verify;
    ngx_str_t                    ssl_trusted_certificate;
#endif

    unsigned                     secure:1;      /* wss:// */
} ngx_http_voice_upstream_conf_t;


typedef struct ngx_http_voice_upstream_s  ngx_http_voice_upstream_t;

/*
 * The owner's callbacks.  closed: the connection is gone (a failure to
 * connect, a drop, a close from either side), with a reason for the log;
 * nothing more comes.  The owner may destroy the client from any of
 * them.
 */

typedef struct {
    void                       (*open)(void *data);
    void                       (*message)(void *data, ngx_uint_t opcode,
                                          u_char *p, size_t len);
    void                       (*closed)(void *data, const char *reason);
} ngx_http_voice_upstream_handler_t;


/*
 * Parses a ws:// or wss:// URL at configuration time: an error message,
 * or NULL.  A host name needs a resolver at run time: checked by
 * ngx_http_voice_upstream_merge().
 */
char *ngx_http_voice_upstream_parse_url(ngx_conf_t *cf,
    ngx_http_voice_upstream_conf_t *conf, ngx_str_t *url);

/* the TLS context and the resolver check, once the location is merged */
char *ngx_http_voice_upstream_merge(ngx_conf_t *cf,
    ngx_http_voice_upstream_conf_t *conf, const char *directive);

/*
 * Starts connecting for the call of r (its log, its variables for the
 * headers, its location's resolver).  NULL: out of memory.
 */
ngx_http_voice_upstream_t *ngx_http_voice_upstream_open(
    ngx_http_request_t *r, ngx_http_voice_upstream_conf_t *conf,
    const ngx_http_voice_upstream_handler_t *handler, void *data);

/* queues one message (text or binary), masked; NGX_ERROR: not open */
ngx_int_t ngx_http_voice_upstream_send(ngx_http_voice_upstream_t *u,
    ngx_uint_t opcode, u_char *p, size_t len);

/* the client is open: the handshake is done and it is not closing */
ngx_uint_t ngx_http_voice_upstream_is_open(ngx_http_voice_upstream_t *u);

/*
 * Ends the connection: a close frame with the code if it is open, then
 * the connection goes.  No callback runs after this; the memory is freed
 * from a posted event, so a client may destroy itself from its own
 * callbacks.
 */
void ngx_http_voice_upstream_destroy(ngx_http_voice_upstream_t *u,
    ngx_uint_t code);

#endif /* NGX_HTTP_VOICE_UPSTREAM_H */

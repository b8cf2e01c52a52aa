/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * A WebSocket client on the worker's event loop.
 *
 * RESOLVING (nginx's resolver, for a host name) -> CONNECTING
 * (ngx_event_connect_peer) -> TLS (wss://: SNI, verification) ->
 * HANDSHAKE (our GET, the 101 read by voice_ws_client.c) -> OPEN (frames
 * both ways, voice_ws.c; client frames masked) -> gone.
 *
 * Everything lives in a pool of the client's own.  Destroying it closes
 * the connection at once and frees the pool from a posted event, so the
 * owner may destroy it from inside a callback, and every handler here
 * checks for that after each callback it makes.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>

#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_upstream.h"
#include "voice_ws.h"
#include "voice_ws_client.h"


/* how much may wait to be written before the provider is cut off */
#define NGX_HTTP_VOICE_UPSTREAM_MAX_PENDING  (1024 * 1024)


typedef enum {
    ngx_http_voice_upstream_resolving = 0,
    ngx_http_voice_upstream_connecting,
    ngx_http_voice_upstream_tls,
    ngx_http_voice_upstream_handshake,
    ngx_http_voice_upstream_open_state,
    ngx_http_voice_upstream_gone
} ngx_http_voice_upstream_state_e;


struct ngx_http_voice_upstream_s {
    ngx_pool_t                          *pool;
    ngx_log_t                           *log;
    ngx_http_voice_upstream_conf_t      *conf;
    const ngx_http_voice_upstream_handler_t  *handler;
    void                                *data;

    ngx_http_voice_upstream_state_e      state;
    ngx_peer_connection_t                peer;
    ngx_resolver_ctx_t                  *resolve;
    ngx_resolver_t                      *resolver;
    ngx_msec_t                           resolver_timeout;

    /* the call's connection, whose posted subrequests our events run */
    ngx_connection_t                    *client;

    /* posted: the start, the owner's news of the end, the free */
    ngx_event_t                          kick;
    ngx_event_t                          notify;
    ngx_event_t                          free;
    const char                          *reason;

    char                                 key[VOICE_WS_CLIENT_KEY_LEN + 1];
    voice_ws_client_response_t           response;
    voice_ws_parser_t                    ws;
    u_char                              *msg;

    /* the output queue: bytes [out_pos, out_len) are not sent yet */
    u_char                              *out;
    size_t                               out_pos;
    size_t                               out_len;
    size_t                               out_size;

    unsigned                             ping_sent:1;
    unsigned                             close_sent:1;
    unsigned                             destroyed:1;
};


static ngx_int_t ngx_http_voice_upstream_request(ngx_http_voice_upstream_t *u,
    ngx_http_request_t *r);
static void ngx_http_voice_upstream_kick(ngx_event_t *ev);
static void ngx_http_voice_upstream_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_voice_upstream_connect(ngx_http_voice_upstream_t *u);
static void ngx_http_voice_upstream_handler(ngx_event_t *ev);
static void ngx_http_voice_upstream_event(ngx_http_voice_upstream_t *u,
    ngx_event_t *ev);
static void ngx_http_voice_upstream_connected(ngx_http_voice_upstream_t *u);
#if (NGX_HTTP_SSL)
static void ngx_http_voice_upstream_ssl_done(ngx_connection_t *c);
static ngx_int_t ngx_http_voice_upstream_check_name(
    ngx_http_voice_upstream_t *u, ngx_connection_t *c);
#endif
static void ngx_http_voice_upstream_start(ngx_http_voice_upstream_t *u);
static void ngx_http_voice_upstream_read(ngx_http_voice_upstream_t *u);
static void ngx_http_voice_upstream_process(ngx_http_voice_upstream_t *u,
    u_char *p, size_t len);
static ngx_int_t ngx_http_voice_upstream_frame(ngx_http_voice_upstream_t *u,
    ngx_uint_t opcode, u_char *p, size_t len);
static void ngx_http_voice_upstream_flush(ngx_http_voice_upstream_t *u);
static void ngx_http_voice_upstream_fail(ngx_http_voice_upstream_t *u,
    const char *reason);
static void ngx_http_voice_upstream_notify(ngx_event_t *ev);
static void ngx_http_voice_upstream_close_connection(
    ngx_http_voice_upstream_t *u);
static void ngx_http_voice_upstream_free(ngx_event_t *ev);


char *
ngx_http_voice_upstream_parse_url(ngx_conf_t *cf,
    ngx_http_voice_upstream_conf_t *conf, ngx_str_t *url)
{
    size_t      skip;
    ngx_url_t   u;
    ngx_str_t   host;
    ngx_addr_t  addr;

    if (url->len > 5 && ngx_strncasecmp(url->data, (u_char *) "ws://", 5)
                        == 0)
    {
        skip = 5;
        conf->secure = 0;

    } else if (url->len > 6
               && ngx_strncasecmp(url->data, (u_char *) "wss://", 6) == 0)
    {
#if (NGX_HTTP_SSL)
        skip = 6;
        conf->secure = 1;
#else
        return "requires nginx built with SSL for \"wss://\"";
#endif

    } else {
        return "must be a \"ws://\" or \"wss://\" URL";
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = url->data + skip;
    u.url.len = url->len - skip;
    u.default_port = conf->secure ? 443 : 80;
    u.uri_part = 1;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\"", u.err,
                               url);
        }

        return NGX_CONF_ERROR;
    }

    conf->url = *url;
    conf->host = u.host;
    conf->port = u.port;

    if (u.uri.len) {
        conf->uri = u.uri;

    } else {
        ngx_str_set(&conf->uri, "/");
    }

    /* an address literal needs no resolver */

    host = u.host;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;
    }

    if (ngx_parse_addr(cf->pool, &addr, host.data, host.len) == NGX_OK) {
        ngx_inet_set_port(addr.sockaddr, u.port);

        addr.name.len = url->len - skip;
        addr.name.data = url->data + skip;

        conf->addrs = ngx_palloc(cf->pool, sizeof(ngx_addr_t));
        if (conf->addrs == NULL) {
            return NGX_CONF_ERROR;
        }

        *conf->addrs = addr;
        conf->naddrs = 1;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_voice_upstream_merge(ngx_conf_t *cf,
    ngx_http_voice_upstream_conf_t *conf, const char *directive)
{
    ngx_http_core_loc_conf_t  *clcf;
#if (NGX_HTTP_SSL)
    ngx_pool_cleanup_t        *cln;
#endif

    if (conf->url.len == 0) {
        return NGX_CONF_OK;
    }

    if (conf->naddrs == 0) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->resolver == NULL || clcf->resolver->connections.nelts == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s %V\" needs a \"resolver\" to find "
                               "\"%V\": add one (e.g. \"resolver "
                               "127.0.0.53;\") to this location, its "
                               "server or http", directive, &conf->url,
                               &conf->host);
            return NGX_CONF_ERROR;
        }
    }

#if (NGX_HTTP_SSL)

    if (!conf->secure || conf->ssl) {
        return NGX_CONF_OK;
    }

    conf->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (conf->ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->ssl->log = cf->log;

    if (ngx_ssl_create(conf->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(conf->ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = conf->ssl;

    if (conf->ssl_verify) {
        if (conf->ssl_trusted_certificate.len) {
            if (ngx_ssl_trusted_certificate(cf, conf->ssl,
                                            &conf->ssl_trusted_certificate,
                                            4)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

        } else if (SSL_CTX_set_default_verify_paths(conf->ssl->ctx) != 1) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "SSL_CTX_set_default_verify_paths() failed");
            return NGX_CONF_ERROR;
        }
    }

#endif

    return NGX_CONF_OK;
}


ngx_http_voice_upstream_t *
ngx_http_voice_upstream_open(ngx_http_request_t *r,
    ngx_http_voice_upstream_conf_t *conf,
    const ngx_http_voice_upstream_handler_t *handler, void *data)
{
    ngx_pool_t                 *pool;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_voice_upstream_t  *u;

    pool = ngx_create_pool(4096, r->connection->log);
    if (pool == NULL) {
        return NULL;
    }

    u = ngx_pcalloc(pool, sizeof(ngx_http_voice_upstream_t));
    if (u == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    u->pool = pool;
    u->log = r->connection->log;
    u->conf = conf;
    u->handler = handler;
    u->data = data;

    u->client = r->connection;

    u->kick.handler = ngx_http_voice_upstream_kick;
    u->kick.data = u;
    u->kick.log = u->log;

    u->notify.handler = ngx_http_voice_upstream_notify;
    u->notify.data = u;
    u->notify.log = u->log;

    u->free.handler = ngx_http_voice_upstream_free;
    u->free.data = u;
    u->free.log = u->log;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    u->resolver = clcf->resolver;
    u->resolver_timeout = clcf->resolver_timeout;

    u->msg = ngx_palloc(pool, conf->max_message);
    if (u->msg == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    voice_ws_parser_init(&u->ws, 0, u->msg, conf->max_message);

    if (ngx_http_voice_upstream_request(u, r) != NGX_OK) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    /* the owner hears of it from the event loop, never from in here */

    ngx_post_event(&u->kick, &ngx_posted_events);

    return u;
}


static void
ngx_http_voice_upstream_kick(ngx_event_t *ev)
{
    ngx_http_voice_upstream_t  *u = ev->data;

    ngx_resolver_ctx_t  *ctx, temp;

    if (u->conf->naddrs) {
        u->peer.sockaddr = u->conf->addrs[0].sockaddr;
        u->peer.socklen = u->conf->addrs[0].socklen;
        u->peer.name = &u->conf->addrs[0].name;
        ngx_http_voice_upstream_connect(u);
        goto done;
    }

    ngx_memzero(&temp, sizeof(ngx_resolver_ctx_t));
    temp.name = u->conf->host;

    ctx = ngx_resolve_start(u->resolver, &temp);
    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_http_voice_upstream_fail(u, "no resolver");
        goto done;
    }

    ctx->name = u->conf->host;
    ctx->handler = ngx_http_voice_upstream_resolved;
    ctx->data = u;
    ctx->timeout = u->resolver_timeout;

    u->resolve = ctx;
    u->state = ngx_http_voice_upstream_resolving;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, u->log, 0,
                   "voice upstream: resolving \"%V\"", &u->conf->host);

    if (ngx_resolve_name(ctx) != NGX_OK) {
        u->resolve = NULL;
        ngx_http_voice_upstream_fail(u, "cannot resolve");
    }

done:

    ngx_http_run_posted_requests(u->client);
}


/* the opening handshake, with the configured headers evaluated now */

static ngx_int_t
ngx_http_voice_upstream_request(ngx_http_voice_upstream_t *u,
    ngx_http_request_t *r)
{
    size_t                             len;
    u_char                            *host, *p;
    uint32_t                           nonce[4];
    ngx_str_t                          value, authority;
    ngx_uint_t                         i, n;
    voice_ws_client_header_t          *h;
    ngx_http_voice_upstream_header_t  *ch;

    for (i = 0; i < 4; i++) {
        nonce[i] = (uint32_t) ngx_random();
    }

    voice_ws_client_key((uint8_t *) nonce, u->key);
    voice_ws_client_response_init(&u->response, u->key);

    n = u->conf->headers ? u->conf->headers->nelts : 0;

    h = ngx_palloc(u->pool, (n + 1) * sizeof(voice_ws_client_header_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    ch = n ? u->conf->headers->elts : NULL;

    for (i = 0; i < n; i++) {
        if (ngx_http_complex_value(r, &ch[i].value, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        h[i].name = ch[i].name.data;
        h[i].name_len = ch[i].name.len;
        h[i].value = value.data;
        h[i].value_len = value.len;
    }

    /* Host: the URL's authority, port included when it was given */

    host = u->conf->url.data + (u->conf->secure ? 6 : 5);
    authority.data = host;

    for (p = host; p < u->conf->url.data + u->conf->url.len; p++) {
        if (*p == '/' || *p == '?') {
            break;
        }
    }

    authority.len = p - host;

    len = voice_ws_client_request(NULL, authority.data, authority.len,
                                  u->conf->uri.data, u->conf->uri.len,
                                  u->key, h, n);
    if (len == 0) {
        ngx_log_error(NGX_LOG_ERR, u->log, 0,
                      "voice upstream: a header for \"%V\" holds a line "
                      "break or an invalid name, not sent", &u->conf->url);
        return NGX_ERROR;
    }

    u->out = ngx_http_voice_mem_alloc(NULL, len);
    if (u->out == NULL) {
        return NGX_ERROR;
    }

    u->out_size = len;
    u->out_len = voice_ws_client_request(u->out, authority.data,
                                         authority.len, u->conf->uri.data,
                                         u->conf->uri.len, u->key, h, n);

    return NGX_OK;
}


static void
ngx_http_voice_upstream_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_http_voice_upstream_t  *u = ctx->data;

    size_t            len;
    socklen_t         socklen;
    struct sockaddr  *sockaddr;
    u_char            text[NGX_SOCKADDR_STRLEN];

    u->resolve = NULL;

    if (ctx->state || ctx->naddrs == 0) {
        ngx_log_error(NGX_LOG_ERR, u->log, 0,
                      "voice upstream: \"%V\" could not be resolved (%i: %s)",
                      &ctx->name, ctx->state,
                      ngx_resolver_strerror(ctx->state));
        ngx_resolve_name_done(ctx);
        ngx_http_voice_upstream_fail(u, "could not resolve the host");
        return;
    }

    /* the first address of the answer, copied before the answer goes */

    socklen = ctx->addrs[0].socklen;

    sockaddr = ngx_palloc(u->pool, socklen);
    u->peer.name = ngx_palloc(u->pool, sizeof(ngx_str_t));

    if (sockaddr == NULL || u->peer.name == NULL) {
        ngx_resolve_name_done(ctx);
        ngx_http_voice_upstream_fail(u, "out of memory");
        return;
    }

    ngx_memcpy(sockaddr, ctx->addrs[0].sockaddr, socklen);
    ngx_inet_set_port(sockaddr, u->conf->port);

    len = ngx_sock_ntop(sockaddr, socklen, text, NGX_SOCKADDR_STRLEN, 1);

    u->peer.name->data = ngx_pnalloc(u->pool, len);
    if (u->peer.name->data == NULL) {
        ngx_resolve_name_done(ctx);
        ngx_http_voice_upstream_fail(u, "out of memory");
        return;
    }

    ngx_memcpy(u->peer.name->data, text, len);
    u->peer.name->len = len;

    u->peer.sockaddr = sockaddr;
    u->peer.socklen = socklen;

    ngx_resolve_name_done(ctx);

    ngx_http_voice_upstream_connect(u);
    ngx_http_run_posted_requests(u->client);
}


static void
ngx_http_voice_upstream_connect(ngx_http_voice_upstream_t *u)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    u->state = ngx_http_voice_upstream_connecting;

    u->peer.get = ngx_event_get_peer;
    u->peer.log = u->log;
    u->peer.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&u->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_voice_upstream_fail(u, "cannot connect");
        return;
    }

    c = u->peer.connection;

    c->data = u;
    c->pool = u->pool;
    c->read->handler = ngx_http_voice_upstream_handler;
    c->write->handler = ngx_http_voice_upstream_handler;

    ngx_add_timer(c->write, u->conf->connect_timeout);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_voice_upstream_connected(u);
}


static void
ngx_http_voice_upstream_handler(ngx_event_t *ev)
{
    ngx_connection_t           *c;
    ngx_http_voice_upstream_t  *u;

    c = ev->data;
    u = c->data;

    ngx_http_voice_upstream_event(u, ev);
    ngx_http_run_posted_requests(u->client);
}


static void
ngx_http_voice_upstream_event(ngx_http_voice_upstream_t *u, ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = u->peer.connection;

    if (ev->timedout) {
        ev->timedout = 0;

        if (u->state != ngx_http_voice_upstream_open_state) {
            ngx_http_voice_upstream_fail(u, "timed out connecting");
            return;
        }

        /* quiet for read_timeout: a ping, then half as long for any answer */

        if (ev->write || u->ping_sent) {
            ngx_http_voice_upstream_fail(u, "timed out");
            return;
        }

        u->ping_sent = 1;

        if (ngx_http_voice_upstream_frame(u, VOICE_WS_OP_PING, NULL, 0)
            != NGX_OK)
        {
            return;
        }

        ngx_add_timer(c->read, u->conf->read_timeout / 2);
        ngx_http_voice_upstream_flush(u);
        return;
    }

    switch (u->state) {

    case ngx_http_voice_upstream_connecting:
        ngx_http_voice_upstream_connected(u);
        return;

    case ngx_http_voice_upstream_handshake:
    case ngx_http_voice_upstream_open_state:

        if (ev->write) {
            ngx_http_voice_upstream_flush(u);

        } else {
            ngx_http_voice_upstream_read(u);
        }

        return;

    default:
        return;
    }
}


/* the TCP connection is up, or failed */

static void
ngx_http_voice_upstream_connected(ngx_http_voice_upstream_t *u)
{
    int                err;
    socklen_t          len;
    ngx_connection_t  *c;

    c = u->peer.connection;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        (void) ngx_connection_error(c, err,
                                    "voice upstream: connect() failed");
        ngx_http_voice_upstream_fail(u, "cannot connect");
        return;
    }

    /*
     * 20 ms frames must not wait for the previous one's ACK: with Nagle
     * about one in twenty did, 20-25 ms (docs/BENCHMARKS.md)
     */

    if (ngx_tcp_nodelay(c) != NGX_OK) {
        ngx_http_voice_upstream_fail(u, "cannot set TCP_NODELAY");
        return;
    }

#if (NGX_HTTP_SSL)

    if (u->conf->secure) {
        ngx_int_t  rc;
        u_char    *name;

        u->state = ngx_http_voice_upstream_tls;

        if (ngx_ssl_create_connection(u->conf->ssl, c,
                                      NGX_SSL_BUFFER|NGX_SSL_CLIENT)
            != NGX_OK)
        {
            ngx_http_voice_upstream_fail(u, "cannot start TLS");
            return;
        }

        if (u->conf->naddrs == 0) {
            name = ngx_pnalloc(u->pool, u->conf->host.len + 1);
            if (name == NULL) {
                ngx_http_voice_upstream_fail(u, "out of memory");
                return;
            }

            (void) ngx_cpystrn(name, u->conf->host.data,
                               u->conf->host.len + 1);

            if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) name)
                == 0)
            {
                ngx_ssl_error(NGX_LOG_ERR, u->log, 0,
                              "SSL_set_tlsext_host_name(\"%s\") failed",
                              name);
                ngx_http_voice_upstream_fail(u, "cannot start TLS");
                return;
            }
        }

        rc = ngx_ssl_handshake(c);

        if (rc == NGX_AGAIN) {
            c->ssl->handler = ngx_http_voice_upstream_ssl_done;
            return;
        }

        ngx_http_voice_upstream_ssl_done(c);
        return;
    }

#endif

    ngx_http_voice_upstream_start(u);
}


#if (NGX_HTTP_SSL)

static void
ngx_http_voice_upstream_ssl_done(ngx_connection_t *c)
{
    long                        rc;
    ngx_http_voice_upstream_t  *u;

    u = c->data;

    if (!c->ssl->handshaked) {
        ngx_http_voice_upstream_fail(u, c->write->timedout
                                        ? "timed out in the TLS handshake"
                                        : "TLS handshake failed");
        return;
    }

    if (u->conf->ssl_verify) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            ngx_log_error(NGX_LOG_ERR, u->log, 0,
                          "voice upstream: certificate of \"%V\" not "
                          "verified: (%l:%s)", &u->conf->host, rc,
                          X509_verify_cert_error_string(rc));
            ngx_http_voice_upstream_fail(u, "certificate not verified");
            return;
        }

        if (ngx_http_voice_upstream_check_name(u, c) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, u->log, 0,
                          "voice upstream: certificate does not match "
                          "\"%V\"", &u->conf->host);
            ngx_http_voice_upstream_fail(u, "certificate does not match");
            return;
        }
    }

    c->read->handler = ngx_http_voice_upstream_handler;
    c->write->handler = ngx_http_voice_upstream_handler;

    ngx_http_voice_upstream_start(u);
    ngx_http_run_posted_requests(u->client);
}



/* the certificate is for the URL's host: its name, or its address */

static ngx_int_t
ngx_http_voice_upstream_check_name(ngx_http_voice_upstream_t *u,
    ngx_connection_t *c)
{
    int         rc;
    X509       *cert;
    ngx_str_t   host;
    u_char      ip[NGX_SOCKADDR_STRLEN + 1];

    if (u->conf->naddrs == 0) {
        return ngx_ssl_check_host(c, &u->conf->host);
    }

    host = u->conf->host;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;
    }

    if (host.len >= sizeof(ip)) {
        return NGX_ERROR;
    }

    ngx_memcpy(ip, host.data, host.len);
    ip[host.len] = '\0';

    cert = SSL_get_peer_certificate(c->ssl->connection);
    if (cert == NULL) {
        return NGX_ERROR;
    }

    rc = X509_check_ip_asc(cert, (char *) ip, 0);

    X509_free(cert);

    return (rc == 1) ? NGX_OK : NGX_ERROR;
}

#endif


/* connected (and TLS up): the upgrade request goes, the 101 is awaited */

static void
ngx_http_voice_upstream_start(ngx_http_voice_upstream_t *u)
{
    ngx_connection_t  *c;

    c = u->peer.connection;

    u->state = ngx_http_voice_upstream_handshake;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    ngx_add_timer(c->read, u->conf->connect_timeout);

    ngx_http_voice_upstream_flush(u);

    if (u->destroyed || u->state == ngx_http_voice_upstream_gone) {
        return;
    }

    if (c->read->ready) {
        ngx_http_voice_upstream_read(u);
    }
}


static void
ngx_http_voice_upstream_read(ngx_http_voice_upstream_t *u)
{
    ssize_t            n;
    ngx_connection_t  *c;
    u_char             buf[4096];

    c = u->peer.connection;

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_voice_upstream_fail(u,
                          u->state == ngx_http_voice_upstream_open_state
                          ? "connection closed by the provider"
                          : "connection closed in the handshake");
            return;
        }

        if (u->state == ngx_http_voice_upstream_open_state) {
            u->ping_sent = 0;
            ngx_add_timer(c->read, u->conf->read_timeout);
        }

        ngx_http_voice_upstream_process(u, buf, n);

        if (u->destroyed || u->state == ngx_http_voice_upstream_gone) {
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_voice_upstream_fail(u, "cannot read");
    }
}


static void
ngx_http_voice_upstream_process(ngx_http_voice_upstream_t *u, u_char *p,
    size_t len)
{
    int                rc;
    size_t             used;
    u_char             code[2];
    ngx_connection_t  *c;
    voice_ws_event_t   ev;

    c = u->peer.connection;

    if (u->state == ngx_http_voice_upstream_handshake) {

        rc = voice_ws_client_response(&u->response, p, len, &used);

        if (rc == VOICE_WS_CLIENT_AGAIN) {
            return;
        }

        if (rc == VOICE_WS_CLIENT_ERROR) {
            ngx_log_error(NGX_LOG_ERR, u->log, 0,
                          "voice upstream: \"%V\" refused the WebSocket "
                          "(status %d): %s", &u->conf->url,
                          u->response.status, u->response.error);
            ngx_http_voice_upstream_fail(u, "handshake refused");
            return;
        }

        u->state = ngx_http_voice_upstream_open_state;

        ngx_add_timer(c->read, u->conf->read_timeout);

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, u->log, 0,
                       "voice upstream: \"%V\" open", &u->conf->url);

        u->handler->open(u->data);

        if (u->destroyed || u->state == ngx_http_voice_upstream_gone) {
            return;
        }

        p += used;
        len -= used;
    }

    while (len) {

        rc = voice_ws_parse(&u->ws, p, len, &used, &ev);

        p += used;
        len -= used;

        switch (rc) {

        case VOICE_WS_AGAIN:
            break;

        case VOICE_WS_MESSAGE:
            u->handler->message(u->data, ev.opcode, (u_char *) ev.data,
                                ev.len);
            break;

        case VOICE_WS_PING:
            (void) ngx_http_voice_upstream_frame(u, VOICE_WS_OP_PONG,
                                                 (u_char *) ev.data, ev.len);
            break;

        case VOICE_WS_PONG:
            break;

        case VOICE_WS_CLOSE:

            ngx_log_error(NGX_LOG_INFO, u->log, 0,
                          "voice upstream: \"%V\" closed with %d",
                          &u->conf->url, ev.close_code);

            if (!u->close_sent) {
                code[0] = (u_char) (ev.close_code >> 8);
                code[1] = (u_char) (ev.close_code & 0xff);
                (void) ngx_http_voice_upstream_frame(u, VOICE_WS_OP_CLOSE,
                                                     code, 2);
                u->close_sent = 1;
                ngx_http_voice_upstream_flush(u);
            }

            ngx_http_voice_upstream_fail(u, "closed by the provider");
            return;

        default: /* VOICE_WS_ERROR */

            ngx_log_error(NGX_LOG_ERR, u->log, 0,
                          "voice upstream: \"%V\" broke the WebSocket "
                          "protocol", &u->conf->url);

            code[0] = (u_char) (ev.close_code >> 8);
            code[1] = (u_char) (ev.close_code & 0xff);
            (void) ngx_http_voice_upstream_frame(u, VOICE_WS_OP_CLOSE,
                                                 code, 2);
            u->close_sent = 1;
            ngx_http_voice_upstream_flush(u);

            ngx_http_voice_upstream_fail(u, "protocol error");
            return;
        }

        if (u->destroyed || u->state == ngx_http_voice_upstream_gone) {
            return;
        }
    }

    ngx_http_voice_upstream_flush(u);
}


ngx_int_t
ngx_http_voice_upstream_send(ngx_http_voice_upstream_t *u,
    ngx_uint_t opcode, u_char *p, size_t len)
{
    if (!ngx_http_voice_upstream_is_open(u)) {
        return NGX_ERROR;
    }

    if (ngx_http_voice_upstream_frame(u, opcode, p, len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_voice_upstream_flush(u);

    return ngx_http_voice_upstream_is_open(u) ? NGX_OK : NGX_ERROR;
}


ngx_uint_t
ngx_http_voice_upstream_is_open(ngx_http_voice_upstream_t *u)
{
    return u && !u->destroyed && !u->close_sent
           && u->state == ngx_http_voice_upstream_open_state;
}


/* one masked frame onto the output queue */

static ngx_int_t
ngx_http_voice_upstream_frame(ngx_http_voice_upstream_t *u,
    ngx_uint_t opcode, u_char *p, size_t len)
{
    size_t     need, size, hlen;
    u_char    *out;
    uint32_t   mask;

    if (u->out_pos) {
        ngx_memmove(u->out, u->out + u->out_pos, u->out_len - u->out_pos);
        u->out_len -= u->out_pos;
        u->out_pos = 0;
    }

    need = u->out_len + len + VOICE_WS_MAX_HEADER;

    if (need > NGX_HTTP_VOICE_UPSTREAM_MAX_PENDING) {
        ngx_log_error(NGX_LOG_ERR, u->log, 0,
                      "voice upstream: \"%V\" is not reading, %uz bytes "
                      "pending", &u->conf->url, u->out_len);
        ngx_http_voice_upstream_fail(u, "provider not reading");
        return NGX_ERROR;
    }

    if (need > u->out_size) {
        size = ngx_max(u->out_size * 2, 4096);

        while (size < need) {
            size *= 2;
        }

        out = ngx_http_voice_mem_realloc(NULL, u->out, size);
        if (out == NULL) {
            ngx_http_voice_upstream_fail(u, "out of memory");
            return NGX_ERROR;
        }

        u->out = out;
        u->out_size = size;
    }

    mask = (uint32_t) ngx_random();

    hlen = voice_ws_frame_header(u->out + u->out_len, opcode, 1, len,
                                 (uint8_t *) &mask);

    if (len) {
        ngx_memcpy(u->out + u->out_len + hlen, p, len);
        voice_ws_mask(u->out + u->out_len + hlen, len, (uint8_t *) &mask, 0);
    }

    u->out_len += hlen + len;

    return NGX_OK;
}


static void
ngx_http_voice_upstream_flush(ngx_http_voice_upstream_t *u)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = u->peer.connection;

    if (c == NULL) {
        return;
    }

    while (u->out_pos < u->out_len) {

        n = c->send(c, u->out + u->out_pos, u->out_len - u->out_pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                ngx_http_voice_upstream_fail(u, "cannot write");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_voice_upstream_fail(u, "cannot write");
            return;
        }

        u->out_pos += n;
    }

    u->out_pos = 0;
    u->out_len = 0;
}


/* the connection is gone: the owner hears why, once */

static void
ngx_http_voice_upstream_fail(ngx_http_voice_upstream_t *u,
    const char *reason)
{
    if (u->destroyed || u->state == ngx_http_voice_upstream_gone) {
        return;
    }

    u->state = ngx_http_voice_upstream_gone;

    ngx_log_error(NGX_LOG_ERR, u->log, 0,
                  "voice upstream: \"%V\": %s", &u->conf->url, reason);

    ngx_http_voice_upstream_close_connection(u);

    u->reason = reason;
    ngx_post_event(&u->notify, &ngx_posted_events);
}


static void
ngx_http_voice_upstream_notify(ngx_event_t *ev)
{
    ngx_http_voice_upstream_t  *u = ev->data;

    if (u->destroyed) {
        return;
    }

    u->handler->closed(u->data, u->reason);
    ngx_http_run_posted_requests(u->client);
}


static void
ngx_http_voice_upstream_close_connection(ngx_http_voice_upstream_t *u)
{
    ngx_connection_t  *c;

    if (u->resolve) {
        ngx_resolve_name_done(u->resolve);
        u->resolve = NULL;
    }

    c = u->peer.connection;

    if (c == NULL) {
        return;
    }

    u->peer.connection = NULL;

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    ngx_close_connection(c);
}


void
ngx_http_voice_upstream_destroy(ngx_http_voice_upstream_t *u,
    ngx_uint_t code)
{
    u_char      payload[2];
    ngx_uint_t  open;

    if (u == NULL || u->destroyed) {
        return;
    }

    open = ngx_http_voice_upstream_is_open(u);

    /* from here no callback runs, whatever fails */

    u->destroyed = 1;

    /* a close frame, if the socket takes it now; nothing waits for it */

    if (code && open) {
        payload[0] = (u_char) (code >> 8);
        payload[1] = (u_char) (code & 0xff);

        if (ngx_http_voice_upstream_frame(u, VOICE_WS_OP_CLOSE, payload, 2)
            == NGX_OK)
        {
            ngx_http_voice_upstream_flush(u);
        }
    }

    u->state = ngx_http_voice_upstream_gone;

    if (u->kick.posted) {
        ngx_delete_posted_event(&u->kick);
    }

    if (u->notify.posted) {
        ngx_delete_posted_event(&u->notify);
    }

    ngx_http_voice_upstream_close_connection(u);

    if (u->out) {
        ngx_http_voice_mem_free(NULL, u->out);
        u->out = NULL;
    }

    ngx_post_event(&u->free, &ngx_posted_events);
}


static void
ngx_http_voice_upstream_free(ngx_event_t *ev)
{
    ngx_http_voice_upstream_t  *u = ev->data;

    ngx_destroy_pool(u->pool);
}

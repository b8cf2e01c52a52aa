/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * HTTP/1.1 as the providers speak it, blocking, one connection per
 * process: requests read whole with a Content-Length body, answers whole
 * or streamed (chunked, or to the close for HTTP/1.0), a switch to the
 * WebSocket protocol, and a log line per request to which the handlers
 * add what their engine made of it.
 */

#ifndef VP_HTTP_H
#define VP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>


#define VP_HTTP_NOTE_MAX   2048


typedef struct {
    int            fd;
    uint8_t       *buf;
    size_t         len;
    size_t         size;
    size_t         used;                /* bytes of the current request */

    /* the request */
    char          *method;
    char          *path;
    char          *query;
    int            http11;
    const char    *content_type;
    uint8_t       *body;
    size_t         body_len;

    /* a WebSocket handshake's headers (RFC 6455, 4.1) */
    int            upgrade;             /* Upgrade: websocket */
    int            connection_upgrade;  /* Connection: ..., Upgrade */
    const char    *ws_key;
    const char    *ws_version;

    /* the response */
    int            keepalive;
    int            chunked;
    int            headers_sent;
    int            failed;              /* the client is gone */
    int            linger;              /* unread input may follow */
    int            status;
    size_t         sent;                /* body bytes */
    double         start;
    double         first;               /* the first body byte sent */
    char           note[VP_HTTP_NOTE_MAX];
    size_t         note_len;
} vp_http_conn_t;


/* takes the accepted socket: 0, or -1 when out of memory */
int vp_http_open(vp_http_conn_t *c, int fd);

/* 0: a whole request is in c; -1: the connection is done */
int vp_http_read_request(vp_http_conn_t *c);

/* drops the request done with, keeping what a pipelining client sent */
void vp_http_next(vp_http_conn_t *c);

/* closes the socket (after a linger if an error was answered) */
void vp_http_close(vp_http_conn_t *c);

void vp_http_respond(vp_http_conn_t *c, int status, const char *type,
    const void *body, size_t len);

/* the same with more header lines, each ending in CRLF */
void vp_http_respond_headers(vp_http_conn_t *c, int status,
    const char *type, const char *headers, const void *body, size_t len);

/*
 * 101 Switching Protocols to WebSocket, with the handshake's header
 * lines; the connection is the new protocol's from then on.  0, or -1
 * when the client is gone.
 */
int vp_http_switch(vp_http_conn_t *c, const char *headers);

/* writes it all, or marks the client gone: 0 or -1 */
int vp_http_send(vp_http_conn_t *c, struct iovec *iov, int n);

/* OpenAI's error object: {"error":{"message","type"}} */
void vp_http_error(vp_http_conn_t *c, int status, const char *msg);

/* a body streamed as it is made; 0, or -1 when the client is gone */
int vp_http_stream_start(vp_http_conn_t *c, const char *type,
    const char *extra);
int vp_http_stream_write(vp_http_conn_t *c, const void *data, size_t len);
void vp_http_stream_end(vp_http_conn_t *c);

/*
 * A parameter of a header value, "type; key=value; key="value"": the
 * value's length, or -1 if it is missing or does not fit.
 */
int vp_http_param(const char *s, const char *key, char *out, size_t cap);

/* key's value in a query string: its length, or -1 */
int vp_http_query_arg(const char *query, const char *key, char *out,
    size_t cap);

/* key="text" for the request's log line, escaped and cut short */
void vp_http_note(vp_http_conn_t *c, const char *key, const char *s,
    size_t len);
void vp_http_notef(vp_http_conn_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* method, path, status, body bytes, time, and the notes */
void vp_http_log_request(vp_http_conn_t *c);

#endif /* VP_HTTP_H */

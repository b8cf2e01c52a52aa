/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "voice_json.h"

#include "clock.h"
#include "http.h"
#include "log.h"


#define VP_HTTP_HEADER_MAX    (16 * 1024)
#define VP_HTTP_BODY_MAX      (16 * 1024 * 1024)
#define VP_HTTP_BUF_INIT      (64 * 1024)
#define VP_HTTP_IDLE_MS       5000
#define VP_HTTP_SEND_TIMEOUT  10              /* seconds */
#define VP_HTTP_NOTE_TEXT     300             /* bytes of text in a note */


static size_t vp_http_head_end(const uint8_t *p, size_t len);
static int vp_http_parse_head(vp_http_conn_t *c, size_t end);
static int vp_http_parse_request_line(vp_http_conn_t *c, char *line);
static int vp_http_fill(vp_http_conn_t *c, size_t cap);
static size_t vp_http_head(vp_http_conn_t *c, char *out, size_t cap,
    int status, const char *type, ssize_t len, const char *extra);
static const char *vp_http_status_text(int status);
static const char *vp_http_skip_value(const char *p);


int
vp_http_open(vp_http_conn_t *c, int fd)
{
    int             one;
    struct timeval  tv;

    memset(c, 0, sizeof(vp_http_conn_t));
    c->fd = fd;

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    /* a client that stops reading does not hold the child forever */
    tv.tv_sec = VP_HTTP_SEND_TIMEOUT;
    tv.tv_usec = 0;
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    c->size = VP_HTTP_BUF_INIT;
    c->buf = malloc(c->size);

    return c->buf ? 0 : -1;
}


int
vp_http_read_request(vp_http_conn_t *c)
{
    int     rc;
    size_t  end;

    for ( ;; ) {
        end = vp_http_head_end(c->buf, c->len);

        if (end && end <= VP_HTTP_HEADER_MAX) {
            break;
        }

        if (end || c->len >= VP_HTTP_HEADER_MAX) {
            c->start = vp_clock_now_ms();
            c->method = "-";
            c->path = "-";
            c->linger = 1;
            vp_http_error(c, 431, "request header too large");
            vp_http_log_request(c);
            return -1;
        }

        rc = vp_http_fill(c, c->len + 4096);
        if (rc <= 0) {
            return -1;
        }
    }

    c->start = vp_clock_now_ms();

    rc = vp_http_parse_head(c, end);
    if (rc != 0) {
        c->keepalive = 0;
        c->linger = 1;

        if (c->method == NULL) {
            c->method = "-";
            c->path = "-";
        }

        vp_http_error(c, rc, rc == 413 ? "request body too large"
                        : rc == 411 ? "send the body with Content-Length"
                        : "malformed request header");
        vp_http_log_request(c);
        return -1;
    }

    while (c->len < c->used) {
        rc = vp_http_fill(c, c->used);
        if (rc <= 0) {
            return -1;
        }
    }

    c->body = c->buf + end;
    c->body_len = c->used - end;

    return 0;
}


/* the length of the request head with its empty line, 0 if incomplete */

static size_t
vp_http_head_end(const uint8_t *p, size_t len)
{
    size_t  i;

    for (i = 1; i < len; i++) {
        if (p[i] != '\n') {
            continue;
        }

        if (p[i - 1] == '\n'
            || (i >= 2 && p[i - 1] == '\r' && p[i - 2] == '\n'))
        {
            return i + 1;
        }
    }

    return 0;
}


/*
 * Splits the head in place into NUL-terminated strings.  0 on success,
 * else the status to answer with.
 */

static int
vp_http_parse_head(vp_http_conn_t *c, size_t end)
{
    int          rc, closing, keep, have_cl;
    char        *p, *last, *line, *next, *name, *value, *q;
    size_t       len;
    uint64_t     cl, v;
    const char  *expect;

    p = (char *) c->buf;
    last = p + end;

    if (memchr(p, '\0', end) != NULL) {
        return 400;
    }

    /* an empty line or two before the request line are allowed */
    while (p < last && (*p == '\r' || *p == '\n')) {
        p++;
    }

    line = p;
    next = memchr(line, '\n', last - line);
    if (next == NULL) {
        return 400;
    }

    *next = '\0';
    if (next > line && next[-1] == '\r') {
        next[-1] = '\0';
    }

    rc = vp_http_parse_request_line(c, line);
    if (rc != 0) {
        return rc;
    }

    closing = 0;
    keep = 0;
    cl = 0;
    have_cl = 0;
    expect = NULL;

    for (line = next + 1; line < last; line = next + 1) {
        next = memchr(line, '\n', last - line);
        if (next == NULL) {
            break;
        }

        *next = '\0';
        if (next > line && next[-1] == '\r') {
            next[-1] = '\0';
        }

        if (line[0] == '\0') {
            break;
        }

        /* obsolete line folding */
        if (line[0] == ' ' || line[0] == '\t') {
            return 400;
        }

        name = line;
        value = strchr(line, ':');
        if (value == NULL || value == name) {
            return 400;
        }

        *value++ = '\0';

        while (*value == ' ' || *value == '\t') {
            value++;
        }

        len = strlen(value);
        while (len && (value[len - 1] == ' ' || value[len - 1] == '\t')) {
            value[--len] = '\0';
        }

        if (strcasecmp(name, "content-length") == 0) {
            if (len == 0 || strspn(value, "0123456789") != len) {
                return 400;
            }

            v = 0;
            for (q = value; *q; q++) {
                v = v * 10 + (*q - '0');
                if (v > VP_HTTP_BODY_MAX) {
                    return 413;
                }
            }

            if (have_cl && v != cl) {
                return 400;
            }

            cl = v;
            have_cl = 1;

        } else if (strcasecmp(name, "transfer-encoding") == 0) {
            /* nginx's proxy sends Content-Length; chunked bodies aren't */
            return 411;

        } else if (strcasecmp(name, "content-type") == 0) {
            c->content_type = value;

        } else if (strcasecmp(name, "expect") == 0) {
            expect = value;

        } else if (strcasecmp(name, "connection") == 0) {
            for (q = strtok(value, ", \t"); q; q = strtok(NULL, ", \t")) {
                if (strcasecmp(q, "close") == 0) {
                    closing = 1;

                } else if (strcasecmp(q, "keep-alive") == 0) {
                    keep = 1;

                } else if (strcasecmp(q, "upgrade") == 0) {
                    c->connection_upgrade = 1;
                }
            }

        } else if (strcasecmp(name, "upgrade") == 0) {
            for (q = strtok(value, ", \t"); q; q = strtok(NULL, ", \t")) {
                if (strcasecmp(q, "websocket") == 0) {
                    c->upgrade = 1;
                }
            }

        } else if (strcasecmp(name, "sec-websocket-key") == 0) {
            c->ws_key = value;

        } else if (strcasecmp(name, "sec-websocket-version") == 0) {
            c->ws_version = value;
        }
    }

    c->keepalive = c->http11 ? !closing : (keep && !closing);
    c->used = end + cl;

    if (expect && c->http11 && c->len < c->used
        && strcasecmp(expect, "100-continue") == 0)
    {
        struct iovec  iov;

        iov.iov_base = "HTTP/1.1 100 Continue\r\n\r\n";
        iov.iov_len = sizeof("HTTP/1.1 100 Continue\r\n\r\n") - 1;
        (void) vp_http_send(c, &iov, 1);
    }

    return 0;
}


/* METHOD SP target SP HTTP/1.x: 0, or the status to answer with */

static int
vp_http_parse_request_line(vp_http_conn_t *c, char *line)
{
    char  *sp, *target, *q;

    sp = strchr(line, ' ');
    if (sp == NULL || sp == line) {
        return 400;
    }

    *sp = '\0';

    for (q = line; *q; q++) {
        if (*q < 'A' || *q > 'Z') {
            return 400;
        }
    }

    c->method = line;

    target = sp + 1;
    c->path = target;

    sp = strchr(target, ' ');
    if (sp == NULL) {
        return 400;
    }

    *sp = '\0';

    if (strcmp(sp + 1, "HTTP/1.1") == 0) {
        c->http11 = 1;

    } else if (strcmp(sp + 1, "HTTP/1.0") != 0) {
        return 400;
    }

    /* absolute-form: drop the scheme and the authority */
    if (strncasecmp(target, "http://", 7) == 0
        || strncasecmp(target, "https://", 8) == 0)
    {
        q = strstr(target, "://") + 3;
        target = strchr(q, '/');
        if (target == NULL) {
            target = "/";
        }
    }

    c->path = target;

    if (target[0] != '/') {
        return 400;
    }

    q = strchr(target, '?');
    if (q) {
        *q = '\0';
        c->query = q + 1;
    }

    return 0;
}


/* reads what arrives within the idle time: >0 bytes, 0 EOF, -1 error */

static int
vp_http_fill(vp_http_conn_t *c, size_t cap)
{
    int            rc;
    size_t         size;
    uint8_t       *p;
    ssize_t        n;
    struct pollfd  pfd;

    if (cap > c->size) {
        size = c->size;
        while (size < cap) {
            size *= 2;
        }

        p = realloc(c->buf, size);
        if (p == NULL) {
            return -1;
        }

        c->buf = p;
        c->size = size;
    }

    pfd.fd = c->fd;
    pfd.events = POLLIN;

    do {
        rc = poll(&pfd, 1, VP_HTTP_IDLE_MS);
    } while (rc == -1 && errno == EINTR);

    if (rc <= 0) {
        return -1;
    }

    do {
        n = recv(c->fd, c->buf + c->len, c->size - c->len, 0);
    } while (n == -1 && errno == EINTR);

    if (n <= 0) {
        return (int) n;
    }

    c->len += n;

    return 1;
}


void
vp_http_next(vp_http_conn_t *c)
{
    uint8_t  *p;

    memmove(c->buf, c->buf + c->used, c->len - c->used);
    c->len -= c->used;

    if (c->size > 4 * VP_HTTP_BUF_INIT && c->len < VP_HTTP_BUF_INIT) {
        p = realloc(c->buf, VP_HTTP_BUF_INIT);
        if (p) {
            c->buf = p;
            c->size = VP_HTTP_BUF_INIT;
        }
    }

    c->used = 0;
    c->method = NULL;
    c->path = NULL;
    c->query = NULL;
    c->http11 = 0;
    c->content_type = NULL;
    c->body = NULL;
    c->body_len = 0;
    c->upgrade = 0;
    c->connection_upgrade = 0;
    c->ws_key = NULL;
    c->ws_version = NULL;
    c->keepalive = 0;
    c->chunked = 0;
    c->headers_sent = 0;
    c->status = 0;
    c->sent = 0;
    c->first = 0;
    c->note_len = 0;
    c->note[0] = '\0';
}


/*
 * After an error answer the client may still be sending: read a little
 * before closing so that the answer is not lost to a TCP reset.
 */

void
vp_http_close(vp_http_conn_t *c)
{
    int            n;
    char           drain[4096];
    struct pollfd  pfd;

    if (c->linger && !c->failed && shutdown(c->fd, SHUT_WR) == 0) {
        pfd.fd = c->fd;
        pfd.events = POLLIN;

        for (n = 0; n < 256; n++) {
            if (poll(&pfd, 1, 500) <= 0
                || recv(c->fd, drain, sizeof(drain), 0) <= 0)
            {
                break;
            }
        }
    }

    close(c->fd);
    free(c->buf);
    c->buf = NULL;
}


int
vp_http_send(vp_http_conn_t *c, struct iovec *iov, int n)
{
    ssize_t        k;
    struct msghdr  mh;

    if (c->failed) {
        return -1;
    }

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = iov;
    mh.msg_iovlen = n;

    while (mh.msg_iovlen > 0) {
        k = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

        if (k == -1) {
            if (errno == EINTR) {
                continue;
            }

            c->failed = 1;
            return -1;
        }

        while (mh.msg_iovlen > 0 && (size_t) k >= mh.msg_iov->iov_len) {
            k -= mh.msg_iov->iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }

        if (mh.msg_iovlen > 0) {
            mh.msg_iov->iov_base = (char *) mh.msg_iov->iov_base + k;
            mh.msg_iov->iov_len -= k;
        }
    }

    return 0;
}


/*
 * The response head; len -1 for a body streamed as it is made: chunked
 * to an HTTP/1.1 client, to an HTTP/1.0 one until the connection closes.
 * The headers a status requires come with it.
 */

static size_t
vp_http_head(vp_http_conn_t *c, char *out, size_t cap, int status,
    const char *type, ssize_t len, const char *extra)
{
    int          n;
    char         framing[64];
    const char  *required;

    if (len >= 0) {
        snprintf(framing, sizeof(framing), "Content-Length: %zd\r\n", len);

    } else if (c->http11) {
        c->chunked = 1;
        snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");

    } else {
        c->keepalive = 0;
        framing[0] = '\0';
    }

    switch (status) {
    case 405:
        required = "Allow: POST\r\n";
        break;
    case 426:
        required = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
        break;
    default:
        required = "";
    }

    c->status = status;
    c->headers_sent = 1;

    n = snprintf(out, cap,
                 "HTTP/1.1 %d %s\r\n"
                 "Server: voice-providers\r\n"
                 "Content-Type: %s\r\n"
                 "%s%s%s"
                 "Connection: %s\r\n"
                 "\r\n",
                 status, vp_http_status_text(status), type, framing,
                 required, extra ? extra : "",
                 c->keepalive ? "keep-alive" : "close");

    return ((size_t) n < cap) ? (size_t) n : cap - 1;
}


void
vp_http_respond(vp_http_conn_t *c, int status, const char *type,
    const void *body, size_t len)
{
    vp_http_respond_headers(c, status, type, NULL, body, len);
}


void
vp_http_respond_headers(vp_http_conn_t *c, int status, const char *type,
    const char *headers, const void *body, size_t len)
{
    char          head[2048];
    struct iovec  iov[2];

    iov[0].iov_base = head;
    iov[0].iov_len = vp_http_head(c, head, sizeof(head), status, type,
                                  (ssize_t) len, headers);
    iov[1].iov_base = (void *) body;
    iov[1].iov_len = len;

    if (vp_http_send(c, iov, 2) == 0) {
        c->sent += len;
    }
}


void
vp_http_error(vp_http_conn_t *c, int status, const char *msg)
{
    char    body[1024];
    size_t  n, k;

    n = strlen(msg);
    if (n > 160) {
        n = 160;
    }

    k = snprintf(body, sizeof(body), "{\"error\":{\"message\":\"");
    k += voice_json_escape((uint8_t *) body + k, (const uint8_t *) msg, n);
    k += snprintf(body + k, sizeof(body) - k, "\",\"type\":\"%s\"}}\n",
                  status >= 500 ? "server_error" : "invalid_request_error");

    vp_http_note(c, "error", msg, strlen(msg));
    vp_http_respond(c, status, "application/json", body, k);
}


int
vp_http_switch(vp_http_conn_t *c, const char *headers)
{
    int           n;
    char          head[1024];
    struct iovec  iov;

    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 101 Switching Protocols\r\n"
                 "Server: voice-providers\r\n"
                 "Upgrade: websocket\r\n"
                 "Connection: Upgrade\r\n"
                 "%s"
                 "\r\n", headers);

    if (n < 0 || (size_t) n >= sizeof(head)) {
        return -1;
    }

    c->status = 101;
    c->headers_sent = 1;
    c->keepalive = 0;

    iov.iov_base = head;
    iov.iov_len = n;

    return vp_http_send(c, &iov, 1);
}


int
vp_http_stream_start(vp_http_conn_t *c, const char *type, const char *extra)
{
    char          head[1024];
    struct iovec  iov;

    iov.iov_base = head;
    iov.iov_len = vp_http_head(c, head, sizeof(head), 200, type, -1, extra);

    return vp_http_send(c, &iov, 1);
}


int
vp_http_stream_write(vp_http_conn_t *c, const void *data, size_t len)
{
    int           n;
    char          size[32];
    struct iovec  iov[3];

    if (len == 0) {
        return c->failed ? -1 : 0;
    }

    if (c->first == 0) {
        c->first = vp_clock_now_ms();
    }

    if (!c->chunked) {
        iov[0].iov_base = (void *) data;
        iov[0].iov_len = len;
        n = 1;

    } else {
        iov[0].iov_base = size;
        iov[0].iov_len = snprintf(size, sizeof(size), "%zx\r\n", len);
        iov[1].iov_base = (void *) data;
        iov[1].iov_len = len;
        iov[2].iov_base = "\r\n";
        iov[2].iov_len = 2;
        n = 3;
    }

    if (vp_http_send(c, iov, n) != 0) {
        return -1;
    }

    c->sent += len;

    return 0;
}


void
vp_http_stream_end(vp_http_conn_t *c)
{
    struct iovec  iov;

    if (c->chunked) {
        iov.iov_base = "0\r\n\r\n";
        iov.iov_len = 5;
        (void) vp_http_send(c, &iov, 1);
    }
}


static const char *
vp_http_status_text(int status)
{
    switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    default:  return "Unknown";
    }
}


int
vp_http_param(const char *s, const char *key, char *out, size_t cap)
{
    size_t       klen, nlen, n;
    const char  *p, *name;

    klen = strlen(key);
    p = vp_http_skip_value(s);

    while (*p == ';') {
        p++;

        while (*p == ' ' || *p == '\t') {
            p++;
        }

        name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t') {
            p++;
        }

        nlen = p - name;

        while (*p == ' ' || *p == '\t') {
            p++;
        }

        if (*p != '=') {
            p = vp_http_skip_value(p);
            continue;
        }

        p++;

        while (*p == ' ' || *p == '\t') {
            p++;
        }

        if (nlen != klen || strncasecmp(name, key, klen) != 0) {
            p = vp_http_skip_value(p);
            continue;
        }

        n = 0;

        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                }

                if (n + 1 >= cap) {
                    return -1;
                }

                out[n++] = *p;
            }

            if (*p != '"') {
                return -1;
            }

        } else {
            for ( /* void */ ; *p && *p != ';' && *p != ' ' && *p != '\t';
                 p++)
            {
                if (n + 1 >= cap) {
                    return -1;
                }

                out[n++] = *p;
            }
        }

        out[n] = '\0';

        return (int) n;
    }

    return -1;
}


/* to the next ';' outside a quoted string, or the end */

static const char *
vp_http_skip_value(const char *p)
{
    while (*p && *p != ';') {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                }
            }

            if (*p == '\0') {
                break;
            }
        }

        p++;
    }

    return p;
}


int
vp_http_query_arg(const char *query, const char *key, char *out, size_t cap)
{
    size_t       klen, n;
    const char  *p;

    klen = strlen(key);

    for (p = query; *p; p += (*p == '&')) {
        n = strcspn(p, "&");

        if (n > klen && p[klen] == '=' && strncmp(p, key, klen) == 0) {
            n -= klen + 1;

            if (n >= cap) {
                return -1;
            }

            memcpy(out, p + klen + 1, n);
            out[n] = '\0';

            return (int) n;
        }

        p += n;
    }

    return -1;
}


void
vp_http_note(vp_http_conn_t *c, const char *key, const char *s, size_t len)
{
    char    *p;
    size_t   klen, cut, n;

    klen = strlen(key);
    cut = (len > VP_HTTP_NOTE_TEXT) ? VP_HTTP_NOTE_TEXT : len;
    n = voice_json_escape(NULL, (const uint8_t *) s, cut);

    if (c->note_len + klen + n + 8 > VP_HTTP_NOTE_MAX) {
        return;
    }

    p = c->note + c->note_len;
    *p++ = ' ';
    memcpy(p, key, klen);
    p += klen;
    *p++ = '=';
    *p++ = '"';
    p += voice_json_escape((uint8_t *) p, (const uint8_t *) s, cut);

    if (cut < len) {
        memcpy(p, "...", 3);
        p += 3;
    }

    *p++ = '"';
    *p = '\0';

    c->note_len = p - c->note;
}


void
vp_http_notef(vp_http_conn_t *c, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  ap;

    room = VP_HTTP_NOTE_MAX - c->note_len;
    if (room < 2) {
        return;
    }

    c->note[c->note_len] = ' ';

    va_start(ap, fmt);
    n = vsnprintf(c->note + c->note_len + 1, room - 1, fmt, ap);
    va_end(ap);

    if (n > 0 && (size_t) n < room - 1) {
        c->note_len += n + 1;
    }

    c->note[c->note_len] = '\0';
}


void
vp_http_log_request(vp_http_conn_t *c)
{
    vp_log_printf("%s %.200s%s%.200s %d %zu bytes %.0f ms%s%s",
            c->method ? c->method : "-", c->path ? c->path : "-",
            c->query ? "?" : "", c->query ? c->query : "", c->status,
            c->sent, vp_clock_now_ms() - c->start,
            c->failed ? " client gone" : "", c->note);
}

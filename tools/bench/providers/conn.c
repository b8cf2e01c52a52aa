/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "conn.h"
#include "log.h"


int         bp_conn_ep;
bp_conn_t  *bp_conn_timers;


int
bp_conn_listen(int port)
{
    int                 fd, one;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }

    one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0
        || listen(fd, 4096) < 0)
    {
        fprintf(stderr, "bench-providers: cannot listen on %d: %s\n", port,
                strerror(errno));
        exit(1);
    }

    return fd;
}


bp_conn_t *
bp_conn_new(int fd, int type)
{
    int         one;
    bp_conn_t  *c;

    c = calloc(1, sizeof(bp_conn_t));
    if (c == NULL) {
        return NULL;
    }

    c->fd = fd;
    c->type = type;
    c->sentence = -1;

    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));

    return c;
}


void
bp_conn_add(bp_conn_t *c, uint32_t events)
{
    struct epoll_event  ev;

    ev.events = events;
    ev.data.ptr = c;

    if (epoll_ctl(bp_conn_ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        perror("epoll_ctl");
        exit(1);
    }
}


void
bp_conn_close(bp_conn_t *c)
{
    bp_conn_t  *peer;

    if (c->fd < 0) {
        return;
    }

    bp_conn_timer_del(c);
    close(c->fd);
    c->fd = -1;

    peer = c->peer;
    c->peer = NULL;

    free(c->in);
    free(c->out);
    free(c->msg);

    /* the connection struct stays: an event of this round may name it */

    c->in = NULL;
    c->out = NULL;
    c->msg = NULL;

    if (peer) {
        peer->peer = NULL;

        if (peer->out_pos == peer->out_len) {
            bp_conn_close(peer);

        } else {
            peer->close_when_sent = 1;
        }
    }
}


/* recvmsg() with the kernel's stamp of what it read, 0 if none */

static ssize_t
bp_conn_recvmsg(int fd, void *buf, size_t len, int flags, int64_t *t)
{
    ssize_t           n;
    struct iovec      iov;
    struct msghdr     msg;
    struct cmsghdr   *cm;
    struct timespec   ts;
    char              control[CMSG_SPACE(sizeof(struct timespec))];

    iov.iov_base = buf;
    iov.iov_len = len;

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);

    n = recvmsg(fd, &msg, flags);

    *t = 0;

    for (cm = CMSG_FIRSTHDR(&msg); n > 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
            *t = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        }
    }

    return n;
}


ssize_t
bp_conn_recv(bp_conn_t *c, void *buf, size_t len, int64_t *t)
{
    ssize_t  n;
    int64_t  first;
    uint8_t  byte;

    /*
     * A TCP read carries the stamp of the last segment it took, and
     * segments queued behind one not read yet may be merged into it
     * with the later stamp: read late, a message is stamped when what
     * followed it came.  A peek at the first byte alone has the stamp
     * of the oldest segment (unless merged already).
     */

    first = 0;

    if (c->stamp_first
        && bp_conn_recvmsg(c->fd, &byte, 1, MSG_PEEK, &first) <= 0)
    {
        first = 0;
    }

    n = bp_conn_recvmsg(c->fd, buf, len, 0, t);

    if (n > 0 && first) {
        *t = first;
    }

    if (*t == 0) {
        *t = bp_log_now();
    }

    return n;
}


void
bp_conn_read(bp_conn_t *c, bp_conn_read_pt handler)
{
    ssize_t  n;
    int64_t  t;
    uint8_t  buf[65536];

    while (c->fd >= 0) {
        n = bp_conn_recv(c, buf, sizeof(buf), &t);

        if (n < 0 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            bp_conn_close(c);
            return;
        }

        handler(c, buf, n, t);
    }
}


void
bp_conn_grow(uint8_t **buf, size_t *size, size_t need)
{
    size_t    n;
    uint8_t  *p;

    if (need <= *size) {
        return;
    }

    n = *size ? *size : 4096;

    while (n < need) {
        n *= 2;
    }

    p = realloc(*buf, n);
    if (p == NULL) {
        fprintf(stderr, "bench-providers: out of memory\n");
        exit(1);
    }

    *buf = p;
    *size = n;
}


const char *
bp_conn_header(const bp_conn_t *c, size_t head, const char *name,
    size_t *len)
{
    size_t       n;
    const char  *p, *end, *v, *e;

    n = strlen(name);
    p = (const char *) c->in;
    end = p + head;

    for ( ;; ) {
        p = memchr(p, '\n', end - p);

        if (p == NULL || (size_t) (end - p) < n + 2) {
            return NULL;
        }

        p++;

        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            break;
        }
    }

    v = p + n + 1;
    e = memchr(v, '\r', end - v);
    e = e ? e : end;

    while (v < e && (*v == ' ' || *v == '\t')) {
        v++;
    }

    while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }

    *len = e - v;

    return v;
}


void
bp_conn_send(bp_conn_t *c, const void *data, size_t len, const char *event,
    int k, size_t at)
{
    if (c->fd < 0) {
        return;
    }

    if (c->out_pos == c->out_len) {
        c->out_pos = 0;
        c->out_len = 0;
    }

    if (event && c->npending < BP_CONN_PENDING) {
        c->pending[c->npending].at = c->out_len + at;
        c->pending[c->npending].event = event;
        c->pending[c->npending].k = k;
        c->npending++;
    }

    bp_conn_grow(&c->out, &c->out_size, c->out_len + len);
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;

    bp_conn_flush(c);
}


void
bp_conn_flush(bp_conn_t *c)
{
    int                 i, j;
    ssize_t             n;
    int64_t             t;
    struct epoll_event  ev;

    t = 0;

    while (c->fd >= 0 && c->out_pos < c->out_len) {
        if (t == 0) {
            /* what is written is there for the peer during the call */
            t = bp_log_now();
        }

        n = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos,
                 MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN || errno == ENOTCONN) {
                break;      /* ENOTCONN: the relay's connect is under way */
            }

            bp_conn_close(c);
            return;
        }

        c->out_pos += n;
    }

    if (c->fd < 0) {
        return;
    }

    if (c->npending) {
        for (i = 0, j = 0; i < c->npending; i++) {
            if (c->pending[i].at <= c->out_pos) {
                bp_log_event(t, c->pending[i].event, c->id, c->pending[i].k);

            } else {
                c->pending[j++] = c->pending[i];
            }
        }

        c->npending = j;
    }

    ev.data.ptr = c;
    ev.events = EPOLLIN | ((c->out_pos < c->out_len) ? EPOLLOUT : 0);
    epoll_ctl(bp_conn_ep, EPOLL_CTL_MOD, c->fd, &ev);

    if (c->out_pos == c->out_len && c->close_when_sent) {
        bp_conn_close(c);
    }
}


void
bp_conn_timer_set(bp_conn_t *c, int64_t at)
{
    bp_conn_timer_del(c);

    c->next_at = at;
    c->prev = NULL;
    c->next = bp_conn_timers;

    if (bp_conn_timers) {
        bp_conn_timers->prev = c;
    }

    bp_conn_timers = c;
}


void
bp_conn_timer_del(bp_conn_t *c)
{
    if (c->next_at == 0) {
        return;
    }

    if (c->prev) {
        c->prev->next = c->next;

    } else if (bp_conn_timers == c) {
        bp_conn_timers = c->next;
    }

    if (c->next) {
        c->next->prev = c->prev;
    }

    c->next = NULL;
    c->prev = NULL;
    c->next_at = 0;
}


int
bp_conn_timeout(void)
{
    int64_t     now, first;
    bp_conn_t  *c;

    if (bp_conn_timers == NULL) {
        return -1;
    }

    now = bp_log_now();
    first = INT64_MAX;

    for (c = bp_conn_timers; c; c = c->next) {
        if (c->next_at < first) {
            first = c->next_at;
        }
    }

    return (first <= now) ? 0 : (int) ((first - now + 999) / 1000);
}


void
bp_conn_expire(void (*handler)(bp_conn_t *c))
{
    int64_t     now;
    bp_conn_t  *c, *next;

    now = bp_log_now();

    for (c = bp_conn_timers; c; c = next) {
        next = c->next;

        if (c->next_at <= now) {
            bp_conn_timer_del(c);
            handler(c);
        }
    }
}

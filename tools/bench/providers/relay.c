/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "log.h"
#include "relay.h"


#define BP_RELAY_MSG_MAX       65536
#define BP_RELAY_MEDIA_PREFIX  "{\"event\":\"media\",\"streamSid\":\""
#define BP_RELAY_CALLER_MEDIA  "{\"event\":\"media\","


static void bp_relay_forward(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);
static void bp_relay_caller(bp_conn_t *c, const uint8_t *buf, size_t n);
static void bp_relay_media(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);
static void bp_relay_head(bp_conn_t *c, const uint8_t **p, size_t *n);
static const char *bp_relay_field(const voice_ws_event_t *ev,
    const char *name, size_t *len);


/* an accepted call to relay: connect to nginx; -1 when out of memory */

int
bp_relay_open(int fd, int port)
{
    int                 s;
    bp_conn_t          *c, *n;
    struct sockaddr_in  sin;

    c = bp_conn_new(fd, BP_CONN_RELAY_CALLER);
    if (c == NULL) {
        return -1;
    }

    s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s < 0) {
        perror("socket");
        exit(1);
    }

    n = bp_conn_new(s, BP_CONN_RELAY_NGINX);
    if (n == NULL) {
        close(s);
        free(c);
        return -1;
    }

    c->msg = malloc(BP_RELAY_MSG_MAX);
    n->msg = malloc(BP_RELAY_MSG_MAX);

    /*
     * A read from nginx is stamped with its first byte's arrival: the
     * relay, on a busy core, may read a reply's first media only once
     * the next ones came (voice_playout_lead ahead, the next 20 ms
     * later), and the last segment's stamp would count that wait.
     */

    n->stamp_first = 1;

    if (c->msg == NULL || n->msg == NULL) {
        perror("malloc");
        exit(1);
    }

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (connect(s, (struct sockaddr *) &sin, sizeof(sin)) < 0
        && errno != EINPROGRESS)
    {
        /* this call is lost; the next may connect */
        close(s);
        close(fd);
        free(c->msg);
        free(n->msg);
        free(n);
        free(c);
        return 0;
    }

    voice_ws_parser_init(&c->ws, 1, c->msg, BP_RELAY_MSG_MAX);
    voice_ws_parser_init(&n->ws, 0, n->msg, BP_RELAY_MSG_MAX);

    c->peer = n;
    n->peer = c;

    bp_conn_add(c, EPOLLIN);
    bp_conn_add(n, EPOLLIN | EPOLLOUT);

    return 0;
}


void
bp_relay_read(bp_conn_t *c)
{
    bp_conn_read(c, bp_relay_forward);
}


/* what one leg read, to the other */

static void
bp_relay_forward(bp_conn_t *c, const uint8_t *p, size_t n, int64_t t)
{
    if (c->peer == NULL) {
        return;
    }

    if (c->type == BP_CONN_RELAY_CALLER) {
        bp_relay_caller(c, p, n);
        return;
    }

    bp_relay_media(c, p, n, t);
    bp_conn_send(c->peer, p, n, NULL, 0, 0);
}


/*
 * The caller's bytes to nginx, cut after each media message, so that
 * when the message is out can be logged with its frame's key.
 */

static void
bp_relay_caller(bp_conn_t *c, const uint8_t *buf, size_t n)
{
    int                rc;
    size_t             used, from, left, len;
    const char        *sid, *payload;
    const uint8_t     *p;
    voice_ws_event_t   ev;

    p = buf;
    left = n;
    from = 0;

    bp_relay_head(c, &p, &left);

    while (left) {
        rc = voice_ws_parse(&c->ws, p, left, &used, &ev);
        p += used;
        left -= used;

        if (rc == VOICE_WS_ERROR || rc == VOICE_WS_CLOSE
            || (rc == VOICE_WS_AGAIN && used == 0))
        {
            break;
        }

        if (rc != VOICE_WS_MESSAGE || ev.opcode != VOICE_WS_OP_TEXT
            || ev.len < sizeof(BP_RELAY_CALLER_MEDIA) - 1
            || memcmp(ev.data, BP_RELAY_CALLER_MEDIA,
                      sizeof(BP_RELAY_CALLER_MEDIA) - 1) != 0)
        {
            continue;
        }

        payload = bp_relay_field(&ev, "payload", &len);
        sid = bp_relay_field(&ev, "streamSid", &used);

        if (payload == NULL || sid == NULL) {
            continue;
        }

        /* the log lines of nginx's leg carry the call's stream sid */

        if (c->peer->id[0] == '\0' && used < BP_CONN_ID_MAX) {
            memcpy(c->peer->id, sid, used);
            c->peer->id[used] = '\0';
        }

        bp_conn_send(c->peer, buf + from, (p - buf) - from, "caller_media",
                     bp_log_key(payload, len), (p - buf) - from);
        from = p - buf;
    }

    if (from < n) {
        bp_conn_send(c->peer, buf + from, n - from, NULL, 0, 0);
    }
}


/* a string field of a Twilio message: "name":"value" */

static const char *
bp_relay_field(const voice_ws_event_t *ev, const char *name, size_t *len)
{
    size_t       n;
    char         key[32];
    const char  *s, *e, *end;

    n = snprintf(key, sizeof(key), "\"%s\":\"", name);
    end = (const char *) ev->data + ev->len;

    s = memmem(ev->data, ev->len, key, n);
    if (s == NULL) {
        return NULL;
    }

    s += n;
    e = memchr(s, '"', end - s);
    if (e == NULL) {
        return NULL;
    }

    *len = e - s;

    return s;
}


/*
 * The first media message of what was read from nginx, logged with when
 * the read's first byte came (the message's own arrival when nothing is
 * before it in the read, as a reply's first media message) and the µs
 * from then until the relay read it: read that late, the kernel may have
 * merged what came after into the first segment, with the later stamp.
 */

static void
bp_relay_media(bp_conn_t *c, const uint8_t *p, size_t n, int64_t t)
{
    int               rc, logged;
    size_t            used, plen;
    int64_t           late;
    char              sid[BP_CONN_ID_MAX];
    const char       *s, *e;
    voice_ws_event_t  ev;

    bp_relay_head(c, &p, &n);

    logged = 0;
    plen = sizeof(BP_RELAY_MEDIA_PREFIX) - 1;

    while (n) {
        rc = voice_ws_parse(&c->ws, p, n, &used, &ev);
        p += used;
        n -= used;

        if (rc == VOICE_WS_ERROR || rc == VOICE_WS_CLOSE) {
            return;
        }

        if (rc != VOICE_WS_MESSAGE || logged || ev.len <= plen
            || memcmp(ev.data, BP_RELAY_MEDIA_PREFIX, plen) != 0)
        {
            if (rc == VOICE_WS_AGAIN && used == 0) {
                return;
            }

            continue;
        }

        s = (const char *) ev.data + plen;
        e = memchr(s, '"', ev.len - plen);

        if (e && e - s < BP_CONN_ID_MAX) {
            memcpy(sid, s, e - s);
            sid[e - s] = '\0';
            late = bp_log_now() - t;
            bp_log_event(t, "media", sid,
                         (int) (late < INT_MAX ? late : INT_MAX));
            logged = 1;
        }
    }
}


/* past the handshake's head (the request, or the 101 response) */

static void
bp_relay_head(bp_conn_t *c, const uint8_t **p, size_t *n)
{
    while (!c->head_done && *n) {
        c->head_match = (**p == "\r\n\r\n"[c->head_match])
                        ? c->head_match + 1 : (**p == '\r') ? 1 : 0;
        (*p)++;
        (*n)--;

        if (c->head_match == 4) {
            c->head_done = 1;
        }
    }
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
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


static void bp_relay_forward(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);
static void bp_relay_media(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);


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

    n->msg = malloc(BP_RELAY_MSG_MAX);
    if (n->msg == NULL) {
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
        free(n->msg);
        free(n);
        free(c);
        return 0;
    }

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
    if (c->type == BP_CONN_RELAY_NGINX) {
        bp_relay_media(c, p, n, t);
    }

    if (c->peer == NULL) {
        return;
    }

    bp_conn_send(c->peer, p, n, NULL, 0, 0);
}


static void
bp_relay_media(bp_conn_t *c, const uint8_t *p, size_t n, int64_t t)
{
    int               rc, logged;
    size_t            used, plen;
    char              sid[BP_CONN_ID_MAX];
    const char       *s, *e;
    voice_ws_event_t  ev;

    /* the 101 response first */

    while (!c->head_done && n) {
        c->head_match = (*p == "\r\n\r\n"[c->head_match]) ? c->head_match + 1
                        : (*p == '\r') ? 1 : 0;
        p++;
        n--;

        if (c->head_match == 4) {
            c->head_done = 1;
        }
    }

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
            bp_log_event(t, "media", sid, -1);
            logged = 1;
        }
    }
}

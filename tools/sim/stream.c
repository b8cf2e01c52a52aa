/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "stream.h"
#include "util.h"


static void sim_stream_split_url(sim_stream_t *s);


void
sim_stream_init(sim_stream_t *s, int insecure)
{
    int              rc;
    struct addrinfo  hints;

    sim_stream_split_url(s);

    if (s->tls) {
        s->ssl_ctx = SSL_CTX_new(TLS_client_method());
        if (s->ssl_ctx == NULL) {
            sim_util_die("cannot make a TLS context");
        }

        SSL_CTX_set_default_verify_paths(s->ssl_ctx);
        SSL_CTX_set_verify(s->ssl_ctx, insecure ? SSL_VERIFY_NONE
                                                : SSL_VERIFY_PEER, NULL);
    }

    /* every address, as curl tries them: "localhost" may be ::1 first */

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(s->host, s->port, &hints, &s->addrs);
    if (rc != 0) {
        sim_util_die("cannot resolve %s: %s", s->host, gai_strerror(rc));
    }
}


void
sim_stream_free(sim_stream_t *s)
{
    if (s->addrs) {
        freeaddrinfo(s->addrs);
        s->addrs = NULL;
    }

    if (s->ssl_ctx) {
        SSL_CTX_free(s->ssl_ctx);
        s->ssl_ctx = NULL;
    }
}


static void
sim_stream_split_url(sim_stream_t *s)
{
    size_t       n;
    const char  *p, *slash, *colon;

    if (strncmp(s->url, "wss://", 6) == 0) {
        s->tls = 1;
        p = s->url + 6;
        strcpy(s->port, "443");

    } else if (strncmp(s->url, "ws://", 5) == 0) {
        p = s->url + 5;
        strcpy(s->port, "80");

    } else {
        sim_util_die("stream URL must be ws:// or wss://: %s", s->url);
    }

    slash = strchr(p, '/');
    n = slash ? (size_t) (slash - p) : strlen(p);

    if (n >= sizeof(s->host)) {
        sim_util_die("host too long");
    }

    memcpy(s->authority, p, n);
    s->authority[n] = '\0';
    memcpy(s->host, p, n);
    s->host[n] = '\0';
    snprintf(s->path, sizeof(s->path), "%s", slash ? slash : "/");

    colon = strrchr(s->host, ':');

    if (colon && strchr(s->host, ']') < colon) {
        snprintf(s->port, sizeof(s->port), "%s", colon + 1);
        s->host[colon - s->host] = '\0';
    }
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The Media Stream every call opens: its URL (from the TwiML or
 * --stream-url), the <Parameter>s for "start", the CallSid the webhook
 * was called for, the addresses its host resolves to, and the TLS
 * context for wss://.
 */

#ifndef SIM_STREAM_H
#define SIM_STREAM_H

#include <netdb.h>

#include <openssl/ssl.h>

#include "voice_twilio.h"


typedef struct {
    char                  url[2048];
    voice_twilio_param_t  params[VOICE_TWILIO_PARAMS_MAX];
    unsigned              nparams;
    char                  call_sid[40];     /* "" without a webhook */

    /* from the URL */
    int                   tls;
    char                  host[256];
    char                  port[8];
    char                  authority[300];   /* host[:port] for Host: */
    char                  path[2048];

    struct addrinfo      *addrs;            /* tried in turn */
    SSL_CTX              *ssl_ctx;
} sim_stream_t;


/* splits the URL, resolves the host, makes the TLS context; or exits */
void sim_stream_init(sim_stream_t *s, int insecure);

void sim_stream_free(sim_stream_t *s);

#endif /* SIM_STREAM_H */

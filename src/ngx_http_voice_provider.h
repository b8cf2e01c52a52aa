/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Provider requests: background POST subrequests from a call to the
 * operator's internal locations, their output handed to callbacks as the
 * upstream delivers it and never to the client.
 */

#ifndef NGX_HTTP_VOICE_PROVIDER_H
#define NGX_HTTP_VOICE_PROVIDER_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_stream.h"


typedef struct ngx_http_voice_provider_req_s  ngx_http_voice_provider_req_t;

typedef void (*ngx_http_voice_provider_data_pt)(
    ngx_http_voice_provider_req_t *pr, u_char *data, size_t len);
typedef void (*ngx_http_voice_provider_done_pt)(
    ngx_http_voice_provider_req_t *pr);


struct ngx_http_voice_provider_req_s {
    ngx_http_voice_stream_t         *stream;
    ngx_http_request_t              *sr;
    const char                      *name;
    u_char                          *body;
    ngx_msec_t                       started;
    ngx_uint_t                       status;

    /* set by the caller; neither runs once cancelled or the call is over */
    ngx_http_voice_provider_data_pt  on_data;
    ngx_http_voice_provider_done_pt  on_done;
    void                            *data;
    unsigned                         streamed:1; /* used as it arrives */

    /*
     * a call's event (voice_events), no provider's request: on_done runs
     * after the call is over too, and it counts in no provider metric
     */
    unsigned                         after_call:1;

    unsigned                         header:1;
    unsigned                         last:1;
    unsigned                         done:1;
    unsigned                         cancelled:1;
    unsigned                         ok:1;      /* 2xx, and the body whole */
};


/*
 * Starts a request; "body" (from ngx_http_voice_mem_alloc) is the
 * provider's from here, freed once nginx is done with it, and at once
 * when the request cannot start (NULL, with an error logged).
 */
ngx_http_voice_provider_req_t *ngx_http_voice_provider_request(
    ngx_http_voice_stream_t *st, ngx_str_t *uri, const char *name,
    const char *content_type, u_char *body, size_t len);

/* a request header more, added right after the request started */
ngx_int_t ngx_http_voice_provider_header(ngx_http_voice_provider_req_t *pr,
    const char *name, ngx_str_t *value);

/*
 * no more callbacks; the provider's connection is closed, and a request
 * not connected yet never connects (NULL is fine)
 */
void ngx_http_voice_provider_cancel(ngx_http_voice_provider_req_t *pr);

/*
 * For a reply with an error status, its body's first 200 bytes escaped
 * as in JSON, as ": \"...\"" to end the caller's error line; else ""
 */
ngx_str_t *ngx_http_voice_provider_error_body(
    ngx_http_voice_provider_req_t *pr);

/* " (response cut short)" for a 2xx reply that ended early, else "" */
const char *ngx_http_voice_provider_cut_short(
    ngx_http_voice_provider_req_t *pr);

/*
 * installs the filters that capture provider responses, and the check
 * that ends a cancelled request before its content phase
 */
ngx_int_t ngx_http_voice_provider_init(ngx_conf_t *cf);

#endif /* NGX_HTTP_VOICE_PROVIDER_H */

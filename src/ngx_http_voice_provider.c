/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Provider requests: POST subrequests from the call's main request to the
 * operator's internal locations (voice_stt, voice_llm, voice_tts).  They
 * run in the background, so they never take over the WebSocket's events;
 * their response never reaches the client: our header and body filters
 * take it and hand the bytes to the call as the upstream delivers them.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_module.h"


static ngx_int_t ngx_http_voice_provider_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_voice_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_voice_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_http_voice_preq_t *
ngx_http_voice_provider_request(ngx_http_voice_call_t *call, ngx_str_t *uri,
    const char *name, const char *content_type, u_char *body, size_t len)
{
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_table_elt_t             *h;
    ngx_http_request_t          *r, *sr;
    ngx_http_voice_preq_t       *pr;
    ngx_http_request_body_t     *rb;
    ngx_http_post_subrequest_t  *ps;

    r = call->request;

    pr = ngx_pcalloc(r->pool, sizeof(ngx_http_voice_preq_t));
    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);

    if (pr == NULL || ps == NULL || rb == NULL || b == NULL || cl == NULL) {
        return NULL;
    }

    pr->call = call;
    pr->name = name;
    pr->body = body;
    pr->started = ngx_current_msec;

    ps->handler = ngx_http_voice_provider_done;
    ps->data = pr;

    if (ngx_http_subrequest(r, uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_BACKGROUND)
        != NGX_OK)
    {
        return NULL;
    }

    pr->sr = sr;

    ngx_http_set_ctx(sr, pr, ngx_http_voice_module);

    sr->method = NGX_HTTP_POST;
    ngx_str_set(&sr->method_name, "POST");

    /* only what the provider needs: none of the caller's headers */

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 2,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NULL;
    }

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Type");
    h->value.data = (u_char *) content_type;
    h->value.len = ngx_strlen(content_type);
    h->lowcase_key = (u_char *) "content-type";

    sr->headers_in.content_type = h;
    sr->headers_in.content_length_n = len;
    sr->headers_in.keep_alive_n = -1;

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    cl->buf = b;
    cl->next = NULL;

    rb->bufs = cl;
    rb->buf = b;
    sr->request_body = rb;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "voice: %s request to \"%V\"", name, uri);

    return pr;
}


/*
 * Stops forwarding at once; the upstream connection is closed through its
 * own cleanup, which is safe outside the upstream's handlers.  A request
 * not started yet runs with its output dropped.
 */

void
ngx_http_voice_provider_cancel(ngx_http_voice_preq_t *pr)
{
    ngx_http_upstream_t  *u;

    if (pr == NULL || pr->done || pr->cancelled) {
        return;
    }

    pr->cancelled = 1;

    u = pr->sr->upstream;

    if (u && u->cleanup && *u->cleanup) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->call->connection->log, 0,
                       "voice: %s request cancelled", pr->name);

        (*u->cleanup)(pr->sr);
    }
}


/*
 * Called when the subrequest is finalized, possibly more than once.  An
 * error returned here would end the call, so every ending is NGX_OK (or
 * NGX_DONE as it came) and the failure goes to the call instead.
 */

static ngx_int_t
ngx_http_voice_provider_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_voice_preq_t  *pr = data;

    if (pr->done) {
        return (rc == NGX_DONE) ? NGX_DONE : NGX_OK;
    }

    pr->done = 1;

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        pr->status = rc;

    } else if (!pr->header) {
        pr->status = (rc == NGX_OK) ? NGX_HTTP_BAD_GATEWAY : 0;
    }

    pr->ok = (rc == NGX_OK || rc == NGX_DONE) && pr->header
             && pr->status >= 200 && pr->status < 300 && pr->last;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                   "voice: %s request done rc:%i status:%ui ok:%ui",
                   pr->name, rc, pr->status, pr->ok);

    if (!pr->cancelled && !pr->call->done && pr->on_done) {
        pr->on_done(pr);
    }

    if (pr->body_free) {
        pr->body_free(pr);
    }

    return (rc == NGX_DONE) ? NGX_DONE : NGX_OK;
}


static ngx_int_t
ngx_http_voice_header_filter(ngx_http_request_t *r)
{
    ngx_http_voice_preq_t  *pr;

    if (r == r->main) {
        return ngx_http_next_header_filter(r);
    }

    pr = ngx_http_get_module_ctx(r, ngx_http_voice_module);

    if (pr == NULL) {
        return ngx_http_next_header_filter(r);
    }

    pr->header = 1;
    pr->status = r->headers_out.status;

    /* file buffers are read for us below in the chain: take memory */
    r->filter_need_in_memory = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_voice_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                  size;
    ssize_t                 n;
    ngx_buf_t              *b;
    ngx_chain_t            *cl;
    ngx_http_voice_preq_t  *pr;
    u_char                  buf[4096];

    if (r == r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    pr = ngx_http_get_module_ctx(r, ngx_http_voice_module);

    if (pr == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            size = b->last - b->pos;

            if (size && !pr->cancelled && !pr->call->done && pr->on_data) {
                pr->on_data(pr, b->pos, size);
            }

            b->pos = b->last;

        } else if (b->in_file) {

            /* a response spooled to a temporary file (proxy_buffering) */

            while (b->file_pos < b->file_last) {
                size = ngx_min((size_t) (b->file_last - b->file_pos),
                               sizeof(buf));

                n = ngx_read_file(b->file, buf, size, b->file_pos);

                if (n <= 0) {
                    break;
                }

                if (!pr->cancelled && !pr->call->done && pr->on_data) {
                    pr->on_data(pr, buf, n);
                }

                b->file_pos += n;
            }

            b->file_pos = b->file_last;
        }

        if (b->last_buf || b->last_in_chain) {
            pr->last = 1;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_voice_provider_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_voice_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_voice_body_filter;

    return NGX_OK;
}

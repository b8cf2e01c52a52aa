/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Provider requests: POST subrequests from the call's main request to the
 * operator's internal locations (voice_stt, voice_llm, voice_tts).  They
 * run in the background, so they never take over the WebSocket's events;
 * their response never reaches the client: our header and body filters
 * take it and hand the bytes to the call as the upstream delivers them.
 *
 * A subrequest allocates from its request's pool, and the call's pool
 * lives as long as the call: about 57 KB a turn, 28 MB over 500 turns.
 * So each provider request gets a pool of its own, made the request's
 * pool while ngx_http_subrequest() runs (the request struct, its
 * contexts and lists land there too) and left as the subrequest's, so
 * upstream and proxy allocate from it.  It is destroyed once nginx is
 * done with the subrequest, from a posted event, outside every frame of
 * nginx that may still hold it; what is left at the end of the call goes
 * with the call.  Only the upstream's cleanup entry (ngx_http_cleanup_add
 * takes it from the main pool) stays behind: 24 bytes a request.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_module.h"
#include "ngx_http_voice_provider.h"


/* a provider request and its pool; callers see only "preq" */

typedef struct {
    ngx_http_voice_provider_req_t  preq;
    ngx_pool_t                    *pool;
    ngx_queue_t                    queue;
    unsigned                       closed:1;      /* finalized by cancel */
} ngx_http_voice_provider_pooled_t;


/* the call's provider requests, hung off the call's pool */

typedef struct {
    ngx_queue_t                  requests;
    ngx_event_t                  sweep;
} ngx_http_voice_provider_list_t;


static ngx_http_voice_provider_list_t *ngx_http_voice_provider_list(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_voice_provider_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_voice_provider_finished(
    ngx_http_voice_provider_req_t *pr);
static void ngx_http_voice_provider_sweep(ngx_event_t *ev);
static ngx_uint_t ngx_http_voice_provider_idle(ngx_http_request_t *sr,
    ngx_http_voice_provider_pooled_t *px);
static void ngx_http_voice_provider_free(ngx_http_voice_provider_pooled_t *px);
static void ngx_http_voice_provider_body_free(
    ngx_http_voice_provider_req_t *pr);
static void ngx_http_voice_provider_list_cleanup(void *data);
static ngx_int_t ngx_http_voice_provider_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_voice_provider_body_filter(
    ngx_http_request_t *r, ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_http_voice_provider_req_t *
ngx_http_voice_provider_request(ngx_http_voice_stream_t *st, ngx_str_t *uri,
    const char *name, const char *content_type, u_char *body, size_t len)
{
    ngx_int_t                          rc;
    ngx_buf_t                         *b;
    ngx_pool_t                        *pool, *main_pool;
    ngx_chain_t                       *cl;
    ngx_table_elt_t                   *h;
    ngx_http_request_t                *r, *sr;
    ngx_http_headers_in_t              headers_in;
    ngx_http_variable_value_t         *vars;
    ngx_http_voice_provider_req_t     *pr;
    ngx_http_request_body_t           *rb;
    ngx_http_core_srv_conf_t          *cscf;
    ngx_http_core_main_conf_t         *cmcf;
    ngx_http_voice_provider_list_t    *prs;
    ngx_http_post_subrequest_t        *ps;
    ngx_http_voice_provider_pooled_t  *px;

    r = st->request;

    prs = ngx_http_voice_provider_list(r);
    if (prs == NULL) {
        goto failed;
    }

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    pool = ngx_create_pool(cscf->request_pool_size, r->connection->log);
    if (pool == NULL) {
        goto failed;
    }

    px = ngx_pcalloc(pool, sizeof(ngx_http_voice_provider_pooled_t));
    ps = ngx_palloc(pool, sizeof(ngx_http_post_subrequest_t));
    rb = ngx_pcalloc(pool, sizeof(ngx_http_request_body_t));
    b = ngx_calloc_buf(pool);
    cl = ngx_alloc_chain_link(pool);

    if (px == NULL || ps == NULL || rb == NULL || b == NULL || cl == NULL) {
        goto failed_pool;
    }

    px->pool = pool;
    pr = &px->preq;

    pr->stream = st;
    pr->name = name;
    pr->body = body;
    pr->started = ngx_current_msec;

    ps->handler = ngx_http_voice_provider_done;
    ps->data = pr;

    /*
     * Variables of its own, starting from the call's: what the
     * subrequest evaluates points into its pool and must not stay
     * cached in the call's request.
     */

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    vars = ngx_palloc(pool, cmcf->variables.nelts
                            * sizeof(ngx_http_variable_value_t));
    if (vars == NULL) {
        goto failed_pool;
    }

    ngx_memcpy(vars, r->variables,
               cmcf->variables.nelts * sizeof(ngx_http_variable_value_t));

    /* only what the provider needs: none of the caller's headers */

    ngx_memzero(&headers_in, sizeof(ngx_http_headers_in_t));

    if (ngx_list_init(&headers_in.headers, pool, 1, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        goto failed_pool;
    }

    h = ngx_list_push(&headers_in.headers);
    if (h == NULL) {
        goto failed_pool;
    }

    /* the caller's may be on its stack: the subrequest runs after it */

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Type");
    h->value.len = ngx_strlen(content_type);
    h->value.data = ngx_pnalloc(pool, h->value.len);
    h->lowcase_key = (u_char *) "content-type";

    if (h->value.data == NULL) {
        goto failed_pool;
    }

    ngx_memcpy(h->value.data, content_type, h->value.len);

    headers_in.content_type = h;
    headers_in.content_length_n = len;
    headers_in.keep_alive_n = -1;

    /*
     * Everything ngx_http_subrequest() allocates goes to our pool; once
     * it returns NGX_OK the subrequest is posted and runs, so nothing
     * after it may fail.
     */

    sr = NULL;
    main_pool = r->pool;
    r->pool = pool;

    rc = ngx_http_subrequest(r, uri, NULL, &sr, ps,
                             NGX_HTTP_SUBREQUEST_BACKGROUND);

    r->pool = main_pool;

    if (rc != NGX_OK) {
        if (sr == NULL) {
            goto failed_pool;
        }

        /* made but not posted: kept until the call ends, body and all */
        ngx_queue_insert_tail(&prs->requests, &px->queue);

        goto failed_log;
    }

    ngx_queue_insert_tail(&prs->requests, &px->queue);

    pr->sr = sr;

    ngx_http_set_ctx(sr, pr, ngx_http_voice_module);

    sr->variables = vars;

    sr->headers_in = headers_in;
    sr->headers_in.headers.last = &sr->headers_in.headers.part;

    sr->method = NGX_HTTP_POST;
    ngx_str_set(&sr->method_name, "POST");

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

failed_pool:

    ngx_destroy_pool(pool);

failed:

    ngx_http_voice_mem_free(NULL, body);

failed_log:

    ngx_log_error(NGX_LOG_ERR, st->connection->log, 0,
                  "voice: cannot start the %s request to \"%V\"", name, uri);

    return NULL;
}


/* the provider state of the call, made with its first request */

static ngx_http_voice_provider_list_t *
ngx_http_voice_provider_list(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t              *cln;
    ngx_http_voice_provider_list_t  *prs;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_voice_provider_list_cleanup) {
            return cln->data;
        }
    }

    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_voice_provider_list_t));
    if (cln == NULL) {
        return NULL;
    }

    prs = cln->data;
    ngx_memzero(prs, sizeof(ngx_http_voice_provider_list_t));

    ngx_queue_init(&prs->requests);

    prs->sweep.handler = ngx_http_voice_provider_sweep;
    prs->sweep.data = prs;
    prs->sweep.log = r->connection->log;

    cln->handler = ngx_http_voice_provider_list_cleanup;

    return prs;
}


/*
 * Stops forwarding at once; the upstream connection is closed through its
 * own cleanup, which is safe outside the upstream's handlers.  A request
 * not started yet runs with its output dropped.
 */

void
ngx_http_voice_provider_cancel(ngx_http_voice_provider_req_t *pr)
{
    ngx_http_upstream_t               *u;
    ngx_http_voice_provider_pooled_t  *px;

    if (pr == NULL || pr->done || pr->cancelled) {
        return;
    }

    pr->cancelled = 1;

    u = pr->sr->upstream;

    if (u && u->cleanup && *u->cleanup) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->stream->connection->log, 0,
                       "voice: %s request cancelled", pr->name);

        /*
         * The upstream finalizes the subrequest with NGX_DONE, which
         * never reaches the post-subrequest handler: it ends here.
         */

        px = (ngx_http_voice_provider_pooled_t *) pr;
        px->closed = 1;
        pr->done = 1;

        (*u->cleanup)(pr->sr);

        ngx_http_voice_provider_finished(pr);
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
    ngx_http_voice_provider_req_t  *pr = data;

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

    if (!pr->cancelled && !pr->stream->done && pr->on_done) {
        pr->on_done(pr);
    }

    ngx_http_voice_provider_finished(pr);

    return (rc == NGX_DONE) ? NGX_DONE : NGX_OK;
}


/*
 * nginx no longer needs the request body; the subrequest's pool goes on
 * the next sweep, when nginx has returned from the subrequest
 */

static void
ngx_http_voice_provider_finished(ngx_http_voice_provider_req_t *pr)
{
    ngx_http_voice_provider_list_t  *prs;

    ngx_http_voice_provider_body_free(pr);

    prs = ngx_http_voice_provider_list(pr->stream->request);

    if (prs && !prs->sweep.posted) {
        ngx_post_event(&prs->sweep, &ngx_posted_events);
    }
}


/* a posted event: runs from the event loop, never inside a subrequest */

static void
ngx_http_voice_provider_sweep(ngx_event_t *ev)
{
    ngx_queue_t                       *q, *next;
    ngx_http_voice_provider_list_t    *prs;
    ngx_http_voice_provider_pooled_t  *px;

    prs = ev->data;

    for (q = ngx_queue_head(&prs->requests);
         q != ngx_queue_sentinel(&prs->requests);
         q = next)
    {
        next = ngx_queue_next(q);
        px = ngx_queue_data(q, ngx_http_voice_provider_pooled_t, queue);

        if (px->preq.sr && ngx_http_voice_provider_idle(px->preq.sr, px)) {
            ngx_queue_remove(q);
            ngx_http_voice_provider_free(px);
        }
    }
}


/* nginx is done with the subrequest: nothing of it refers to its pool */

static ngx_uint_t
ngx_http_voice_provider_idle(ngx_http_request_t *sr,
    ngx_http_voice_provider_pooled_t *px)
{
    ngx_http_log_ctx_t         *ctx;
    ngx_http_posted_request_t  *p;

    if (!sr->done && !px->closed) {
        return 0;
    }

    if (sr->upstream && sr->upstream->cleanup) {
        return 0;
    }

    for (p = sr->main->posted_requests; p; p = p->next) {
        if (p->request == sr) {
            return 0;
        }
    }

    /* the connection's log names the request it last ran */

    ctx = sr->connection->log->data;

    if (ctx->current_request == sr) {
        ctx->current_request = sr->main;
    }

    return 1;
}


static void
ngx_http_voice_provider_free(ngx_http_voice_provider_pooled_t *px)
{
    ngx_http_voice_provider_req_t  *pr;

    pr = &px->preq;

    /* a request the call ended under: nginx no longer reads its body */

    pr->done = 1;

    ngx_http_voice_provider_body_free(pr);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->stream->connection->log, 0,
                   "voice: %s request freed", pr->name);

    ngx_destroy_pool(px->pool);
}


static void
ngx_http_voice_provider_body_free(ngx_http_voice_provider_req_t *pr)
{
    if (pr->body) {
        ngx_http_voice_mem_free(NULL, pr->body);
        pr->body = NULL;
    }
}


/* a 2xx answer that still failed: the body ended before it was whole */

const char *
ngx_http_voice_provider_cut_short(ngx_http_voice_provider_req_t *pr)
{
    if (pr->header && pr->status >= 200 && pr->status < 300 && !pr->last) {
        return " (response cut short)";
    }

    return "";
}


/*
 * The call's pool goes: its http cleanups (the upstreams') have run, so
 * no subrequest is left running; every provider pool goes with it.
 */

static void
ngx_http_voice_provider_list_cleanup(void *data)
{
    ngx_queue_t                       *q;
    ngx_http_voice_provider_list_t    *prs = data;
    ngx_http_voice_provider_pooled_t  *px;

    if (prs->sweep.posted) {
        ngx_delete_posted_event(&prs->sweep);
    }

    while (!ngx_queue_empty(&prs->requests)) {
        q = ngx_queue_head(&prs->requests);
        ngx_queue_remove(q);

        px = ngx_queue_data(q, ngx_http_voice_provider_pooled_t, queue);
        ngx_http_voice_provider_free(px);
    }
}


static ngx_int_t
ngx_http_voice_provider_header_filter(ngx_http_request_t *r)
{
    ngx_http_voice_provider_req_t  *pr;

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
ngx_http_voice_provider_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                          size;
    ssize_t                         n;
    ngx_buf_t                      *b;
    ngx_chain_t                    *cl;
    ngx_http_voice_provider_req_t  *pr;
    u_char                          buf[4096];

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

            if (size && !pr->cancelled && !pr->stream->done && pr->on_data) {
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

                if (!pr->cancelled && !pr->stream->done && pr->on_data) {
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
    ngx_http_top_header_filter = ngx_http_voice_provider_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_voice_provider_body_filter;

    return NGX_OK;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Provider requests: POST subrequests from the call's main request to the
 * operator's internal locations (voice_stt, voice_llm, voice_tts).  They
 * run in the background, so they never take over the WebSocket's events;
 * their response never reaches the client: our header and body filters
 * take it and hand the bytes to the call as the upstream delivers them,
 * a temporary file a turn of the event loop at a time.  The location is
 * the operator's nginx: it may send the request on (error_page,
 * try_files, X-Accel-Redirect), and the filters follow it there.
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
#include "ngx_http_voice_metrics.h"
#include "ngx_http_voice_provider.h"
#include "voice_json.h"
#include "voice_utf8.h"


/*
 * A reply nginx hands over in a file (a buffered reply that outgrew
 * proxy_buffers) is read this much an event loop turn at most, in reads
 * of NGX_HTTP_VOICE_PROVIDER_READ, the rest from a posted event.
 */
#define NGX_HTTP_VOICE_PROVIDER_TURN   32768
#define NGX_HTTP_VOICE_PROVIDER_READ   4096

/* locations told that they buffer, at most */
#define NGX_HTTP_VOICE_PROVIDER_TOLD   16

/*
 * The bytes of a failed reply that its error line shows; kept with room
 * for a UTF-8 sequence that runs past them, so that none is cut in two.
 */
#define NGX_HTTP_VOICE_PROVIDER_ERROR  200


/* a provider request and its pool; callers see only "preq" */

typedef struct {
    ngx_http_voice_provider_req_t  preq;
    ngx_pool_t                    *pool;
    ngx_queue_t                    queue;

    /* the reply's buffers not handed over yet, in order; the next turn's */
    ngx_chain_t                   *unread;
    ngx_chain_t                  **unread_end;
    ngx_event_t                    reading;

    ngx_int_t                      rc;            /* how nginx ended it */

    /* the start of an error reply, and the same escaped for its log line */
    u_char                         error[NGX_HTTP_VOICE_PROVIDER_ERROR + 3];
    size_t                         error_len;
    ngx_str_t                      error_body;

    unsigned                       closed:1;      /* finalized by cancel */
    unsigned                       ending:1;      /* ended, still unread */
    unsigned                       lost:1;        /* a file read failed */
} ngx_http_voice_provider_pooled_t;


/* the call's provider requests, hung off the call's pool */

typedef struct {
    ngx_queue_t                  requests;
    ngx_event_t                  sweep;
} ngx_http_voice_provider_list_t;


static ngx_http_voice_provider_list_t *ngx_http_voice_provider_list(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_voice_provider_precontent(ngx_http_request_t *r);
static void ngx_http_voice_provider_closed(ngx_http_voice_provider_req_t *pr);
static ngx_http_voice_provider_req_t *ngx_http_voice_provider_get(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_voice_provider_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_voice_provider_end(ngx_http_voice_provider_req_t *pr,
    ngx_int_t rc);
static ngx_uint_t ngx_http_voice_provider_error_page(ngx_http_request_t *sr,
    ngx_int_t rc);
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
static void ngx_http_voice_provider_buffered(ngx_http_request_t *r,
    ngx_http_voice_provider_req_t *pr);
static ngx_int_t ngx_http_voice_provider_body_filter(
    ngx_http_request_t *r, ngx_chain_t *in);
static ngx_int_t ngx_http_voice_provider_hand(
    ngx_http_voice_provider_pooled_t *px, ngx_buf_t *b, size_t *budget);
static void ngx_http_voice_provider_data(
    ngx_http_voice_provider_pooled_t *px, u_char *p, size_t n);
static ngx_int_t ngx_http_voice_provider_keep(
    ngx_http_voice_provider_pooled_t *px, ngx_buf_t *b);
static void ngx_http_voice_provider_read_on(ngx_event_t *ev);
static void ngx_http_voice_provider_read(
    ngx_http_voice_provider_pooled_t *px);
static void ngx_http_voice_provider_unread_drop(
    ngx_http_voice_provider_pooled_t *px);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;

/* the locations told that they buffer, in this worker's cycle */
static ngx_cycle_t               *ngx_http_voice_provider_told_cycle;
static ngx_http_core_loc_conf_t  *ngx_http_voice_provider_told[
                                      NGX_HTTP_VOICE_PROVIDER_TOLD];


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
    px->unread_end = &px->unread;

    px->reading.handler = ngx_http_voice_provider_read_on;
    px->reading.data = px;
    px->reading.log = r->connection->log;

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


/*
 * One more request header, for a location that passes it on (as
 * proxy_pass does by default).  It goes in before nginx runs the
 * subrequest; name and value are copied to the request's pool.
 */

ngx_int_t
ngx_http_voice_provider_header(ngx_http_voice_provider_req_t *pr,
    const char *name, ngx_str_t *value)
{
    size_t                             len;
    u_char                            *p;
    ngx_table_elt_t                   *h;
    ngx_http_voice_provider_pooled_t  *px;

    px = (ngx_http_voice_provider_pooled_t *) pr;
    len = ngx_strlen(name);

    p = ngx_pnalloc(px->pool, 2 * len + value->len);
    h = ngx_list_push(&pr->sr->headers_in.headers);

    if (p == NULL || h == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(h, sizeof(ngx_table_elt_t));

    h->key.len = len;
    h->key.data = ngx_cpymem(p, name, len) - len;
    h->lowcase_key = p + len;
    ngx_strlow(h->lowcase_key, (u_char *) name, len);
    h->hash = ngx_hash_key(h->lowcase_key, len);
    h->value.len = value->len;
    h->value.data = p + 2 * len;
    ngx_memcpy(h->value.data, value->data, value->len);

    return NGX_OK;
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
 * with no upstream yet (posted and not run, waiting in an earlier phase,
 * between two locations) ends when it reaches the precontent phase, so
 * that its upstream never connects.
 */

void
ngx_http_voice_provider_cancel(ngx_http_voice_provider_req_t *pr)
{
    ngx_http_upstream_t               *u;
    ngx_http_voice_provider_pooled_t  *px;

    px = (ngx_http_voice_provider_pooled_t *) pr;

    if (pr == NULL || pr->cancelled || (pr->done && !px->ending)) {
        return;
    }

    pr->cancelled = 1;

    if (px->unread) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->stream->connection->log, 0,
                       "voice: %s request cancelled, its reply left unread",
                       pr->name);

        ngx_http_voice_provider_unread_drop(px);
    }

    if (px->ending) {

        /* nginx is done with it already */

        px->ending = 0;
        ngx_http_voice_provider_finished(pr);
        return;
    }

    u = pr->sr->upstream;

    if (u == NULL || u->cleanup == NULL || *u->cleanup == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->stream->connection->log, 0,
                       "voice: %s request cancelled before its upstream",
                       pr->name);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->stream->connection->log, 0,
                   "voice: %s request cancelled", pr->name);

    /*
     * The upstream finalizes the subrequest with NGX_DONE, which never
     * reaches the post-subrequest handler: it ends here.
     */

    ngx_http_voice_provider_closed(pr);

    (*u->cleanup)(pr->sr);

    ngx_http_voice_provider_finished(pr);
}


/*
 * A cancelled request that comes to its content phase ends there, as the
 * upstream's cleanup would end it: finalized with NGX_DONE, which gives
 * back its reference to the call's request.
 */

static ngx_int_t
ngx_http_voice_provider_precontent(ngx_http_request_t *r)
{
    ngx_http_voice_provider_req_t  *pr;

    pr = ngx_http_voice_provider_get(r);

    if (pr == NULL || !pr->cancelled || pr->done) {
        return NGX_DECLINED;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "voice: %s request ends before its upstream", pr->name);

    ngx_http_voice_provider_closed(pr);

    ngx_http_finalize_request(r, NGX_DONE);

    ngx_http_voice_provider_finished(pr);

    return NGX_DONE;
}


/* ended by us, where nginx's finalization never marks it done */

static void
ngx_http_voice_provider_closed(ngx_http_voice_provider_req_t *pr)
{
    ngx_http_voice_provider_pooled_t  *px;

    px = (ngx_http_voice_provider_pooled_t *) pr;
    px->closed = 1;
    pr->done = 1;
}


/*
 * The provider request a subrequest serves.  An internal redirect (an
 * error_page, try_files, X-Accel-Redirect) clears the subrequest's
 * module contexts; its post-subrequest handler and data stay.
 */

static ngx_http_voice_provider_req_t *
ngx_http_voice_provider_get(ngx_http_request_t *r)
{
    if (r == r->main
        || r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_voice_provider_done)
    {
        return NULL;
    }

    return r->post_subrequest->data;
}


/*
 * Called when the subrequest is finalized, possibly more than once.  An
 * error returned here would end the call, so every ending is NGX_OK (or
 * NGX_DONE as it came) and the failure goes to the call instead.  The
 * one exception is an error status the location has an error_page for,
 * returned as it came so that nginx goes on there: that is how a
 * provider location fails over to another provider.
 */

static ngx_int_t
ngx_http_voice_provider_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_voice_provider_req_t     *pr = data;
    ngx_http_voice_provider_pooled_t  *px;

    if (pr->done) {
        return (rc == NGX_DONE) ? NGX_DONE : NGX_OK;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE && !pr->header && !pr->cancelled
        && (!pr->stream->done || pr->after_call)
        && ngx_http_voice_provider_error_page(sr, rc))
    {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                       "voice: %s request goes to the error_page for %i",
                       pr->name, rc);
        return rc;
    }

    pr->done = 1;

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        pr->status = rc;

    } else if (!pr->header) {
        pr->status = (rc == NGX_OK) ? NGX_HTTP_BAD_GATEWAY : 0;
    }

    px = (ngx_http_voice_provider_pooled_t *) pr;

    if (px->unread) {

        /* the end is told once the rest of the reply is read */

        px->rc = rc;
        px->ending = 1;

        return (rc == NGX_DONE) ? NGX_DONE : NGX_OK;
    }

    ngx_http_voice_provider_end(pr, rc);

    return (rc == NGX_DONE) ? NGX_DONE : NGX_OK;
}


/* the whole reply is handed over: the caller learns how it went */

static void
ngx_http_voice_provider_end(ngx_http_voice_provider_req_t *pr, ngx_int_t rc)
{
    pr->ok = (rc == NGX_OK || rc == NGX_DONE) && pr->header
             && pr->status >= 200 && pr->status < 300 && pr->last;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, pr->stream->connection->log, 0,
                   "voice: %s request done rc:%i status:%ui ok:%ui",
                   pr->name, rc, pr->status, pr->ok);

    if (!pr->cancelled && (!pr->stream->done || pr->after_call)
        && pr->on_done)
    {
        pr->on_done(pr);
    }

    ngx_http_voice_provider_finished(pr);
}


/*
 * Whether nginx will serve an error_page for rc: the test that
 * ngx_http_special_response_handler() makes.  Not for the statuses that
 * close the connection, which is the call's.
 */

static ngx_uint_t
ngx_http_voice_provider_error_page(ngx_http_request_t *sr, ngx_int_t rc)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    if (rc == NGX_HTTP_REQUEST_TIME_OUT
        || rc == NGX_HTTP_CLIENT_CLOSED_REQUEST
        || rc == NGX_HTTP_CLOSE)
    {
        return 0;
    }

    clcf = ngx_http_get_module_loc_conf(sr, ngx_http_core_module);

    if (sr->error_page || clcf->error_pages == NULL || sr->uri_changes == 0) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == rc) {
            return 1;
        }
    }

    return 0;
}


/*
 * nginx no longer needs the request body; the subrequest's pool goes on
 * the next sweep, when nginx has returned from the subrequest
 */

static void
ngx_http_voice_provider_finished(ngx_http_voice_provider_req_t *pr)
{
    ngx_uint_t                       result;
    ngx_http_voice_provider_list_t  *prs;

    ngx_http_voice_provider_body_free(pr);

    if (pr->after_call) {
        goto sweep;
    }

    result = pr->cancelled ? NGX_HTTP_VOICE_R_CANCELLED
             : pr->ok ? NGX_HTTP_VOICE_R_OK
             : (pr->status == NGX_HTTP_GATEWAY_TIME_OUT)
               ? NGX_HTTP_VOICE_R_TIMEOUT : NGX_HTTP_VOICE_R_ERROR;

    ngx_http_voice_metrics_provider(
                        ngx_http_voice_metrics_provider_index(pr->name),
                        result);

    if (result == NGX_HTTP_VOICE_R_ERROR
        || result == NGX_HTTP_VOICE_R_TIMEOUT)
    {
        pr->stream->provider_failures++;
    }

sweep:

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

    if ((!sr->done && !px->closed) || px->ending) {
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

    if (px->unread) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->stream->connection->log, 0,
                       "voice: %s request freed, its reply left unread",
                       pr->name);

        ngx_http_voice_provider_unread_drop(px);
    }

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


/*
 * The start of an error reply for the caller's line in the log, escaped
 * as in JSON so that none of its bytes can end that line or forge
 * another (control bytes as escapes, what is not UTF-8 as U+FFFD).
 */

ngx_str_t *
ngx_http_voice_provider_error_body(ngx_http_voice_provider_req_t *pr)
{
    size_t                             len;
    u_char                            *p;
    ngx_http_voice_provider_pooled_t  *px;

    static ngx_str_t  none = ngx_string("");

    px = (ngx_http_voice_provider_pooled_t *) pr;

    if (px->error_body.len) {
        return &px->error_body;
    }

    len = voice_utf8_cut(px->error, px->error_len,
                         NGX_HTTP_VOICE_PROVIDER_ERROR);

    if (len == 0) {
        return &none;
    }

    p = ngx_pnalloc(px->pool, sizeof(": \"\"") - 1
                              + voice_json_escape(NULL, px->error, len));
    if (p == NULL) {
        return &none;
    }

    px->error_body.data = p;

    p = ngx_cpymem(p, ": \"", 3);
    p += voice_json_escape(p, px->error, len);
    *p++ = '"';

    px->error_body.len = p - px->error_body.data;

    return &px->error_body;
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

    pr = ngx_http_voice_provider_get(r);

    if (pr == NULL) {
        return ngx_http_next_header_filter(r);
    }

    pr->header = 1;
    pr->status = r->headers_out.status;

    if (pr->streamed && r->upstream && r->upstream->buffering) {
        ngx_http_voice_provider_buffered(r, pr);
    }

    return NGX_OK;
}


/*
 * A streamed reply that nginx buffers reaches the call only once the
 * provider is done: a background subrequest is never the connection's
 * active request, and nginx's pipe writes to any other only at the end,
 * from a temporary file past proxy_buffers; with no room left there
 * (proxy_max_temp_file_size) it stops reading the provider for good.
 * Said once per location and worker, with the fix.
 */

static void
ngx_http_voice_provider_buffered(ngx_http_request_t *r,
    ngx_http_voice_provider_req_t *pr)
{
    ngx_uint_t                  i;
    ngx_http_core_loc_conf_t   *clcf, **told;

    told = ngx_http_voice_provider_told;

    if (ngx_http_voice_provider_told_cycle != ngx_cycle) {
        ngx_http_voice_provider_told_cycle = (ngx_cycle_t *) ngx_cycle;
        ngx_memzero(told, sizeof(ngx_http_voice_provider_told));
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    for (i = 0; i < NGX_HTTP_VOICE_PROVIDER_TOLD; i++) {
        if (told[i] == clcf) {
            return;
        }

        if (told[i] == NULL) {
            break;
        }
    }

    if (i == NGX_HTTP_VOICE_PROVIDER_TOLD) {
        return;
    }

    told[i] = clcf;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "voice: %s location \"%V\" buffers the provider's reply, "
                  "which then reaches the call only once it ends, or never "
                  "if it outgrows proxy_buffers and the temporary file: set "
                  "\"proxy_buffering off\" there", pr->name, &clcf->name);
}


/*
 * The reply goes to the caller as it comes, and no further: every buffer
 * is marked consumed.  File data past a turn's share waits in "unread",
 * with all that comes after it.
 */

static ngx_int_t
ngx_http_voice_provider_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    size_t                             budget;
    ngx_chain_t                       *cl;
    ngx_http_voice_provider_req_t     *pr;
    ngx_http_voice_provider_pooled_t  *px;

    pr = ngx_http_voice_provider_get(r);

    if (pr == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    px = (ngx_http_voice_provider_pooled_t *) pr;

    budget = NGX_HTTP_VOICE_PROVIDER_TURN;

    for (cl = in; cl; cl = cl->next) {

        if (px->unread == NULL
            && ngx_http_voice_provider_hand(px, cl->buf, &budget) == NGX_OK)
        {
            continue;
        }

        if (ngx_http_voice_provider_keep(px, cl->buf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (px->unread && !px->reading.posted) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "voice: %s reply read on at the next turn", pr->name);

        ngx_post_event(&px->reading, &ngx_posted_next_events);
    }

    return NGX_OK;
}


/*
 * Hands a buffer to the caller: memory at once, a file up to *budget
 * bytes (NGX_AGAIN: some is left).  Once the request is cancelled or the
 * call is over, a file is not read at all.
 */

static ngx_int_t
ngx_http_voice_provider_hand(ngx_http_voice_provider_pooled_t *px,
    ngx_buf_t *b, size_t *budget)
{
    size_t                          size;
    ssize_t                         n;
    ngx_http_voice_provider_req_t  *pr;
    u_char                          buf[NGX_HTTP_VOICE_PROVIDER_READ];

    pr = &px->preq;

    if (ngx_buf_in_memory(b)) {
        size = b->last - b->pos;

        if (size && !pr->cancelled && !pr->stream->done && pr->on_data) {
            ngx_http_voice_provider_data(px, b->pos, size);
        }

        b->pos = b->last;

    } else if (b->in_file) {

        while (b->file_pos < b->file_last
               && !pr->cancelled && !pr->stream->done && pr->on_data)
        {
            if (*budget == 0) {
                return NGX_AGAIN;
            }

            size = ngx_min((size_t) (b->file_last - b->file_pos),
                           ngx_min(sizeof(buf), *budget));

            n = ngx_read_file(b->file, buf, size, b->file_pos);

            if (n <= 0) {

                /* ngx_read_file() logs its errors; the reply is cut short */

                if (n == 0) {
                    ngx_log_error(NGX_LOG_ALERT, pr->stream->connection->log,
                                  0, "voice: %s reply file \"%V\" ends "
                                  "before %O", pr->name, &b->file->name,
                                  b->file_last);
                }

                px->lost = 1;
                break;
            }

            b->file_pos += n;
            *budget -= n;

            ngx_http_voice_provider_data(px, buf, n);
        }

        b->file_pos = b->file_last;
    }

    if ((b->last_buf || b->last_in_chain) && !px->lost) {
        pr->last = 1;
    }

    return NGX_OK;
}


/* to the caller; of an error reply the start is kept for its log line */

static void
ngx_http_voice_provider_data(ngx_http_voice_provider_pooled_t *px, u_char *p,
    size_t n)
{
    size_t                          k;
    ngx_http_voice_provider_req_t  *pr;

    pr = &px->preq;

    if (pr->status < 200 || pr->status >= 300) {
        k = ngx_min(n, sizeof(px->error) - px->error_len);
        ngx_memcpy(px->error + px->error_len, p, k);
        px->error_len += k;
    }

    pr->on_data(pr, p, n);
}


/*
 * Keeps a buffer for a later turn.  Memory is copied: the upstream
 * reuses its buffers once the filter returns.  A file stays nginx's, open
 * until the request's pool goes.
 */

static ngx_int_t
ngx_http_voice_provider_keep(ngx_http_voice_provider_pooled_t *px,
    ngx_buf_t *b)
{
    size_t        size;
    ngx_buf_t    *nb;
    ngx_chain_t  *cl;

    size = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos) : 0;

    nb = size ? ngx_create_temp_buf(px->pool, size) : ngx_calloc_buf(px->pool);
    cl = ngx_alloc_chain_link(px->pool);

    if (nb == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    if (size) {
        nb->last = ngx_cpymem(nb->pos, b->pos, size);
        b->pos = b->last;

    } else if (b->in_file) {
        nb->in_file = 1;
        nb->file = b->file;
        nb->file_pos = b->file_pos;
        nb->file_last = b->file_last;

        b->file_pos = b->file_last;
    }

    nb->last_buf = b->last_buf;
    nb->last_in_chain = b->last_in_chain;

    cl->buf = nb;
    cl->next = NULL;

    *px->unread_end = cl;
    px->unread_end = &cl->next;

    return NGX_OK;
}


/* a posted event, from the next event loop turn: the rest of the reply */

static void
ngx_http_voice_provider_read_on(ngx_event_t *ev)
{
    ngx_connection_t                  *c;
    ngx_http_voice_provider_pooled_t  *px;

    px = ev->data;
    c = px->preq.stream->connection;

    ngx_http_voice_provider_read(px);

    /* the callbacks may have started requests */

    ngx_http_run_posted_requests(c);
}


/*
 * Hands over a turn's share of what is unread; once all is, a request
 * nginx has ended meanwhile ends for its caller too.
 */

static void
ngx_http_voice_provider_read(ngx_http_voice_provider_pooled_t *px)
{
    size_t                          budget;
    ngx_chain_t                    *cl;
    ngx_http_voice_provider_req_t  *pr;

    pr = &px->preq;

    budget = NGX_HTTP_VOICE_PROVIDER_TURN;

    while (px->unread) {
        cl = px->unread;

        if (ngx_http_voice_provider_hand(px, cl->buf, &budget) == NGX_AGAIN) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pr->stream->connection->log, 0,
                           "voice: %s reply read on at the next turn",
                           pr->name);

            ngx_post_event(&px->reading, &ngx_posted_next_events);
            return;
        }

        /* a callback that cancelled the request dropped the rest */

        if (px->unread == cl) {
            px->unread = cl->next;
        }
    }

    px->unread_end = &px->unread;

    if (px->ending) {
        px->ending = 0;
        ngx_http_voice_provider_end(pr, px->rc);
    }
}


static void
ngx_http_voice_provider_unread_drop(ngx_http_voice_provider_pooled_t *px)
{
    px->unread = NULL;
    px->unread_end = &px->unread;

    if (px->reading.posted) {
        ngx_delete_posted_event(&px->reading);
    }
}


ngx_int_t
ngx_http_voice_provider_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_voice_provider_precontent;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_voice_provider_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_voice_provider_body_filter;

    return NGX_OK;
}

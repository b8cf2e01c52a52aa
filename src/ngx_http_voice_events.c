/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_events.h"
#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_metrics.h"
#include "ngx_http_voice_provider.h"
#include "ngx_http_voice_stream.h"
#include "voice_token.h"


struct ngx_http_voice_events_s {
    ngx_http_voice_stream_t        *stream;
    ngx_http_voice_events_conf_t   *conf;

    /*
     * events queued and not sent yet: a ring of conf->queue, and one
     * more that only "call.ended" may take, so the last one is never lost
     */
    ngx_str_t                      *ring;
    ngx_uint_t                      size;
    ngx_uint_t                      head;
    ngx_uint_t                      n;

    ngx_http_voice_provider_req_t  *pr;             /* the one being sent */
    uint64_t                        seq;
    ngx_uint_t                      dropped;

    ngx_event_t                     sending;        /* posted: the next */
    ngx_event_t                     bound;          /* after the call */

    unsigned                        last:1;         /* call.ended comes */
    unsigned                        ended:1;        /* call.ended queued */
    unsigned                        waiting:1;      /* the call is over */
    unsigned                        gave_up:1;
    unsigned                        warned:1;
};


typedef struct {
    ngx_http_voice_stream_t        *stream;
    voice_twilio_msg_t             *msg;
} ngx_http_voice_events_started_t;


static void ngx_http_voice_events_fill_start(voice_event_t *e, void *data);
static void ngx_http_voice_events_fill_end(voice_event_t *e, void *data);
static void ngx_http_voice_events_drop(ngx_http_voice_events_t *ev,
    ngx_uint_t n);
static void ngx_http_voice_events_empty(ngx_http_voice_events_t *ev);
static void ngx_http_voice_events_send(ngx_event_t *rev);
static void ngx_http_voice_events_sent(ngx_http_voice_provider_req_t *pr);
static void ngx_http_voice_events_release(ngx_http_voice_events_t *ev);
static void ngx_http_voice_events_give_up(ngx_event_t *rev);
static void ngx_http_voice_events_cleanup(void *data);


void
ngx_http_voice_events_start(ngx_http_voice_stream_t *st,
    voice_twilio_msg_t *m)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_voice_events_t          *ev;
    ngx_http_voice_events_conf_t     *conf;
    ngx_http_voice_events_started_t   started;

    conf = &st->conf->events;

    if (conf->uri.len == 0 || st->events) {
        return;
    }

    ev = ngx_pcalloc(st->request->pool, sizeof(ngx_http_voice_events_t));
    cln = ngx_pool_cleanup_add(st->request->pool, 0);

    if (ev == NULL || cln == NULL) {
        return;
    }

    ev->size = conf->queue + 1;

    ev->ring = ngx_pcalloc(st->request->pool, ev->size * sizeof(ngx_str_t));
    if (ev->ring == NULL) {
        return;
    }

    ev->stream = st;
    ev->conf = conf;

    ev->sending.handler = ngx_http_voice_events_send;
    ev->sending.data = ev;
    ev->sending.log = st->connection->log;

    ev->bound.handler = ngx_http_voice_events_give_up;
    ev->bound.data = ev;
    ev->bound.log = st->connection->log;

    cln->handler = ngx_http_voice_events_cleanup;
    cln->data = ev;

    st->events = ev;

    started.stream = st;
    started.msg = m;

    ngx_http_voice_events_push(st, "call.started",
                               ngx_http_voice_events_fill_start, &started);
}


void
ngx_http_voice_events_push(ngx_http_voice_stream_t *st, const char *type,
    ngx_http_voice_events_fill_pt fill, void *data)
{
    size_t                    len;
    u_char                   *body;
    uint64_t                  now;
    ngx_str_t                *slot;
    ngx_time_t               *tp;
    voice_event_t             e;
    ngx_http_voice_events_t  *ev;

    ev = st->events;

    if (ev == NULL || ev->ended) {
        return;
    }

    tp = ngx_timeofday();
    now = (uint64_t) tp->sec * 1000 + tp->msec;

    /* counted, then written with the same calls */

    voice_event_begin(&e, NULL, type, ev->seq, now, st->call_sid.data,
                      st->call_sid.len, st->stream_sid.data,
                      st->stream_sid.len);
    fill(&e, data);
    len = voice_event_end(&e);

    ev->seq++;

    if (len == 0) {
        ngx_log_error(NGX_LOG_ALERT, st->connection->log, 0,
                      "voice: \"%s\" event nested too deep", type);
        return;
    }

    if (ev->n >= ev->conf->queue + ev->last) {
        ngx_log_error(NGX_LOG_INFO, st->connection->log, 0,
                      "voice: \"%s\" event dropped, %ui events queued "
                      "for \"%V\" already", type, ev->n, &ev->conf->uri);
        ngx_http_voice_events_drop(ev, 1);
        return;
    }

    body = ngx_http_voice_mem_alloc(NULL, len);
    if (body == NULL) {
        ngx_http_voice_events_drop(ev, 1);
        return;
    }

    voice_event_begin(&e, body, type, ev->seq - 1, now, st->call_sid.data,
                      st->call_sid.len, st->stream_sid.data,
                      st->stream_sid.len);
    fill(&e, data);
    (void) voice_event_end(&e);

    slot = &ev->ring[(ev->head + ev->n) % ev->size];
    slot->data = body;
    slot->len = len;
    ev->n++;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, st->connection->log, 0,
                   "voice: \"%s\" event queued, %uz bytes, %ui in queue",
                   type, len, ev->n);

    if (ev->pr == NULL && !ev->sending.posted) {
        ngx_post_event(&ev->sending, &ngx_posted_events);
    }
}


void
ngx_http_voice_events_end(ngx_http_voice_stream_t *st)
{
    if (st->events) {
        st->events->last = 1;
        ngx_http_voice_events_push(st, "call.ended",
                                   ngx_http_voice_events_fill_end, st);
        st->events->ended = 1;
    }
}


ngx_uint_t
ngx_http_voice_events_wait(ngx_http_voice_stream_t *st)
{
    ngx_connection_t         *c;
    ngx_http_voice_events_t  *ev;

    ev = st->events;

    if (ev == NULL || ev->gave_up || (ev->pr == NULL && ev->n == 0)) {
        return 0;
    }

    if (ev->waiting) {
        return 1;
    }

    ev->waiting = 1;

    ngx_add_timer(&ev->bound, ev->conf->timeout);

    /*
     * The caller is done with: its socket is shut both ways, so that the
     * peer sees the end now, and the connection's request stays for the
     * events' subrequests only.  A failure of the caller's side must not
     * read as theirs, which would terminate the request before they are
     * out; it is closed with NGX_HTTP_CLOSE in the end anyway.
     */

    c = st->connection;

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
    }
#endif

    (void) ngx_shutdown_socket(c->fd, SHUT_RDWR);

    c->error = 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "voice: call over, waiting for %ui events to \"%V\"",
                   ev->n + (ev->pr != NULL), &ev->conf->uri);

    return 1;
}


static void
ngx_http_voice_events_fill_start(voice_event_t *e, void *data)
{
    ngx_http_voice_events_started_t  *s = data;

    unsigned             i;
    const ngx_str_t     *mode;
    voice_twilio_msg_t  *m;

    m = s->msg;
    mode = &s->stream->conf->mode->name;

    voice_event_str(e, "account_sid", (u_char *) m->account_sid,
                    ngx_strlen(m->account_sid));
    voice_event_str(e, "mode", mode->data, mode->len);

    voice_event_object(e, "custom_parameters");

    for (i = 0; i < m->nparams; i++) {

        /* the stream's credential is not the operator's to keep */

        if (ngx_strcmp(m->params[i].name, VOICE_TOKEN_NAME) == 0) {
            continue;
        }

        voice_event_str(e, m->params[i].name, (u_char *) m->params[i].value,
                        ngx_strlen(m->params[i].value));
    }

    voice_event_close(e);
}


static void
ngx_http_voice_events_fill_end(voice_event_t *e, void *data)
{
    ngx_http_voice_stream_t  *st = data;

    ngx_msec_int_t  ms;

    ms = (ngx_msec_int_t) (st->end - st->start);

    voice_event_uint(e, "duration_ms", ngx_max(ms, 0));
    voice_event_uint(e, "turns", st->turns);
    voice_event_uint(e, "barge_ins", st->barge_ins);
    voice_event_uint(e, "provider_failures", st->provider_failures);
    voice_event_uint(e, "media_in", st->media_in);
    voice_event_uint(e, "media_out", st->media_out);
    voice_event_uint(e, "close_code", st->close_code);
    voice_event_uint(e, "peer_close_code", st->peer_close_code);

    /* before this one: the receiver sees gaps in "seq" where they were */
    voice_event_uint(e, "events_dropped", st->events->dropped);
}


static void
ngx_http_voice_events_drop(ngx_http_voice_events_t *ev, ngx_uint_t n)
{
    ev->dropped += n;
    ngx_http_voice_metrics_add(NGX_HTTP_VOICE_M_EVENTS_DROPPED, n);
}


static void
ngx_http_voice_events_empty(ngx_http_voice_events_t *ev)
{
    while (ev->n) {
        ngx_http_voice_mem_free(NULL, ev->ring[ev->head].data);
        ev->head = (ev->head + 1) % ev->size;
        ev->n--;
    }
}


/* a posted event: the next event goes, outside any subrequest */

static void
ngx_http_voice_events_send(ngx_event_t *rev)
{
    ngx_str_t                       body;
    ngx_http_voice_events_t        *ev;
    ngx_http_voice_stream_t        *st;
    ngx_http_voice_provider_req_t  *pr;

    ev = rev->data;
    st = ev->stream;

    while (ev->pr == NULL && ev->n && !ev->gave_up) {
        body = ev->ring[ev->head];
        ev->head = (ev->head + 1) % ev->size;
        ev->n--;

        pr = ngx_http_voice_provider_request(st, &ev->conf->uri, "events",
                                             "application/json", body.data,
                                             body.len);
        if (pr == NULL) {
            ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_EVENTS_FAILED);
            continue;
        }

        pr->after_call = 1;
        pr->on_done = ngx_http_voice_events_sent;
        pr->data = ev;

        ev->pr = pr;
    }

    ngx_http_voice_events_release(ev);

    ngx_http_run_posted_requests(st->connection);
}


static void
ngx_http_voice_events_sent(ngx_http_voice_provider_req_t *pr)
{
    ngx_http_voice_events_t  *ev = pr->data;

    ev->pr = NULL;

    if (pr->ok) {
        ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_EVENTS_SENT);

    } else {
        ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_EVENTS_FAILED);

        if (!ev->warned) {
            ev->warned = 1;
            ngx_log_error(NGX_LOG_WARN, ev->stream->connection->log, 0,
                          "voice: events request to \"%V\" failed "
                          "(status %ui), the event is lost; later failures "
                          "of this call are counted, not logged",
                          &ev->conf->uri, pr->status);
        }
    }

    if (ev->n) {
        if (!ev->sending.posted) {
            ngx_post_event(&ev->sending, &ngx_posted_events);
        }

        return;
    }

    ngx_http_voice_events_release(ev);
}


/* all out: a call that waits for them ends */

static void
ngx_http_voice_events_release(ngx_http_voice_events_t *ev)
{
    ngx_http_voice_stream_t  *st;

    st = ev->stream;

    if (!ev->waiting || ev->pr || ev->n) {
        return;
    }

    if (ev->bound.timer_set) {
        ngx_del_timer(&ev->bound);
    }

    if (!st->finishing.posted) {
        ngx_post_event(&st->finishing, &ngx_posted_events);
    }
}


static void
ngx_http_voice_events_give_up(ngx_event_t *rev)
{
    ngx_uint_t                n;
    ngx_http_voice_events_t  *ev;
    ngx_http_voice_stream_t  *st;

    ev = rev->data;
    st = ev->stream;

    n = ev->n + (ev->pr != NULL);

    ngx_log_error(NGX_LOG_WARN, st->connection->log, 0,
                  "voice: %ui events of the call not sent to \"%V\" in "
                  "voice_events_timeout (%M ms), dropped", n, &ev->conf->uri,
                  ev->conf->timeout);

    ev->gave_up = 1;

    if (ev->pr) {
        ngx_http_voice_provider_cancel(ev->pr);
        ev->pr = NULL;
    }

    ngx_http_voice_events_drop(ev, n);
    ngx_http_voice_events_empty(ev);

    if (!st->finishing.posted) {
        ngx_post_event(&st->finishing, &ngx_posted_events);
    }

    ngx_http_run_posted_requests(st->connection);
}


static void
ngx_http_voice_events_cleanup(void *data)
{
    ngx_http_voice_events_t  *ev = data;

    if (ev->sending.posted) {
        ngx_delete_posted_event(&ev->sending);
    }

    if (ev->bound.timer_set) {
        ngx_del_timer(&ev->bound);
    }

    ngx_http_voice_events_drop(ev, ev->n);
    ngx_http_voice_events_empty(ev);
}

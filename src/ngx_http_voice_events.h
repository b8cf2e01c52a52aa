/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * A call's events (voice_events): JSON documents POSTed one at a time,
 * in order, to an internal location the operator points at a webhook, a
 * queue or a log collector.  They never hold the call up: a bounded
 * queue per call, an event that finds it full dropped and counted, and
 * a location that fails or is slow changes nothing the caller hears.
 * Once the call is over the connection's request waits for what is
 * queued, voice_events_timeout at most, with the caller's socket shut.
 */

#ifndef NGX_HTTP_VOICE_EVENTS_H
#define NGX_HTTP_VOICE_EVENTS_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "voice_event.h"
#include "voice_twilio.h"


struct ngx_http_voice_stream_s;


typedef struct {
    ngx_str_t                    uri;           /* voice_events; "": none */
    ngx_uint_t                   queue;         /* voice_events_queue */
    ngx_msec_t                   timeout;       /* voice_events_timeout */
} ngx_http_voice_events_conf_t;


typedef struct ngx_http_voice_events_s  ngx_http_voice_events_t;

/* writes an event's own members, once to count them and once for real */
typedef void (*ngx_http_voice_events_fill_pt)(voice_event_t *e, void *data);


/* the call's "call.started": its sids, mode and custom parameters */
void ngx_http_voice_events_start(struct ngx_http_voice_stream_s *st,
    voice_twilio_msg_t *m);

/*
 * An event of the call, queued; a no-op without voice_events, or before
 * "call.started" or after "call.ended"
 */
void ngx_http_voice_events_push(struct ngx_http_voice_stream_s *st,
    const char *type, ngx_http_voice_events_fill_pt fill, void *data);

/* "call.ended", the last; the call is over (st->done) */
void ngx_http_voice_events_end(struct ngx_http_voice_stream_s *st);

/*
 * Whether the call's request must wait for events still to be sent.
 * The first time it says so, the wait's bound starts; when the events
 * are out or the bound passes, st->finishing is posted again.
 */
ngx_uint_t ngx_http_voice_events_wait(struct ngx_http_voice_stream_s *st);

#endif /* NGX_HTTP_VOICE_EVENTS_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The module's metrics: counters and histograms in shared memory, summed
 * over every worker when voice_status is scraped (Prometheus text format
 * 0.0.4).  Each worker adds to its own slot, so an update is one atomic
 * add on a cache line no other worker writes, and the zone is kept across
 * reloads, so are the counts.
 */

#ifndef NGX_HTTP_VOICE_METRICS_H
#define NGX_HTTP_VOICE_METRICS_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the counters; the order is that of the exposition's table */

typedef enum {
    NGX_HTTP_VOICE_M_CALLS_ACTIVE = 0,
    NGX_HTTP_VOICE_M_CALLS_AGENT,
    NGX_HTTP_VOICE_M_CALLS_ECHO,
    NGX_HTTP_VOICE_M_CLOSED_1000,
    NGX_HTTP_VOICE_M_CLOSED_1001,
    NGX_HTTP_VOICE_M_CLOSED_1002,
    NGX_HTTP_VOICE_M_CLOSED_1003,
    NGX_HTTP_VOICE_M_CLOSED_1007,
    NGX_HTTP_VOICE_M_CLOSED_1008,
    NGX_HTTP_VOICE_M_CLOSED_1009,
    NGX_HTTP_VOICE_M_CLOSED_1011,
    NGX_HTTP_VOICE_M_CLOSED_NONE,       /* the connection went first */
    NGX_HTTP_VOICE_M_CLOSED_OTHER,
    NGX_HTTP_VOICE_M_TURNS,
    NGX_HTTP_VOICE_M_BARGE_INS,
    NGX_HTTP_VOICE_M_MEDIA_IN,
    NGX_HTTP_VOICE_M_MEDIA_OUT,
    NGX_HTTP_VOICE_M_EVENTS_SENT,
    NGX_HTTP_VOICE_M_EVENTS_FAILED,
    NGX_HTTP_VOICE_M_EVENTS_DROPPED,

    /* provider requests: provider * 4 + result */
    NGX_HTTP_VOICE_M_PROVIDER,

    NGX_HTTP_VOICE_M_COUNTERS = NGX_HTTP_VOICE_M_PROVIDER + 6 * 4
} ngx_http_voice_counter_e;


typedef enum {
    NGX_HTTP_VOICE_P_STT = 0,
    NGX_HTTP_VOICE_P_STT_STREAM,
    NGX_HTTP_VOICE_P_LLM,
    NGX_HTTP_VOICE_P_TTS,
    NGX_HTTP_VOICE_P_TOOL,
    NGX_HTTP_VOICE_P_TWILIO_API
} ngx_http_voice_provider_e;


typedef enum {
    NGX_HTTP_VOICE_R_OK = 0,
    NGX_HTTP_VOICE_R_ERROR,
    NGX_HTTP_VOICE_R_TIMEOUT,
    NGX_HTTP_VOICE_R_CANCELLED
} ngx_http_voice_result_e;


/* the histograms: the stages of a turn, then the module's own hand-offs */

typedef enum {
    NGX_HTTP_VOICE_H_ENDPOINTING = 0,
    NGX_HTTP_VOICE_H_STT,
    NGX_HTTP_VOICE_H_LLM_FIRST_TOKEN,
    NGX_HTTP_VOICE_H_LLM_FIRST_SENTENCE,
    NGX_HTTP_VOICE_H_TTS_FIRST_BYTE,
    NGX_HTTP_VOICE_H_VOICE_TO_VOICE,
    NGX_HTTP_VOICE_H_STT_LLM,
    NGX_HTTP_VOICE_H_LLM_TTS,
    NGX_HTTP_VOICE_H_TTS_MEDIA,

    NGX_HTTP_VOICE_M_HISTOGRAMS
} ngx_http_voice_histogram_e;


/* the slot this process adds to; NULL before the zone exists */
extern ngx_atomic_t  *ngx_http_voice_metrics_slot;


#define ngx_http_voice_metrics_add(counter, n)                               \
    do {                                                                     \
        if (ngx_http_voice_metrics_slot) {                                   \
            (void) ngx_atomic_fetch_add(                                     \
                &ngx_http_voice_metrics_slot[counter], (n));                 \
        }                                                                    \
    } while (0)

#define ngx_http_voice_metrics_inc(counter)                                  \
    ngx_http_voice_metrics_add(counter, 1)


void ngx_http_voice_metrics_closed(ngx_uint_t code);
void ngx_http_voice_metrics_provider(ngx_uint_t provider, ngx_uint_t result);

/* one observation of a histogram, in microseconds */
void ngx_http_voice_metrics_observe(ngx_uint_t histogram, uint64_t us);

/* the provider of a provider request's name ("stt", "llm", ...) */
ngx_int_t ngx_http_voice_metrics_provider_index(const char *name);

ngx_int_t ngx_http_voice_metrics_init(ngx_conf_t *cf);
ngx_int_t ngx_http_voice_metrics_init_process(ngx_cycle_t *cycle);

/* voice_status: the content handler of the scrape */
char *ngx_http_voice_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

#endif /* NGX_HTTP_VOICE_METRICS_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_header.h"
#include "ngx_http_voice_metrics.h"


/* worker slots; more workers than that share slots (adds are atomic) */
#define NGX_HTTP_VOICE_METRICS_SLOTS    32
#define NGX_HTTP_VOICE_METRICS_BUCKETS  12
#define NGX_HTTP_VOICE_METRICS_VERSION  1

/* the scrape's longest text */
#define NGX_HTTP_VOICE_METRICS_TEXT     (64 * 1024)


typedef struct {
    ngx_atomic_t   counters[NGX_HTTP_VOICE_M_COUNTERS];

    /* per bucket, not cumulative; the last is +Inf */
    ngx_atomic_t   buckets[NGX_HTTP_VOICE_M_HISTOGRAMS]
                          [NGX_HTTP_VOICE_METRICS_BUCKETS + 1];
    ngx_atomic_t   sum_us[NGX_HTTP_VOICE_M_HISTOGRAMS];

    /* no two workers' slots share a cache line */
    u_char         pad[128];
} ngx_http_voice_metrics_slot_t;


typedef struct {
    ngx_uint_t                      version;
    ngx_http_voice_metrics_slot_t   slots[NGX_HTTP_VOICE_METRICS_SLOTS];
} ngx_http_voice_metrics_shm_t;


typedef struct {
    const char                     *name;
    const char                     *type;
    const char                     *help;
    ngx_uint_t                      first;
    ngx_uint_t                      n;
    const char                    **labels;
} ngx_http_voice_family_t;


static ngx_int_t ngx_http_voice_metrics_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_voice_status_handler(ngx_http_request_t *r);
static u_char *ngx_http_voice_metrics_histogram(u_char *p, u_char *last,
    ngx_http_voice_metrics_shm_t *m, ngx_uint_t h, const char *name,
    const char *label);


ngx_atomic_t                         *ngx_http_voice_metrics_slot;

static ngx_http_voice_metrics_slot_t  *ngx_http_voice_metrics_own;
static ngx_shm_zone_t                 *ngx_http_voice_metrics_zone;


static const char  *ngx_http_voice_labels_none[] = { "" };

static const char  *ngx_http_voice_labels_mode[] = {
    "mode=\"agent\"", "mode=\"echo\""
};

static const char  *ngx_http_voice_labels_code[] = {
    "code=\"1000\"", "code=\"1001\"", "code=\"1002\"", "code=\"1003\"",
    "code=\"1007\"", "code=\"1008\"", "code=\"1009\"", "code=\"1011\"",
    "code=\"none\"", "code=\"other\""
};

static const char  *ngx_http_voice_labels_direction[] = {
    "direction=\"in\"", "direction=\"out\""
};

static const char  *ngx_http_voice_labels_event[] = {
    "result=\"sent\"", "result=\"failed\"", "result=\"dropped\""
};

static const char  *ngx_http_voice_providers[] = {
    "stt", "stt_stream", "llm", "tts", "tool", "twilio_api"
};

static const char  *ngx_http_voice_results[] = {
    "ok", "error", "timeout", "cancelled"
};


static ngx_http_voice_family_t  ngx_http_voice_families[] = {
    { "voice_calls_active", "gauge", "Calls in progress.",
      NGX_HTTP_VOICE_M_CALLS_ACTIVE, 1, ngx_http_voice_labels_none },
    { "voice_calls_total", "counter", "Calls started, by call mode.",
      NGX_HTTP_VOICE_M_CALLS_AGENT, 2, ngx_http_voice_labels_mode },
    { "voice_calls_closed_total", "counter",
      "Calls ended, by the WebSocket close code sent or received "
      "(none: the connection went without one).",
      NGX_HTTP_VOICE_M_CLOSED_1000, 10, ngx_http_voice_labels_code },
    { "voice_turns_total", "counter", "Caller turns answered.",
      NGX_HTTP_VOICE_M_TURNS, 1, ngx_http_voice_labels_none },
    { "voice_barge_ins_total", "counter",
      "Replies interrupted by the caller.",
      NGX_HTTP_VOICE_M_BARGE_INS, 1, ngx_http_voice_labels_none },
    { "voice_media_messages_total", "counter",
      "Twilio media messages, from the caller (in) and to the caller (out).",
      NGX_HTTP_VOICE_M_MEDIA_IN, 2, ngx_http_voice_labels_direction },
    { "voice_events_total", "counter",
      "Call events (voice_events): sent, failed (the location answered "
      "an error, or none), dropped (the call's queue was full, or the "
      "call ended before they could go).",
      NGX_HTTP_VOICE_M_EVENTS_SENT, 3, ngx_http_voice_labels_event },
    { NULL, NULL, NULL, 0, 0, NULL }
};


static const char  *ngx_http_voice_stages[] = {
    "endpointing", "stt", "llm_first_token", "llm_first_sentence",
    "tts_first_byte", "voice_to_voice"
};

static const char  *ngx_http_voice_handoffs[] = {
    "stt_llm", "llm_tts", "tts_media"
};

/* upper bounds, in microseconds and as the "le" label says them */

static const uint64_t  ngx_http_voice_stage_us[] = {
    50000, 100000, 200000, 300000, 500000, 750000, 1000000, 1500000,
    2000000, 3000000, 5000000, 10000000
};

static const char  *ngx_http_voice_stage_le[] = {
    "0.05", "0.1", "0.2", "0.3", "0.5", "0.75", "1", "1.5", "2", "3", "5",
    "10"
};

static const uint64_t  ngx_http_voice_handoff_us[] = {
    10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000
};

static const char  *ngx_http_voice_handoff_le[] = {
    "0.00001", "0.00002", "0.00005", "0.0001", "0.0002", "0.0005", "0.001",
    "0.002", "0.005", "0.01", "0.02", "0.05"
};


void
ngx_http_voice_metrics_closed(ngx_uint_t code)
{
    ngx_uint_t  c;

    switch (code) {
    case 1000: c = NGX_HTTP_VOICE_M_CLOSED_1000; break;
    case 1001: c = NGX_HTTP_VOICE_M_CLOSED_1001; break;
    case 1002: c = NGX_HTTP_VOICE_M_CLOSED_1002; break;
    case 1003: c = NGX_HTTP_VOICE_M_CLOSED_1003; break;
    case 1007: c = NGX_HTTP_VOICE_M_CLOSED_1007; break;
    case 1008: c = NGX_HTTP_VOICE_M_CLOSED_1008; break;
    case 1009: c = NGX_HTTP_VOICE_M_CLOSED_1009; break;
    case 1011: c = NGX_HTTP_VOICE_M_CLOSED_1011; break;
    case 0:    c = NGX_HTTP_VOICE_M_CLOSED_NONE; break;
    default:   c = NGX_HTTP_VOICE_M_CLOSED_OTHER; break;
    }

    ngx_http_voice_metrics_inc(c);
}


void
ngx_http_voice_metrics_provider(ngx_uint_t provider, ngx_uint_t result)
{
    if (provider < 6 && result < 4) {
        ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_PROVIDER
                                   + provider * 4 + result);
    }
}


ngx_int_t
ngx_http_voice_metrics_provider_index(const char *name)
{
    ngx_uint_t  i;

    for (i = 0; i < 6; i++) {
        if (ngx_strcmp(name, ngx_http_voice_providers[i]) == 0) {
            return i;
        }
    }

    /* a transfer updates the call through voice_twilio_api */

    if (ngx_strcmp(name, "transfer") == 0) {
        return NGX_HTTP_VOICE_P_TWILIO_API;
    }

    return NGX_ERROR;
}


void
ngx_http_voice_metrics_observe(ngx_uint_t h, uint64_t us)
{
    ngx_uint_t       i;
    const uint64_t  *bounds;

    if (ngx_http_voice_metrics_own == NULL || h >= NGX_HTTP_VOICE_M_HISTOGRAMS)
    {
        return;
    }

    bounds = (h <= NGX_HTTP_VOICE_H_VOICE_TO_VOICE) ? ngx_http_voice_stage_us
                                                    : ngx_http_voice_handoff_us;

    for (i = 0; i < NGX_HTTP_VOICE_METRICS_BUCKETS && us > bounds[i]; i++) {
        /* void */
    }

    (void) ngx_atomic_fetch_add(&ngx_http_voice_metrics_own->buckets[h][i], 1);
    (void) ngx_atomic_fetch_add(&ngx_http_voice_metrics_own->sum_us[h], us);
}


/* postconfiguration: the zone, the same one after a reload */

ngx_int_t
ngx_http_voice_metrics_init(ngx_conf_t *cf)
{
    ngx_str_t  name = ngx_string("voice_metrics");

    ngx_http_voice_metrics_zone = ngx_shared_memory_add(cf, &name,
                                    sizeof(ngx_http_voice_metrics_shm_t)
                                    + 64 * 1024, &ngx_http_voice_metrics_zone);
    if (ngx_http_voice_metrics_zone == NULL) {
        return NGX_ERROR;
    }

    ngx_http_voice_metrics_zone->init = ngx_http_voice_metrics_init_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_voice_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t               *sp;
    ngx_http_voice_metrics_shm_t  *m;

    if (data) {
        zone->data = data;
        return NGX_OK;
    }

    sp = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = sp->data;
        return NGX_OK;
    }

    m = ngx_slab_calloc(sp, sizeof(ngx_http_voice_metrics_shm_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->version = NGX_HTTP_VOICE_METRICS_VERSION;

    sp->data = m;
    zone->data = m;

    return NGX_OK;
}


/* init process: the worker's slot */

ngx_int_t
ngx_http_voice_metrics_init_process(ngx_cycle_t *cycle)
{
    ngx_http_voice_metrics_shm_t  *m;

    if (ngx_http_voice_metrics_zone == NULL
        || ngx_http_voice_metrics_zone->data == NULL)
    {
        return NGX_OK;
    }

    m = ngx_http_voice_metrics_zone->data;

    if (m->version != NGX_HTTP_VOICE_METRICS_VERSION) {
        return NGX_OK;
    }

    ngx_http_voice_metrics_own =
                       &m->slots[(ngx_uint_t) ngx_worker
                                 % NGX_HTTP_VOICE_METRICS_SLOTS];
    ngx_http_voice_metrics_slot = ngx_http_voice_metrics_own->counters;

    return NGX_OK;
}


char *
ngx_http_voice_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_voice_status_handler;

    return NGX_CONF_OK;
}


static ngx_atomic_uint_t
ngx_http_voice_metrics_sum(ngx_http_voice_metrics_shm_t *m, ngx_uint_t c)
{
    ngx_uint_t         i;
    ngx_atomic_uint_t  sum;

    sum = 0;

    for (i = 0; i < NGX_HTTP_VOICE_METRICS_SLOTS; i++) {
        sum += m->slots[i].counters[c];
    }

    return sum;
}


static ngx_int_t
ngx_http_voice_status_handler(ngx_http_request_t *r)
{
    u_char                        *p, *last;
    ngx_int_t                      rc;
    ngx_buf_t                     *b;
    ngx_uint_t                     i, k;
    ngx_atomic_uint_t              v;
    ngx_http_voice_family_t       *f;
    ngx_http_voice_metrics_shm_t  *m;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_voice_metrics_zone == NULL
        || ngx_http_voice_metrics_zone->data == NULL)
    {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    m = ngx_http_voice_metrics_zone->data;

    b = ngx_create_temp_buf(r->pool, NGX_HTTP_VOICE_METRICS_TEXT);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->pos;
    last = b->end;

    for (f = ngx_http_voice_families; f->name; f++) {
        p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                         f->name, f->help, f->name, f->type);

        for (i = 0; i < f->n; i++) {
            v = ngx_http_voice_metrics_sum(m, f->first + i);

            if (f->labels[0][0] == '\0') {
                p = ngx_slprintf(p, last, "%s %A\n", f->name,
                                 (ngx_atomic_int_t) v);

            } else {
                p = ngx_slprintf(p, last, "%s{%s} %uA\n", f->name,
                                 f->labels[i], v);
            }
        }
    }

    p = ngx_slprintf(p, last, "# HELP voice_provider_requests_total "
                     "Provider requests, by provider and result.\n"
                     "# TYPE voice_provider_requests_total counter\n");

    for (i = 0; i < 6; i++) {
        for (k = 0; k < 4; k++) {
            p = ngx_slprintf(p, last, "voice_provider_requests_total"
                             "{provider=\"%s\",result=\"%s\"} %uA\n",
                             ngx_http_voice_providers[i],
                             ngx_http_voice_results[k],
                             ngx_http_voice_metrics_sum(m,
                                 NGX_HTTP_VOICE_M_PROVIDER + i * 4 + k));
        }
    }

    p = ngx_slprintf(p, last, "# HELP voice_turn_stage_seconds Where a "
                     "turn's time went, from the end of the caller's "
                     "speech.\n# TYPE voice_turn_stage_seconds histogram\n");

    for (i = 0; i <= NGX_HTTP_VOICE_H_VOICE_TO_VOICE; i++) {
        p = ngx_http_voice_metrics_histogram(p, last, m, i,
                                             "voice_turn_stage_seconds",
                                             ngx_http_voice_stages[i]);
    }

    p = ngx_slprintf(p, last, "# HELP voice_handoff_seconds The module's "
                     "own time in a turn's hand-offs.\n"
                     "# TYPE voice_handoff_seconds histogram\n");

    for (i = NGX_HTTP_VOICE_H_STT_LLM; i < NGX_HTTP_VOICE_M_HISTOGRAMS; i++) {
        p = ngx_http_voice_metrics_histogram(p, last, m, i,
                        "voice_handoff_seconds",
                        ngx_http_voice_handoffs[i - NGX_HTTP_VOICE_H_STT_LLM]);
    }

    b->last = p;

    return ngx_http_voice_header_respond(r, b,
                                  "text/plain; version=0.0.4; charset=utf-8");
}


/* one histogram's series: cumulative buckets, +Inf, sum and count */

static u_char *
ngx_http_voice_metrics_histogram(u_char *p, u_char *last,
    ngx_http_voice_metrics_shm_t *m, ngx_uint_t h, const char *name,
    const char *label)
{
    uint64_t           sum;
    ngx_uint_t         i, k;
    const char        *key, **le;
    ngx_atomic_uint_t  count;

    key = (h <= NGX_HTTP_VOICE_H_VOICE_TO_VOICE) ? "stage" : "handoff";
    le = (h <= NGX_HTTP_VOICE_H_VOICE_TO_VOICE) ? ngx_http_voice_stage_le
                                                : ngx_http_voice_handoff_le;
    count = 0;
    sum = 0;

    for (i = 0; i <= NGX_HTTP_VOICE_METRICS_BUCKETS; i++) {
        for (k = 0; k < NGX_HTTP_VOICE_METRICS_SLOTS; k++) {
            count += m->slots[k].buckets[h][i];
        }

        p = ngx_slprintf(p, last, "%s_bucket{%s=\"%s\",le=\"%s\"} %uA\n",
                         name, key, label,
                         i < NGX_HTTP_VOICE_METRICS_BUCKETS ? le[i] : "+Inf",
                         count);
    }

    for (k = 0; k < NGX_HTTP_VOICE_METRICS_SLOTS; k++) {
        sum += m->slots[k].sum_us[h];
    }

    return ngx_slprintf(p, last, "%s_sum{%s=\"%s\"} %uL.%06uL\n"
                        "%s_count{%s=\"%s\"} %uA\n",
                        name, key, label, sum / 1000000, sum % 1000000,
                        name, key, label, count);
}

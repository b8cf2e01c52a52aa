/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <math.h>

#include "call.h"
#include "rtt.h"


/*
 * The histogram: microseconds, 32 linear buckets in each power of two
 * (within 3% of the value), up to 2^31 us, about 36 minutes: 8 KB
 * whatever the number of frames.
 */
#define SIM_RTT_SUB     32
#define SIM_RTT_POWERS  27
#define SIM_RTT_BUCKETS (SIM_RTT_SUB * (SIM_RTT_POWERS + 1))


static unsigned long  sim_rtt_hist[SIM_RTT_BUCKETS];
static unsigned long  sim_rtt_count;
static unsigned long  sim_rtt_frames;
static unsigned long  sim_rtt_lost;
static unsigned long  sim_rtt_late;
static double         sim_rtt_max;


static unsigned sim_rtt_bucket(double us);
static double sim_rtt_value(unsigned b);
static double sim_rtt_percentile(double p);


void
sim_rtt_sent(sim_rtt_t *r, double t)
{
    r->sent_at[r->sent % SIM_RTT_RING] = t;
    r->sent++;
    sim_rtt_frames++;
}


void
sim_rtt_back(sim_rtt_t *r, size_t n, double t)
{
    double  ms;

    r->bytes_back += n;

    while (r->echoed < r->sent
           && r->bytes_back >= (r->echoed + 1) * SIM_CALL_FRAME)
    {
        if (r->echoed + SIM_RTT_RING < r->sent) {
            /* its time was overwritten: in flight over 10 s */
            ms = SIM_RTT_RING * 20;

        } else {
            ms = (t - r->sent_at[r->echoed % SIM_RTT_RING]) * 1000;
        }

        r->echoed++;

        if (ms > SIM_RTT_LATE_MS) {
            r->late++;
            sim_rtt_late++;
        }

        if (ms > r->max_ms) {
            r->max_ms = ms;
        }

        if (ms > sim_rtt_max) {
            sim_rtt_max = ms;
        }

        sim_rtt_hist[sim_rtt_bucket(ms * 1000)]++;
        sim_rtt_count++;
    }
}


void
sim_rtt_end(sim_rtt_t *r)
{
    r->lost = r->sent - r->echoed;
    sim_rtt_lost += r->lost;
}


void
sim_rtt_summary(sim_rtt_summary_t *s)
{
    s->frames = sim_rtt_frames;
    s->echoed = sim_rtt_count;
    s->lost = sim_rtt_lost;
    s->late = sim_rtt_late;
    s->p50_ms = sim_rtt_percentile(0.50);
    s->p99_ms = sim_rtt_percentile(0.99);
    s->max_ms = sim_rtt_max;
}


/* below 32 us one bucket a microsecond; then 32 to each power of two */

static unsigned
sim_rtt_bucket(double us)
{
    int       e;
    unsigned  v;

    if (us < SIM_RTT_SUB) {
        return us > 0 ? (unsigned) us : 0;
    }

    if (us >= 2147483648.0) {
        return SIM_RTT_BUCKETS - 1;
    }

    v = (unsigned) us;
    e = 31 - __builtin_clz(v);          /* v in [2^e, 2^(e+1)) */

    return (e - 4) * SIM_RTT_SUB + ((v >> (e - 5)) & (SIM_RTT_SUB - 1));
}


/* the middle of bucket b, ms */

static double
sim_rtt_value(unsigned b)
{
    unsigned  e, sub;

    if (b < SIM_RTT_SUB) {
        return (b + 0.5) / 1000;
    }

    e = b / SIM_RTT_SUB + 4;
    sub = b % SIM_RTT_SUB;

    return ldexp(SIM_RTT_SUB + sub + 0.5, e - 5) / 1000;
}


/* the round trip p of the frames were within, ms; -1 without any */

static double
sim_rtt_percentile(double p)
{
    unsigned       b;
    unsigned long  seen, want;

    if (sim_rtt_count == 0) {
        return -1;
    }

    want = (unsigned long) ceil(p * sim_rtt_count);
    seen = 0;

    for (b = 0; b < SIM_RTT_BUCKETS; b++) {
        seen += sim_rtt_hist[b];

        if (seen >= want && seen) {
            return sim_rtt_value(b) < sim_rtt_max ? sim_rtt_value(b)
                                                  : sim_rtt_max;
        }
    }

    return sim_rtt_max;
}

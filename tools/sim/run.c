/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdlib.h>
#include <sys/epoll.h>

#include "caller.h"
#include "conf.h"
#include "run.h"
#include "util.h"


#define SIM_RUN_TICK    0.020
#define SIM_RUN_EVENTS  256


typedef struct {
    int          ep;
    sim_call_t  *calls;
    int          ncalls;
    int          started;
    double       next_start;
    double       next_tick;
} sim_run_t;


static void sim_run_start_due(sim_run_t *r, double t);
static void sim_run_events(sim_run_t *r);
static void sim_run_tick(sim_run_t *r, double t);
static int sim_run_done(const sim_run_t *r);
static void sim_run_time_out(sim_run_t *r);


sim_call_t *
sim_run(const sim_stream_t *stream, int ncalls)
{
    int        i;
    double     t, deadline;
    sim_run_t  r;

    r.ep = epoll_create1(0);
    if (r.ep < 0) {
        sim_util_die("epoll_create1 failed");
    }

    r.calls = calloc(ncalls, sizeof(sim_call_t));
    if (r.calls == NULL) {
        sim_util_die("out of memory");
    }

    r.ncalls = ncalls;

    for (i = 0; i < ncalls; i++) {
        sim_call_init(&r.calls[i], i + 1, r.ep, stream);
    }

    t = sim_util_now();
    deadline = t + sim_conf.timeout;
    r.next_tick = t;
    r.next_start = t;
    r.started = 0;

    for ( ;; ) {
        sim_run_start_due(&r, sim_util_now());
        sim_run_events(&r);

        t = sim_util_now();
        sim_run_tick(&r, t);

        if (sim_run_done(&r)) {
            break;
        }

        if (t > deadline) {
            sim_run_time_out(&r);
            break;
        }
    }

    return r.calls;
}


static void
sim_run_start_due(sim_run_t *r, double t)
{
    while (r->started < r->ncalls && t >= r->next_start) {
        sim_call_start(&r->calls[r->started++]);
        r->next_start = t + sim_conf.ramp_ms / 1000.0;
    }
}


/* what the sockets have for the calls, waiting until the next tick */

static void
sim_run_events(sim_run_t *r)
{
    int                 i, n, ms;
    double              wait;
    struct epoll_event  evs[SIM_RUN_EVENTS];

    wait = (r->next_tick - sim_util_now()) * 1000;
    ms = wait > 0 ? (int) wait : 0;

    n = epoll_wait(r->ep, evs, SIM_RUN_EVENTS, ms);

    for (i = 0; i < n; i++) {
        sim_call_handle(evs[i].data.ptr, evs[i].events);
    }
}


static void
sim_run_tick(sim_run_t *r, double t)
{
    int  i;

    if (t < r->next_tick) {
        return;
    }

    for (i = 0; i < r->started; i++) {
        sim_caller_tick(&r->calls[i], t);
    }

    r->next_tick += SIM_RUN_TICK;

    if (r->next_tick < t) {
        r->next_tick = t + SIM_RUN_TICK;
    }
}


static int
sim_run_done(const sim_run_t *r)
{
    int  i, done;

    done = 0;

    for (i = 0; i < r->started; i++) {
        done += r->calls[i].state == SIM_CALL_DONE;
    }

    return done == r->ncalls;
}


static void
sim_run_time_out(sim_run_t *r)
{
    int  i;

    for (i = 0; i < r->ncalls; i++) {
        if (i >= r->started) {
            r->calls[i].state = SIM_CALL_DONE;
            r->calls[i].failed = 1;
            r->calls[i].why = "never started";
        }

        sim_call_finish(&r->calls[i], "timed out", 1);
    }
}

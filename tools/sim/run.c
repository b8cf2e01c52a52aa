/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <sys/epoll.h>

#include "caller.h"
#include "conf.h"
#include "run.h"
#include "util.h"


#define SIM_RUN_TICK    0.020
#define SIM_RUN_EVENTS  1024

/*
 * Each call ticks every 20 ms, in one of SIM_RUN_SLOTS 1 ms slots of
 * the period, the calls spread over them as real calls' frames are: a
 * thousand calls ticking together would send a thousand frames in a
 * burst and time the last ones' round trips from behind the first.
 */
#define SIM_RUN_SLOTS   20


typedef struct {
    int          ep;
    sim_call_t  *calls;
    int          ncalls;
    int          started;
    double       next_start;

    double       period;                /* the current period's start */
    int          slot;                  /* the next slot to tick */
    double       late_max;              /* the most a slot ticked late */
} sim_run_t;


static void sim_run_start_due(sim_run_t *r, double t);
static double sim_run_next(const sim_run_t *r);
static void sim_run_events(sim_run_t *r, double until);
static int sim_run_tick(sim_run_t *r, double t);
static int sim_run_done(const sim_run_t *r);
static void sim_run_time_out(sim_run_t *r);


double  sim_run_late_ms;


sim_call_t *
sim_run(const sim_stream_t *stream, int ncalls)
{
    int        i;
    double     t, deadline, until;
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
    r.period = t;
    r.slot = 0;
    r.late_max = 0;
    r.next_start = t;
    r.started = 0;

    for ( ;; ) {
        t = sim_util_now();
        sim_run_start_due(&r, t);

        if (sim_run_tick(&r, t) && sim_run_done(&r)) {
            break;
        }

        if (t > deadline) {
            sim_run_time_out(&r);
            break;
        }

        until = sim_run_next(&r);

        if (r.started < r.ncalls && r.next_start < until) {
            until = r.next_start;
        }

        sim_run_events(&r, until);
    }

    sim_run_late_ms = r.late_max * 1000;

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


static double
sim_run_next(const sim_run_t *r)
{
    return r->period + r->slot * (SIM_RUN_TICK / SIM_RUN_SLOTS);
}


/* what the sockets have for the calls, until the next thing due */

static void
sim_run_events(sim_run_t *r, double until)
{
    int                 i, n;
    double              wait;
    struct timespec     ts;
    struct epoll_event  evs[SIM_RUN_EVENTS];

    do {
        wait = until - sim_util_now();
        wait = wait > 0 ? wait : 0;
        ts.tv_sec = (time_t) wait;
        ts.tv_nsec = (long) ((wait - ts.tv_sec) * 1e9);

        n = epoll_pwait2(r->ep, evs, SIM_RUN_EVENTS, &ts, NULL);

        if (n < 0 && errno == ENOSYS) {
            n = epoll_wait(r->ep, evs, SIM_RUN_EVENTS, (int) (wait * 1000));
        }

        for (i = 0; i < n; i++) {
            sim_call_handle(evs[i].data.ptr, evs[i].events);
        }

    } while (n == SIM_RUN_EVENTS);
}


/*
 * The calls of the slots due by t; returns 1 when a period has ended.
 * A loop that fell a period behind drops the time, as a caller's clock
 * would not: the audio stays in real time, from later.
 */

static int
sim_run_tick(sim_run_t *r, double t)
{
    int     i, wrapped;
    double  due;

    wrapped = 0;

    while ((due = sim_run_next(r)) <= t) {
        if (r->slot < r->started && t - due > r->late_max) {
            r->late_max = t - due;
        }

        for (i = r->slot; i < r->started; i += SIM_RUN_SLOTS) {
            sim_caller_tick(&r->calls[i], t);
        }

        if (++r->slot == SIM_RUN_SLOTS) {
            r->slot = 0;
            r->period += SIM_RUN_TICK;
            wrapped = 1;

            if (r->period + SIM_RUN_TICK < t) {
                r->period = t;
            }
        }
    }

    return wrapped;
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

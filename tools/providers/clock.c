/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <errno.h>
#include <time.h>

#include "clock.h"


double
vp_clock_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}


void
vp_clock_sleep_ms(unsigned ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long) (ms % 1000) * 1000000;

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
        /* void */
    }
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Microseconds on the monotonic clock, for the module's own share of a
 * turn: nginx's cached ngx_current_msec is too coarse to time a hand-off.
 */

#ifndef NGX_HTTP_VOICE_CLOCK_H
#define NGX_HTTP_VOICE_CLOCK_H

#include <ngx_config.h>
#include <ngx_core.h>


static ngx_inline uint64_t
ngx_http_voice_clock_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif /* NGX_HTTP_VOICE_CLOCK_H */

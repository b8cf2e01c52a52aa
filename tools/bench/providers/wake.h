/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The machine's own wake-up latency, no nginx involved: round trips
 * between two processes over a socketpair, each after a few idle
 * milliseconds.  No hand-off can be faster than that.
 */

#ifndef BP_WAKE_H
#define BP_WAKE_H


/* n round trips; prints p50 p90 p99 max in ms; the exit status */
int bp_wake_run(int n);

#endif /* BP_WAKE_H */

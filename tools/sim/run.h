/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The calls on one epoll loop: started --ramp apart, ticked every 20 ms
 * (each in its own millisecond of the 20), until all are done or
 * --timeout has passed.
 */

#ifndef SIM_RUN_H
#define SIM_RUN_H

#include "stream.h"
#include "call.h"


/* returns the calls, done; failure to start is fatal */
sim_call_t *sim_run(const sim_stream_t *stream, int ncalls);

/* after sim_run: the most a tick came late, ms (the simulator's lag) */
extern double  sim_run_late_ms;

#endif /* SIM_RUN_H */

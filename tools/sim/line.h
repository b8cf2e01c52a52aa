/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The caller's line as a phone network makes it: the agent's audio, as
 * it plays, comes back on it --echo-db down and --echo-delay-ms late,
 * mixed into what the caller says (a speakerphone, a hybrid's echo).
 * With -v, when the caller's own voice starts on it, and when a clear
 * arrives, how long after that.
 */

#ifndef SIM_LINE_H
#define SIM_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "call.h"


/* the next 20 ms played to the caller: n bytes of the agent, or NULL */
void sim_line_played(sim_call_t *c, const uint8_t *agent, size_t n);

/* the caller's frame as the line carries it, at time t, into out */
void sim_line_frame(sim_call_t *c, const uint8_t *frame, uint8_t *out,
    double t);

/* a clear arrived */
void sim_line_clear(sim_call_t *c);

void sim_line_free(sim_call_t *c);

#endif /* SIM_LINE_H */

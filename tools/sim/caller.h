/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The caller, every 20 ms: hears the next frame of the agent, and sends
 * one of its own, from --play and then silence, or from the --say script
 * as the conversation goes; hangs up when it is done.
 */

#ifndef SIM_CALLER_H
#define SIM_CALLER_H

#include "call.h"


void sim_caller_tick(sim_call_t *c, double t);

#endif /* SIM_CALLER_H */

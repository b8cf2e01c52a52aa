/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Recordings of a call: what the caller heard (--record, --record-raw),
 * the call in stereo (--record-call) and the caller audio sent
 * (--save-sent), of the first call.
 */

#ifndef SIM_RECORD_H
#define SIM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "call.h"


/* 20 ms of playout: n bytes of the agent, or a gap (agent NULL) */
void sim_record_heard(sim_call_t *c, const uint8_t *agent, size_t n);

/* one tick of the stereo recording: caller left, agent right */
void sim_record_frame(sim_call_t *c, const uint8_t *caller,
    const uint8_t *agent, size_t agent_n);

/* writes the files the options asked for, from call c */
void sim_record_write(const sim_call_t *c);

#endif /* SIM_RECORD_H */

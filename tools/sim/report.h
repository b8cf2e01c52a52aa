/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* the calls' outcome on stdout: a line each, or JSON with --json */

#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include "call.h"


/* prints the report; returns the number of failed calls */
int sim_report(sim_call_t *calls, int n);

#endif /* SIM_REPORT_H */

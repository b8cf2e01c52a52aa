/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The timestamps bench-providers writes, a line each: "µs event id k",
 * µs of CLOCK_REALTIME, so that they compare with the kernel's stamps.
 */

#ifndef BP_LOG_H
#define BP_LOG_H

#include <stdint.h>


/* µs of CLOCK_REALTIME */
int64_t bp_log_now(void);

/* 0, or -1 when the file cannot be written */
int bp_log_open(const char *file);

void bp_log_event(int64_t t, const char *event, const char *id, int k);

void bp_log_close(void);

#endif /* BP_LOG_H */

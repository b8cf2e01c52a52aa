/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The timestamps bench-providers writes, a line each: "µs event id k",
 * µs of CLOCK_REALTIME, so that they compare with the kernel's stamps.
 */

#ifndef BP_LOG_H
#define BP_LOG_H

#include <stddef.h>
#include <stdint.h>


/* µs of CLOCK_REALTIME */
int64_t bp_log_now(void);

/* 0, or -1 when the file cannot be written */
int bp_log_open(const char *file);

void bp_log_event(int64_t t, const char *event, const char *id, int k);

/*
 * The key a caller's audio frame is logged under, the same on both sides
 * of nginx: a hash (FNV-1a, 31 bits) of the frame's base64, as Twilio's
 * media message carries it.
 */
int bp_log_key(const char *b64, size_t len);

void bp_log_close(void);

#endif /* BP_LOG_H */

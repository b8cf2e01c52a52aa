/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* voice-sim's small helpers: the clock, fatal errors, buffers, base64 */

#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stddef.h>
#include <stdint.h>


/* seconds on the monotonic clock */
double sim_util_now(void);

/* seconds on the wall clock, as the kernel stamps received packets */
double sim_util_wall(void);

/* prints "voice-sim: ..." and exits with status 2 */
void sim_util_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * A buffer of "*size" elements of "elt" bytes, grown by doubling to hold
 * at least "need"; never fails (out of memory is fatal).
 */
void *sim_util_grow(void *p, size_t *size, size_t need, size_t elt);

/* base64 of len bytes into out (4 * ((len + 2) / 3) + 1 bytes) */
void sim_util_base64(const uint8_t *in, size_t len, char *out);

/* a whole file: an optional header, then the data; failure is fatal */
void sim_util_write_file(const char *name, const void *hdr, size_t hlen,
    const void *data, size_t len);

#endif /* SIM_UTIL_H */

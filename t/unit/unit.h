/*
 * Copyright (C) ngx_http_voice_module authors
 *
 * A very small unit test harness: each t/unit/test_<part>.c includes this
 * header, calls CHECK*() and ends main() with UNIT_DONE().  The last line a
 * test binary prints is "<name>: N passed, N failed"; the Makefile sums them.
 */

#ifndef VOICE_UNIT_H
#define VOICE_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long  unit_passed;
static unsigned long  unit_failed;

#define UNIT_FAIL(fmt, ...)                                                  \
    do {                                                                     \
        unit_failed++;                                                       \
        if (unit_failed <= 20) {                                             \
            fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__,          \
                    __VA_ARGS__);                                            \
        }                                                                    \
    } while (0)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            unit_passed++;                                                   \
        } else {                                                             \
            UNIT_FAIL("check failed: %s", #cond);                            \
        }                                                                    \
    } while (0)

#define CHECK_INT(got, want)                                                 \
    do {                                                                     \
        long long  g_ = (long long) (got), w_ = (long long) (want);          \
        if (g_ == w_) {                                                      \
            unit_passed++;                                                   \
        } else {                                                             \
            UNIT_FAIL("%s == %lld, want %lld", #got, g_, w_);                \
        }                                                                    \
    } while (0)

#define CHECK_MEM(got, glen, want, wlen)                                     \
    do {                                                                     \
        size_t  gl_ = (glen), wl_ = (wlen);                                  \
        if (gl_ == wl_ && memcmp((got), (want), gl_) == 0) {                 \
            unit_passed++;                                                   \
        } else {                                                             \
            UNIT_FAIL("%s: got %.*s (%zu bytes), want %.*s (%zu bytes)",     \
                      #got, (int) gl_, (const char *) (got), gl_,            \
                      (int) wl_, (const char *) (want), wl_);                \
        }                                                                    \
    } while (0)

#define CHECK_STR(got, want)                                                 \
    CHECK_MEM((got), strlen(got), (want), strlen(want))

#define UNIT_DONE(name)                                                      \
    do {                                                                     \
        printf("%s: %lu passed, %lu failed\n", (name), unit_passed,          \
               unit_failed);                                                 \
        return unit_failed ? 1 : 0;                                          \
    } while (0)

#endif /* VOICE_UNIT_H */

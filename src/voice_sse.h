/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* Server-Sent Events, incremental: the data of each event, whole */

#ifndef VOICE_SSE_H
#define VOICE_SSE_H

#include <stddef.h>
#include <stdint.h>


#define VOICE_SSE_AGAIN   0
#define VOICE_SSE_EVENT   1
#define VOICE_SSE_ERROR   2


typedef struct {
    uint8_t   *buf;             /* the event's data so far */
    size_t     cap;
    size_t     len;
    int        has_data;

    /* the line being read */
    int        field;           /* 0 unknown, 1 data, 2 ignored */
    size_t     name_len;
    char       name[8];
    int        in_value;
    int        skip_space;
    int        line_start;
    int        last_cr;
    int        overflow;
} voice_sse_t;


void voice_sse_init(voice_sse_t *p, uint8_t *buf, size_t cap);

/*
 * Reads until an event is complete (a blank line) or the input ends.
 * VOICE_SSE_EVENT: *data, *len is the event's data (lines joined with
 * "\n"), valid until the next call.  VOICE_SSE_ERROR: an event larger
 * than the buffer (it is skipped; parsing goes on).
 */
int voice_sse_feed(voice_sse_t *p, const uint8_t *in, size_t len,
    size_t *consumed, const uint8_t **data, size_t *data_len);

#endif /* VOICE_SSE_H */

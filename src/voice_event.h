/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The JSON of a call's events (voice_events): an object written member
 * by member, in two passes as the writers of voice_buf.h: with out NULL
 * only the length is counted, so the caller allocates it exactly and
 * writes again with the same calls.  Strings are escaped as
 * voice_json_escape() does, so the output is valid JSON whatever the
 * text is.
 */

#ifndef VOICE_EVENT_H
#define VOICE_EVENT_H

#include <stddef.h>
#include <stdint.h>


/* objects and arrays nested in the event, at most */
#define VOICE_EVENT_DEPTH  4

/* "2026-12-03T16:20:00.123Z" */
#define VOICE_EVENT_TIME_LEN  (sizeof("YYYY-MM-DDThh:mm:ss.mmmZ") - 1)


typedef struct {
    uint8_t   *out;                 /* NULL: counting */
    size_t     len;
    unsigned   depth;               /* 0: the event object */
    uint8_t    close[VOICE_EVENT_DEPTH + 1];
    uint8_t    first[VOICE_EVENT_DEPTH + 1];
    unsigned   overflow:1;          /* nested too deep: a bug */
} voice_event_t;


/*
 * Opens the event object with its common members: "event" (its type),
 * "seq" (from 0 in each call), "time" (UTC, from unix_ms), "call_sid"
 * and "stream_sid"
 */
void voice_event_begin(voice_event_t *e, uint8_t *out, const char *type,
    uint64_t seq, uint64_t unix_ms, const uint8_t *call_sid,
    size_t call_sid_len, const uint8_t *stream_sid, size_t stream_sid_len);

/* a member of the open object; key NULL: an element of the open array */
void voice_event_str(voice_event_t *e, const char *key, const uint8_t *s,
    size_t len);
void voice_event_uint(voice_event_t *e, const char *key, uint64_t v);
void voice_event_bool(voice_event_t *e, const char *key, int v);
void voice_event_null(voice_event_t *e, const char *key);

/* a string written in parts: opened, its parts escaped, closed */
void voice_event_str_open(voice_event_t *e, const char *key);
void voice_event_str_more(voice_event_t *e, const uint8_t *s, size_t len);
void voice_event_str_close(voice_event_t *e);

/* JSON known to be valid (a provider's array, checked), as it is */
void voice_event_raw(voice_event_t *e, const char *key, const uint8_t *json,
    size_t len);

/* opens an object or an array, closed by voice_event_close() */
void voice_event_object(voice_event_t *e, const char *key);
void voice_event_array(voice_event_t *e, const char *key);
void voice_event_close(voice_event_t *e);

/* closes all that is open; returns the length, 0 if nested too deep */
size_t voice_event_end(voice_event_t *e);

/* unix_ms as VOICE_EVENT_TIME_LEN bytes of ISO 8601, UTC */
void voice_event_time(uint8_t *out, uint64_t unix_ms);

#endif /* VOICE_EVENT_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "voice_event.h"
#include "voice_json.h"


static void voice_event_put(voice_event_t *e, const void *p, size_t len);
static void voice_event_key(voice_event_t *e, const char *key);
static void voice_event_open(voice_event_t *e, const char *key, uint8_t open,
    uint8_t close);


void
voice_event_begin(voice_event_t *e, uint8_t *out, const char *type,
    uint64_t seq, uint64_t unix_ms, const uint8_t *call_sid,
    size_t call_sid_len, const uint8_t *stream_sid, size_t stream_sid_len)
{
    uint8_t  time[VOICE_EVENT_TIME_LEN];

    memset(e, 0, sizeof(voice_event_t));
    e->out = out;

    voice_event_put(e, "{", 1);
    e->close[0] = '}';
    e->first[0] = 1;

    voice_event_str(e, "event", (const uint8_t *) type, strlen(type));
    voice_event_uint(e, "seq", seq);

    voice_event_time(time, unix_ms);
    voice_event_str(e, "time", time, sizeof(time));

    voice_event_str(e, "call_sid", call_sid, call_sid_len);
    voice_event_str(e, "stream_sid", stream_sid, stream_sid_len);
}


void
voice_event_str(voice_event_t *e, const char *key, const uint8_t *s,
    size_t len)
{
    voice_event_str_open(e, key);
    voice_event_str_more(e, s, len);
    voice_event_str_close(e);
}


void
voice_event_str_open(voice_event_t *e, const char *key)
{
    voice_event_key(e, key);
    voice_event_put(e, "\"", 1);
}


void
voice_event_str_more(voice_event_t *e, const uint8_t *s, size_t len)
{
    e->len += voice_json_put(e->out, e->len, s, len);
}


void
voice_event_str_close(voice_event_t *e)
{
    voice_event_put(e, "\"", 1);
}


void
voice_event_uint(voice_event_t *e, const char *key, uint64_t v)
{
    int   n;
    char  buf[24];

    n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);

    voice_event_key(e, key);
    voice_event_put(e, buf, (size_t) n);
}


void
voice_event_bool(voice_event_t *e, const char *key, int v)
{
    voice_event_key(e, key);

    if (v) {
        voice_event_put(e, "true", 4);

    } else {
        voice_event_put(e, "false", 5);
    }
}


void
voice_event_null(voice_event_t *e, const char *key)
{
    voice_event_key(e, key);
    voice_event_put(e, "null", 4);
}


void
voice_event_raw(voice_event_t *e, const char *key, const uint8_t *json,
    size_t len)
{
    voice_event_key(e, key);
    voice_event_put(e, json, len);
}


void
voice_event_object(voice_event_t *e, const char *key)
{
    voice_event_open(e, key, '{', '}');
}


void
voice_event_array(voice_event_t *e, const char *key)
{
    voice_event_open(e, key, '[', ']');
}


void
voice_event_close(voice_event_t *e)
{
    if (e->overflow || e->depth == 0) {
        return;
    }

    voice_event_put(e, &e->close[e->depth], 1);
    e->depth--;
}


size_t
voice_event_end(voice_event_t *e)
{
    if (e->overflow) {
        return 0;
    }

    while (e->depth) {
        voice_event_close(e);
    }

    voice_event_put(e, "}", 1);

    return e->len;
}


void
voice_event_time(uint8_t *out, uint64_t unix_ms)
{
    char       buf[64];
    time_t     t;
    struct tm  tm;

    t = (time_t) (unix_ms / 1000);
    gmtime_r(&t, &tm);

    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned) (unix_ms % 1000));

    memcpy(out, buf, VOICE_EVENT_TIME_LEN);
}


static void
voice_event_put(voice_event_t *e, const void *p, size_t len)
{
    if (e->out) {
        memcpy(e->out + e->len, p, len);
    }

    e->len += len;
}


/* the comma before a member or element but the first, and the key */

static void
voice_event_key(voice_event_t *e, const char *key)
{
    if (e->first[e->depth]) {
        e->first[e->depth] = 0;

    } else {
        voice_event_put(e, ",", 1);
    }

    if (key) {
        voice_event_put(e, "\"", 1);
        e->len += voice_json_put(e->out, e->len, (const uint8_t *) key,
                                 strlen(key));
        voice_event_put(e, "\":", 2);
    }
}


static void
voice_event_open(voice_event_t *e, const char *key, uint8_t open,
    uint8_t close)
{
    if (e->depth == VOICE_EVENT_DEPTH) {
        e->overflow = 1;
        return;
    }

    voice_event_key(e, key);
    voice_event_put(e, &open, 1);

    e->depth++;
    e->close[e->depth] = close;
    e->first[e->depth] = 1;
}

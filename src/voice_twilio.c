/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdio.h>
#include <string.h>

#include "voice_json.h"
#include "voice_twilio.h"


/* the keys the parser knows, by where they stand */
enum {
    k_other = 0,
    k_array,
    k_event,
    k_sequence,
    k_stream_sid,
    k_start,
    k_media,
    k_dtmf,
    k_mark,
    k_stop,
    k_call_sid,
    k_account_sid,
    k_custom,
    k_format,
    k_track,
    k_chunk,
    k_timestamp,
    k_payload,
    k_digit,
    k_name,
    k_encoding,
    k_rate,
    k_channels
};


typedef struct {
    const char  *name;
    size_t       len;
    int          id;
} voice_twilio_key_t;


#define voice_twilio_key(name, id)  { name, sizeof(name) - 1, id }

/* a media message's keys first: nearly every message is one */

static const voice_twilio_key_t  voice_twilio_keys[] = {
    voice_twilio_key("event", k_event),
    voice_twilio_key("sequenceNumber", k_sequence),
    voice_twilio_key("streamSid", k_stream_sid),
    voice_twilio_key("media", k_media),
    voice_twilio_key("track", k_track),
    voice_twilio_key("chunk", k_chunk),
    voice_twilio_key("timestamp", k_timestamp),
    voice_twilio_key("payload", k_payload),
    voice_twilio_key("start", k_start),
    voice_twilio_key("dtmf", k_dtmf),
    voice_twilio_key("mark", k_mark),
    voice_twilio_key("stop", k_stop),
    voice_twilio_key("callSid", k_call_sid),
    voice_twilio_key("accountSid", k_account_sid),
    voice_twilio_key("customParameters", k_custom),
    voice_twilio_key("mediaFormat", k_format),
    voice_twilio_key("digit", k_digit),
    voice_twilio_key("name", k_name),
    voice_twilio_key("encoding", k_encoding),
    voice_twilio_key("sampleRate", k_rate),
    voice_twilio_key("channels", k_channels),
    { NULL, 0, 0 }
};


static const char  *voice_twilio_events[] = {
    "", "connected", "start", "media", "dtmf", "mark", "stop", "clear", NULL
};


typedef struct {
    uint8_t  *p;
    uint8_t  *end;
    int       overflow;
} voice_twilio_writer_t;


static int voice_twilio_reset(voice_twilio_parser_t *p);
static int voice_twilio_value(voice_twilio_parser_t *p, const char *s,
    size_t len, int is_string);
static int voice_twilio_copy(voice_twilio_parser_t *p, char *dst,
    size_t cap, const char *s, size_t len);
static int voice_twilio_number(voice_twilio_parser_t *p, unsigned long *n,
    const char *s, size_t len);
static int voice_twilio_open(voice_twilio_parser_t *p, int array);
static int voice_twilio_fast(voice_twilio_parser_t *p, const uint8_t *json,
    size_t len, voice_twilio_msg_t *m);
static int voice_twilio_fast_text(const uint8_t **s, const uint8_t *end,
    const char *text, size_t len);
static int voice_twilio_fast_string(const uint8_t **s, const uint8_t *end,
    const uint8_t **str, size_t *len);
static int voice_twilio_fast_number(const uint8_t **s, const uint8_t *end,
    unsigned long *n);

static int voice_twilio_on_null(void *ctx);
static int voice_twilio_on_boolean(void *ctx, int b);
static int voice_twilio_on_number(void *ctx, const char *s, size_t len);
static int voice_twilio_on_string(void *ctx, const unsigned char *s,
    size_t len);
static int voice_twilio_on_start_map(void *ctx);
static int voice_twilio_on_map_key(void *ctx, const unsigned char *s,
    size_t len);
static int voice_twilio_on_end(void *ctx);
static int voice_twilio_on_start_array(void *ctx);


static const yajl_callbacks  voice_twilio_callbacks = {
    voice_twilio_on_null,
    voice_twilio_on_boolean,
    NULL,
    NULL,
    voice_twilio_on_number,
    voice_twilio_on_string,
    voice_twilio_on_start_map,
    voice_twilio_on_map_key,
    voice_twilio_on_end,
    voice_twilio_on_start_array,
    voice_twilio_on_end
};


int
voice_twilio_parser_init(voice_twilio_parser_t *p, const yajl_alloc_funcs *af)
{
    memset(p, 0, sizeof(voice_twilio_parser_t));

    if (af) {
        p->alloc = *af;
        p->have_alloc = 1;
    }

    return voice_twilio_reset(p);
}


void
voice_twilio_parser_free(voice_twilio_parser_t *p)
{
    if (p->handle) {
        yajl_free(p->handle);
        p->handle = NULL;
    }
}


/*
 * yajl cannot be reset: one handle, allowed several top-level values,
 * reads message after message; after an error it is made anew.
 */

static int
voice_twilio_reset(voice_twilio_parser_t *p)
{
    voice_twilio_parser_free(p);

    p->handle = yajl_alloc(&voice_twilio_callbacks,
                           p->have_alloc ? &p->alloc : NULL, p);
    if (p->handle == NULL) {
        return VOICE_TWILIO_ERROR;
    }

    yajl_config(p->handle, yajl_allow_multiple_values, 1);

    return VOICE_TWILIO_OK;
}


int
voice_twilio_parse(voice_twilio_parser_t *p, const uint8_t *json,
    size_t len, voice_twilio_msg_t *m)
{
    yajl_status  st;

    m->event = VOICE_TWILIO_UNKNOWN;
    m->sequence = 0;
    m->stream_sid[0] = '\0';
    m->call_sid[0] = '\0';
    m->account_sid[0] = '\0';
    m->encoding[0] = '\0';
    m->sample_rate = 0;
    m->channels = 0;
    m->nparams = 0;
    m->track_outbound = 0;
    m->chunk = 0;
    m->timestamp = 0;
    m->payload = p->payload;
    m->payload_len = 0;
    m->digit[0] = '\0';
    m->mark_name[0] = '\0';

    p->msg = m;
    p->in = json;
    p->in_len = len;
    p->depth = 0;
    p->complete = 0;
    p->end = 0;
    p->error = NULL;
    p->event_name[0] = '\0';

    if (!p->slow_only && voice_twilio_fast(p, json, len, m)) {
        p->fast++;
        return VOICE_TWILIO_OK;
    }

    if (p->handle == NULL && voice_twilio_reset(p) != VOICE_TWILIO_OK) {
        p->error = "out of memory";
        return VOICE_TWILIO_ERROR;
    }

    st = yajl_parse(p->handle, json, len);

    if (st == yajl_status_ok && !p->complete) {
        p->error = "truncated JSON";
        st = yajl_status_error;
    }

    /* a token after the object that yajl keeps for the next value */

    while (st == yajl_status_ok && p->end < len) {
        if (json[p->end] != ' ' && json[p->end] != '\t'
            && json[p->end] != '\r' && json[p->end] != '\n')
        {
            p->error = "more than one JSON value";
            st = yajl_status_error;
        }

        p->end++;
    }

    if (st != yajl_status_ok) {
        if (p->error == NULL) {
            p->error = "invalid JSON";
        }

        if (voice_twilio_reset(p) != VOICE_TWILIO_OK) {
            p->handle = NULL;
        }

        return VOICE_TWILIO_ERROR;
    }

    return VOICE_TWILIO_OK;
}


/*
 * Nearly every message of a call is a media message, and Twilio writes
 * each the same way: the same keys in the same order, no white space,
 * the numbers as strings of digits, a payload and a SID that need no
 * escape.  Such a message is read here by comparing it with that shape,
 * for a tenth of the worker's time went to yajl.  Anything else (another
 * order, white space, an escape, a key more or less, a byte outside
 * printable ASCII, a value over its limit) is left to yajl, which gives
 * for what this takes exactly what this gives: plain ASCII strings need
 * no UTF-8 check, and the limits are those of voice_twilio_value().
 *
 * Returns 1 with m filled in, or 0 with m untouched.
 */

#define voice_twilio_fast_is(s, end, text)                                    \
    voice_twilio_fast_text(s, end, text, sizeof(text) - 1)


static int
voice_twilio_fast(voice_twilio_parser_t *p, const uint8_t *json, size_t len,
    voice_twilio_msg_t *m)
{
    size_t          track_len, payload_len, sid_len;
    unsigned long   sequence, chunk, timestamp;
    const uint8_t  *s, *end, *track, *payload, *sid;

    s = json;
    end = json + len;

    if (!voice_twilio_fast_is(&s, end,
                              "{\"event\":\"media\",\"sequenceNumber\":\"")
        || !voice_twilio_fast_number(&s, end, &sequence)
        || !voice_twilio_fast_is(&s, end, "\",\"media\":{\"track\":\"")
        || !voice_twilio_fast_string(&s, end, &track, &track_len)
        || !voice_twilio_fast_is(&s, end, "\",\"chunk\":\"")
        || !voice_twilio_fast_number(&s, end, &chunk)
        || !voice_twilio_fast_is(&s, end, "\",\"timestamp\":\"")
        || !voice_twilio_fast_number(&s, end, &timestamp)
        || !voice_twilio_fast_is(&s, end, "\",\"payload\":\"")
        || !voice_twilio_fast_string(&s, end, &payload, &payload_len)
        || !voice_twilio_fast_is(&s, end, "\"},\"streamSid\":\"")
        || !voice_twilio_fast_string(&s, end, &sid, &sid_len)
        || !voice_twilio_fast_is(&s, end, "\"}")
        || s != end
        || payload_len > sizeof(p->payload)
        || sid_len >= sizeof(m->stream_sid))
    {
        return 0;
    }

    m->event = VOICE_TWILIO_MEDIA;
    m->sequence = sequence;
    m->track_outbound = (track_len == 8 && memcmp(track, "outbound", 8) == 0);
    m->chunk = chunk;
    m->timestamp = timestamp;
    m->payload = (const char *) payload;
    m->payload_len = payload_len;

    memcpy(m->stream_sid, sid, sid_len);
    m->stream_sid[sid_len] = '\0';

    memcpy(p->event_name, "media", sizeof("media"));
    p->complete = 1;
    p->end = len;

    return 1;
}


static int
voice_twilio_fast_text(const uint8_t **s, const uint8_t *end,
    const char *text, size_t len)
{
    if ((size_t) (end - *s) < len || memcmp(*s, text, len) != 0) {
        return 0;
    }

    *s += len;

    return 1;
}


/*
 * Up to the closing quote, which stays: printable ASCII but '"' and '\'.
 * A payload is some 200 characters: eight at a time while none of them
 * is below 0x20, above 0x7e, a quote or a backslash; one at a time from
 * the word that has one.
 */

#define voice_twilio_ones   0x0101010101010101ULL
#define voice_twilio_highs  0x8080808080808080ULL

#define voice_twilio_has_zero(w)                                              \
    (((w) - voice_twilio_ones) & ~(w) & voice_twilio_highs)


static int
voice_twilio_fast_string(const uint8_t **s, const uint8_t *end,
    const uint8_t **str, size_t *len)
{
    uint64_t        w;
    const uint8_t  *c;

    for (c = *s; end - c >= 8; c += 8) {
        memcpy(&w, c, 8);

        if (((w - voice_twilio_ones * 0x20) & ~w & voice_twilio_highs)
            || (((w + voice_twilio_ones) | w) & voice_twilio_highs)
            || voice_twilio_has_zero(w ^ (voice_twilio_ones * '"'))
            || voice_twilio_has_zero(w ^ (voice_twilio_ones * '\\')))
        {
            break;
        }
    }

    for ( /* void */ ; c < end; c++) {

        if (*c == '"') {
            *str = *s;
            *len = (size_t) (c - *s);
            *s = c;
            return 1;
        }

        if (*c < 0x20 || *c > 0x7e || *c == '\\') {
            return 0;
        }
    }

    return 0;
}


/* digits up to the closing quote, as many as voice_twilio_number() takes */

static int
voice_twilio_fast_number(const uint8_t **s, const uint8_t *end,
    unsigned long *n)
{
    const uint8_t  *c;
    unsigned long   v;

    v = 0;

    for (c = *s; c < end && *c >= '0' && *c <= '9'; c++) {
        v = v * 10 + (unsigned long) (*c - '0');

        if (c - *s == 15) {
            return 0;
        }
    }

    if (c == *s) {
        return 0;
    }

    *n = v;
    *s = c;

    return 1;
}


static int
voice_twilio_open(voice_twilio_parser_t *p, int array)
{
    if (p->complete) {
        p->error = "more than one JSON value";
        return 0;
    }

    if (p->depth == 0 && array) {
        p->error = "message is not a JSON object";
        return 0;
    }

    if (p->depth + 1 >= VOICE_TWILIO_DEPTH_MAX) {
        p->error = "JSON nested too deep";
        return 0;
    }

    p->depth++;
    p->path[p->depth] = array ? k_array : k_other;

    return 1;
}


static int
voice_twilio_on_start_map(void *ctx)
{
    return voice_twilio_open(ctx, 0);
}


static int
voice_twilio_on_start_array(void *ctx)
{
    return voice_twilio_open(ctx, 1);
}


static int
voice_twilio_on_end(void *ctx)
{
    voice_twilio_parser_t  *p = ctx;

    p->depth--;

    if (p->depth == 0) {
        p->complete = 1;
        p->end = yajl_get_bytes_consumed(p->handle);
    }

    return 1;
}


static int
voice_twilio_on_map_key(void *ctx, const unsigned char *s, size_t len)
{
    voice_twilio_parser_t  *p = ctx;

    int                    id;
    const voice_twilio_key_t  *k;
    voice_twilio_param_t  *param;

    /* a custom parameter's name */

    if (p->depth == 3 && p->path[1] == k_start && p->path[2] == k_custom) {
        p->path[3] = k_other;

        if (p->msg->nparams < VOICE_TWILIO_PARAMS_MAX) {
            param = &p->msg->params[p->msg->nparams];

            if (!voice_twilio_copy(p, param->name, sizeof(param->name),
                                   (const char *) s, len))
            {
                return 0;
            }

            param->value[0] = '\0';
            p->path[3] = k_name;
        }

        return 1;
    }

    id = k_other;

    for (k = voice_twilio_keys; k->name; k++) {
        if (k->len == len && memcmp(k->name, s, len) == 0) {
            id = k->id;
            break;
        }
    }

    p->path[p->depth] = id;

    return 1;
}


static int
voice_twilio_on_string(void *ctx, const unsigned char *s, size_t len)
{
    return voice_twilio_value(ctx, (const char *) s, len, 1);
}


static int
voice_twilio_on_number(void *ctx, const char *s, size_t len)
{
    return voice_twilio_value(ctx, s, len, 0);
}


static int
voice_twilio_on_null(void *ctx)
{
    return voice_twilio_value(ctx, NULL, 0, 0);
}


static int
voice_twilio_on_boolean(void *ctx, int b)
{
    (void) b;

    return voice_twilio_value(ctx, NULL, 0, 0);
}


/* one scalar: stored when its place is one the module reads */

static int
voice_twilio_value(voice_twilio_parser_t *p, const char *s, size_t len,
    int is_string)
{
    int                    i, key, parent;
    voice_twilio_msg_t    *m;
    voice_twilio_param_t  *param;

    m = p->msg;

    if (p->depth == 0) {
        p->error = p->complete ? "more than one JSON value"
                               : "message is not a JSON object";
        return 0;
    }

    key = p->path[p->depth];

    if (key == k_other || key == k_array || s == NULL) {
        return 1;
    }

    if (p->depth == 1) {
        switch (key) {

        case k_event:
            if (!is_string) {
                return 1;
            }

            for (i = 1; voice_twilio_events[i]; i++) {
                if (strlen(voice_twilio_events[i]) == len
                    && memcmp(voice_twilio_events[i], s, len) == 0)
                {
                    m->event = i;
                    break;
                }
            }

            len = len < sizeof(p->event_name) - 1
                  ? len : sizeof(p->event_name) - 1;
            memcpy(p->event_name, s, len);
            p->event_name[len] = '\0';

            return 1;

        case k_sequence:
            return voice_twilio_number(p, &m->sequence, s, len);

        case k_stream_sid:
            return voice_twilio_copy(p, m->stream_sid, sizeof(m->stream_sid),
                                     s, len);
        }

        return 1;
    }

    parent = p->path[p->depth - 1];

    if (p->depth == 2) {

        switch (parent) {

        case k_start:
        case k_stop:
            switch (key) {
            case k_stream_sid:
                return voice_twilio_copy(p, m->stream_sid,
                                         sizeof(m->stream_sid), s, len);
            case k_call_sid:
                return voice_twilio_copy(p, m->call_sid,
                                         sizeof(m->call_sid), s, len);
            case k_account_sid:
                return voice_twilio_copy(p, m->account_sid,
                                         sizeof(m->account_sid), s, len);
            }

            return 1;

        case k_media:
            switch (key) {
            case k_track:
                m->track_outbound = (len == 8
                                     && memcmp(s, "outbound", 8) == 0);
                return 1;
            case k_chunk:
                return voice_twilio_number(p, &m->chunk, s, len);
            case k_timestamp:
                return voice_twilio_number(p, &m->timestamp, s, len);
            case k_payload:
                if (len > sizeof(p->payload)) {
                    p->error = "media payload too large";
                    return 0;
                }

                /*
                 * yajl hands a string without escapes as it stands in
                 * the input, which stays: no copy of it
                 */

                if ((uintptr_t) s - (uintptr_t) p->in <= p->in_len
                    && len <= p->in_len
                           - ((uintptr_t) s - (uintptr_t) p->in))
                {
                    m->payload = s;

                } else {
                    memcpy(p->payload, s, len);
                    m->payload = p->payload;
                }

                m->payload_len = len;
                return 1;
            }

            return 1;

        case k_dtmf:
            if (key == k_digit) {
                return voice_twilio_copy(p, m->digit, sizeof(m->digit), s,
                                         len);
            }

            return 1;

        case k_mark:
            if (key == k_name) {
                return voice_twilio_copy(p, m->mark_name,
                                         sizeof(m->mark_name), s, len);
            }

            return 1;
        }

        return 1;
    }

    if (p->depth == 3 && p->path[1] == k_start) {

        if (parent == k_custom && key == k_name) {
            param = &m->params[m->nparams];

            if (!voice_twilio_copy(p, param->value, sizeof(param->value), s,
                                   len))
            {
                return 0;
            }

            m->nparams++;
            p->path[3] = k_other;
            return 1;
        }

        if (parent == k_format) {
            switch (key) {
            case k_encoding:
                return voice_twilio_copy(p, m->encoding, sizeof(m->encoding),
                                         s, len);
            case k_rate:
                return voice_twilio_number(p, &m->sample_rate, s, len);
            case k_channels:
                return voice_twilio_number(p, &m->channels, s, len);
            }
        }
    }

    return 1;
}


static int
voice_twilio_copy(voice_twilio_parser_t *p, char *dst, size_t cap,
    const char *s, size_t len)
{
    if (len >= cap) {
        p->error = "string value too long";
        return 0;
    }

    memcpy(dst, s, len);
    dst[len] = '\0';

    return 1;
}


/* a non-negative integer, given as a JSON number or a string of digits */

static int
voice_twilio_number(voice_twilio_parser_t *p, unsigned long *n,
    const char *s, size_t len)
{
    size_t         i;
    unsigned long  v;

    if (len == 0 || len > 15) {
        p->error = "invalid number";
        return 0;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            p->error = "invalid number";
            return 0;
        }

        v = v * 10 + (unsigned long) (s[i] - '0');
    }

    *n = v;

    return 1;
}


static void
voice_twilio_raw(voice_twilio_writer_t *w, const char *s, size_t len)
{
    if (w->overflow || (size_t) (w->end - w->p) < len) {
        w->overflow = 1;
        return;
    }

    memcpy(w->p, s, len);
    w->p += len;
}


static void
voice_twilio_str(voice_twilio_writer_t *w, const char *s)
{
    voice_twilio_raw(w, s, strlen(s));
}


static void
voice_twilio_esc(voice_twilio_writer_t *w, const uint8_t *s, size_t len)
{
    size_t  n;

    n = voice_json_escape(NULL, s, len);

    if (w->overflow || (size_t) (w->end - w->p) < n) {
        w->overflow = 1;
        return;
    }

    w->p += voice_json_escape(w->p, s, len);
}


static void
voice_twilio_ulong(voice_twilio_writer_t *w, unsigned long n)
{
    char  buf[24];

    voice_twilio_raw(w, buf, (size_t) snprintf(buf, sizeof(buf), "%lu", n));
}


static size_t
voice_twilio_done(voice_twilio_writer_t *w, uint8_t *out)
{
    return w->overflow ? 0 : (size_t) (w->p - out);
}


#define voice_twilio_writer(w, out, cap)                                      \
    (w)->p = (out); (w)->end = (out) + (cap); (w)->overflow = 0


/*
 * The SID comes escaped for JSON already, once for the call, and the
 * media payload is base64, none of whose characters needs escaping: both
 * are copied as they are.  Only a mark's name, whatever the call's mode
 * chose, is escaped here.
 */

size_t
voice_twilio_media_size(size_t sid_len, size_t b64_len)
{
    return sizeof("{\"event\":\"media\",\"streamSid\":\"\",\"media\":"
                  "{\"payload\":\"\"}}") - 1
           + sid_len + b64_len;
}


size_t
voice_twilio_media(uint8_t *out, size_t cap, const char *sid,
    size_t sid_len, const uint8_t *b64, size_t b64_len)
{
    size_t  n, k;

    n = voice_twilio_media_head(out, cap, sid, sid_len);

    if (n == 0 || cap - n < b64_len) {
        return 0;
    }

    memcpy(out + n, b64, b64_len);
    n += b64_len;

    k = voice_twilio_media_tail(out + n, cap - n);

    return k ? n + k : 0;
}


size_t
voice_twilio_media_head(uint8_t *out, size_t cap, const char *sid,
    size_t sid_len)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);

    voice_twilio_str(&w, "{\"event\":\"media\",\"streamSid\":\"");
    voice_twilio_raw(&w, sid, sid_len);
    voice_twilio_str(&w, "\",\"media\":{\"payload\":\"");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_media_tail(uint8_t *out, size_t cap)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);
    voice_twilio_str(&w, "\"}}");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_mark_size(size_t sid_len, const uint8_t *name, size_t name_len)
{
    return sizeof("{\"event\":\"mark\",\"streamSid\":\"\",\"mark\":"
                  "{\"name\":\"\"}}") - 1
           + sid_len + voice_json_escape(NULL, name, name_len);
}


size_t
voice_twilio_mark(uint8_t *out, size_t cap, const char *sid,
    size_t sid_len, const uint8_t *name, size_t name_len)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);

    voice_twilio_str(&w, "{\"event\":\"mark\",\"streamSid\":\"");
    voice_twilio_raw(&w, sid, sid_len);
    voice_twilio_str(&w, "\",\"mark\":{\"name\":\"");
    voice_twilio_esc(&w, name, name_len);
    voice_twilio_str(&w, "\"}}");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_clear_size(size_t sid_len)
{
    return sizeof("{\"event\":\"clear\",\"streamSid\":\"\"}") - 1
           + sid_len;
}


size_t
voice_twilio_clear(uint8_t *out, size_t cap, const char *sid,
    size_t sid_len)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);

    voice_twilio_str(&w, "{\"event\":\"clear\",\"streamSid\":\"");
    voice_twilio_raw(&w, sid, sid_len);
    voice_twilio_str(&w, "\"}");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_build_connected(uint8_t *out, size_t cap)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);
    voice_twilio_str(&w, "{\"event\":\"connected\",\"protocol\":\"Call\","
                         "\"version\":\"1.0.0\"}");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_build_start(uint8_t *out, size_t cap, const char *stream_sid,
    const char *call_sid, const char *account_sid,
    const voice_twilio_param_t *params, unsigned nparams)
{
    unsigned               i;
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);

    voice_twilio_str(&w, "{\"event\":\"start\",\"sequenceNumber\":\"1\","
                         "\"start\":{\"accountSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) account_sid, strlen(account_sid));
    voice_twilio_str(&w, "\",\"streamSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) stream_sid, strlen(stream_sid));
    voice_twilio_str(&w, "\",\"callSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) call_sid, strlen(call_sid));
    voice_twilio_str(&w, "\",\"tracks\":[\"inbound\"],"
                         "\"customParameters\":{");

    for (i = 0; i < nparams; i++) {
        voice_twilio_str(&w, i ? ",\"" : "\"");
        voice_twilio_esc(&w, (const uint8_t *) params[i].name,
                         strlen(params[i].name));
        voice_twilio_str(&w, "\":\"");
        voice_twilio_esc(&w, (const uint8_t *) params[i].value,
                         strlen(params[i].value));
        voice_twilio_str(&w, "\"");
    }

    voice_twilio_str(&w, "},\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\","
                         "\"sampleRate\":8000,\"channels\":1}},"
                         "\"streamSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) stream_sid, strlen(stream_sid));
    voice_twilio_str(&w, "\"}");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_build_media(uint8_t *out, size_t cap, const char *stream_sid,
    unsigned long seq, unsigned long chunk, unsigned long timestamp,
    const uint8_t *b64, size_t b64_len)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);

    voice_twilio_str(&w, "{\"event\":\"media\",\"sequenceNumber\":\"");
    voice_twilio_ulong(&w, seq);
    voice_twilio_str(&w, "\",\"media\":{\"track\":\"inbound\",\"chunk\":\"");
    voice_twilio_ulong(&w, chunk);
    voice_twilio_str(&w, "\",\"timestamp\":\"");
    voice_twilio_ulong(&w, timestamp);
    voice_twilio_str(&w, "\",\"payload\":\"");
    voice_twilio_raw(&w, (const char *) b64, b64_len);
    voice_twilio_str(&w, "\"},\"streamSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) stream_sid, strlen(stream_sid));
    voice_twilio_str(&w, "\"}");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_build_mark(uint8_t *out, size_t cap, const char *stream_sid,
    unsigned long seq, const char *name)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);

    voice_twilio_str(&w, "{\"event\":\"mark\",\"sequenceNumber\":\"");
    voice_twilio_ulong(&w, seq);
    voice_twilio_str(&w, "\",\"streamSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) stream_sid, strlen(stream_sid));
    voice_twilio_str(&w, "\",\"mark\":{\"name\":\"");
    voice_twilio_esc(&w, (const uint8_t *) name, strlen(name));
    voice_twilio_str(&w, "\"}}");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_build_dtmf(uint8_t *out, size_t cap, const char *stream_sid,
    unsigned long seq, char digit)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);

    voice_twilio_str(&w, "{\"event\":\"dtmf\",\"sequenceNumber\":\"");
    voice_twilio_ulong(&w, seq);
    voice_twilio_str(&w, "\",\"streamSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) stream_sid, strlen(stream_sid));
    voice_twilio_str(&w, "\",\"dtmf\":{\"track\":\"inbound_track\","
                         "\"digit\":\"");
    voice_twilio_esc(&w, (const uint8_t *) &digit, 1);
    voice_twilio_str(&w, "\"}}");

    return voice_twilio_done(&w, out);
}


size_t
voice_twilio_build_stop(uint8_t *out, size_t cap, const char *stream_sid,
    const char *call_sid, const char *account_sid, unsigned long seq)
{
    voice_twilio_writer_t  w;

    voice_twilio_writer(&w, out, cap);

    voice_twilio_str(&w, "{\"event\":\"stop\",\"sequenceNumber\":\"");
    voice_twilio_ulong(&w, seq);
    voice_twilio_str(&w, "\",\"streamSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) stream_sid, strlen(stream_sid));
    voice_twilio_str(&w, "\",\"stop\":{\"accountSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) account_sid, strlen(account_sid));
    voice_twilio_str(&w, "\",\"callSid\":\"");
    voice_twilio_esc(&w, (const uint8_t *) call_sid, strlen(call_sid));
    voice_twilio_str(&w, "\"}}");

    return voice_twilio_done(&w, out);
}

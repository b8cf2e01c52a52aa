/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_json.h"
#include "voice_utf8.h"


typedef struct {
    voice_json_walk_t   *w;
    voice_json_walk_pt   scalar;
    void                *ctx;
} voice_json_walk_ctx_t;


/*
 * The event reader: which event the "type" read so far names (or none
 * yet, or one not in the table), and which events had a text before it.
 */

#define VOICE_JSON_EVENT_UNKNOWN  -1    /* a type not in the table */
#define VOICE_JSON_EVENT_NONE     -2    /* no type yet */

typedef struct {
    const voice_json_event_t  *events;
    size_t                     n;
    long                       event;
    int                        forced;      /* the event is known: walk 2 */
    int                        again;       /* walk 2 is needed */
    uint32_t                   early;       /* events with a text before */
    int                        rank;        /* of the text in text */
    voice_json_walk_pt         scalar;
    void                      *ctx;
    uint8_t                   *text;
    size_t                     cap;
    size_t                     len;
} voice_json_event_reader_t;


static void voice_json_walk_element(voice_json_walk_t *w);
static int voice_json_walk_report(void *ctx, int type, const uint8_t *s,
    size_t len);
static int voice_json_walk_null(void *ctx);
static int voice_json_walk_bool(void *ctx, int b);
static int voice_json_walk_number(void *ctx, const char *s, size_t len);
static int voice_json_walk_string(void *ctx, const unsigned char *s,
    size_t len);
static int voice_json_walk_open(void *ctx, int array);
static int voice_json_walk_start_map(void *ctx);
static int voice_json_walk_start_array(void *ctx);
static int voice_json_walk_key(void *ctx, const unsigned char *s,
    size_t len);
static int voice_json_walk_end(void *ctx);
static void voice_json_take(voice_json_reader_t *r, const uint8_t *s,
    size_t len);
static long voice_json_event_find(voice_json_event_reader_t *r,
    const uint8_t *s, size_t len);
static void voice_json_event_scalar(void *ctx, const voice_json_walk_t *w,
    int type, const uint8_t *s, size_t len);


static const char *const  voice_json_error_path[] = {
    "error", "message", NULL
};


static const yajl_callbacks  voice_json_walk_callbacks = {
    voice_json_walk_null,
    voice_json_walk_bool,
    NULL,
    NULL,
    voice_json_walk_number,
    voice_json_walk_string,
    voice_json_walk_start_map,
    voice_json_walk_key,
    voice_json_walk_end,
    voice_json_walk_start_array,
    voice_json_walk_end
};


size_t
voice_json_escape(uint8_t *out, const uint8_t *in, size_t len)
{
    size_t          n, k;
    uint8_t         c;
    const uint8_t  *p, *end;
    static const char  hex[] = "0123456789abcdef";

    n = 0;
    p = in;
    end = in + len;

    while (p < end) {
        c = *p;

        if (c >= 0x80) {
            k = voice_utf8_seq_len(p, end - p);

            if (k == 0) {
                /* not UTF-8: U+FFFD */
                if (out) {
                    memcpy(out + n, "\xef\xbf\xbd", 3);
                }

                n += 3;
                p++;
                continue;
            }

            if (out) {
                memcpy(out + n, p, k);
            }

            n += k;
            p += k;
            continue;
        }

        if (c == '"' || c == '\\') {
            if (out) {
                out[n] = '\\';
                out[n + 1] = c;
            }

            n += 2;

        } else if (c < 0x20) {
            if (out) {
                out[n] = '\\';

                switch (c) {
                case '\n': out[n + 1] = 'n'; break;
                case '\r': out[n + 1] = 'r'; break;
                case '\t': out[n + 1] = 't'; break;
                case '\b': out[n + 1] = 'b'; break;
                case '\f': out[n + 1] = 'f'; break;
                default:
                    memcpy(out + n + 1, "u00", 3);
                    out[n + 4] = hex[c >> 4];
                    out[n + 5] = hex[c & 0x0f];
                }
            }

            n += (c == '\n' || c == '\r' || c == '\t' || c == '\b'
                  || c == '\f') ? 2 : 6;

        } else {
            if (out) {
                out[n] = c;
            }

            n++;
        }

        p++;
    }

    return n;
}


size_t
voice_json_put(uint8_t *out, size_t at, const uint8_t *in, size_t len)
{
    return voice_json_escape(out ? out + at : NULL, in, len);
}


static void
voice_json_take(voice_json_reader_t *r, const uint8_t *s, size_t len)
{
    size_t  n;

    n = r->cap - r->len;
    n = len < n ? len : n;

    memcpy(r->text + r->len, s, n);
    r->len += n;
    r->found = 1;
}


void
voice_json_reader_scalar(void *ctx, const voice_json_walk_t *w, int type,
    const uint8_t *s, size_t len)
{
    voice_json_reader_t  *r = ctx;

    if (type != VOICE_JSON_WALK_STRING) {
        return;
    }

    if (voice_json_walk_at(w, voice_json_error_path)) {
        r->error = 1;
        r->len = 0;
        voice_json_take(r, s, len);
        return;
    }

    if (voice_json_walk_at(w, r->path)) {
        voice_json_take(r, s, len);
    }
}


int
voice_json_reply(const uint8_t *data, size_t len, const char *const *path,
    uint8_t *text, size_t cap, size_t *text_len, const yajl_alloc_funcs *af)
{
    int                  ok;
    voice_json_walk_t    w;
    voice_json_reader_t  r;

    memset(&r, 0, sizeof(r));
    r.path = path;
    r.text = text;
    r.cap = cap;

    ok = voice_json_walk(data, len, voice_json_reader_scalar, &r, &w, af);

    *text_len = r.len;

    return voice_json_reader_result(&r, ok);
}


int
voice_json_reader_result(const voice_json_reader_t *r, int ok)
{
    if (!ok) {
        return VOICE_JSON_INVALID;
    }

    if (r->error) {
        return VOICE_JSON_ERROR;
    }

    return r->found && r->len ? VOICE_JSON_TEXT : VOICE_JSON_NONE;
}


int
voice_json_walk(const uint8_t *data, size_t len, voice_json_walk_pt scalar,
    void *ctx, voice_json_walk_t *w, const yajl_alloc_funcs *af)
{
    yajl_handle            h;
    yajl_status            st;
    voice_json_walk_ctx_t  c;

    memset(w, 0, sizeof(*w));

    c.w = w;
    c.scalar = scalar;
    c.ctx = ctx;

    h = yajl_alloc(&voice_json_walk_callbacks, (yajl_alloc_funcs *) af, &c);
    if (h == NULL) {
        return 0;
    }

    st = yajl_parse(h, data, len);

    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
    }

    yajl_free(h);

    return st == yajl_status_ok;
}


int
voice_json_walk_at(const voice_json_walk_t *w, const char *const *path)
{
    int     d;
    size_t  n;

    for (d = 1; d <= w->depth; d++) {
        if (path[d - 1] == NULL) {
            return 0;
        }

        if (strcmp(path[d - 1], VOICE_JSON_FIRST) == 0) {
            if (!w->array[d] || w->index[d] != 0) {
                return 0;
            }

            continue;
        }

        n = strlen(path[d - 1]);

        if (w->array[d] || w->key_len[d] != n || n > VOICE_JSON_WALK_KEY
            || memcmp(w->key[d], path[d - 1], n) != 0)
        {
            return 0;
        }
    }

    return path[w->depth] == NULL;
}


/* a value at the current depth: the next element of an array */

static void
voice_json_walk_element(voice_json_walk_t *w)
{
    if (w->depth > 0 && w->array[w->depth]) {
        w->index[w->depth]++;
    }
}


static int
voice_json_walk_report(void *ctx, int type, const uint8_t *s, size_t len)
{
    voice_json_walk_ctx_t  *c = ctx;

    voice_json_walk_element(c->w);

    c->scalar(c->ctx, c->w, type, s, len);

    return 1;
}


static int
voice_json_walk_null(void *ctx)
{
    return voice_json_walk_report(ctx, VOICE_JSON_WALK_NULL,
                                  (const uint8_t *) "null", 4);
}


static int
voice_json_walk_bool(void *ctx, int b)
{
    return voice_json_walk_report(ctx, VOICE_JSON_WALK_BOOL,
                                  (const uint8_t *) (b ? "true" : "false"),
                                  b ? 4 : 5);
}


static int
voice_json_walk_number(void *ctx, const char *s, size_t len)
{
    return voice_json_walk_report(ctx, VOICE_JSON_WALK_NUMBER,
                                  (const uint8_t *) s, len);
}


/*
 * yajl checks only the shape of a string's sequences: overlong forms,
 * surrogates and code points beyond U+10FFFF pass it, and would reach
 * the transcript, the log and a cut that knows them as no sequence
 */

static int
voice_json_walk_string(void *ctx, const unsigned char *s, size_t len)
{
    if (!voice_utf8_valid(s, len)) {
        return 0;
    }

    return voice_json_walk_report(ctx, VOICE_JSON_WALK_STRING, s, len);
}


static int
voice_json_walk_open(void *ctx, int array)
{
    voice_json_walk_ctx_t  *c = ctx;
    voice_json_walk_t      *w = c->w;

    voice_json_walk_element(w);

    if (w->depth == 0) {
        w->top = array ? VOICE_JSON_WALK_ARRAY : VOICE_JSON_WALK_OBJECT;
    }

    if (++w->depth >= VOICE_JSON_WALK_DEPTH) {
        return 0;
    }

    w->array[w->depth] = (uint8_t) array;
    w->index[w->depth] = -1;
    w->key_len[w->depth] = 0;

    return 1;
}


static int
voice_json_walk_start_map(void *ctx)
{
    return voice_json_walk_open(ctx, 0);
}


static int
voice_json_walk_start_array(void *ctx)
{
    return voice_json_walk_open(ctx, 1);
}


/* a key too long to keep is kept as its length, which no path matches */

static int
voice_json_walk_key(void *ctx, const unsigned char *s, size_t len)
{
    voice_json_walk_ctx_t  *c = ctx;
    voice_json_walk_t      *w = c->w;

    if (!voice_utf8_valid(s, len)) {
        return 0;
    }

    memcpy(w->key[w->depth], s,
           len < VOICE_JSON_WALK_KEY ? len : VOICE_JSON_WALK_KEY);
    w->key_len[w->depth] = len;

    return 1;
}


static int
voice_json_walk_end(void *ctx)
{
    voice_json_walk_ctx_t  *c = ctx;

    c->w->depth--;

    return 1;
}


int
voice_json_walk_top(const voice_json_walk_t *w, const char *name)
{
    size_t  n;

    n = strlen(name);

    return w->depth == 1 && !w->array[1] && w->key_len[1] == n
           && n <= VOICE_JSON_WALK_KEY && memcmp(w->key[1], name, n) == 0;
}


int
voice_json_event(const uint8_t *data, size_t len,
    const voice_json_event_t *events, size_t n, voice_json_walk_pt scalar,
    void *ctx, uint8_t *text, size_t cap, size_t *text_len,
    const yajl_alloc_funcs *af)
{
    size_t                     i;
    voice_json_walk_t          w;
    voice_json_event_reader_t  r;

    memset(&r, 0, sizeof(r));
    r.events = events;
    r.n = n < VOICE_JSON_EVENT_MAX ? n : VOICE_JSON_EVENT_MAX;
    r.event = VOICE_JSON_EVENT_NONE;
    r.rank = VOICE_JSON_EVENT_TEXTS;
    r.scalar = scalar;
    r.ctx = ctx;
    r.text = text;
    r.cap = cap;

    *text_len = 0;

    if (!voice_json_walk(data, len, voice_json_event_scalar, &r, &w, af)
        || w.top != VOICE_JSON_WALK_OBJECT)
    {
        return VOICE_JSON_EVENT_INVALID;
    }

    /* no type: the first typeless event whose text the message has */

    for (i = 0; i < r.n && r.event == VOICE_JSON_EVENT_NONE; i++) {
        if (events[i].type == NULL && (r.early & (1u << i))) {
            r.event = (long) i;
        }
    }

    if (r.event < 0) {
        return VOICE_JSON_EVENT_OTHER;
    }

    if (r.again || (r.early & (1u << r.event))) {
        r.forced = 1;
        r.len = 0;
        r.rank = VOICE_JSON_EVENT_TEXTS;

        (void) voice_json_walk(data, len, voice_json_event_scalar, &r, &w,
                               af);
    }

    *text_len = r.len;

    return events[r.event].code;
}


static long
voice_json_event_find(voice_json_event_reader_t *r, const uint8_t *s,
    size_t len)
{
    size_t       i;
    const char  *t;

    for (i = 0; i < r->n; i++) {
        t = r->events[i].type;

        if (t && strlen(t) == len && memcmp(t, s, len) == 0) {
            return (long) i;
        }
    }

    return VOICE_JSON_EVENT_UNKNOWN;
}


static void
voice_json_event_scalar(void *ctx, const voice_json_walk_t *w, int type,
    const uint8_t *s, size_t len)
{
    int                         j;
    long                        e;
    size_t                      i;
    voice_json_event_reader_t  *r = ctx;
    const char *const *const   *paths;

    if (r->scalar) {
        r->scalar(r->ctx, w, type, s, len);
    }

    if (type != VOICE_JSON_WALK_STRING) {
        return;
    }

    if (voice_json_walk_top(w, "type")) {
        e = voice_json_event_find(r, s, len);

        /* a second type that differs: only a second walk can tell */

        if (r->event != VOICE_JSON_EVENT_NONE && r->event != e) {
            r->again = 1;
        }

        if (!r->forced) {
            r->event = e;
        }

        return;
    }

    /* no type yet: note whose text this could be */

    if (r->event == VOICE_JSON_EVENT_NONE) {
        for (i = 0; i < r->n; i++) {
            paths = r->events[i].text;

            for (j = 0; j < VOICE_JSON_EVENT_TEXTS; j++) {
                if (paths[j] && voice_json_walk_at(w, paths[j])) {
                    r->early |= 1u << i;
                }
            }
        }

        return;
    }

    if (r->event < 0) {
        return;
    }

    paths = r->events[r->event].text;

    for (j = 0; j < r->rank && paths[j]; j++) {
        if (voice_json_walk_at(w, paths[j])) {
            r->rank = j;
            r->len = voice_utf8_cut(s, len, r->cap);

            if (r->len) {
                memcpy(r->text, s, r->len);
            }

            return;
        }
    }
}

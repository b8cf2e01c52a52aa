/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_json.h"
#include "voice_utf8.h"


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


/*
 * The reply reader follows where each open object and array sits: for
 * an array, how many elements it has had; for an object, whether its
 * current key is the one the path or the error object's path names at
 * that depth.
 */

#define VOICE_JSON_DEPTH     8

#define VOICE_JSON_ON_PATH   1
#define VOICE_JSON_ON_ERROR  2


typedef struct {
    const char *const  *path;
    size_t              path_len;
    int                 depth;
    uint8_t             array[VOICE_JSON_DEPTH];
    int                 index[VOICE_JSON_DEPTH];
    uint8_t             key[VOICE_JSON_DEPTH];
    int                 error;
    int                 found;
    uint8_t            *text;
    size_t              cap;
    size_t              len;
} voice_json_reader_t;


static const char *const  voice_json_error_path[] = {
    "error", "message", NULL
};


/* a value at the current depth: the next element of an array */

static void
voice_json_element(voice_json_reader_t *r)
{
    if (r->depth > 0 && r->array[r->depth]) {
        r->index[r->depth]++;
    }
}


static int
voice_json_open(void *ctx, int array)
{
    voice_json_reader_t  *r = ctx;

    voice_json_element(r);

    if (++r->depth >= VOICE_JSON_DEPTH) {
        return 0;
    }

    r->array[r->depth] = (uint8_t) array;
    r->index[r->depth] = -1;
    r->key[r->depth] = 0;

    return 1;
}


static int
voice_json_start_map(void *ctx)
{
    return voice_json_open(ctx, 0);
}


static int
voice_json_start_array(void *ctx)
{
    return voice_json_open(ctx, 1);
}


static int
voice_json_end(void *ctx)
{
    voice_json_reader_t  *r = ctx;

    r->depth--;

    return 1;
}


static int
voice_json_is(const char *const *path, size_t path_len, int depth,
    const unsigned char *s, size_t len)
{
    const char  *k;

    if ((size_t) depth > path_len) {
        return 0;
    }

    k = path[depth - 1];

    return strlen(k) == len && memcmp(k, s, len) == 0;
}


static int
voice_json_key(void *ctx, const unsigned char *s, size_t len)
{
    voice_json_reader_t  *r = ctx;

    r->key[r->depth] = 0;

    if (voice_json_is(r->path, r->path_len, r->depth, s, len)) {
        r->key[r->depth] |= VOICE_JSON_ON_PATH;
    }

    if (voice_json_is(voice_json_error_path, 2, r->depth, s, len)) {
        r->key[r->depth] |= VOICE_JSON_ON_ERROR;
    }

    return 1;
}


/* the current depth is exactly where path leads */

static int
voice_json_at(voice_json_reader_t *r, const char *const *path,
    size_t path_len, int on)
{
    int  d;

    if ((size_t) r->depth != path_len) {
        return 0;
    }

    for (d = 1; d <= r->depth; d++) {
        if (strcmp(path[d - 1], VOICE_JSON_FIRST) == 0) {
            if (!r->array[d] || r->index[d] != 0) {
                return 0;
            }

        } else if (!(r->key[d] & on)) {
            return 0;
        }
    }

    return 1;
}


static void
voice_json_take(voice_json_reader_t *r, const unsigned char *s, size_t len)
{
    size_t  n;

    n = r->cap - r->len;
    n = len < n ? len : n;

    memcpy(r->text + r->len, s, n);
    r->len += n;
    r->found = 1;
}


static int
voice_json_string(void *ctx, const unsigned char *s, size_t len)
{
    voice_json_reader_t  *r = ctx;

    voice_json_element(r);

    if (voice_json_at(r, voice_json_error_path, 2, VOICE_JSON_ON_ERROR)) {
        r->error = 1;
        r->len = 0;
        voice_json_take(r, s, len);
        return 1;
    }

    if (voice_json_at(r, r->path, r->path_len, VOICE_JSON_ON_PATH)) {
        voice_json_take(r, s, len);
    }

    return 1;
}


static int
voice_json_scalar(void *ctx)
{
    voice_json_element(ctx);

    return 1;
}


static int
voice_json_number(void *ctx, const char *s, size_t len)
{
    (void) s;
    (void) len;

    return voice_json_scalar(ctx);
}


static int
voice_json_bool(void *ctx, int b)
{
    (void) b;

    return voice_json_scalar(ctx);
}


static const yajl_callbacks  voice_json_callbacks = {
    voice_json_scalar,
    voice_json_bool,
    NULL,
    NULL,
    voice_json_number,
    voice_json_string,
    voice_json_start_map,
    voice_json_key,
    voice_json_end,
    voice_json_start_array,
    voice_json_end
};


int
voice_json_reply(const uint8_t *data, size_t len, const char *const *path,
    uint8_t *text, size_t cap, size_t *text_len, const yajl_alloc_funcs *af)
{
    yajl_handle          h;
    yajl_status          st;
    voice_json_reader_t  r;

    memset(&r, 0, sizeof(r));
    r.path = path;
    r.text = text;
    r.cap = cap;

    while (path[r.path_len]) {
        r.path_len++;
    }

    *text_len = 0;

    h = yajl_alloc(&voice_json_callbacks, (yajl_alloc_funcs *) af, &r);
    if (h == NULL) {
        return VOICE_JSON_INVALID;
    }

    st = yajl_parse(h, data, len);

    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
    }

    yajl_free(h);

    *text_len = r.len;

    if (st != yajl_status_ok) {
        return VOICE_JSON_INVALID;
    }

    if (r.error) {
        return VOICE_JSON_ERROR;
    }

    return r.found && r.len ? VOICE_JSON_TEXT : VOICE_JSON_NONE;
}

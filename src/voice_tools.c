/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "voice_buf.h"
#include "voice_json.h"
#include "voice_tools.h"


/* what a value is, as the reader sees it start */
#define VOICE_TOOLS_SCALAR   0
#define VOICE_TOOLS_STRING   1
#define VOICE_TOOLS_OBJECT   2
#define VOICE_TOOLS_ARRAY    3

/* keys longer than this are kept by their length only: none we read */
#define VOICE_TOOLS_KEY      16


/*
 * The reader of a tools file (or of one JSON object, for arguments):
 * depth counts the containers open; the top array is depth 1, a tool's
 * object 2, its "function" object 3.
 */

typedef struct {
    voice_tools_file_t  *tf;                /* NULL: one object only */
    int                  depth;
    int                  failed;
    size_t               tool;              /* from 1, for messages */
    char                 key[4][VOICE_TOOLS_KEY];
    size_t               key_len[4];
    unsigned             typed:1;
    unsigned             function:1;
    unsigned             named:1;
    char                 name[VOICE_TOOL_NAME_MAX + 1];
} voice_tools_reader_t;


typedef struct {
    const char          *key;
    uint8_t             *out;
    size_t               cap;
    size_t               len;
    int                  found;
} voice_tools_member_t;


static int voice_tools_parse(const uint8_t *data, size_t len,
    voice_tools_reader_t *r, const yajl_alloc_funcs *af);
static int voice_tools_value(voice_tools_reader_t *r, int kind,
    const uint8_t *s, size_t len);
static int voice_tools_fail(voice_tools_reader_t *r, const char *what);
static int voice_tools_key_is(voice_tools_reader_t *r, int depth,
    const char *key);
static int voice_tools_tool_end(voice_tools_reader_t *r);
static int voice_tools_null(void *ctx);
static int voice_tools_bool(void *ctx, int b);
static int voice_tools_number(void *ctx, const char *s, size_t len);
static int voice_tools_string(void *ctx, const unsigned char *s,
    size_t len);
static int voice_tools_open(voice_tools_reader_t *r, int kind);
static int voice_tools_start_map(void *ctx);
static int voice_tools_map_key(void *ctx, const unsigned char *s,
    size_t len);
static int voice_tools_end_map(void *ctx);
static int voice_tools_start_array(void *ctx);
static int voice_tools_end_array(void *ctx);
static void voice_tools_member_scalar(void *ctx, const voice_json_walk_t *w,
    int type, const uint8_t *s, size_t len);
static void *voice_tools_alloc(const yajl_alloc_funcs *af, void *p,
    size_t size);
static void voice_tools_free(const yajl_alloc_funcs *af, void *p);
static void voice_tools_append(uint8_t *field, size_t *field_len,
    size_t cap, const uint8_t *s, size_t len, unsigned *cut);


static const yajl_callbacks  voice_tools_callbacks = {
    voice_tools_null,
    voice_tools_bool,
    NULL,
    NULL,
    voice_tools_number,
    voice_tools_string,
    voice_tools_start_map,
    voice_tools_map_key,
    voice_tools_end_map,
    voice_tools_start_array,
    voice_tools_end_array
};


/*
 * The built-ins, described to the model in words that say when the call
 * really ends or moves: once what it says before has been heard.
 */

static const char  voice_tools_end_call[] =
    "{\"type\":\"function\",\"function\":{\"name\":\"" VOICE_TOOL_END_CALL
    "\",\"description\":\"Ends the phone call. Say goodbye in the same "
    "reply: the call ends once your last words have been heard.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{}}}}";

static const char  voice_tools_transfer_head[] =
    "{\"type\":\"function\",\"function\":{\"name\":\""
    VOICE_TOOL_TRANSFER_CALL "\",\"description\":\"Transfers the call to "
    "a person. Tell the caller in the same reply: the transfer starts "
    "once your words have been heard.\",\"parameters\":{\"type\":"
    "\"object\",\"properties\":{\"destination\":{\"type\":\"string\","
    "\"description\":\"Who takes the call.\",\"enum\":[";

static const char  voice_tools_transfer_tail[] =
    "]}},\"required\":[\"destination\"]}}}";


int
voice_tools_check(const uint8_t *data, size_t len, voice_tools_file_t *tf,
    const yajl_alloc_funcs *af)
{
    size_t                s, e;
    voice_tools_reader_t  r;

    memset(tf, 0, sizeof(voice_tools_file_t));
    memset(&r, 0, sizeof(voice_tools_reader_t));
    r.tf = tf;

    if (!voice_tools_parse(data, len, &r, af)) {
        if (!r.failed) {
            snprintf(tf->error, sizeof(tf->error), "is not valid JSON");
        }

        return -1;
    }

    /* valid JSON whose value is an array: "[" first, "]" last */

    for (s = 0; data[s] != '['; s++) { /* void */ }
    for (e = len; data[e - 1] != ']'; e--) { /* void */ }

    tf->start = s + 1;
    tf->end = e - 1;

    if (tf->n == 0) {
        tf->start = tf->end;
    }

    return 0;
}


int
voice_tools_declared(const voice_tools_file_t *tf, const uint8_t *name,
    size_t len)
{
    size_t  i;

    for (i = 0; i < tf->n; i++) {
        if (strlen(tf->names[i]) == len
            && memcmp(tf->names[i], name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
voice_tools_object(const uint8_t *data, size_t len,
    const yajl_alloc_funcs *af)
{
    voice_tools_reader_t  r;

    memset(&r, 0, sizeof(voice_tools_reader_t));

    return voice_tools_parse(data, len, &r, af);
}


static int
voice_tools_parse(const uint8_t *data, size_t len, voice_tools_reader_t *r,
    const yajl_alloc_funcs *af)
{
    yajl_handle  h;
    yajl_status  st;

    h = yajl_alloc(&voice_tools_callbacks, (yajl_alloc_funcs *) af, r);
    if (h == NULL) {
        return 0;
    }

    st = yajl_parse(h, data, len);

    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
    }

    yajl_free(h);

    return st == yajl_status_ok && !r->failed;
}


/* a value starts at the current depth: is it one a tools file may have */

static int
voice_tools_value(voice_tools_reader_t *r, int kind, const uint8_t *s,
    size_t len)
{
    if (r->depth == 0) {
        if (r->tf == NULL) {
            return kind == VOICE_TOOLS_OBJECT
                   || voice_tools_fail(r, "is not a JSON object");
        }

        return kind == VOICE_TOOLS_ARRAY
               || voice_tools_fail(r, "is not a JSON array");
    }

    if (r->tf == NULL) {
        return 1;
    }

    if (r->depth == 1) {
        r->tool++;
        r->typed = 0;
        r->function = 0;
        r->named = 0;

        return kind == VOICE_TOOLS_OBJECT
               || voice_tools_fail(r, "is not an object");
    }

    if (r->depth == 2) {
        if (voice_tools_key_is(r, 2, "type")) {
            r->typed = (kind == VOICE_TOOLS_STRING && len == 8
                        && memcmp(s, "function", 8) == 0);

            return r->typed
                   || voice_tools_fail(r, "has a \"type\" other than "
                                          "\"function\"");
        }

        if (voice_tools_key_is(r, 2, "function")) {
            r->function = 1;

            return kind == VOICE_TOOLS_OBJECT
                   || voice_tools_fail(r, "has a \"function\" that is not "
                                          "an object");
        }

        return 1;
    }

    if (r->depth != 3 || !voice_tools_key_is(r, 2, "function")) {
        return 1;
    }

    if (voice_tools_key_is(r, 3, "name")) {
        if (kind != VOICE_TOOLS_STRING || !voice_tools_name_valid(s, len)) {
            return voice_tools_fail(r, "has a name that is not 1 to 64 of "
                                       "a-z, A-Z, 0-9, _ and -");
        }

        memcpy(r->name, s, len);
        r->name[len] = '\0';
        r->named = 1;

        return 1;
    }

    if (voice_tools_key_is(r, 3, "parameters")) {
        return kind == VOICE_TOOLS_OBJECT
               || voice_tools_fail(r, "has \"parameters\" that are not an "
                                      "object");
    }

    if (voice_tools_key_is(r, 3, "description")) {
        return kind == VOICE_TOOLS_STRING
               || voice_tools_fail(r, "has a \"description\" that is not a "
                                      "string");
    }

    return 1;
}


static int
voice_tools_fail(voice_tools_reader_t *r, const char *what)
{
    if (r->tf) {
        if (r->tool) {
            snprintf(r->tf->error, sizeof(r->tf->error), "tool %zu %s",
                     r->tool, what);

        } else {
            snprintf(r->tf->error, sizeof(r->tf->error), "%s", what);
        }
    }

    r->failed = 1;

    return 0;
}


static int
voice_tools_key_is(voice_tools_reader_t *r, int depth, const char *key)
{
    size_t  n;

    n = strlen(key);

    return r->key_len[depth] == n && memcmp(r->key[depth], key, n) == 0;
}


int
voice_tools_name_valid(const uint8_t *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > VOICE_TOOL_NAME_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* a tool's object closes: it must have said all a function needs */

static int
voice_tools_tool_end(voice_tools_reader_t *r)
{
    voice_tools_file_t  *tf = r->tf;

    if (!r->typed) {
        return voice_tools_fail(r, "has no \"type\": \"function\"");
    }

    if (!r->function || !r->named) {
        return voice_tools_fail(r, "has no \"function\" with a \"name\"");
    }

    if (voice_tools_declared(tf, (uint8_t *) r->name, strlen(r->name))) {
        return voice_tools_fail(r, "has a name an earlier tool has");
    }

    if (tf->n == VOICE_TOOLS_MAX) {
        return voice_tools_fail(r, "is one too many: 64 at the most");
    }

    memcpy(tf->names[tf->n++], r->name, sizeof(r->name));

    return 1;
}


static int
voice_tools_null(void *ctx)
{
    return voice_tools_value(ctx, VOICE_TOOLS_SCALAR, NULL, 0);
}


static int
voice_tools_bool(void *ctx, int b)
{
    (void) b;

    return voice_tools_value(ctx, VOICE_TOOLS_SCALAR, NULL, 0);
}


static int
voice_tools_number(void *ctx, const char *s, size_t len)
{
    (void) s;
    (void) len;

    return voice_tools_value(ctx, VOICE_TOOLS_SCALAR, NULL, 0);
}


static int
voice_tools_string(void *ctx, const unsigned char *s, size_t len)
{
    return voice_tools_value(ctx, VOICE_TOOLS_STRING, s, len);
}


static int
voice_tools_open(voice_tools_reader_t *r, int kind)
{
    if (!voice_tools_value(r, kind, NULL, 0)) {
        return 0;
    }

    if (++r->depth > VOICE_TOOLS_DEPTH) {
        return voice_tools_fail(r, "is nested more than 32 deep");
    }

    if (r->depth < 4) {
        r->key_len[r->depth] = 0;
    }

    return 1;
}


static int
voice_tools_start_map(void *ctx)
{
    return voice_tools_open(ctx, VOICE_TOOLS_OBJECT);
}


static int
voice_tools_start_array(void *ctx)
{
    return voice_tools_open(ctx, VOICE_TOOLS_ARRAY);
}


static int
voice_tools_map_key(void *ctx, const unsigned char *s, size_t len)
{
    voice_tools_reader_t  *r = ctx;

    if (r->depth < 4) {
        memcpy(r->key[r->depth], s,
               len < VOICE_TOOLS_KEY ? len : VOICE_TOOLS_KEY);
        r->key_len[r->depth] = len;
    }

    return 1;
}


static int
voice_tools_end_map(void *ctx)
{
    voice_tools_reader_t  *r = ctx;

    if (r->tf && r->depth == 2 && !voice_tools_tool_end(r)) {
        return 0;
    }

    r->depth--;

    return 1;
}


static int
voice_tools_end_array(void *ctx)
{
    voice_tools_reader_t  *r = ctx;

    r->depth--;

    return 1;
}


size_t
voice_tools_offer(uint8_t *out, const uint8_t *data,
    const voice_tools_file_t *tf, int end_call,
    const voice_tools_name_t *dest, size_t n)
{
    size_t  i, len, items;

    len = voice_buf_str(out, 0, "[");
    items = 0;

    if (data && tf->end > tf->start) {
        len += voice_buf_mem(out, len, data + tf->start, tf->end - tf->start);
        items++;
    }

    if (end_call) {
        len += voice_buf_str(out, len, items++ ? "," : "");
        len += voice_buf_str(out, len, voice_tools_end_call);
    }

    if (n) {
        len += voice_buf_str(out, len, items++ ? "," : "");
        len += voice_buf_str(out, len, voice_tools_transfer_head);

        for (i = 0; i < n; i++) {
            len += voice_buf_str(out, len, i ? ",\"" : "\"");
            len += voice_json_put(out, len, dest[i].name, dest[i].len);
            len += voice_buf_str(out, len, "\"");
        }

        len += voice_buf_str(out, len, voice_tools_transfer_tail);
    }

    len += voice_buf_str(out, len, "]");

    return len;
}


int
voice_tools_member(const uint8_t *data, size_t len, const char *key,
    uint8_t *out, size_t cap, size_t *out_len, const yajl_alloc_funcs *af)
{
    voice_json_walk_t     w;
    voice_tools_member_t  m;

    memset(&m, 0, sizeof(voice_tools_member_t));
    m.key = key;
    m.out = out;
    m.cap = cap;

    *out_len = 0;

    if (!voice_json_walk(data, len, voice_tools_member_scalar, &m, &w, af)
        || w.top != VOICE_JSON_WALK_OBJECT || !m.found)
    {
        return 0;
    }

    *out_len = m.len;

    return 1;
}


static void
voice_tools_member_scalar(void *ctx, const voice_json_walk_t *w, int type,
    const uint8_t *s, size_t len)
{
    voice_tools_member_t  *m = ctx;

    if (type == VOICE_JSON_WALK_STRING && voice_json_walk_top(w, m->key)) {
        m->len = len < m->cap ? len : m->cap;
        memcpy(m->out, s, m->len);
        m->found = 1;
    }
}


void
voice_tool_calls_init(voice_tool_calls_t *tc, const yajl_alloc_funcs *af)
{
    memset(tc, 0, sizeof(voice_tool_calls_t));
    tc->af = af;
}


void
voice_tool_calls_add(voice_tool_calls_t *tc, size_t index, int field,
    const uint8_t *s, size_t len)
{
    size_t              size;
    uint8_t            *p;
    voice_tool_call_t  *c;

    if (index >= VOICE_TOOL_CALLS_MAX) {
        tc->dropped = 1;
        return;
    }

    c = &tc->calls[index];

    if (index >= tc->n) {
        tc->n = index + 1;
    }

    switch (field) {

    case VOICE_TOOL_ID:
        if (len != c->id_len || memcmp(c->id, s, len) != 0) {
            voice_tools_append(c->id, &c->id_len, VOICE_TOOL_ID_MAX, s, len,
                               &c->cut);
        }

        return;

    case VOICE_TOOL_NAME:
        if (len != c->name_len || memcmp(c->name, s, len) != 0) {
            voice_tools_append(c->name, &c->name_len, VOICE_TOOL_NAME_MAX, s,
                               len, &c->cut);
        }

        return;
    }

    if (len == 0) {
        return;
    }

    if (c->args_len + len > VOICE_TOOL_ARGS_MAX) {
        c->cut = 1;
        return;
    }

    if (c->args_len + len > c->args_size) {
        size = c->args_size ? c->args_size * 2 : 256;

        while (size < c->args_len + len) {
            size *= 2;
        }

        p = voice_tools_alloc(tc->af, c->args, size);
        if (p == NULL) {
            tc->nomem = 1;
            return;
        }

        c->args = p;
        c->args_size = size;
    }

    memcpy(c->args + c->args_len, s, len);
    c->args_len += len;
}


static void
voice_tools_append(uint8_t *field, size_t *field_len, size_t cap,
    const uint8_t *s, size_t len, unsigned *cut)
{
    if (*field_len + len > cap) {
        *cut = 1;
        return;
    }

    memcpy(field + *field_len, s, len);
    *field_len += len;
}


size_t
voice_tool_calls_end(voice_tool_calls_t *tc)
{
    size_t              i, k;
    voice_tool_call_t  *c;

    k = 0;

    for (i = 0; i < tc->n; i++) {
        c = &tc->calls[i];

        if (c->name_len == 0 && c->id_len == 0 && c->args_len == 0
            && !c->cut)
        {
            voice_tools_free(tc->af, c->args);
            continue;
        }

        if (c->id_len == 0) {
            c->id_len = snprintf((char *) c->id, sizeof(c->id), "call_%zu",
                                 i);
        }

        if (k != i) {
            tc->calls[k] = *c;
        }

        k++;
    }

    for (i = k; i < tc->n; i++) {
        memset(&tc->calls[i], 0, sizeof(voice_tool_call_t));
    }

    tc->n = k;

    return k;
}


void
voice_tool_calls_reset(voice_tool_calls_t *tc)
{
    size_t  i;

    for (i = 0; i < tc->n; i++) {
        voice_tools_free(tc->af, tc->calls[i].args);
    }

    voice_tool_calls_init(tc, tc->af);
}


size_t
voice_tool_calls_json(uint8_t *out, const voice_tool_calls_t *tc)
{
    size_t                   i, len;
    const voice_tool_call_t  *c;

    len = voice_buf_str(out, 0, "[");

    for (i = 0; i < tc->n; i++) {
        c = &tc->calls[i];

        len += voice_buf_str(out, len, i ? ",{\"id\":\"" : "{\"id\":\"");
        len += voice_json_put(out, len, c->id, c->id_len);
        len += voice_buf_str(out, len, "\",\"type\":\"function\","
                                       "\"function\":{\"name\":\"");
        len += voice_json_put(out, len, c->name, c->name_len);
        len += voice_buf_str(out, len, "\",\"arguments\":\"");
        len += voice_json_put(out, len, c->args, c->args_len);
        len += voice_buf_str(out, len, "\"}}");
    }

    len += voice_buf_str(out, len, "]");

    return len;
}


static void *
voice_tools_alloc(const yajl_alloc_funcs *af, void *p, size_t size)
{
    if (af) {
        return af->realloc(af->ctx, p, size);
    }

    return realloc(p, size);
}


static void
voice_tools_free(const yajl_alloc_funcs *af, void *p)
{
    if (p == NULL) {
        return;
    }

    if (af) {
        af->free(af->ctx, p);
        return;
    }

    free(p);
}

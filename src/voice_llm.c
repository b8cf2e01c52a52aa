/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_buf.h"
#include "voice_llm.h"


/*
 * The reader of a delta.  The calls' fragments are known by the "index"
 * member of their element, which may come after them: a first walk reads
 * the indexes (and the text), a second one, only for an event that has
 * fragments, hands the fragments on.
 */

typedef struct {
    voice_json_reader_t  reply;
    int                  finish;

    voice_tool_calls_t  *calls;
    int                  deliver;           /* the second walk */
    int                  fragments;
    long                 index[VOICE_TOOL_CALLS_MAX];  /* by position */
} voice_llm_reader_t;


static size_t voice_llm_build(uint8_t *out, const char *model,
    size_t model_len, const voice_llm_message_t *msgs, size_t n,
    const uint8_t *tools, size_t tools_len, const char *tool_choice);
static size_t voice_llm_message(uint8_t *out, size_t at,
    const voice_llm_message_t *m);
static int voice_llm_in_call(const voice_json_walk_t *w, size_t *pos);
static int voice_llm_key(const voice_json_walk_t *w, int depth,
    const char *key);
static void voice_llm_call_scalar(voice_llm_reader_t *r,
    const voice_json_walk_t *w, int type, const uint8_t *s, size_t len);
static void voice_llm_scalar(void *ctx, const voice_json_walk_t *w,
    int type, const uint8_t *s, size_t len);


/* the first choice only */
static const char *const  voice_llm_delta_path[] = {
    "choices", VOICE_JSON_FIRST, "delta", "content", NULL
};

static const char *const  voice_llm_finish_path[] = {
    "choices", VOICE_JSON_FIRST, "finish_reason", NULL
};



static size_t
voice_llm_build(uint8_t *out, const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n, const uint8_t *tools,
    size_t tools_len, const char *tool_choice)
{
    size_t  i, len;

    len = voice_buf_str(out, 0, "{\"model\":\"");
    len += voice_json_put(out, len, (const uint8_t *) model, model_len);
    len += voice_buf_str(out, len, "\",\"stream\":true,\"messages\":[");

    for (i = 0; i < n; i++) {
        len += voice_buf_str(out, len, i ? "," : "");
        len += voice_llm_message(out, len, &msgs[i]);
    }

    len += voice_buf_str(out, len, "]");

    if (tools) {
        len += voice_buf_str(out, len, ",\"tools\":");
        len += voice_buf_mem(out, len, tools, tools_len);

        if (tool_choice) {
            len += voice_buf_str(out, len, ",\"tool_choice\":\"");
            len += voice_buf_str(out, len, tool_choice);
            len += voice_buf_str(out, len, "\"");
        }
    }

    len += voice_buf_str(out, len, "}");

    return len;
}


static size_t
voice_llm_message(uint8_t *out, size_t at, const voice_llm_message_t *m)
{
    size_t  len;

    len = voice_buf_str(out, at, "{\"role\":\"");
    len += voice_buf_str(out, at + len, m->role);

    if (m->tool_call_id) {
        len += voice_buf_str(out, at + len, "\",\"tool_call_id\":\"");
        len += voice_json_put(out, at + len, m->tool_call_id,
                              m->tool_call_id_len);
    }

    if (m->content == NULL && m->tool_calls) {
        len += voice_buf_str(out, at + len, "\",\"content\":null");

    } else {
        len += voice_buf_str(out, at + len, "\",\"content\":\"");
        len += voice_json_put(out, at + len, m->content, m->content_len);
        len += voice_buf_str(out, at + len, "\"");
    }

    if (m->tool_calls) {
        len += voice_buf_str(out, at + len, ",\"tool_calls\":");
        len += voice_buf_mem(out, at + len, m->tool_calls,
                             m->tool_calls_len);
    }

    len += voice_buf_str(out, at + len, "}");

    return len;
}


size_t
voice_llm_request_size(const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n, const uint8_t *tools,
    size_t tools_len, const char *tool_choice)
{
    return voice_llm_build(NULL, model, model_len, msgs, n, tools, tools_len,
                           tool_choice);
}


size_t
voice_llm_request(uint8_t *out, const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n, const uint8_t *tools,
    size_t tools_len, const char *tool_choice)
{
    return voice_llm_build(out, model, model_len, msgs, n, tools, tools_len,
                           tool_choice);
}


int
voice_llm_delta(const uint8_t *data, size_t len, uint8_t *text, size_t cap,
    size_t *text_len, const yajl_alloc_funcs *af)
{
    return voice_llm_delta_calls(data, len, text, cap, text_len, NULL, NULL,
                                 af);
}


int
voice_llm_delta_calls(const uint8_t *data, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, voice_tool_calls_t *calls, int *finish,
    const yajl_alloc_funcs *af)
{
    int                 ok;
    size_t              i;
    voice_json_walk_t   w;
    voice_llm_reader_t  r;

    *text_len = 0;

    if (finish) {
        *finish = VOICE_LLM_FINISH_NONE;
    }

    while (len && (data[len - 1] == ' ' || data[len - 1] == '\n')) {
        len--;
    }

    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        return VOICE_LLM_DONE;
    }

    memset(&r, 0, sizeof(voice_llm_reader_t));
    r.reply.path = voice_llm_delta_path;
    r.reply.text = text;
    r.reply.cap = cap;
    r.calls = calls;

    for (i = 0; i < VOICE_TOOL_CALLS_MAX; i++) {
        r.index[i] = -1;
    }

    ok = voice_json_walk(data, len, voice_llm_scalar, &r, &w, af);

    *text_len = r.reply.len;

    if (ok && finish) {
        *finish = r.finish;
    }

    if (ok && r.fragments && calls) {
        r.deliver = 1;
        (void) voice_json_walk(data, len, voice_llm_scalar, &r, &w, af);
    }

    return voice_json_reader_result(&r.reply, ok);
}


static void
voice_llm_scalar(void *ctx, const voice_json_walk_t *w, int type,
    const uint8_t *s, size_t len)
{
    voice_llm_reader_t  *r = ctx;

    if (r->calls) {
        voice_llm_call_scalar(r, w, type, s, len);
    }

    if (r->deliver) {
        return;
    }

    voice_json_reader_scalar(&r->reply, w, type, s, len);

    if (type == VOICE_JSON_WALK_STRING
        && voice_json_walk_at(w, voice_llm_finish_path))
    {
        if (len == 4 && memcmp(s, "stop", 4) == 0) {
            r->finish = VOICE_LLM_FINISH_STOP;

        } else if (len == 10 && memcmp(s, "tool_calls", 10) == 0) {
            r->finish = VOICE_LLM_FINISH_TOOL_CALLS;

        } else {
            r->finish = VOICE_LLM_FINISH_OTHER;
        }
    }
}


/*
 * A member of choices[0].delta.tool_calls[pos]: "index" (its call), "id",
 * and function.name, function.arguments
 */

static void
voice_llm_call_scalar(voice_llm_reader_t *r, const voice_json_walk_t *w,
    int type, const uint8_t *s, size_t len)
{
    int     field;
    long    index;
    size_t  i, pos;

    if (!voice_llm_in_call(w, &pos)) {
        return;
    }

    if (w->depth == 6 && voice_llm_key(w, 6, "index")) {
        if (r->deliver || type != VOICE_JSON_WALK_NUMBER
            || pos >= VOICE_TOOL_CALLS_MAX || len == 0 || len > 4)
        {
            return;
        }

        index = 0;

        for (i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return;
            }

            index = index * 10 + (s[i] - '0');
        }

        r->index[pos] = index;
        return;
    }

    if (type != VOICE_JSON_WALK_STRING) {
        return;
    }

    if (w->depth == 6 && voice_llm_key(w, 6, "id")) {
        field = VOICE_TOOL_ID;

    } else if (w->depth == 7 && voice_llm_key(w, 6, "function")
               && voice_llm_key(w, 7, "name"))
    {
        field = VOICE_TOOL_NAME;

    } else if (w->depth == 7 && voice_llm_key(w, 6, "function")
               && voice_llm_key(w, 7, "arguments"))
    {
        field = VOICE_TOOL_ARGS;

    } else {
        return;
    }

    if (!r->deliver) {
        r->fragments = 1;
        return;
    }

    if (pos >= VOICE_TOOL_CALLS_MAX) {
        r->calls->dropped = 1;
        return;
    }

    index = r->index[pos] >= 0 ? r->index[pos] : (long) pos;

    voice_tool_calls_add(r->calls, (size_t) index, field, s, len);
}


/* inside choices[0].delta.tool_calls[pos], an object */

static int
voice_llm_in_call(const voice_json_walk_t *w, size_t *pos)
{
    if (w->depth < 6
        || !voice_llm_key(w, 1, "choices")
        || !w->array[2] || w->index[2] != 0
        || !voice_llm_key(w, 3, "delta")
        || !voice_llm_key(w, 4, "tool_calls")
        || !w->array[5] || w->index[5] < 0
        || w->array[6])
    {
        return 0;
    }

    *pos = (size_t) w->index[5];

    return 1;
}


static int
voice_llm_key(const voice_json_walk_t *w, int depth, const char *key)
{
    size_t  n;

    n = strlen(key);

    return !w->array[depth] && w->key_len[depth] == n
           && memcmp(w->key[depth], key, n) == 0;
}

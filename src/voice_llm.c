/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_json.h"
#include "voice_llm.h"


typedef struct {
    int        depth;
    int        path[8];         /* key ids by depth */
    int        index[8];        /* array position by depth */
    int        want;            /* 0: delta, 1: transcription */
    int        error;
    uint8_t   *text;
    size_t     cap;
    size_t     len;
    int        found;
} voice_llm_ctx_t;


enum {
    k_other = 0,
    k_choices,
    k_delta,
    k_content,
    k_error,
    k_message,
    k_text,
    k_array
};


static const char  *voice_llm_keys[] = {
    "", "choices", "delta", "content", "error", "message", "text", NULL
};


/* writes with out NULL only count */

static size_t
voice_llm_raw(uint8_t *out, size_t n, const char *s)
{
    size_t  len;

    len = strlen(s);

    if (out) {
        memcpy(out + n, s, len);
    }

    return len;
}


static size_t
voice_llm_esc(uint8_t *out, size_t n, const uint8_t *s, size_t len)
{
    return voice_json_escape(out ? out + n : NULL, s, len);
}


static size_t
voice_llm_build(uint8_t *out, const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n)
{
    size_t  i, len;

    len = voice_llm_raw(out, 0, "{\"model\":\"");
    len += voice_llm_esc(out, len, (const uint8_t *) model, model_len);
    len += voice_llm_raw(out, len, "\",\"stream\":true,\"messages\":[");

    for (i = 0; i < n; i++) {
        len += voice_llm_raw(out, len, i ? ",{\"role\":\"" : "{\"role\":\"");
        len += voice_llm_raw(out, len, msgs[i].role);
        len += voice_llm_raw(out, len, "\",\"content\":\"");
        len += voice_llm_esc(out, len, msgs[i].content, msgs[i].content_len);
        len += voice_llm_raw(out, len, "\"}");
    }

    len += voice_llm_raw(out, len, "]}");

    return len;
}


size_t
voice_llm_request_size(const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n)
{
    return voice_llm_build(NULL, model, model_len, msgs, n);
}


size_t
voice_llm_request(uint8_t *out, const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n)
{
    return voice_llm_build(out, model, model_len, msgs, n);
}


static int
voice_llm_open(void *ctx, int array)
{
    voice_llm_ctx_t  *c = ctx;

    if (c->depth > 0 && c->path[c->depth] == k_array) {
        c->index[c->depth]++;
    }

    if (++c->depth >= 8) {
        return 0;
    }

    c->path[c->depth] = array ? k_array : k_other;
    c->index[c->depth] = -1;

    return 1;
}


static int
voice_llm_start_map(void *ctx)
{
    return voice_llm_open(ctx, 0);
}


static int
voice_llm_start_array(void *ctx)
{
    return voice_llm_open(ctx, 1);
}


static int
voice_llm_end(void *ctx)
{
    voice_llm_ctx_t  *c = ctx;

    c->depth--;

    return 1;
}


static int
voice_llm_key(void *ctx, const unsigned char *s, size_t len)
{
    int               i;
    voice_llm_ctx_t  *c = ctx;

    c->path[c->depth] = k_other;

    for (i = 1; voice_llm_keys[i]; i++) {
        if (strlen(voice_llm_keys[i]) == len
            && memcmp(voice_llm_keys[i], s, len) == 0)
        {
            c->path[c->depth] = i;
            break;
        }
    }

    return 1;
}


static void
voice_llm_take(voice_llm_ctx_t *c, const unsigned char *s, size_t len)
{
    size_t  n;

    n = c->cap - c->len;
    n = len < n ? len : n;

    memcpy(c->text + c->len, s, n);
    c->len += n;
    c->found = 1;
}


static int
voice_llm_string(void *ctx, const unsigned char *s, size_t len)
{
    voice_llm_ctx_t  *c = ctx;
    int              *p = c->path;

    if (c->depth > 0 && p[c->depth] == k_array) {
        c->index[c->depth]++;
    }

    /* {"error":{"message":"..."}} */

    if (c->depth == 2 && p[1] == k_error && p[2] == k_message) {
        c->error = 1;
        c->len = 0;
        voice_llm_take(c, s, len);
        return 1;
    }

    if (c->want == 1) {
        if (c->depth == 1 && p[1] == k_text) {
            voice_llm_take(c, s, len);
        }

        return 1;
    }

    /* {"choices":[{"delta":{"content":"..."}}]}, the first choice only */

    if (c->depth == 4 && p[1] == k_choices && p[2] == k_array
        && c->index[2] == 0 && p[3] == k_delta && p[4] == k_content)
    {
        voice_llm_take(c, s, len);
    }

    return 1;
}


static int
voice_llm_scalar(void *ctx)
{
    voice_llm_ctx_t  *c = ctx;

    if (c->depth > 0 && c->path[c->depth] == k_array) {
        c->index[c->depth]++;
    }

    return 1;
}


static int
voice_llm_number(void *ctx, const char *s, size_t len)
{
    (void) s;
    (void) len;

    return voice_llm_scalar(ctx);
}


static int
voice_llm_bool(void *ctx, int b)
{
    (void) b;

    return voice_llm_scalar(ctx);
}


static const yajl_callbacks  voice_llm_callbacks = {
    voice_llm_scalar,
    voice_llm_bool,
    NULL,
    NULL,
    voice_llm_number,
    voice_llm_string,
    voice_llm_start_map,
    voice_llm_key,
    voice_llm_end,
    voice_llm_start_array,
    voice_llm_end
};


static int
voice_llm_parse(voice_llm_ctx_t *c, const uint8_t *data, size_t len,
    const yajl_alloc_funcs *af)
{
    yajl_handle  h;
    yajl_status  st;

    h = yajl_alloc(&voice_llm_callbacks, (yajl_alloc_funcs *) af, c);
    if (h == NULL) {
        return VOICE_LLM_INVALID;
    }

    st = yajl_parse(h, data, len);

    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
    }

    yajl_free(h);

    if (st != yajl_status_ok) {
        return VOICE_LLM_INVALID;
    }

    if (c->error) {
        return VOICE_LLM_ERROR;
    }

    return c->found && c->len ? VOICE_LLM_TEXT : VOICE_LLM_NONE;
}


int
voice_llm_delta(const uint8_t *data, size_t len, uint8_t *text, size_t cap,
    size_t *text_len, const yajl_alloc_funcs *af)
{
    int              rc;
    voice_llm_ctx_t  c;

    *text_len = 0;

    while (len && (data[len - 1] == ' ' || data[len - 1] == '\n')) {
        len--;
    }

    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        return VOICE_LLM_DONE;
    }

    memset(&c, 0, sizeof(c));
    c.text = text;
    c.cap = cap;

    rc = voice_llm_parse(&c, data, len, af);
    *text_len = c.len;

    return rc;
}


int
voice_stt_reply(const uint8_t *data, size_t len, uint8_t *text, size_t cap,
    size_t *text_len, const yajl_alloc_funcs *af)
{
    int              rc;
    size_t           i;
    voice_llm_ctx_t  c;

    memset(&c, 0, sizeof(c));
    c.want = 1;
    c.text = text;
    c.cap = cap;

    rc = voice_llm_parse(&c, data, len, af);
    *text_len = c.len;

    if (rc == VOICE_LLM_TEXT) {
        for (i = 0; i < c.len; i++) {
            if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t'
                && text[i] != '\r')
            {
                return VOICE_LLM_TEXT;
            }
        }

        return VOICE_LLM_NONE;
    }

    return rc;
}


size_t
voice_stt_multipart(uint8_t *out, const char *boundary,
    const uint8_t *wav_header, size_t header_len, const uint8_t *pcm,
    size_t pcm_len, const char *model, const char *language)
{
    size_t  n;

    n = voice_llm_raw(out, 0, "--");
    n += voice_llm_raw(out, n, boundary);
    n += voice_llm_raw(out, n, "\r\nContent-Disposition: form-data; "
                       "name=\"file\"; filename=\"utterance.wav\"\r\n"
                       "Content-Type: audio/wav\r\n\r\n");

    if (out) {
        memcpy(out + n, wav_header, header_len);
        memcpy(out + n + header_len, pcm, pcm_len);
    }

    n += header_len + pcm_len;

    n += voice_llm_raw(out, n, "\r\n--");
    n += voice_llm_raw(out, n, boundary);
    n += voice_llm_raw(out, n, "\r\nContent-Disposition: form-data; "
                       "name=\"model\"\r\n\r\n");
    n += voice_llm_raw(out, n, model);

    if (language && language[0]) {
        n += voice_llm_raw(out, n, "\r\n--");
        n += voice_llm_raw(out, n, boundary);
        n += voice_llm_raw(out, n, "\r\nContent-Disposition: form-data; "
                           "name=\"language\"\r\n\r\n");
        n += voice_llm_raw(out, n, language);
    }

    n += voice_llm_raw(out, n, "\r\n--");
    n += voice_llm_raw(out, n, boundary);
    n += voice_llm_raw(out, n, "\r\nContent-Disposition: form-data; "
                       "name=\"response_format\"\r\n\r\njson\r\n--");
    n += voice_llm_raw(out, n, boundary);
    n += voice_llm_raw(out, n, "--\r\n");

    return n;
}


size_t
voice_tts_elevenlabs(uint8_t *out, const uint8_t *text, size_t len,
    const char *model)
{
    size_t  n;

    n = voice_llm_raw(out, 0, "{\"text\":\"");
    n += voice_llm_esc(out, n, text, len);

    if (model && model[0]) {
        n += voice_llm_raw(out, n, "\",\"model_id\":\"");
        n += voice_llm_esc(out, n, (const uint8_t *) model, strlen(model));
    }

    n += voice_llm_raw(out, n, "\"}");

    return n;
}


size_t
voice_tts_openai(uint8_t *out, const uint8_t *text, size_t len,
    const char *model, const char *voice)
{
    size_t  n;

    n = voice_llm_raw(out, 0, "{\"model\":\"");
    n += voice_llm_esc(out, n, (const uint8_t *) model, strlen(model));
    n += voice_llm_raw(out, n, "\",\"input\":\"");
    n += voice_llm_esc(out, n, text, len);
    n += voice_llm_raw(out, n, "\",\"voice\":\"");
    n += voice_llm_esc(out, n, (const uint8_t *) voice, strlen(voice));
    n += voice_llm_raw(out, n, "\",\"response_format\":\"pcm\"}");

    return n;
}

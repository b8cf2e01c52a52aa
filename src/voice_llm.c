/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_buf.h"
#include "voice_llm.h"


/* the first choice only */
static const char *const  voice_llm_delta_path[] = {
    "choices", VOICE_JSON_FIRST, "delta", "content", NULL
};


static size_t
voice_llm_build(uint8_t *out, const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n)
{
    size_t  i, len;

    len = voice_buf_str(out, 0, "{\"model\":\"");
    len += voice_json_put(out, len, (const uint8_t *) model, model_len);
    len += voice_buf_str(out, len, "\",\"stream\":true,\"messages\":[");

    for (i = 0; i < n; i++) {
        len += voice_buf_str(out, len, i ? ",{\"role\":\"" : "{\"role\":\"");
        len += voice_buf_str(out, len, msgs[i].role);
        len += voice_buf_str(out, len, "\",\"content\":\"");
        len += voice_json_put(out, len, msgs[i].content,
                              msgs[i].content_len);
        len += voice_buf_str(out, len, "\"}");
    }

    len += voice_buf_str(out, len, "]}");

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


int
voice_llm_delta(const uint8_t *data, size_t len, uint8_t *text, size_t cap,
    size_t *text_len, const yajl_alloc_funcs *af)
{
    *text_len = 0;

    while (len && (data[len - 1] == ' ' || data[len - 1] == '\n')) {
        len--;
    }

    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        return VOICE_LLM_DONE;
    }

    return voice_json_reply(data, len, voice_llm_delta_path, text, cap,
                            text_len, af);
}

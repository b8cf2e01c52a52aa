/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The LLM provider's wire format (OpenAI chat completions): the request,
 * and the deltas of its streamed reply.
 */

#ifndef VOICE_LLM_H
#define VOICE_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "voice_json.h"


#define VOICE_LLM_NONE     VOICE_JSON_NONE      /* 0: an event without text */
#define VOICE_LLM_TEXT     VOICE_JSON_TEXT      /* 1 */
#define VOICE_LLM_DONE     2
#define VOICE_LLM_ERROR    VOICE_JSON_ERROR     /* 3: the error object */
#define VOICE_LLM_INVALID  VOICE_JSON_INVALID   /* 4: not JSON we read */


typedef struct {
    const char     *role;
    const uint8_t  *content;
    size_t          content_len;
} voice_llm_message_t;


/* the exact size of the request, and the request itself */
size_t voice_llm_request_size(const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n);
size_t voice_llm_request(uint8_t *out, const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n);

/*
 * One SSE event's data: the text of choices[0].delta.content, "[DONE]",
 * or an error object's message, copied into text (at most cap bytes,
 * the rest dropped).
 */
int voice_llm_delta(const uint8_t *data, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, const yajl_alloc_funcs *af);

#endif /* VOICE_LLM_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The LLM provider's wire format (OpenAI chat completions): the request,
 * with the functions offered and the messages of a tool exchange, and
 * the deltas of its streamed reply, text and tool calls.
 */

#ifndef VOICE_LLM_H
#define VOICE_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "voice_json.h"
#include "voice_tools.h"


#define VOICE_LLM_NONE     VOICE_JSON_NONE      /* 0: an event without text */
#define VOICE_LLM_TEXT     VOICE_JSON_TEXT      /* 1 */
#define VOICE_LLM_DONE     2
#define VOICE_LLM_ERROR    VOICE_JSON_ERROR     /* 3: the error object */
#define VOICE_LLM_INVALID  VOICE_JSON_INVALID   /* 4: not JSON we read */

/* choices[0].finish_reason */
#define VOICE_LLM_FINISH_NONE        0
#define VOICE_LLM_FINISH_STOP        1
#define VOICE_LLM_FINISH_TOOL_CALLS  2
#define VOICE_LLM_FINISH_OTHER       3      /* "length", a filter, ... */


/*
 * A message.  An assistant's may carry tool_calls (a JSON array, as
 * voice_tool_calls_json() writes it; its content NULL is "content":
 * null); a "tool" message answers the call tool_call_id.
 */
typedef struct {
    const char     *role;
    const uint8_t  *content;
    size_t          content_len;
    const uint8_t  *tool_calls;
    size_t          tool_calls_len;
    const uint8_t  *tool_call_id;
    size_t          tool_call_id_len;
} voice_llm_message_t;


/*
 * The exact size of the request, and the request itself.  tools: the
 * "tools" array offered (voice_tools_offer()), or NULL for none; with
 * tool_choice "none" the model must answer in words.
 */
size_t voice_llm_request_size(const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n, const uint8_t *tools,
    size_t tools_len, const char *tool_choice);
size_t voice_llm_request(uint8_t *out, const char *model, size_t model_len,
    const voice_llm_message_t *msgs, size_t n, const uint8_t *tools,
    size_t tools_len, const char *tool_choice);

/*
 * One SSE event's data: the text of choices[0].delta.content, "[DONE]",
 * or an error object's message, copied into text (at most cap bytes,
 * the rest dropped).
 */
int voice_llm_delta(const uint8_t *data, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, const yajl_alloc_funcs *af);

/*
 * The same, and the event's fragments of choices[0].delta.tool_calls
 * added to calls (NULL: not read), and its finish_reason (NULL: not
 * read; VOICE_LLM_FINISH_NONE when it has none).
 */
int voice_llm_delta_calls(const uint8_t *data, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, voice_tool_calls_t *calls, int *finish,
    const yajl_alloc_funcs *af);

#endif /* VOICE_LLM_H */

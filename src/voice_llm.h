/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Provider wire formats: the OpenAI chat completions request and its
 * streamed deltas, the transcription reply, and the JSON bodies of TTS
 * requests.
 */

#ifndef VOICE_LLM_H
#define VOICE_LLM_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>


#define VOICE_LLM_NONE     0        /* an event without text */
#define VOICE_LLM_TEXT     1
#define VOICE_LLM_DONE     2
#define VOICE_LLM_ERROR    3        /* the provider's error object */
#define VOICE_LLM_INVALID  4        /* not JSON we understand */


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
 * the rest dropped).  Also reads a whole transcription reply, {"text"}.
 */
int voice_llm_delta(const uint8_t *data, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, const yajl_alloc_funcs *af);

/* {"text": ...} of a transcription; VOICE_LLM_TEXT, _NONE or _ERROR */
int voice_stt_reply(const uint8_t *data, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, const yajl_alloc_funcs *af);

/* multipart/form-data for a transcription of a WAV file */
size_t voice_stt_multipart(uint8_t *out, const char *boundary,
    const uint8_t *wav_header, size_t header_len, const uint8_t *pcm,
    size_t pcm_len, const char *model, const char *language);

/* TTS request bodies */
size_t voice_tts_elevenlabs(uint8_t *out, const uint8_t *text, size_t len,
    const char *model);
size_t voice_tts_openai(uint8_t *out, const uint8_t *text, size_t len,
    const char *model, const char *voice);

#endif /* VOICE_LLM_H */

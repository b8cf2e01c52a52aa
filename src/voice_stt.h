/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The transcription provider's wire format (OpenAI's): the utterance as
 * a WAV file in multipart/form-data, and the {"text"} reply.
 */

#ifndef VOICE_STT_H
#define VOICE_STT_H

#include <stddef.h>
#include <stdint.h>

#include "voice_json.h"


#define VOICE_STT_NONE     VOICE_JSON_NONE      /* 0: nothing was said */
#define VOICE_STT_TEXT     VOICE_JSON_TEXT      /* 1 */
#define VOICE_STT_ERROR    VOICE_JSON_ERROR     /* 3: the error object */
#define VOICE_STT_INVALID  VOICE_JSON_INVALID   /* 4: not JSON we read */


/* multipart/form-data for a transcription of a WAV file */
size_t voice_stt_multipart(uint8_t *out, const char *boundary,
    const uint8_t *wav_header, size_t header_len, const uint8_t *pcm,
    size_t pcm_len, const char *model, const char *language);

/*
 * {"text": ...} of a transcription, copied into text (at most cap bytes);
 * text of white space only is VOICE_STT_NONE
 */
int voice_stt_reply(const uint8_t *data, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, const yajl_alloc_funcs *af);

#endif /* VOICE_STT_H */

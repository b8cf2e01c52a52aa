/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_buf.h"
#include "voice_json.h"
#include "voice_tts.h"


size_t
voice_tts_elevenlabs(uint8_t *out, const uint8_t *text, size_t len,
    const char *model)
{
    size_t  n;

    n = voice_buf_str(out, 0, "{\"text\":\"");
    n += voice_json_put(out, n, text, len);

    if (model && model[0]) {
        n += voice_buf_str(out, n, "\",\"model_id\":\"");
        n += voice_json_put(out, n, (const uint8_t *) model, strlen(model));
    }

    n += voice_buf_str(out, n, "\"}");

    return n;
}


size_t
voice_tts_openai(uint8_t *out, const uint8_t *text, size_t len,
    const char *model, const char *voice)
{
    size_t  n;

    n = voice_buf_str(out, 0, "{\"model\":\"");
    n += voice_json_put(out, n, (const uint8_t *) model, strlen(model));
    n += voice_buf_str(out, n, "\",\"input\":\"");
    n += voice_json_put(out, n, text, len);
    n += voice_buf_str(out, n, "\",\"voice\":\"");
    n += voice_json_put(out, n, (const uint8_t *) voice, strlen(voice));
    n += voice_buf_str(out, n, "\",\"response_format\":\"pcm\"}");

    return n;
}

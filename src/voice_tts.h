/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The bodies of TTS requests, in the two dialects voice_tts_dialect
 * names.  Each returns the length; with out NULL it only counts.
 */

#ifndef VOICE_TTS_H
#define VOICE_TTS_H

#include <stddef.h>
#include <stdint.h>


/* ElevenLabs: {"text", "model_id"}, the model left out when empty */
size_t voice_tts_elevenlabs(uint8_t *out, const uint8_t *text, size_t len,
    const char *model);

/* OpenAI speech: {"model", "input", "voice", "response_format": "pcm"} */
size_t voice_tts_openai(uint8_t *out, const uint8_t *text, size_t len,
    const char *model, const char *voice);

#endif /* VOICE_TTS_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * ElevenLabs' and OpenAI's text-to-speech endpoints, answered by
 * espeak-ng, streamed as it synthesizes, in the format asked for.
 */

#ifndef VP_TTS_H
#define VP_TTS_H

#include "http.h"


/* 0, or -1 when espeak-ng cannot start */
int vp_tts_init(void);

/*
 * POST /v1/text-to-speech/VOICE[/stream] (ElevenLabs), or with openai
 * set, /v1/audio/speech
 */
void vp_tts_handle(vp_http_conn_t *c, const char *voice, int openai);

void vp_tts_free(void);

#endif /* VP_TTS_H */

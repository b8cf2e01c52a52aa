/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The fake providers: OpenAI transcriptions (multipart in, {"text"}
 * out), OpenAI chat completions (an SSE stream of deltas ending "data:
 * [DONE]": the first words of the reply, then the rest of each sentence
 * an event) and ElevenLabs TTS (raw μ-law 8 kHz), by the path's first
 * segment, /stt/, /llm/ or /tts/; the rest is the call id the log lines
 * carry.  GET /v1/listen with a WebSocket handshake goes to the
 * streaming recognizer (listen.h).
 *
 * Each answers after a fixed delay of its own, counted from when its
 * request arrived: the transcript, the LLM's first words (the rest of
 * the first sentence comes a gap later, each next sentence a gap after
 * that), the TTS audio.
 */

#ifndef BP_PROVIDER_H
#define BP_PROVIDER_H

#include <stddef.h>

#include "conn.h"


typedef struct {
    int             gap_ms;         /* between the LLM's events */
    int             stt_ms;         /* before the transcript */
    int             llm_ms;         /* before the LLM's first words */
    int             tts_ms;         /* before the TTS audio */
    size_t          audio;          /* TTS bytes per sentence */
} bp_provider_conf_t;


extern bp_provider_conf_t  bp_provider_conf;


/* an accepted provider connection; -1 when out of memory */
int bp_provider_open(int fd);

/* a provider connection: one HTTP request, then the answer */
void bp_provider_read(bp_conn_t *c);

/* what the provider writes next, when its timer is due */
void bp_provider_step(bp_conn_t *c);

#endif /* BP_PROVIDER_H */

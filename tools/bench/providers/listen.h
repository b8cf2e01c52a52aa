/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * A fake of Deepgram's live transcription, for measuring the module's
 * streaming: GET /v1/listen with a WebSocket handshake gets 101; binary
 * frames are audio (μ-law 8 kHz), an interim Results (is_final false,
 * one more word of the transcript each time) after every --interim ms
 * of it; {"type":"Finalize"} gets a final Results (is_final and
 * from_finalize true, the whole transcript) --final-delay ms after the
 * Finalize arrived; {"type":"KeepAlive"} is taken; {"type":"CloseStream"}
 * and a close frame get a close.
 *
 * The call id of the log lines is the handshake's X-Bench-Call header.
 * It logs:
 *
 *   stt_open      the 101 written
 *   stt_frame     a binary frame of 160 bytes (one caller frame) read;
 *                 k: the key of its base64 (bp_log_key), as the relay
 *                 logs the caller's media message that carried it
 *   stt_audio     any other binary frame read (the pre-roll); k: bytes
 *   stt_finalize  a Finalize read; k: the utterance, from 1
 *   stt_final     its final Results written
 */

#ifndef BP_LISTEN_H
#define BP_LISTEN_H

#include <stddef.h>

#include "conn.h"


typedef struct {
    int             final_ms;       /* Finalize -> final Results */
    int             interim_ms;     /* audio between interim Results */
} bp_listen_conf_t;


extern bp_listen_conf_t  bp_listen_conf;


/*
 * The request head in c->in (head bytes) asks for /v1/listen: the
 * handshake's answer; the connection is the recognizer's from now on,
 * and every utterance is heard as transcript.
 */
void bp_listen_open(bp_conn_t *c, size_t head, const char *transcript);

/* frames from the module */
void bp_listen_read(bp_conn_t *c);

/* the final Results that are due */
void bp_listen_step(bp_conn_t *c);

#endif /* BP_LISTEN_H */

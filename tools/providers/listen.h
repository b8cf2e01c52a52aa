/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* Deepgram's live transcription WebSocket, answered by pocketsphinx */

#ifndef VP_LISTEN_H
#define VP_LISTEN_H

#include "http.h"


/* ms without audio or a message before 1011 NET-0001, as Deepgram's */
#define VP_LISTEN_IDLE  10000


/* GET /v1/listen with a WebSocket handshake */
void vp_listen_handle(vp_http_conn_t *c);

#endif /* VP_LISTEN_H */

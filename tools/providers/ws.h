/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The server side of RFC 6455 over a providers' connection: the opening
 * handshake, then messages read with a timeout (pings answered, the
 * peer's close echoed) and sent whole, and the closing handshake.  The
 * framing is src/voice_ws.c's.
 */

#ifndef VP_WS_H
#define VP_WS_H

#include <stddef.h>
#include <stdint.h>

#include "voice_ws.h"

#include "http.h"


#define VP_WS_MESSAGE_MAX  (1024 * 1024)

/* what vp_ws_read() returns besides voice_ws_parse()'s events */
#define VP_WS_TIMEOUT      -1
#define VP_WS_GONE         -2       /* the connection ended, or broke */


typedef struct {
    vp_http_conn_t     *http;
    voice_ws_parser_t   parser;
    uint8_t            *msg;
    uint8_t            *in;
    size_t              in_pos;
    size_t              in_len;
    int                 broken;         /* a frame broke the protocol */
    int                 close_sent;
    int                 close_received;
    size_t              sent;           /* bytes of frames */
} vp_ws_t;


/*
 * 0 if the request is a WebSocket opening handshake this server takes,
 * else -1 after answering it (426 to plain HTTP, 400 to a broken one).
 */
int vp_ws_handshake_valid(vp_http_conn_t *c);

/*
 * Answers the handshake with 101, Sec-WebSocket-Accept and the caller's
 * header lines.  0, or -1 when out of memory or the client is gone.
 */
int vp_ws_accept(vp_ws_t *ws, vp_http_conn_t *c, const char *headers);

/*
 * The next message within timeout_ms (-1: no limit): VOICE_WS_MESSAGE,
 * VOICE_WS_CLOSE (the peer's close, answered), VOICE_WS_ERROR (a frame
 * broke the protocol: closed with ev->close_code), VP_WS_TIMEOUT or
 * VP_WS_GONE.  A message's data lasts until the next call.
 */
int vp_ws_read(vp_ws_t *ws, int timeout_ms, voice_ws_event_t *ev);

/* one unfragmented frame: 0, or -1 when the client is gone */
int vp_ws_send(vp_ws_t *ws, int opcode, const void *data, size_t len);

/*
 * Sends a close frame (unless one went already) and waits a little for
 * the peer's, dropping what comes before it, so that the TCP close
 * follows the closing handshake.
 */
void vp_ws_close(vp_ws_t *ws, unsigned code, const char *reason);

void vp_ws_free(vp_ws_t *ws);

#endif /* VP_WS_H */

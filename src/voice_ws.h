/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * RFC 6455 framing, incremental: bytes go in as they arrive, split
 * anywhere; complete messages (fragments joined, unmasked) and control
 * frames come out.  Used by the module (server) and the simulator
 * (client).
 */

#ifndef VOICE_WS_H
#define VOICE_WS_H

#include <stddef.h>
#include <stdint.h>


#define VOICE_WS_OP_CONT     0x0
#define VOICE_WS_OP_TEXT     0x1
#define VOICE_WS_OP_BINARY   0x2
#define VOICE_WS_OP_CLOSE    0x8
#define VOICE_WS_OP_PING     0x9
#define VOICE_WS_OP_PONG     0xa

#define VOICE_WS_TEXT        VOICE_WS_OP_TEXT
#define VOICE_WS_BINARY      VOICE_WS_OP_BINARY

#define VOICE_WS_MAX_HEADER  14
#define VOICE_WS_MAX_CONTROL 125

/* what voice_ws_parse() returns */
#define VOICE_WS_AGAIN       0
#define VOICE_WS_MESSAGE     1
#define VOICE_WS_PING        2
#define VOICE_WS_PONG        3
#define VOICE_WS_CLOSE       4
#define VOICE_WS_ERROR       5

/* close codes (RFC 6455, 7.4.1, and IANA's registry) */
#define VOICE_WS_CLOSE_NORMAL          1000
#define VOICE_WS_CLOSE_GOING_AWAY      1001
#define VOICE_WS_CLOSE_PROTOCOL_ERROR  1002
#define VOICE_WS_CLOSE_UNSUPPORTED     1003
#define VOICE_WS_CLOSE_NO_STATUS       1005     /* received without a code */
#define VOICE_WS_CLOSE_INVALID_DATA    1007
#define VOICE_WS_CLOSE_POLICY          1008
#define VOICE_WS_CLOSE_TOO_BIG         1009
#define VOICE_WS_CLOSE_INTERNAL_ERROR  1011
#define VOICE_WS_CLOSE_SERVICE_RESTART 1012
#define VOICE_WS_CLOSE_TRY_AGAIN_LATER 1013
#define VOICE_WS_CLOSE_BAD_GATEWAY     1014


typedef struct {
    int             opcode;         /* of a message: TEXT or BINARY */
    const uint8_t  *data;
    size_t          len;
    unsigned        close_code;     /* CLOSE: received; ERROR: ours */
} voice_ws_event_t;


typedef struct {
    int             server;         /* frames must be masked */

    uint8_t        *msg;            /* message being assembled */
    size_t          msg_cap;
    size_t          msg_len;
    int             msg_opcode;     /* 0: no message in progress */

    /* the frame being read */
    int             state;
    uint8_t         hdr[VOICE_WS_MAX_HEADER];
    size_t          hdr_len;
    size_t          hdr_need;
    int             fin;
    int             opcode;
    int             masked;
    uint8_t         mask[4];
    uint64_t        len;
    uint64_t        got;

    uint8_t         control[VOICE_WS_MAX_CONTROL];
} voice_ws_parser_t;


void voice_ws_parser_init(voice_ws_parser_t *p, int server, uint8_t *msg,
    size_t msg_cap);

/*
 * Reads from "in" until one event is complete or the input ends;
 * *consumed says how far it got.  After VOICE_WS_ERROR the connection
 * must be closed with ev->close_code; the parser stays in error.
 */
int voice_ws_parse(voice_ws_parser_t *p, const uint8_t *in, size_t len,
    size_t *consumed, voice_ws_event_t *ev);

/* writes a frame header (2 to 14 bytes) and returns its length */
size_t voice_ws_frame_header(uint8_t *out, int opcode, int fin,
    uint64_t payload_len, const uint8_t *mask);

/* XORs data with the key, "offset" bytes into the payload */
void voice_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4],
    size_t offset);

/* the same from src into dst, which may be src itself but no overlap */
void voice_ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
    const uint8_t mask[4], size_t offset);

#endif /* VOICE_WS_H */

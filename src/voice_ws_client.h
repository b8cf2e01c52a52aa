/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The client side of the RFC 6455 opening handshake, for the module's
 * own WebSockets to providers (framing stays in voice_ws.c):
 *
 *   GET <path> HTTP/1.1
 *   Host: <host>
 *   Upgrade: websocket
 *   Connection: Upgrade
 *   Sec-WebSocket-Key: <base64 of 16 random bytes>
 *   Sec-WebSocket-Version: 13
 *   <name>: <value>                    (the caller's headers, in order)
 *
 * and the server's answer, read incrementally whatever the chunking:
 *
 *   HTTP/1.1 101 Switching Protocols
 *   Upgrade: websocket
 *   Connection: Upgrade
 *   Sec-WebSocket-Accept: base64(SHA-1(key + "258EAFA5-...-C5AB0DC85B11"))
 *
 * Anything else is an error with a reason (section 4.1 of RFC 6455), and
 * the bytes after the head are the first frames.
 */

#ifndef VOICE_WS_CLIENT_H
#define VOICE_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>


#define VOICE_WS_CLIENT_KEY_LEN     24      /* base64 of 16 bytes */
#define VOICE_WS_CLIENT_ACCEPT_LEN  28      /* base64 of a SHA-1 */

/* a response head longer than this is an error */
#define VOICE_WS_CLIENT_MAX_HEAD    8192

/* what voice_ws_client_response() returns */
#define VOICE_WS_CLIENT_AGAIN       0
#define VOICE_WS_CLIENT_OK          1
#define VOICE_WS_CLIENT_ERROR      -1

/* header names longer than this are read, but match nothing */
#define VOICE_WS_CLIENT_NAME_MAX    32


typedef struct {
    const uint8_t  *name;
    size_t          name_len;
    const uint8_t  *value;
    size_t          value_len;
} voice_ws_client_header_t;


/*
 * A header value matched as it streams past: its whitespace-separated
 * words (or comma-separated elements, for a list), and whether one of
 * them is the word the header needs.
 */
typedef struct {
    unsigned        pos;            /* bytes of the word matched */
    unsigned        words;
    unsigned        list:1;         /* commas separate elements */
    unsigned        caseless:1;
    unsigned        in_word:1;
    unsigned        miss:1;         /* this word is not it */
    unsigned        found:1;
} voice_ws_client_match_t;


typedef struct {
    int                      state;
    int                      after;     /* the state once LF has come */
    int                      header;    /* the header whose value this is */
    size_t                   head_len;

    uint8_t                  name[VOICE_WS_CLIENT_NAME_MAX];
    size_t                   name_len;
    unsigned                 digits;    /* of the status code */

    voice_ws_client_match_t  upgrade;
    voice_ws_client_match_t  connection;
    voice_ws_client_match_t  accept;
    voice_ws_client_match_t  extensions;

    char                     expect[VOICE_WS_CLIENT_ACCEPT_LEN + 1];

    int                      status;    /* 0 until the status line is read */
    const char              *error;     /* why, after VOICE_WS_CLIENT_ERROR */
} voice_ws_client_response_t;


/* key (VOICE_WS_CLIENT_KEY_LEN chars + NUL) from 16 random bytes */
void voice_ws_client_key(const uint8_t nonce[16], char *key);

/*
 * The Sec-WebSocket-Accept value of a key: VOICE_WS_CLIENT_ACCEPT_LEN
 * chars + NUL; 0 if SHA-1 failed.
 */
int voice_ws_client_accept(const char *key, size_t key_len, char *accept);

/*
 * The request head shown above, with n extra headers.  With out NULL,
 * returns the exact length only.  Returns 0 (and writes nothing) if host
 * or path is empty or holds a control character or a space, if a name
 * is not an RFC 7230 token, or if a value holds a control character
 * other than HTAB: nothing the caller passes can add a header or a line.
 */
size_t voice_ws_client_request(uint8_t *out, const uint8_t *host,
    size_t host_len, const uint8_t *path, size_t path_len, const char *key,
    const voice_ws_client_header_t *headers, size_t n);

void voice_ws_client_response_init(voice_ws_client_response_t *r,
    const char *key);

/*
 * Reads the response head, split anywhere; lines may end in CRLF or LF,
 * header names are caseless, values may be folded (obs-fold) and padded.
 *
 * AGAIN: all of in consumed, more is needed.  OK: a 101 with "Upgrade:
 * websocket", "Connection" listing "upgrade" (both caseless), the right
 * Sec-WebSocket-Accept and no Sec-WebSocket-Extensions; *used is how
 * much of in was head, the rest are frames.  ERROR: r->error says why in
 * a short lowercase phrase, r->status is the status if one was read
 * (e.g. 401 for a bad API key); *used is where reading stopped.  Once OK
 * or ERROR, it returns the same again and uses nothing.
 */
int voice_ws_client_response(voice_ws_client_response_t *r,
    const uint8_t *in, size_t len, size_t *used);

#endif /* VOICE_WS_CLIENT_H */

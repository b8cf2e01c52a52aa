/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "voice_utf8.h"
#include "voice_ws.h"

#include "clock.h"
#include "http.h"
#include "ws.h"


#define VP_WS_GUID          "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define VP_WS_KEY_LEN       24              /* 16 bytes in base64 */
#define VP_WS_READ_SIZE     (64 * 1024)
#define VP_WS_CLOSE_WAIT    1000            /* ms for the peer's close */


static int vp_ws_key_valid(const char *key);
static int vp_ws_fill(vp_ws_t *ws, int timeout_ms);


int
vp_ws_handshake_valid(vp_http_conn_t *c)
{
    if (!c->upgrade) {
        vp_http_error(c, 426, "this endpoint is a WebSocket: send "
                      "Upgrade: websocket");
        return -1;
    }

    if (strcmp(c->method, "GET") != 0 || !c->http11) {
        vp_http_error(c, 400, "a WebSocket handshake is a GET over "
                      "HTTP/1.1");
        return -1;
    }

    if (!c->connection_upgrade) {
        vp_http_error(c, 400, "a WebSocket handshake has Connection: "
                      "Upgrade");
        return -1;
    }

    /* RFC 6455, 4.4: 426 names the version this server speaks */
    if (c->ws_version == NULL || strcmp(c->ws_version, "13") != 0) {
        vp_http_error(c, 426, "Sec-WebSocket-Version must be 13");
        return -1;
    }

    if (!vp_ws_key_valid(c->ws_key)) {
        vp_http_error(c, 400, "Sec-WebSocket-Key must be 16 bytes in "
                      "base64");
        return -1;
    }

    return 0;
}


static int
vp_ws_key_valid(const char *key)
{
    unsigned char  raw[VP_WS_KEY_LEN];

    if (key == NULL || strlen(key) != VP_WS_KEY_LEN
        || strcmp(key + VP_WS_KEY_LEN - 2, "==") != 0)
    {
        return 0;
    }

    /* 18: the 16 bytes and the two that the padding stands for */
    return EVP_DecodeBlock(raw, (const unsigned char *) key, VP_WS_KEY_LEN)
           == 18;
}


int
vp_ws_accept(vp_ws_t *ws, vp_http_conn_t *c, const char *headers)
{
    char           key[VP_WS_KEY_LEN + sizeof(VP_WS_GUID)], lines[2048];
    size_t         left, size;
    unsigned char  digest[SHA_DIGEST_LENGTH], accept[32];

    memset(ws, 0, sizeof(vp_ws_t));
    ws->http = c;

    /* Sec-WebSocket-Accept: base64(SHA-1(key + GUID)), RFC 6455, 4.2.2 */

    snprintf(key, sizeof(key), "%s%s", c->ws_key, VP_WS_GUID);
    SHA1((const unsigned char *) key, strlen(key), digest);
    EVP_EncodeBlock(accept, digest, SHA_DIGEST_LENGTH);

    if ((size_t) snprintf(lines, sizeof(lines),
                          "Sec-WebSocket-Accept: %s\r\n%s", accept,
                          headers ? headers : "")
        >= sizeof(lines))
    {
        return -1;
    }

    /* what the client sent after its handshake is the first frames' */

    left = c->len - c->used;
    size = left > VP_WS_READ_SIZE ? left : VP_WS_READ_SIZE;

    ws->msg = malloc(VP_WS_MESSAGE_MAX);
    ws->in = malloc(size);

    if (ws->msg == NULL || ws->in == NULL) {
        vp_ws_free(ws);
        return -1;
    }

    memcpy(ws->in, c->buf + c->used, left);
    ws->in_len = left;

    voice_ws_parser_init(&ws->parser, 1, ws->msg, VP_WS_MESSAGE_MAX);

    if (vp_http_switch(c, lines) != 0) {
        vp_ws_free(ws);
        return -1;
    }

    return 0;
}


int
vp_ws_read(vp_ws_t *ws, int timeout_ms, voice_ws_event_t *ev)
{
    int     rc, left;
    size_t  used;
    double  deadline;

    deadline = vp_clock_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

    for ( ;; ) {

        if (ws->broken) {
            /* what follows a broken frame cannot be read as frames */
            ws->in_pos = ws->in_len;
        }

        while (ws->in_pos < ws->in_len) {
            rc = voice_ws_parse(&ws->parser, ws->in + ws->in_pos,
                                ws->in_len - ws->in_pos, &used, ev);
            ws->in_pos += used;

            switch (rc) {

            case VOICE_WS_MESSAGE:
                if (ev->opcode == VOICE_WS_TEXT
                    && !voice_utf8_valid(ev->data, ev->len))
                {
                    ev->close_code = VOICE_WS_CLOSE_INVALID_DATA;

                    if (!ws->close_sent) {
                        vp_ws_close(ws, ev->close_code, "text is not UTF-8");
                    }

                    return VOICE_WS_ERROR;
                }

                return rc;

            case VOICE_WS_PING:
                if (vp_ws_send(ws, VOICE_WS_OP_PONG, ev->data, ev->len)
                    != 0)
                {
                    return VP_WS_GONE;
                }

                continue;

            case VOICE_WS_PONG:
                continue;

            case VOICE_WS_CLOSE:
                ws->close_received = 1;

                if (ev->len > 2 && !voice_utf8_valid(ev->data + 2,
                                                     ev->len - 2))
                {
                    ev->close_code = VOICE_WS_CLOSE_INVALID_DATA;
                    vp_ws_close(ws, ev->close_code, "reason is not UTF-8");
                    return VOICE_WS_ERROR;
                }

                /* RFC 6455, 5.5.1: the answer echoes the status code */
                vp_ws_close(ws, ev->close_code, "");
                return rc;

            case VOICE_WS_ERROR:
                ws->broken = 1;

                if (!ws->close_sent) {
                    vp_ws_close(ws, ev->close_code, "");
                }

                return rc;

            default:
                /* VOICE_WS_AGAIN: all of the input is in the parser */
                break;
            }
        }

        ws->in_pos = 0;
        ws->in_len = 0;

        left = (timeout_ms < 0) ? -1 : (int) (deadline - vp_clock_now_ms());

        if (timeout_ms >= 0 && left <= 0) {
            return VP_WS_TIMEOUT;
        }

        rc = vp_ws_fill(ws, left);
        if (rc <= 0) {
            return rc == 0 ? VP_WS_TIMEOUT : VP_WS_GONE;
        }
    }
}


/* reads what arrives within the time: >0 bytes, 0 none, -1 EOF or error */

static int
vp_ws_fill(vp_ws_t *ws, int timeout_ms)
{
    int            rc;
    ssize_t        n;
    struct pollfd  pfd;

    pfd.fd = ws->http->fd;
    pfd.events = POLLIN;

    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc == -1 && errno == EINTR);

    if (rc <= 0) {
        return rc;
    }

    do {
        n = recv(ws->http->fd, ws->in, VP_WS_READ_SIZE, 0);
    } while (n == -1 && errno == EINTR);

    if (n <= 0) {
        return -1;
    }

    ws->in_len = (size_t) n;

    return 1;
}


int
vp_ws_send(vp_ws_t *ws, int opcode, const void *data, size_t len)
{
    uint8_t       head[VOICE_WS_MAX_HEADER];
    struct iovec  iov[2];

    iov[0].iov_base = head;
    iov[0].iov_len = voice_ws_frame_header(head, opcode, 1, len, NULL);
    iov[1].iov_base = (void *) data;
    iov[1].iov_len = len;

    if (vp_http_send(ws->http, iov, 2) != 0) {
        return -1;
    }

    ws->sent += iov[0].iov_len + len;

    return 0;
}


void
vp_ws_close(vp_ws_t *ws, unsigned code, const char *reason)
{
    int               rc, left;
    size_t            n;
    double            deadline;
    uint8_t           payload[VOICE_WS_MAX_CONTROL];
    voice_ws_event_t  ev;

    if (!ws->close_sent) {
        ws->close_sent = 1;
        n = 0;

        /* "no status" is only ever received: its answer has no code */

        if (code != VOICE_WS_CLOSE_NO_STATUS) {
            payload[0] = (uint8_t) (code >> 8);
            payload[1] = (uint8_t) code;

            n = strlen(reason);
            if (n > sizeof(payload) - 2) {
                n = sizeof(payload) - 2;
            }

            memcpy(payload + 2, reason, n);
            n += 2;
        }

        (void) vp_ws_send(ws, VOICE_WS_OP_CLOSE, payload, n);
    }

    deadline = vp_clock_now_ms() + VP_WS_CLOSE_WAIT;

    while (!ws->close_received && !ws->http->failed) {
        left = (int) (deadline - vp_clock_now_ms());
        if (left <= 0) {
            break;
        }

        rc = vp_ws_read(ws, left, &ev);

        if (rc != VOICE_WS_MESSAGE) {
            break;
        }
    }
}


void
vp_ws_free(vp_ws_t *ws)
{
    ws->http->sent += ws->sent;
    ws->sent = 0;

    free(ws->msg);
    free(ws->in);
    ws->msg = NULL;
    ws->in = NULL;
}

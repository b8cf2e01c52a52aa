/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include <openssl/evp.h>

#include "voice_ws.h"
#include "voice_ws_client.h"

#include "listen.h"
#include "log.h"


#define BP_LISTEN_MSG_MAX    65536
#define BP_LISTEN_FRAME      160        /* a caller frame: 20 ms */
#define BP_LISTEN_BYTES_MS   8          /* μ-law 8 kHz */


static void bp_listen_frames(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);
static void bp_listen_audio(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);
static void bp_listen_control(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);
static void bp_listen_results(bp_conn_t *c, const bp_conn_final_t *f,
    int words, const char *event);
static void bp_listen_send(bp_conn_t *c, int opcode, const void *p,
    size_t n, const char *event, int k);
static void bp_listen_close(bp_conn_t *c, unsigned code);


bp_listen_conf_t  bp_listen_conf = { 0, 500 };


void
bp_listen_open(bp_conn_t *c, size_t head, const char *transcript)
{
    int          n;
    size_t       klen, ilen, ulen;
    const char  *key, *id, *upgrade;
    char         accept[VOICE_WS_CLIENT_ACCEPT_LEN + 1], buf[256];
    static const char  bad[] = "HTTP/1.1 400 Bad Request\r\n"
                               "Content-Length: 0\r\n"
                               "Connection: close\r\n\r\n";

    key = bp_conn_header(c, head, "sec-websocket-key", &klen);
    upgrade = bp_conn_header(c, head, "upgrade", &ulen);
    id = bp_conn_header(c, head, "x-bench-call", &ilen);

    if (key == NULL || upgrade == NULL || ulen != 9
        || strncasecmp(upgrade, "websocket", 9) != 0
        || !voice_ws_client_accept(key, klen, accept))
    {
        bp_conn_send(c, bad, sizeof(bad) - 1, NULL, 0, 0);
        c->close_when_sent = 1;
        bp_conn_flush(c);
        return;
    }

    if (id) {
        ilen = ilen < BP_CONN_ID_MAX - 1 ? ilen : BP_CONN_ID_MAX - 1;
        memcpy(c->id, id, ilen);
        c->id[ilen] = '\0';
    }

    c->msg = malloc(BP_LISTEN_MSG_MAX);
    if (c->msg == NULL) {
        perror("malloc");
        exit(1);
    }

    voice_ws_parser_init(&c->ws, 1, c->msg, BP_LISTEN_MSG_MAX);
    c->type = BP_CONN_LISTEN;
    c->transcript = transcript;

    n = snprintf(buf, sizeof(buf), "HTTP/1.1 101 Switching Protocols\r\n"
                 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
    bp_conn_send(c, buf, n, "stt_open", -1, n);

    /* what came after the head is the first frames */

    bp_listen_frames(c, c->in + head, c->in_len - head, c->t_first);
    c->in_len = 0;
}


void
bp_listen_read(bp_conn_t *c)
{
    bp_conn_read(c, bp_listen_frames);
}


/* the frames in what was read at t (µs) */

static void
bp_listen_frames(bp_conn_t *c, const uint8_t *p, size_t n, int64_t t)
{
    int               rc;
    size_t            used;
    voice_ws_event_t  ev;

    while (n && c->fd >= 0 && !c->close_when_sent) {
        rc = voice_ws_parse(&c->ws, p, n, &used, &ev);
        p += used;
        n -= used;

        switch (rc) {

        case VOICE_WS_MESSAGE:
            if (ev.opcode == VOICE_WS_OP_BINARY) {
                bp_listen_audio(c, ev.data, ev.len, t);

            } else {
                bp_listen_control(c, ev.data, ev.len, t);
            }

            break;

        case VOICE_WS_PING:
            bp_listen_send(c, VOICE_WS_OP_PONG, ev.data, ev.len, NULL, 0);
            break;

        case VOICE_WS_CLOSE:
            bp_listen_close(c, VOICE_WS_CLOSE_NORMAL);
            return;

        case VOICE_WS_ERROR:
            bp_listen_close(c, ev.close_code);
            return;

        case VOICE_WS_AGAIN:
            if (used == 0) {
                return;
            }

            break;

        default:                    /* a pong */
            break;
        }
    }
}


static void
bp_listen_audio(bp_conn_t *c, const uint8_t *p, size_t n, int64_t t)
{
    size_t           every;
    char             b64[(BP_LISTEN_FRAME + 2) / 3 * 4 + 1];
    bp_conn_final_t  f;

    if (n == BP_LISTEN_FRAME) {
        EVP_EncodeBlock((unsigned char *) b64, p, (int) n);
        bp_log_event(t, "stt_frame", c->id, bp_log_key(b64, strlen(b64)));

    } else {
        bp_log_event(t, "stt_audio", c->id, (int) n);
    }

    c->heard += n;

    /* an interim result, one more word, after each --interim of audio */

    every = (size_t) bp_listen_conf.interim_ms * BP_LISTEN_BYTES_MS;

    if (every && c->heard >= (size_t) (c->interims + 1) * every) {
        c->interims++;
        f.start = c->heard_all;
        f.len = c->heard;
        f.utterance = c->utterances + 1;
        bp_listen_results(c, &f, c->interims, NULL);
    }
}


static void
bp_listen_control(bp_conn_t *c, const uint8_t *p, size_t n, int64_t t)
{
    bp_conn_final_t  *f;

    if (memmem(p, n, "\"Finalize\"", 10)) {
        c->utterances++;
        bp_log_event(t, "stt_finalize", c->id, c->utterances);

        /* the audio so far is this utterance; what follows, the next */

        if (c->nfinals < BP_CONN_FINALS) {
            f = &c->finals[c->nfinals++];
            f->due = t + (int64_t) bp_listen_conf.final_ms * 1000;
            f->start = c->heard_all;
            f->len = c->heard;
            f->utterance = c->utterances;

            if (c->nfinals == 1) {
                bp_conn_timer_set(c, f->due);
            }
        }

        c->heard_all += c->heard;
        c->heard = 0;
        c->interims = 0;
        return;
    }

    if (memmem(p, n, "\"CloseStream\"", 13)) {
        bp_listen_close(c, VOICE_WS_CLOSE_NORMAL);
    }

    /* KeepAlive, and anything else, asks for nothing */
}


void
bp_listen_step(bp_conn_t *c)
{
    int64_t  now;

    now = bp_log_now();

    while (c->nfinals && c->finals[0].due <= now && c->fd >= 0) {
        bp_listen_results(c, &c->finals[0], 0, "stt_final");
        c->nfinals--;
        memmove(&c->finals[0], &c->finals[1],
                c->nfinals * sizeof(bp_conn_final_t));
    }

    if (c->nfinals && c->fd >= 0) {
        bp_conn_timer_set(c, c->finals[0].due);
    }
}


/*
 * A Results message: the first "words" words of the transcript as an
 * interim result, or (0) the whole of it as the final one of a Finalize.
 */

static void
bp_listen_results(bp_conn_t *c, const bp_conn_final_t *f, int words,
    const char *event)
{
    int          n, w;
    size_t       len;
    char         buf[1024];
    const char  *s;

    len = strlen(c->transcript);

    for (s = c->transcript, w = 0; words && *s; s++) {
        if (*s == ' ' && ++w == words) {
            len = s - c->transcript;
            break;
        }
    }

    n = snprintf(buf, sizeof(buf),
                 "{\"type\":\"Results\",\"channel_index\":[0,1],"
                 "\"duration\":%.3f,\"start\":%.3f,\"is_final\":%s,"
                 "\"speech_final\":false,\"from_finalize\":%s,"
                 "\"channel\":{\"alternatives\":[{\"transcript\":\"%.*s\","
                 "\"confidence\":0.99,\"words\":[]}]},"
                 "\"metadata\":{\"request_id\":\"bench\"}}",
                 f->len / 8000.0, f->start / 8000.0,
                 words ? "false" : "true", words ? "false" : "true",
                 (int) len, c->transcript);

    bp_listen_send(c, VOICE_WS_OP_TEXT, buf, n, event, f->utterance);
}


/* a server's frame, unmasked; event logged once all of it is written */

static void
bp_listen_send(bp_conn_t *c, int opcode, const void *p, size_t n,
    const char *event, int k)
{
    size_t   hlen;
    uint8_t  frame[VOICE_WS_MAX_HEADER + 1024];

    if (n > sizeof(frame) - VOICE_WS_MAX_HEADER) {
        return;
    }

    hlen = voice_ws_frame_header(frame, opcode, 1, n, NULL);
    memcpy(frame + hlen, p, n);

    bp_conn_send(c, frame, hlen + n, event, k, hlen + n);
}


static void
bp_listen_close(bp_conn_t *c, unsigned code)
{
    uint8_t  status[2];

    status[0] = (uint8_t) (code >> 8);
    status[1] = (uint8_t) code;

    bp_listen_send(c, VOICE_WS_OP_CLOSE, status, 2, NULL, 0);
    c->close_when_sent = 1;
    bp_conn_flush(c);
}

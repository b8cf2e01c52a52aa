/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "voice_token.h"

#include "call.h"
#include "line.h"
#include "record.h"
#include "sign.h"
#include "util.h"


#define SIM_CALL_MSG_MAX  (256 * 1024)
#define SIM_CALL_GUID     "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define SIM_CALL_ACCOUNT  "AC00000000000000000000000000000000"

/* seconds a voiceToken the simulator makes is valid, as the module's */
#define SIM_CALL_TOKEN_LIFETIME  60


static void sim_call_connect(sim_call_t *c);
static void sim_call_connected(sim_call_t *c);
static void sim_call_tls(sim_call_t *c);
static void sim_call_start_handshake(sim_call_t *c);
static int sim_call_check_handshake(sim_call_t *c);
static void sim_call_open(sim_call_t *c);
static unsigned sim_call_params(sim_call_t *c, voice_twilio_param_t *params);
static void sim_call_read(sim_call_t *c);
static ssize_t sim_call_recv(sim_call_t *c, uint8_t *buf, size_t len);
static int sim_call_frames(sim_call_t *c, const uint8_t *buf, size_t n);
static void sim_call_message(sim_call_t *c, const uint8_t *data,
    size_t len);
static void sim_call_media(sim_call_t *c);
static void sim_call_mark(sim_call_t *c);
static void sim_call_clear(sim_call_t *c);
static void sim_call_mark_back(sim_call_t *c, const char *name);
static void sim_call_send_frame(sim_call_t *c, int opcode,
    const uint8_t *data, size_t len);
static void sim_call_queue(sim_call_t *c, const void *data, size_t len);


void
sim_call_init(sim_call_t *c, int id, int ep, const sim_stream_t *stream)
{
    c->id = id;
    c->ep = ep;
    c->stream = stream;
    c->fd = -1;
    c->state = SIM_CALL_IDLE;
}


void
sim_call_start(sim_call_t *c)
{
    c->t_start = sim_util_now();
    snprintf(c->call_sid, sizeof(c->call_sid), "CA%08x%024d",
             (unsigned) random(), c->id);

    /* the first call is the one the webhook was called for */

    if (c->id == 1 && c->stream->call_sid[0]) {
        snprintf(c->call_sid, sizeof(c->call_sid), "%s",
                 c->stream->call_sid);
    }
    snprintf(c->stream_sid, sizeof(c->stream_sid), "MZ%08x%024d",
             (unsigned) random(), c->id);

    c->msg = malloc(SIM_CALL_MSG_MAX);
    if (c->msg == NULL) {
        sim_util_die("out of memory");
    }

    voice_ws_parser_init(&c->ws, 0, c->msg, SIM_CALL_MSG_MAX);

    if (voice_twilio_parser_init(&c->tp, NULL) != VOICE_TWILIO_OK) {
        sim_util_die("out of memory");
    }

    c->addr = c->stream->addrs;
    sim_call_connect(c);
}


/*
 * A non-blocking connect to c->addr, or to the next address when one
 * fails at once, as curl does: a name such as "localhost" may resolve to
 * ::1 first while the server listens on 127.0.0.1 only.
 */

static void
sim_call_connect(sim_call_t *c)
{
    int                 one;
    struct epoll_event  ev;

    for ( /* void */ ; c->addr; c->addr = c->addr->ai_next) {
        c->fd = socket(c->addr->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c->fd < 0) {
            sim_util_die("socket: %s", strerror(errno));
        }

        one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        if (sim_conf.rtt) {
            setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
        }

        if (connect(c->fd, c->addr->ai_addr, c->addr->ai_addrlen) == 0
            || errno == EINPROGRESS)
        {
            c->state = SIM_CALL_CONNECTING;

            ev.events = EPOLLIN | EPOLLOUT;
            ev.data.ptr = c;
            epoll_ctl(c->ep, EPOLL_CTL_ADD, c->fd, &ev);
            c->want_out = 1;
            return;
        }

        close(c->fd);
        c->fd = -1;
    }

    sim_call_finish(c, "connect failed", 1);
}


void
sim_call_handle(sim_call_t *c, uint32_t events)
{
    if (c->state == SIM_CALL_CONNECTING) {
        sim_call_connected(c);

        if (c->state == SIM_CALL_CONNECTING) {
            return;                     /* the next address, under way */
        }
    }

    if (c->state == SIM_CALL_TLS) {
        sim_call_tls(c);
    }

    if (c->state == SIM_CALL_DONE) {
        return;
    }

    if (events & EPOLLOUT) {
        sim_call_flush(c);
    }

    if (c->state != SIM_CALL_DONE
        && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    {
        sim_call_read(c);
    }
}


static void
sim_call_connected(sim_call_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(err);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);

    if (err) {
        /* closing the socket takes it out of the epoll set */
        close(c->fd);
        c->fd = -1;
        c->addr = c->addr->ai_next;
        sim_call_connect(c);
        return;
    }

    if (!c->stream->tls) {
        sim_call_start_handshake(c);
        return;
    }

    c->ssl = SSL_new(c->stream->ssl_ctx);
    if (c->ssl == NULL) {
        sim_call_finish(c, "TLS handshake failed", 1);
        return;
    }

    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, c->stream->host);
    SSL_set1_host(c->ssl, c->stream->host);
    c->state = SIM_CALL_TLS;
}


static void
sim_call_tls(sim_call_t *c)
{
    int  rc;

    rc = SSL_connect(c->ssl);

    if (rc == 1) {
        sim_call_start_handshake(c);
        return;
    }

    rc = SSL_get_error(c->ssl, rc);

    if (rc != SSL_ERROR_WANT_READ && rc != SSL_ERROR_WANT_WRITE) {
        sim_call_finish(c, "TLS handshake failed", 1);
    }
}


/* the upgrade request, signed over the stream URL with no parameters */

static void
sim_call_start_handshake(sim_call_t *c)
{
    int          n;
    char         req[4096], sig[SIM_SIGN_LEN];
    uint8_t      raw[16];
    const char  *token;

    RAND_bytes(raw, 16);
    sim_util_base64(raw, 16, c->key);

    token = sim_conf.token;
    sig[0] = '\0';

    if (token) {
        sim_sign(token, c->stream->url, NULL, 0, sig);
    }

    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                 c->stream->path, c->stream->authority, c->key,
                 token ? "X-Twilio-Signature: " : "", sig,
                 token ? "\r\n" : "");

    sim_call_queue(c, req, n);
    c->state = SIM_CALL_HANDSHAKE;
    sim_call_flush(c);
}


/* 1: the stream is open; 0: more of the response to come; -1: failed */

static int
sim_call_check_handshake(sim_call_t *c)
{
    char     *end, *acc, want[64], cat[128];
    uint8_t   digest[SHA_DIGEST_LENGTH];

    c->in[c->in_len < sizeof(c->in) ? c->in_len : sizeof(c->in) - 1] = '\0';

    end = strstr((char *) c->in, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }

    if (strncmp((char *) c->in, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "[%d] handshake refused: %.*s\n", c->id,
                (int) (strchr((char *) c->in, '\r') - (char *) c->in),
                (char *) c->in);
        sim_call_finish(c, "handshake refused", 1);
        return -1;
    }

    snprintf(cat, sizeof(cat), "%s%s", c->key, SIM_CALL_GUID);
    SHA1((uint8_t *) cat, strlen(cat), digest);
    sim_util_base64(digest, SHA_DIGEST_LENGTH, want);

    acc = strcasestr((char *) c->in, "Sec-WebSocket-Accept:");

    if (acc == NULL || acc > end || strstr(acc, want) != acc + 22) {
        sim_call_finish(c, "bad Sec-WebSocket-Accept", 1);
        return -1;
    }

    end += 4;
    c->in_len -= end - (char *) c->in;
    memmove(c->in, end, c->in_len);

    sim_call_open(c);

    return 1;
}


/* Twilio's first messages: connected, start, then any --dtmf */

static void
sim_call_open(sim_call_t *c)
{
    size_t                 n;
    unsigned               nparams;
    uint8_t                buf[8192];
    const char            *d;
    voice_twilio_param_t   params[VOICE_TWILIO_PARAMS_MAX];

    c->state = SIM_CALL_OPEN;
    c->t_open = sim_util_now();

    n = voice_twilio_build_connected(buf, sizeof(buf));
    sim_call_send_text(c, buf, n);

    nparams = sim_call_params(c, params);

    n = voice_twilio_build_start(buf, sizeof(buf), c->stream_sid,
                                 c->call_sid, SIM_CALL_ACCOUNT, params,
                                 nparams);
    sim_call_send_text(c, buf, n);

    if (sim_conf.dtmf) {
        for (d = sim_conf.dtmf; *d; d++) {
            n = voice_twilio_build_dtmf(buf, sizeof(buf), c->stream_sid,
                                        ++c->seq + 1, *d);
            sim_call_send_text(c, buf, n);
        }
    }

    c->seq = 1;
}


/*
 * The <Parameter>s for "start".  A call the webhook was not called for
 * (--stream-url, or each call after the first) has no voiceToken of its
 * own: with --token it gets one made as the operator's application would
 * make it, for its CallSid.
 */

static unsigned
sim_call_params(sim_call_t *c, voice_twilio_param_t *params)
{
    size_t     len;
    unsigned   i, n;
    uint8_t    token[VOICE_TOKEN_LEN];

    n = 0;

    for (i = 0; i < c->stream->nparams; i++) {
        params[n++] = c->stream->params[i];
    }

    if (sim_conf.token == NULL
        || (c->id == 1 && c->stream->call_sid[0]))
    {
        return n;
    }

    len = voice_token_mint(token, (const uint8_t *) sim_conf.token,
                           strlen(sim_conf.token),
                           (const uint8_t *) c->call_sid,
                           strlen(c->call_sid),
                           (int64_t) time(NULL) + SIM_CALL_TOKEN_LIFETIME);
    if (len == 0) {
        sim_util_die("cannot make a voiceToken");
    }

    for (i = 0; i < n; i++) {
        if (strcmp(params[i].name, VOICE_TOKEN_NAME) == 0) {
            break;
        }
    }

    if (i == n) {
        if (n == VOICE_TWILIO_PARAMS_MAX) {
            return n;
        }

        snprintf(params[n++].name, sizeof(params[0].name), "%s",
                 VOICE_TOKEN_NAME);
    }

    snprintf(params[i].value, sizeof(params[0].value), "%.*s", (int) len,
             token);

    return n;
}


static void
sim_call_read(sim_call_t *c)
{
    ssize_t  n;
    uint8_t  buf[16384];

    for ( ;; ) {
        n = sim_call_recv(c, buf, sizeof(buf));

        if (n < 0) {
            return;                     /* nothing more for now */
        }

        if (n == 0) {
            if (c->state == SIM_CALL_CLOSING && c->close_code) {
                sim_call_finish(c, "closed", 0);

            } else {
                sim_call_finish(c, "server closed the connection", 1);
            }

            return;
        }

        if (c->state == SIM_CALL_HANDSHAKE) {
            if (c->in_len + n > sizeof(c->in) - 1) {
                sim_call_finish(c, "handshake response too long", 1);
                return;
            }

            memcpy(c->in + c->in_len, buf, n);
            c->in_len += n;

            if (sim_call_check_handshake(c) <= 0) {
                continue;
            }

            /* frames that came with the response */
            memcpy(buf, c->in, c->in_len);
            n = c->in_len;
            c->in_len = 0;
        }

        if (sim_call_frames(c, buf, n) != 0) {
            return;
        }

        sim_call_flush(c);

        /*
         * A short read over TCP took all there was: epoll tells when
         * more comes, which saves a recv() a message under load.  TLS
         * may hold decrypted bytes epoll cannot see.
         */

        if (c->ssl == NULL && (size_t) n < sizeof(buf)) {
            return;
        }
    }
}


/*
 * >0 bytes read, 0 the connection ended, -1 nothing to read now.  With
 * --rtt, c->t_rx is when the kernel received the last of them (on
 * loopback: while the server was in its send call), so a round trip does
 * not count how late the simulator got to read it.
 */

static ssize_t
sim_call_recv(sim_call_t *c, uint8_t *buf, size_t len)
{
    int              e;
    char             control[CMSG_SPACE(sizeof(struct timespec))];
    ssize_t          n;
    struct iovec     iov;
    struct msghdr    msg;
    struct cmsghdr  *cm;
    struct timespec  ts;

    if (c->ssl) {
        n = SSL_read(c->ssl, buf, (int) len);

        if (n <= 0) {
            e = SSL_get_error(c->ssl, (int) n);

            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                return -1;
            }

            return 0;
        }

        return n;
    }

    c->t_rx = 0;

    if (!sim_conf.rtt) {
        n = recv(c->fd, buf, len, 0);

    } else {
        iov.iov_base = buf;
        iov.iov_len = len;
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);

        n = recvmsg(c->fd, &msg, 0);

        for (cm = CMSG_FIRSTHDR(&msg); n > 0 && cm;
             cm = CMSG_NXTHDR(&msg, cm))
        {
            if (cm->cmsg_level == SOL_SOCKET
                && cm->cmsg_type == SCM_TIMESTAMPNS)
            {
                memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
                c->t_rx = ts.tv_sec + ts.tv_nsec / 1e9;
            }
        }
    }

    if (n < 0 && errno == EAGAIN) {
        return -1;
    }

    return n < 0 ? 0 : n;
}


/* the WebSocket frames in buf; -1 when the call ended on them */

static int
sim_call_frames(sim_call_t *c, const uint8_t *buf, size_t n)
{
    int               rc;
    size_t            off, used;
    uint8_t           code[2];
    voice_ws_event_t  ev;

    off = 0;

    while (off < n && c->state != SIM_CALL_DONE) {
        rc = voice_ws_parse(&c->ws, buf + off, n - off, &used, &ev);
        off += used;

        switch (rc) {
        case VOICE_WS_AGAIN:
            break;

        case VOICE_WS_MESSAGE:
            sim_call_message(c, ev.data, ev.len);
            break;

        case VOICE_WS_PING:
            sim_call_send_frame(c, VOICE_WS_OP_PONG, ev.data, ev.len);
            break;

        case VOICE_WS_CLOSE:
            c->close_code = ev.close_code;

            if (c->state != SIM_CALL_CLOSING) {
                code[0] = (uint8_t) (ev.close_code >> 8);
                code[1] = (uint8_t) ev.close_code;
                sim_call_send_frame(c, VOICE_WS_OP_CLOSE, code, 2);
                c->state = SIM_CALL_CLOSING;
            }

            break;

        case VOICE_WS_ERROR:
            sim_call_finish(c, "protocol error from the server", 1);
            return -1;
        }
    }

    return 0;
}


static void
sim_call_message(sim_call_t *c, const uint8_t *data, size_t len)
{
    if (sim_conf.verbose) {
        fprintf(stderr, "[%d] < %.*s\n", c->id, (int) (len > 200 ? 200 : len),
                data);
    }

    if (voice_twilio_parse(&c->tp, data, len, &c->tm) != VOICE_TWILIO_OK) {
        fprintf(stderr, "[%d] bad message from the server: %s\n", c->id,
                c->tp.error);
        return;
    }

    switch (c->tm.event) {

    case VOICE_TWILIO_MEDIA:
        sim_call_media(c);
        return;

    case VOICE_TWILIO_MARK:
        sim_call_mark(c);
        return;

    case VOICE_TWILIO_CLEAR:
        sim_call_clear(c);
        return;
    }
}


/* the agent's audio, queued for playout */

static void
sim_call_media(sim_call_t *c)
{
    int          n;
    uint8_t      raw[VOICE_TWILIO_PAYLOAD_MAX];
    const char  *p;
    size_t       len;

    p = c->tm.payload;
    len = c->tm.payload_len;

    n = EVP_DecodeBlock(raw, (const uint8_t *) p, (int) len);
    if (n < 0) {
        fprintf(stderr, "[%d] media payload is not base64\n", c->id);
        return;
    }

    if (len >= 1 && p[len - 1] == '=') {
        n--;
    }

    if (len >= 2 && p[len - 2] == '=') {
        n--;
    }

    if (c->media_out++ == 0) {
        c->t_first_out = sim_util_now();
    }

    c->t_last_out = sim_util_now();

    sim_rtt_back(&c->rtt, n, c->t_rx > 0 ? c->t_rx : sim_util_wall());

    c->play = sim_util_grow(c->play, &c->play_size, c->play_len + n, 1);
    memcpy(c->play + c->play_len, raw, n);
    c->play_len += n;
}


/* a mark returns when playback reaches the audio queued before it */

static void
sim_call_mark(sim_call_t *c)
{
    c->marks_in++;

    if (c->nmarks == SIM_CALL_MARKS_MAX || c->played >= c->play_len) {
        sim_call_mark_back(c, c->tm.mark_name);
        return;
    }

    snprintf(c->marks[c->nmarks].name, sizeof(c->marks[0].name), "%s",
             c->tm.mark_name);
    c->marks[c->nmarks].at = c->play_len;
    c->nmarks++;
}


/* what is not played yet is dropped, and its marks come back */

static void
sim_call_clear(sim_call_t *c)
{
    int  i;

    c->clears++;
    c->play_len = c->played;

    sim_line_clear(c);

    for (i = 0; i < c->nmarks; i++) {
        sim_call_mark_back(c, c->marks[i].name);
    }

    c->nmarks = 0;
}


static void
sim_call_mark_back(sim_call_t *c, const char *name)
{
    size_t   n;
    uint8_t  buf[512];

    n = voice_twilio_build_mark(buf, sizeof(buf), c->stream_sid, ++c->seq,
                                name);
    sim_call_send_text(c, buf, n);
    c->marks_back++;
}


void
sim_call_play(sim_call_t *c, const uint8_t **agent, size_t *agent_n)
{
    int     i, j;
    size_t  n;

    *agent = NULL;
    *agent_n = 0;

    if (c->played < c->play_len) {
        n = c->play_len - c->played;

        if (!sim_conf.fast && n > SIM_CALL_FRAME) {
            n = SIM_CALL_FRAME;
        }

        *agent = c->play + c->played;
        *agent_n = n;
        c->played += n;
    }

    sim_record_heard(c, *agent, *agent_n);
    sim_line_played(c, *agent, *agent_n);

    for (i = 0; i < c->nmarks && c->marks[i].at <= c->played; i++) {
        sim_call_mark_back(c, c->marks[i].name);
    }

    for (j = 0; i < c->nmarks; i++, j++) {
        c->marks[j] = c->marks[i];
    }

    c->nmarks = j;

    /*
     * What has played is dropped, but for the first call, which is the
     * one recorded: a long load test would keep all its calls' audio.
     */

    if (c->id != 1 && c->played == c->play_len && c->nmarks == 0) {
        c->play_base += c->play_len;
        c->play_len = 0;
        c->played = 0;
    }
}


/*
 * A frame of the caller's audio, as the line carries it; its timestamp
 * in the audio's own time
 */

void
sim_call_send_media(sim_call_t *c, const uint8_t *frame, double t)
{
    size_t   n;
    char     b64[SIM_CALL_FRAME * 2];
    uint8_t  json[1024], line[SIM_CALL_FRAME];

    sim_line_frame(c, frame, line, t);
    sim_util_base64(line, SIM_CALL_FRAME, b64);

    if (c->sent == 0) {
        c->t_first_in = t;
    }

    c->seq++;
    sim_rtt_sent(&c->rtt, sim_util_wall());
    n = voice_twilio_build_media(json, sizeof(json), c->stream_sid, c->seq,
                                 c->sent / SIM_CALL_FRAME + 1, c->sent / 8,
                                 (uint8_t *) b64, strlen(b64));
    sim_call_send_frame(c, VOICE_WS_OP_TEXT, json, n);
    c->sent += SIM_CALL_FRAME;
}


void
sim_call_send_text(sim_call_t *c, const uint8_t *json, size_t len)
{
    if (sim_conf.verbose) {
        fprintf(stderr, "[%d] > %.*s\n", c->id, (int) (len > 200 ? 200 : len),
                json);
    }

    sim_call_send_frame(c, VOICE_WS_OP_TEXT, json, len);
}


/* the caller hangs up */

void
sim_call_send_stop(sim_call_t *c)
{
    size_t   n;
    uint8_t  json[1024];

    n = voice_twilio_build_stop(json, sizeof(json), c->stream_sid,
                                c->call_sid, SIM_CALL_ACCOUNT, ++c->seq);
    sim_call_send_text(c, json, n);
    c->stop_sent = 1;
}


/* a masked client frame */

static void
sim_call_send_frame(sim_call_t *c, int opcode, const uint8_t *data,
    size_t len)
{
    size_t    n;
    uint8_t   hdr[VOICE_WS_MAX_HEADER], mask[4];
    uint32_t  r;

    /*
     * The key's unpredictability (RFC 6455 10.3) guards proxies against
     * a browser's scripts, which a simulator runs none of; a random()
     * key costs little beside RAND_bytes(), at 150,000 frames a second
     */
    r = (uint32_t) random();
    memcpy(mask, &r, 4);

    n = voice_ws_frame_header(hdr, opcode, 1, len, mask);

    c->out = sim_util_grow(c->out, &c->out_size, c->out_len + n + len, 1);
    memcpy(c->out + c->out_len, hdr, n);
    memcpy(c->out + c->out_len + n, data, len);
    voice_ws_mask(c->out + c->out_len + n, len, mask, 0);
    c->out_len += n + len;
}


static void
sim_call_queue(sim_call_t *c, const void *data, size_t len)
{
    c->out = sim_util_grow(c->out, &c->out_size, c->out_len + len, 1);
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}


void
sim_call_flush(sim_call_t *c)
{
    int                 e;
    ssize_t             n;
    struct epoll_event  ev;

    while (c->out_len) {
        if (c->ssl) {
            n = SSL_write(c->ssl, c->out, (int) c->out_len);

            if (n <= 0) {
                e = SSL_get_error(c->ssl, (int) n);

                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    break;
                }

                sim_call_finish(c, "TLS write failed", 1);
                return;
            }

        } else {
            n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

            if (n < 0) {
                if (errno == EAGAIN) {
                    break;
                }

                sim_call_finish(c, "send failed", 1);
                return;
            }
        }

        memmove(c->out, c->out + n, c->out_len - n);
        c->out_len -= n;
    }

    /* a call a tick: epoll is told only when that changes */

    if (c->want_out != (c->out_len != 0)) {
        c->want_out = (c->out_len != 0);
        ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0);
        ev.data.ptr = c;
        epoll_ctl(c->ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
}


void
sim_call_finish(sim_call_t *c, const char *why, int failed)
{
    if (c->state == SIM_CALL_DONE) {
        return;
    }

    c->state = SIM_CALL_DONE;
    c->why = why;
    c->failed = failed;

    sim_rtt_end(&c->rtt);

    sim_line_free(c);

    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }

    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * bench-providers: fake STT, LLM and TTS providers for make bench, and a
 * WebSocket relay that sees when media leaves nginx.
 *
 * The providers speak the real wire formats (OpenAI transcriptions:
 * multipart in, {"text"} out; OpenAI chat completions: an SSE stream of
 * deltas ending "data: [DONE]"; ElevenLabs TTS: raw μ-law 8 kHz) and
 * answer at once, or after a fixed delay.  The LLM reply is a few
 * sentences, one SSE event each, a gap apart, so every sentence is handed
 * to TTS on its own.  The providers log, in µs of CLOCK_REALTIME, with
 * the request path's call id:
 *
 *   stt_req    first byte of an STT request read
 *   stt_reply  the STT reply written, all of it
 *   llm_req    first byte of an LLM request read
 *   llm_sent   the event that completes sentence k written
 *   tts_req    first byte of the TTS request for sentence k read
 *   tts_first  the first audio byte of sentence k written
 *
 * With --relay, it forwards a WebSocket between the caller (voice-sim)
 * and nginx instead, and logs "media" with the stream sid each time media
 * messages arrive from nginx: the moment audio left nginx, seen from the
 * caller's side.
 *
 * With --wake N, it measures the machine instead: N round trips between
 * two processes over a socketpair, each after a few idle milliseconds,
 * i.e. what waking up costs here; no hand-off can be faster than that.
 *
 * What is read is stamped by the kernel as it arrives (SO_TIMESTAMPNS,
 * taken on loopback while the sender is in its send call), what is
 * written just before the send call: so the time between the two is
 * nginx's alone, plus one loopback hop, whenever this process itself gets
 * to run on a busy machine.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "voice_ws.h"


#define BP_SENTENCES    3
#define BP_PENDING      8
#define BP_MSG_MAX      65536
#define BP_ID_MAX       128

#define BP_MEDIA_PREFIX "{\"event\":\"media\",\"streamSid\":\""


enum {
    bp_listener = 0,
    bp_provider,
    bp_relay_caller,            /* voice-sim's side of a relayed call */
    bp_relay_nginx              /* nginx's side */
};

enum {
    bp_stt = 0,
    bp_llm,
    bp_tts
};


typedef struct {
    size_t          at;         /* logged once this much is written */
    const char     *event;
    int             k;
} bp_pending_t;


typedef struct bp_conn_s  bp_conn_t;

struct bp_conn_s {
    int             fd;
    int             type;

    uint8_t        *in;
    size_t          in_len;
    size_t          in_size;

    uint8_t        *out;
    size_t          out_len;
    size_t          out_pos;
    size_t          out_size;
    bp_pending_t    pending[BP_PENDING];
    int             npending;
    int             close_when_sent;

    /* a provider request */
    int             kind;
    int             answered;
    char            id[BP_ID_MAX];
    int             sentence;
    int64_t         t_first;    /* µs: the request's first byte read */
    int64_t         next_at;    /* µs: the next thing to write; 0: none */
    int             step;

    /* a relayed call */
    bp_conn_t      *peer;
    int             head_done;  /* nginx's 101 response read */
    size_t          head_match;
    voice_ws_parser_t  ws;
    uint8_t        *msg;

    bp_conn_t      *next;       /* the list of connections with timers */
    bp_conn_t      *prev;
};


static int64_t bp_now(void);
static ssize_t bp_recv(bp_conn_t *c, void *buf, size_t len, int64_t *t);
static void bp_log(int64_t t, const char *event, const char *id, int k);
static int bp_listen(int port);
static void bp_add(bp_conn_t *c, uint32_t events);
static void bp_close(bp_conn_t *c);
static void bp_grow(uint8_t **buf, size_t *size, size_t need);
static void bp_send(bp_conn_t *c, const void *data, size_t len,
    const char *event, int k, size_t at);
static void bp_flush(bp_conn_t *c);
static void bp_accept(bp_conn_t *l);
static void bp_read(bp_conn_t *c);
static void bp_request(bp_conn_t *c, size_t head, size_t body);
static void bp_step(bp_conn_t *c);
static void bp_timer_set(bp_conn_t *c, int64_t at);
static void bp_timer_del(bp_conn_t *c);
static void bp_relay_read(bp_conn_t *c);
static void bp_relay_media(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);
static int bp_wake(int n);
static int bp_cmp(const void *a, const void *b);
static void bp_usage(void);


static const char  *bp_transcript = "What are your opening hours today?";

/* each ends in white space, so its own event completes it */
static const char  *bp_reply[BP_SENTENCES] = {
    "We open at nine every morning. ",
    "We close at five in the evening. ",
    "Is there anything else I can do for you? "
};

static int          bp_ep;
static int          bp_relay_port;
static int          bp_gap_ms = 5;
static int          bp_delay_ms;
static size_t       bp_audio = 3200;         /* 400 ms a sentence */
static FILE        *bp_logf;
static bp_conn_t   *bp_timers;
static volatile sig_atomic_t  bp_stop;


static void
bp_on_signal(int signo)
{
    (void) signo;
    bp_stop = 1;
}


int
main(int argc, char **argv)
{
    int                  i, n, port, opt, timeout;
    int64_t              now, first;
    bp_conn_t           *l, *c, *next;
    const char          *log;
    struct sigaction     sa;
    struct epoll_event   evs[256];

    static struct option  opts[] = {
        { "port", required_argument, NULL, 'p' },
        { "log", required_argument, NULL, 'l' },
        { "gap", required_argument, NULL, 'g' },
        { "delay", required_argument, NULL, 'd' },
        { "audio", required_argument, NULL, 'a' },
        { "relay", required_argument, NULL, 'r' },
        { "wake", required_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 }
    };

    port = 0;
    log = NULL;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'l': log = optarg; break;
        case 'g': bp_gap_ms = atoi(optarg); break;
        case 'd': bp_delay_ms = atoi(optarg); break;
        case 'a': bp_audio = (size_t) atol(optarg); break;
        case 'r': bp_relay_port = atoi(optarg); break;
        case 'w': return bp_wake(atoi(optarg));
        default: bp_usage();
        }
    }

    if (port <= 0 || log == NULL || bp_gap_ms < 0 || bp_delay_ms < 0) {
        bp_usage();
    }

    bp_logf = fopen(log, "w");
    if (bp_logf == NULL) {
        fprintf(stderr, "bench-providers: cannot open %s: %s\n", log,
                strerror(errno));
        return 1;
    }

    setvbuf(bp_logf, NULL, _IOFBF, 1 << 20);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bp_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bp_ep = epoll_create1(0);
    if (bp_ep < 0) {
        perror("epoll_create1");
        return 1;
    }

    l = calloc(1, sizeof(bp_conn_t));
    if (l == NULL) {
        return 1;
    }

    l->fd = bp_listen(port);
    l->type = bp_listener;
    bp_add(l, EPOLLIN);

    while (!bp_stop) {
        timeout = -1;

        if (bp_timers) {
            now = bp_now();
            first = INT64_MAX;

            for (c = bp_timers; c; c = c->next) {
                if (c->next_at < first) {
                    first = c->next_at;
                }
            }

            timeout = (first <= now) ? 0 : (int) ((first - now + 999) / 1000);
        }

        n = epoll_wait(bp_ep, evs, 256, timeout);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            perror("epoll_wait");
            break;
        }

        for (i = 0; i < n; i++) {
            c = evs[i].data.ptr;

            if (c->type == bp_listener) {
                bp_accept(c);
                continue;
            }

            if (evs[i].events & EPOLLOUT) {
                bp_flush(c);

                if (c->fd < 0) {
                    continue;
                }
            }

            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (c->type == bp_provider) {
                    bp_read(c);

                } else {
                    bp_relay_read(c);
                }
            }
        }

        now = bp_now();

        for (c = bp_timers; c; c = next) {
            next = c->next;

            if (c->next_at <= now) {
                bp_timer_del(c);
                bp_step(c);
            }
        }
    }

    fflush(bp_logf);
    fclose(bp_logf);

    return 0;
}


static int64_t
bp_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* recv(), and when the bytes arrived: the kernel's stamp, or now */

static ssize_t
bp_recv(bp_conn_t *c, void *buf, size_t len, int64_t *t)
{
    ssize_t           n;
    struct iovec      iov;
    struct msghdr     msg;
    struct cmsghdr   *cm;
    struct timespec   ts;
    char              control[CMSG_SPACE(sizeof(struct timespec))];

    iov.iov_base = buf;
    iov.iov_len = len;

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);

    n = recvmsg(c->fd, &msg, 0);

    *t = 0;

    for (cm = CMSG_FIRSTHDR(&msg); n > 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
            *t = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        }
    }

    if (*t == 0) {
        *t = bp_now();
    }

    return n;
}


static void
bp_log(int64_t t, const char *event, const char *id, int k)
{
    fprintf(bp_logf, "%lld %s %s %d\n", (long long) t, event,
            id[0] ? id : "-", k);
}


static int
bp_listen(int port)
{
    int                 fd, one;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }

    one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0
        || listen(fd, 4096) < 0)
    {
        fprintf(stderr, "bench-providers: cannot listen on %d: %s\n", port,
                strerror(errno));
        exit(1);
    }

    return fd;
}


static void
bp_add(bp_conn_t *c, uint32_t events)
{
    struct epoll_event  ev;

    ev.events = events;
    ev.data.ptr = c;

    if (epoll_ctl(bp_ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        perror("epoll_ctl");
        exit(1);
    }
}


static void
bp_close(bp_conn_t *c)
{
    bp_conn_t  *peer;

    if (c->fd < 0) {
        return;
    }

    bp_timer_del(c);
    close(c->fd);
    c->fd = -1;

    peer = c->peer;
    c->peer = NULL;

    free(c->in);
    free(c->out);
    free(c->msg);

    /* the connection struct stays: an event of this round may name it */

    c->in = NULL;
    c->out = NULL;
    c->msg = NULL;

    if (peer) {
        peer->peer = NULL;

        if (peer->out_pos == peer->out_len) {
            bp_close(peer);

        } else {
            peer->close_when_sent = 1;
        }
    }
}


static void
bp_grow(uint8_t **buf, size_t *size, size_t need)
{
    size_t    n;
    uint8_t  *p;

    if (need <= *size) {
        return;
    }

    n = *size ? *size : 4096;

    while (n < need) {
        n *= 2;
    }

    p = realloc(*buf, n);
    if (p == NULL) {
        fprintf(stderr, "bench-providers: out of memory\n");
        exit(1);
    }

    *buf = p;
    *size = n;
}


/*
 * Queues bytes and sends what the socket takes; "event" is logged once
 * "at" bytes of them are out.
 */

static void
bp_send(bp_conn_t *c, const void *data, size_t len, const char *event,
    int k, size_t at)
{
    if (c->fd < 0) {
        return;
    }

    if (c->out_pos == c->out_len) {
        c->out_pos = 0;
        c->out_len = 0;
    }

    if (event && c->npending < BP_PENDING) {
        c->pending[c->npending].at = c->out_len + at;
        c->pending[c->npending].event = event;
        c->pending[c->npending].k = k;
        c->npending++;
    }

    bp_grow(&c->out, &c->out_size, c->out_len + len);
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;

    bp_flush(c);
}


static void
bp_flush(bp_conn_t *c)
{
    int                 i, j;
    ssize_t             n;
    int64_t             t;
    struct epoll_event  ev;

    t = 0;

    while (c->fd >= 0 && c->out_pos < c->out_len) {
        if (t == 0) {
            /* what is written is there for the peer during the call */
            t = bp_now();
        }

        n = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos,
                 MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN || errno == ENOTCONN) {
                break;      /* ENOTCONN: the relay's connect is under way */
            }

            bp_close(c);
            return;
        }

        c->out_pos += n;
    }

    if (c->fd < 0) {
        return;
    }

    if (c->npending) {
        for (i = 0, j = 0; i < c->npending; i++) {
            if (c->pending[i].at <= c->out_pos) {
                bp_log(t, c->pending[i].event, c->id, c->pending[i].k);

            } else {
                c->pending[j++] = c->pending[i];
            }
        }

        c->npending = j;
    }

    ev.data.ptr = c;
    ev.events = EPOLLIN | ((c->out_pos < c->out_len) ? EPOLLOUT : 0);
    epoll_ctl(bp_ep, EPOLL_CTL_MOD, c->fd, &ev);

    if (c->out_pos == c->out_len && c->close_when_sent) {
        bp_close(c);
    }
}


static void
bp_accept(bp_conn_t *l)
{
    int                 fd, one;
    bp_conn_t          *c, *s;
    struct sockaddr_in  sin;

    for ( ;; ) {
        fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            return;
        }

        one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        c = calloc(1, sizeof(bp_conn_t));
        if (c == NULL) {
            close(fd);
            return;
        }

        c->fd = fd;
        c->sentence = -1;

        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));

        if (bp_relay_port == 0) {
            c->type = bp_provider;
            bp_add(c, EPOLLIN);
            continue;
        }

        /* a call to relay: connect to nginx */

        c->type = bp_relay_caller;

        s = calloc(1, sizeof(bp_conn_t));
        if (s == NULL) {
            close(fd);
            free(c);
            return;
        }

        s->type = bp_relay_nginx;
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        s->msg = malloc(BP_MSG_MAX);

        if (s->fd < 0 || s->msg == NULL) {
            perror("socket");
            exit(1);
        }

        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));

        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t) bp_relay_port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

        if (connect(s->fd, (struct sockaddr *) &sin, sizeof(sin)) < 0
            && errno != EINPROGRESS)
        {
            close(s->fd);
            close(fd);
            free(s->msg);
            free(s);
            free(c);
            continue;
        }

        voice_ws_parser_init(&s->ws, 0, s->msg, BP_MSG_MAX);

        c->peer = s;
        s->peer = c;

        bp_add(c, EPOLLIN);
        bp_add(s, EPOLLIN | EPOLLOUT);
    }
}


/* a provider connection: one HTTP request, then the answer */

static void
bp_read(bp_conn_t *c)
{
    ssize_t   n;
    size_t    cl, head;
    int64_t   t;
    uint8_t  *end, *p;

    for ( ;; ) {
        bp_grow(&c->in, &c->in_size, c->in_len + 16384);

        n = bp_recv(c, c->in + c->in_len, c->in_size - c->in_len, &t);

        if (n < 0 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            bp_close(c);
            return;
        }

        if (c->in_len == 0) {
            /* logged once the request line tells what it is */
            c->t_first = t;
        }

        c->in_len += n;

        if (c->answered) {
            continue;
        }

        end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (end == NULL) {
            continue;
        }

        head = end + 4 - c->in;
        cl = 0;

        for (p = c->in; p < end; p++) {
            if (p[0] == '\n'
                && strncasecmp((char *) p + 1, "content-length:", 15) == 0)
            {
                cl = (size_t) strtoul((char *) p + 16, NULL, 10);
            }
        }

        if (c->in_len < head + cl) {
            continue;
        }

        c->answered = 1;
        bp_request(c, head, cl);

        if (c->fd < 0) {
            return;
        }
    }
}


static void
bp_request(bp_conn_t *c, size_t head, size_t body)
{
    int          k;
    size_t       i, n;
    uint8_t     *p, *e;
    const char  *ev, *path;
    static const char  not_found[] = "HTTP/1.1 404 Not Found\r\n"
                                     "Content-Length: 0\r\n"
                                     "Connection: close\r\n\r\n";

    path = (char *) memchr(c->in, ' ', head);
    if (path == NULL) {
        bp_close(c);
        return;
    }

    path++;

    if (strncmp(path, "/stt/", 5) == 0) {
        c->kind = bp_stt;
        ev = "stt_req";

    } else if (strncmp(path, "/llm/", 5) == 0) {
        c->kind = bp_llm;
        ev = "llm_req";

    } else if (strncmp(path, "/tts/", 5) == 0) {
        c->kind = bp_tts;
        ev = "tts_req";

    } else {
        bp_send(c, not_found, sizeof(not_found) - 1, NULL, 0, 0);
        c->close_when_sent = 1;
        bp_flush(c);
        return;
    }

    path += 5;

    for (i = 0; i < BP_ID_MAX - 1 && path[i] != ' ' && path[i] != '?'
                && path[i] != '\r'; i++)
    {
        c->id[i] = path[i];
    }

    c->id[i] = '\0';

    if (c->kind == bp_tts) {

        /* which sentence: the body's "text" */

        p = memmem(c->in + head, body, "\"text\":\"", 8);

        if (p) {
            p += 8;
            e = memchr(p, '"', c->in + head + body - p);

            for (k = 0; e && k < BP_SENTENCES; k++) {
                n = strlen(bp_reply[k]) - 1;

                if ((size_t) (e - p) == n && memcmp(p, bp_reply[k], n) == 0) {
                    c->sentence = k;
                    break;
                }
            }
        }
    }

    bp_log(c->t_first, ev, c->id, c->sentence);

    bp_timer_set(c, bp_now() + (int64_t) bp_delay_ms * 1000);
}


/* what the provider writes next: now, or after the delay and gaps */

static void
bp_step(bp_conn_t *c)
{
    int       n;
    size_t    i;
    char      buf[1024];
    uint8_t  *audio;

    switch (c->kind) {

    case bp_stt:
        n = snprintf(buf, sizeof(buf), "{\"text\":\"%s\"}", bp_transcript);
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\nConnection: close\r\n\r\n"
                     "{\"text\":\"%s\"}", n, bp_transcript);

        bp_send(c, buf, n, "stt_reply", -1, n);
        c->close_when_sent = 1;
        bp_flush(c);
        return;

    case bp_llm:

        if (c->step == 0) {
            n = snprintf(buf, sizeof(buf),
                         "HTTP/1.1 200 OK\r\n"
                         "Content-Type: text/event-stream\r\n"
                         "Cache-Control: no-cache\r\nConnection: close\r\n"
                         "\r\n"
                         "data: {\"choices\":[{\"index\":0,\"delta\":"
                         "{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n");
            bp_send(c, buf, n, NULL, 0, 0);

        } else if (c->step <= BP_SENTENCES) {
            n = snprintf(buf, sizeof(buf),
                         "data: {\"choices\":[{\"index\":0,\"delta\":"
                         "{\"content\":\"%s\"}}]}\n\n", bp_reply[c->step - 1]);
            bp_send(c, buf, n, "llm_sent", c->step - 1, n);

        } else {
            n = snprintf(buf, sizeof(buf),
                         "data: {\"choices\":[{\"index\":0,\"delta\":{},"
                         "\"finish_reason\":\"stop\"}]}\n\n"
                         "data: [DONE]\n\n");
            bp_send(c, buf, n, NULL, 0, 0);
            c->close_when_sent = 1;
            bp_flush(c);
            return;
        }

        c->step++;
        bp_timer_set(c, bp_now() + (int64_t) bp_gap_ms * 1000);
        return;

    case bp_tts:
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nContent-Type: audio/basic\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     bp_audio);

        /* the head and the audio in one write, as a provider's first read */

        audio = malloc(n + bp_audio);
        if (audio == NULL) {
            exit(1);
        }

        memcpy(audio, buf, n);

        /* a quiet tone: anything but silence */
        for (i = 0; i < bp_audio; i++) {
            audio[n + i] = (i & 8) ? 0xf0 : 0x70;
        }

        bp_send(c, audio, n + bp_audio, "tts_first", c->sentence, n + 1);
        free(audio);
        c->close_when_sent = 1;
        bp_flush(c);
        return;
    }
}


static void
bp_timer_set(bp_conn_t *c, int64_t at)
{
    bp_timer_del(c);

    c->next_at = at;
    c->prev = NULL;
    c->next = bp_timers;

    if (bp_timers) {
        bp_timers->prev = c;
    }

    bp_timers = c;
}


static void
bp_timer_del(bp_conn_t *c)
{
    if (c->next_at == 0) {
        return;
    }

    if (c->prev) {
        c->prev->next = c->next;

    } else if (bp_timers == c) {
        bp_timers = c->next;
    }

    if (c->next) {
        c->next->prev = c->prev;
    }

    c->next = NULL;
    c->prev = NULL;
    c->next_at = 0;
}


/* a relayed call: forward as is; watch what nginx sends for media */

static void
bp_relay_read(bp_conn_t *c)
{
    ssize_t   n;
    int64_t   t;
    uint8_t   buf[65536];

    for ( ;; ) {
        if (c->fd < 0) {
            return;
        }

        n = bp_recv(c, buf, sizeof(buf), &t);

        if (n < 0 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            bp_close(c);
            return;
        }

        if (c->type == bp_relay_nginx) {
            bp_relay_media(c, buf, n, t);
        }

        if (c->peer == NULL) {
            continue;
        }

        bp_send(c->peer, buf, n, NULL, 0, 0);
    }
}


static void
bp_relay_media(bp_conn_t *c, const uint8_t *p, size_t n, int64_t t)
{
    int               rc, logged;
    size_t            used, plen;
    char              sid[BP_ID_MAX];
    const char       *s, *e;
    voice_ws_event_t  ev;

    /* the 101 response first */

    while (!c->head_done && n) {
        c->head_match = (*p == "\r\n\r\n"[c->head_match]) ? c->head_match + 1
                        : (*p == '\r') ? 1 : 0;
        p++;
        n--;

        if (c->head_match == 4) {
            c->head_done = 1;
        }
    }

    logged = 0;
    plen = sizeof(BP_MEDIA_PREFIX) - 1;

    while (n) {
        rc = voice_ws_parse(&c->ws, p, n, &used, &ev);
        p += used;
        n -= used;

        if (rc == VOICE_WS_ERROR || rc == VOICE_WS_CLOSE) {
            return;
        }

        if (rc != VOICE_WS_MESSAGE || logged || ev.len <= plen
            || memcmp(ev.data, BP_MEDIA_PREFIX, plen) != 0)
        {
            if (rc == VOICE_WS_AGAIN && used == 0) {
                return;
            }

            continue;
        }

        s = (const char *) ev.data + plen;
        e = memchr(s, '"', ev.len - plen);

        if (e && e - s < BP_ID_MAX) {
            memcpy(sid, s, e - s);
            sid[e - s] = '\0';
            bp_log(t, "media", sid, -1);
            logged = 1;
        }
    }
}


/* the machine's own wake-up latency: ping-pong after idle gaps */

static int
bp_wake(int n)
{
    int       i, sv[2];
    char      c;
    int64_t   t, *rtt;

    if (n < 1 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        bp_usage();
    }

    if (fork() == 0) {
        close(sv[0]);

        while (read(sv[1], &c, 1) == 1) {
            if (write(sv[1], &c, 1) != 1) {
                break;
            }
        }

        _exit(0);
    }

    close(sv[1]);

    rtt = malloc(n * sizeof(int64_t));
    if (rtt == NULL) {
        return 1;
    }

    c = 'x';

    for (i = 0; i < n; i++) {
        usleep(2000 + random() % 8000);

        t = bp_now();

        if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1) {
            return 1;
        }

        rtt[i] = bp_now() - t;
    }

    close(sv[0]);
    qsort(rtt, n, sizeof(int64_t), bp_cmp);

    printf("%.3f %.3f %.3f %.3f\n", rtt[n / 2] / 1000.0,
           rtt[(n - 1) * 9 / 10] / 1000.0, rtt[(n - 1) * 99 / 100] / 1000.0,
           rtt[n - 1] / 1000.0);

    return 0;
}


static int
bp_cmp(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}


static void
bp_usage(void)
{
    fprintf(stderr,
        "usage: bench-providers --port PORT --log FILE [options]\n"
        "  --port PORT      listen on 127.0.0.1:PORT\n"
        "  --log FILE       the timestamps (µs, CLOCK_REALTIME)\n"
        "  --gap MS         between the LLM's sentence events (5)\n"
        "  --delay MS       before every answer (0)\n"
        "  --audio BYTES    TTS audio per sentence, μ-law 8 kHz (3200)\n"
        "  --relay PORT     relay WebSocket calls to nginx on PORT instead,\n"
        "                   logging when media arrives from it\n"
        "  --wake N         measure N wake-up round trips; print the\n"
        "                   p50 p90 p99 max in ms, and exit\n");
    exit(2);
}

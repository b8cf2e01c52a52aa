/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * bench-providers: fake STT, LLM and TTS providers for make bench, and a
 * WebSocket relay that sees when media leaves nginx.
 *
 * The providers speak the real wire formats (OpenAI transcriptions:
 * multipart in, {"text"} out; OpenAI chat completions: an SSE stream of
 * deltas ending "data: [DONE]"; ElevenLabs TTS: raw μ-law 8 kHz;
 * Deepgram's live transcription over a WebSocket, listen.h) and answer
 * at once, or after a fixed delay each, counted from when the request
 * arrived.  The LLM reply is its first words, then the rest of each
 * sentence, one SSE event each, a gap apart, so every sentence is handed
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
 * and the streaming recognizer's events (listen.h).
 *
 * With --relay, it forwards a WebSocket between the caller (voice-sim)
 * and nginx instead, and logs "media" with the stream sid each time media
 * messages arrive from nginx: the moment audio left nginx, seen from the
 * caller's side, with k the µs until the relay read them; and
 * "caller_media" with the stream sid and the frame's key (as the
 * recognizer logs it) each time it has written a caller's media message
 * to nginx.
 *
 * With --wake N, it measures the machine instead: N round trips between
 * two processes over a socketpair, each after a few idle milliseconds,
 * i.e. what waking up costs here; no hand-off can be faster than that.
 *
 * What is read is stamped by the kernel as it arrives (SO_TIMESTAMPNS,
 * taken on loopback while the sender is in its send call), what is
 * written just before the send call: so the time between the two is
 * nginx's alone, plus one loopback hop, whenever this process itself gets
 * to run on a busy machine.  The relay takes the stamp of the first byte
 * of each read from nginx, not the kernel's default, the last segment's:
 * read late, that is when the media after it came.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "conn.h"
#include "listen.h"
#include "log.h"
#include "provider.h"
#include "relay.h"
#include "wake.h"


#define BP_EVENTS  256


static void bp_on_signal(int signo);
static void bp_loop(void);
static void bp_accept(bp_conn_t *l);
static void bp_step(bp_conn_t *c);
static void bp_usage(void) __attribute__((noreturn));


static int                    bp_relay_port;
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
    int                opt, port;
    bp_conn_t         *l;
    const char        *log;
    struct sigaction   sa;

    static struct option  opts[] = {
        { "port", required_argument, NULL, 'p' },
        { "log", required_argument, NULL, 'l' },
        { "gap", required_argument, NULL, 'g' },
        { "stt-delay", required_argument, NULL, 's' },
        { "llm-delay", required_argument, NULL, 'm' },
        { "tts-delay", required_argument, NULL, 't' },
        { "final-delay", required_argument, NULL, 'f' },
        { "interim", required_argument, NULL, 'i' },
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
        case 'g': bp_provider_conf.gap_ms = atoi(optarg); break;
        case 's': bp_provider_conf.stt_ms = atoi(optarg); break;
        case 'm': bp_provider_conf.llm_ms = atoi(optarg); break;
        case 't': bp_provider_conf.tts_ms = atoi(optarg); break;
        case 'f': bp_listen_conf.final_ms = atoi(optarg); break;
        case 'i': bp_listen_conf.interim_ms = atoi(optarg); break;
        case 'a': bp_provider_conf.audio = (size_t) atol(optarg); break;
        case 'r': bp_relay_port = atoi(optarg); break;

        case 'w':
            if (atoi(optarg) < 1) {
                bp_usage();
            }

            return bp_wake_run(atoi(optarg));

        default:
            bp_usage();
        }
    }

    if (port <= 0 || log == NULL || bp_provider_conf.gap_ms < 0
        || bp_provider_conf.stt_ms < 0 || bp_provider_conf.llm_ms < 0
        || bp_provider_conf.tts_ms < 0 || bp_listen_conf.final_ms < 0
        || bp_listen_conf.interim_ms < 0)
    {
        bp_usage();
    }

    if (bp_log_open(log) != 0) {
        return 1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bp_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bp_conn_ep = epoll_create1(0);
    if (bp_conn_ep < 0) {
        perror("epoll_create1");
        return 1;
    }

    l = calloc(1, sizeof(bp_conn_t));
    if (l == NULL) {
        return 1;
    }

    l->fd = bp_conn_listen(port);
    l->type = BP_CONN_LISTENER;
    bp_conn_add(l, EPOLLIN);

    bp_loop();

    bp_log_close();

    return 0;
}


static void
bp_loop(void)
{
    int                 i, n;
    bp_conn_t          *c;
    struct epoll_event  evs[BP_EVENTS];

    while (!bp_stop) {
        n = epoll_wait(bp_conn_ep, evs, BP_EVENTS, bp_conn_timeout());

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            perror("epoll_wait");
            break;
        }

        for (i = 0; i < n; i++) {
            c = evs[i].data.ptr;

            if (c->type == BP_CONN_LISTENER) {
                bp_accept(c);
                continue;
            }

            if (evs[i].events & EPOLLOUT) {
                bp_conn_flush(c);

                if (c->fd < 0) {
                    continue;
                }
            }

            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (c->type == BP_CONN_PROVIDER) {
                    bp_provider_read(c);

                } else if (c->type == BP_CONN_LISTEN) {
                    bp_listen_read(c);

                } else {
                    bp_relay_read(c);
                }
            }
        }

        bp_conn_expire(bp_step);
    }
}


/* a connection's timer is due */

static void
bp_step(bp_conn_t *c)
{
    if (c->type == BP_CONN_LISTEN) {
        bp_listen_step(c);

    } else {
        bp_provider_step(c);
    }
}


static void
bp_accept(bp_conn_t *l)
{
    int  fd, rc;

    for ( ;; ) {
        fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            return;
        }

        rc = bp_relay_port ? bp_relay_open(fd, bp_relay_port)
                           : bp_provider_open(fd);

        if (rc != 0) {
            close(fd);
            return;
        }
    }
}


static void
bp_usage(void)
{
    fprintf(stderr,
        "usage: bench-providers --port PORT --log FILE [options]\n"
        "  --port PORT      listen on 127.0.0.1:PORT\n"
        "  --log FILE       the timestamps (µs, CLOCK_REALTIME)\n"
        "  --stt-delay MS   the transcript MS after the STT request (0)\n"
        "  --llm-delay MS   the LLM's first words MS after its request (0)\n"
        "  --gap MS         then the rest of each sentence, MS apart (5)\n"
        "  --tts-delay MS   the TTS audio MS after its request (0)\n"
        "  --audio BYTES    TTS audio per sentence, μ-law 8 kHz (3200)\n"
        "  --final-delay MS the recognizer's final result MS after a\n"
        "                   Finalize (0)\n"
        "  --interim MS     an interim result per MS of audio (500)\n"
        "  --relay PORT     relay WebSocket calls to nginx on PORT instead,\n"
        "                   logging when media arrives from it\n"
        "  --wake N         measure N wake-up round trips; print the\n"
        "                   p50 p90 p99 max in ms, and exit\n");
    exit(2);
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include "listen.h"
#include "log.h"
#include "provider.h"


#define BP_PROVIDER_SENTENCES  3


enum {
    BP_PROVIDER_STT = 0,
    BP_PROVIDER_LLM,
    BP_PROVIDER_TTS
};


static void bp_provider_request(bp_conn_t *c, size_t head, size_t body);


bp_provider_conf_t  bp_provider_conf = { 5, 0, 0, 0, 3200 };  /* 400 ms */

static const char  *bp_provider_transcript =
    "What are your opening hours today?";

/* each ends in white space, so its own event completes it */
static const char  *bp_provider_reply[BP_PROVIDER_SENTENCES] = {
    "We open at nine every morning. ",
    "We close at five in the evening. ",
    "Is there anything else I can do for you? "
};


int
bp_provider_open(int fd)
{
    bp_conn_t  *c;

    c = bp_conn_new(fd, BP_CONN_PROVIDER);
    if (c == NULL) {
        return -1;
    }

    bp_conn_add(c, EPOLLIN);

    return 0;
}


void
bp_provider_read(bp_conn_t *c)
{
    ssize_t      n;
    size_t       cl, head, len;
    int64_t      t;
    uint8_t     *end;
    const char  *v;

    for ( ;; ) {
        bp_conn_grow(&c->in, &c->in_size, c->in_len + 16384);

        n = bp_conn_recv(c, c->in + c->in_len, c->in_size - c->in_len, &t);

        if (n < 0 && errno == EAGAIN) {
            return;
        }

        if (n <= 0) {
            bp_conn_close(c);
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
        v = bp_conn_header(c, head, "content-length", &len);
        cl = v ? (size_t) strtoul(v, NULL, 10) : 0;

        if (c->in_len < head + cl) {
            continue;
        }

        c->answered = 1;
        bp_provider_request(c, head, cl);

        if (c->fd < 0 || c->type != BP_CONN_PROVIDER) {
            return;         /* closed, or a WebSocket now */
        }
    }
}


static void
bp_provider_request(bp_conn_t *c, size_t head, size_t body)
{
    int          k, delay;
    size_t       i, n;
    uint8_t     *p, *e;
    const char  *ev, *path;
    static const char  not_found[] = "HTTP/1.1 404 Not Found\r\n"
                                     "Content-Length: 0\r\n"
                                     "Connection: close\r\n\r\n";

    path = (char *) memchr(c->in, ' ', head);
    if (path == NULL) {
        bp_conn_close(c);
        return;
    }

    path++;

    if (strncmp(path, "/v1/listen", 10) == 0
        && (path[10] == ' ' || path[10] == '?'))
    {
        bp_listen_open(c, head, bp_provider_transcript);
        return;
    }

    if (strncmp(path, "/stt/", 5) == 0) {
        c->kind = BP_PROVIDER_STT;
        ev = "stt_req";
        delay = bp_provider_conf.stt_ms;

    } else if (strncmp(path, "/llm/", 5) == 0) {
        c->kind = BP_PROVIDER_LLM;
        ev = "llm_req";
        delay = bp_provider_conf.llm_ms;

    } else if (strncmp(path, "/tts/", 5) == 0) {
        c->kind = BP_PROVIDER_TTS;
        ev = "tts_req";
        delay = bp_provider_conf.tts_ms;

    } else {
        bp_conn_send(c, not_found, sizeof(not_found) - 1, NULL, 0, 0);
        c->close_when_sent = 1;
        bp_conn_flush(c);
        return;
    }

    path += 5;

    for (i = 0; i < BP_CONN_ID_MAX - 1 && path[i] != ' ' && path[i] != '?'
                && path[i] != '\r'; i++)
    {
        c->id[i] = path[i];
    }

    c->id[i] = '\0';

    if (c->kind == BP_PROVIDER_TTS) {

        /* which sentence: the body's "text" */

        p = memmem(c->in + head, body, "\"text\":\"", 8);

        if (p) {
            p += 8;
            e = memchr(p, '"', c->in + head + body - p);

            for (k = 0; e && k < BP_PROVIDER_SENTENCES; k++) {
                n = strlen(bp_provider_reply[k]) - 1;

                if ((size_t) (e - p) == n
                    && memcmp(p, bp_provider_reply[k], n) == 0)
                {
                    c->sentence = k;
                    break;
                }
            }
        }
    }

    bp_log_event(c->t_first, ev, c->id, c->sentence);

    /* from the request's arrival: how late this process runs does not count */
    bp_conn_timer_set(c, c->t_first + (int64_t) delay * 1000);
}


void
bp_provider_step(bp_conn_t *c)
{
    int          n;
    size_t       i, first;
    char         buf[1024];
    uint8_t     *audio;
    const char  *reply;

    switch (c->kind) {

    case BP_PROVIDER_STT:
        n = snprintf(buf, sizeof(buf), "{\"text\":\"%s\"}",
                     bp_provider_transcript);
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\nConnection: close\r\n\r\n"
                     "{\"text\":\"%s\"}", n, bp_provider_transcript);

        bp_conn_send(c, buf, n, "stt_reply", -1, n);
        c->close_when_sent = 1;
        bp_conn_flush(c);
        return;

    case BP_PROVIDER_LLM:

        /* the first words, then the rest of each sentence, a gap apart */

        first = strcspn(bp_provider_reply[0], " ");

        if (c->step == 0) {
            n = snprintf(buf, sizeof(buf),
                         "HTTP/1.1 200 OK\r\n"
                         "Content-Type: text/event-stream\r\n"
                         "Cache-Control: no-cache\r\nConnection: close\r\n"
                         "\r\n"
                         "data: {\"choices\":[{\"index\":0,\"delta\":"
                         "{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
                         "data: {\"choices\":[{\"index\":0,\"delta\":"
                         "{\"content\":\"%.*s\"}}]}\n\n", (int) first,
                         bp_provider_reply[0]);
            bp_conn_send(c, buf, n, NULL, 0, 0);

        } else if (c->step <= BP_PROVIDER_SENTENCES) {
            reply = bp_provider_reply[c->step - 1];
            n = snprintf(buf, sizeof(buf),
                         "data: {\"choices\":[{\"index\":0,\"delta\":"
                         "{\"content\":\"%s\"}}]}\n\n",
                         reply + (c->step == 1 ? first : 0));
            bp_conn_send(c, buf, n, "llm_sent", c->step - 1, n);

        } else {
            n = snprintf(buf, sizeof(buf),
                         "data: {\"choices\":[{\"index\":0,\"delta\":{},"
                         "\"finish_reason\":\"stop\"}]}\n\n"
                         "data: [DONE]\n\n");
            bp_conn_send(c, buf, n, NULL, 0, 0);
            c->close_when_sent = 1;
            bp_conn_flush(c);
            return;
        }

        c->step++;
        bp_conn_timer_set(c, c->t_first
                             + (int64_t) (bp_provider_conf.llm_ms
                                          + c->step * bp_provider_conf.gap_ms)
                               * 1000);
        return;

    case BP_PROVIDER_TTS:
        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nContent-Type: audio/basic\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     bp_provider_conf.audio);

        /* the head and the audio in one write, as a provider's first read */

        audio = malloc(n + bp_provider_conf.audio);
        if (audio == NULL) {
            exit(1);
        }

        memcpy(audio, buf, n);

        /* a quiet tone: anything but silence */
        for (i = 0; i < bp_provider_conf.audio; i++) {
            audio[n + i] = (i & 8) ? 0xf0 : 0x70;
        }

        bp_conn_send(c, audio, n + bp_provider_conf.audio, "tts_first",
                     c->sentence, n + 1);
        free(audio);
        c->close_when_sent = 1;
        bp_conn_flush(c);
        return;
    }
}

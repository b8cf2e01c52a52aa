/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * bench-providers' connections on one epoll loop: buffered writes that
 * log an event once given bytes are out, reads stamped with the time the
 * kernel received them, and one-shot timers.
 */

#ifndef BP_CONN_H
#define BP_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "voice_ws.h"


#define BP_CONN_PENDING  8
#define BP_CONN_ID_MAX   128
#define BP_CONN_FINALS   8


enum {
    BP_CONN_LISTENER = 0,
    BP_CONN_PROVIDER,
    BP_CONN_RELAY_CALLER,       /* voice-sim's side of a relayed call */
    BP_CONN_RELAY_NGINX,        /* nginx's side */
    BP_CONN_LISTEN              /* the streaming recognizer, after 101 */
};


typedef struct {
    size_t          at;         /* logged once this much is written */
    const char     *event;
    int             k;
} bp_conn_pending_t;


/* a recognizer's Results to send: when, and the audio it covers */
typedef struct {
    int64_t         due;        /* µs */
    size_t          start;      /* bytes */
    size_t          len;
    int             utterance;  /* from 1 */
} bp_conn_final_t;


typedef struct bp_conn_s  bp_conn_t;

struct bp_conn_s {
    int             fd;
    int             type;
    int             stamp_first;    /* a read's stamp: its first byte's */

    uint8_t        *in;
    size_t          in_len;
    size_t          in_size;

    uint8_t        *out;
    size_t          out_len;
    size_t          out_pos;
    size_t          out_size;
    bp_conn_pending_t    pending[BP_CONN_PENDING];
    int             npending;
    int             close_when_sent;

    /* a provider request */
    int             kind;
    int             answered;
    char            id[BP_CONN_ID_MAX];
    int             sentence;
    int64_t         t_first;    /* µs: the request's first byte read */
    int64_t         next_at;    /* µs: the next thing to write; 0: none */
    int             step;

    /* a relayed call */
    bp_conn_t      *peer;
    int             head_done;  /* the handshake's head passed */
    size_t          head_match;

    /* the WebSocket read: a relayed call's, the recognizer's */
    voice_ws_parser_t  ws;
    uint8_t        *msg;

    /* the streaming recognizer */
    const char     *transcript;
    size_t          heard;      /* audio bytes of this utterance */
    size_t          heard_all;  /* of the utterances before it */
    int             interims;   /* interim Results of this utterance */
    int             utterances; /* Finalizes read */
    bp_conn_final_t finals[BP_CONN_FINALS];
    int             nfinals;

    bp_conn_t      *next;       /* the list of connections with timers */
    bp_conn_t      *prev;
};


extern int         bp_conn_ep;
extern bp_conn_t  *bp_conn_timers;


/* a listening socket on 127.0.0.1:port; failure is fatal */
int bp_conn_listen(int port);

/* a connection of that type for the socket, not watched yet */
bp_conn_t *bp_conn_new(int fd, int type);

void bp_conn_add(bp_conn_t *c, uint32_t events);
void bp_conn_close(bp_conn_t *c);

/*
 * recv(), and when the bytes arrived: the kernel's stamp (of the last
 * segment read; with c->stamp_first, of the first byte's), or now
 */
ssize_t bp_conn_recv(bp_conn_t *c, void *buf, size_t len, int64_t *t);

typedef void (*bp_conn_read_pt)(bp_conn_t *c, const uint8_t *p, size_t n,
    int64_t t);

/*
 * Reads all there is, each piece to handler with when it arrived; at
 * the end of the peer's stream or an error, closes the connection.
 */
void bp_conn_read(bp_conn_t *c, bp_conn_read_pt handler);

void bp_conn_grow(uint8_t **buf, size_t *size, size_t need);

/*
 * A header's value in the request head read into c->in (its first head
 * bytes), without the blanks around it; NULL when there is none.
 */
const char *bp_conn_header(const bp_conn_t *c, size_t head,
    const char *name, size_t *len);

/*
 * Queues bytes and sends what the socket takes; "event" is logged once
 * "at" bytes of them are out.
 */
void bp_conn_send(bp_conn_t *c, const void *data, size_t len,
    const char *event, int k, size_t at);
void bp_conn_flush(bp_conn_t *c);

void bp_conn_timer_set(bp_conn_t *c, int64_t at);
void bp_conn_timer_del(bp_conn_t *c);

/* ms to the first timer for epoll_wait(), -1 for none */
int bp_conn_timeout(void);

/* calls handler for each connection whose timer is due */
void bp_conn_expire(void (*handler)(bp_conn_t *c));

#endif /* BP_CONN_H */

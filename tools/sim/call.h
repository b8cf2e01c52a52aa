/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * One call as Twilio plays it: the connection (TCP, TLS, the signed
 * WebSocket handshake), the Media Stream messages both ways, and the
 * playout of the agent's audio, in real time, with marks returned when
 * playback reaches them and "clear" emptying the buffer.
 */

#ifndef SIM_CALL_H
#define SIM_CALL_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "voice_twilio.h"
#include "voice_ws.h"

#include "conf.h"
#include "rtt.h"
#include "stream.h"


#define SIM_CALL_FRAME      160         /* 20 ms of μ-law */
#define SIM_CALL_MARKS_MAX  256


enum {
    SIM_CALL_IDLE = 0,                  /* not started yet */
    SIM_CALL_CONNECTING,
    SIM_CALL_TLS,
    SIM_CALL_HANDSHAKE,
    SIM_CALL_OPEN,
    SIM_CALL_CLOSING,
    SIM_CALL_DONE
};


typedef struct {
    char           name[VOICE_TWILIO_NAME_MAX + 1];
    size_t         at;                  /* playout position it follows */
} sim_call_mark_t;


/* what the caller's side saw of one turn */

typedef struct {
    double         t_said;              /* caller started */
    double         t_end;               /* caller stopped */
    double         t_reply;             /* first agent audio after it */
} sim_call_turn_t;


typedef struct {
    int                    id;
    int                    ep;          /* the epoll it is watched by */
    const sim_stream_t    *stream;
    const struct addrinfo *addr;        /* the address being tried */

    int                    fd;
    SSL                   *ssl;
    int                    state;
    int                    failed;
    const char            *why;

    char                   call_sid[40];
    char                   stream_sid[40];
    char                   key[32];

    uint8_t               *out;         /* bytes to send */
    size_t                 out_len;
    size_t                 out_size;
    int                    want_out;    /* EPOLLOUT asked for */

    uint8_t                in[65536];   /* handshake response */
    size_t                 in_len;

    voice_ws_parser_t      ws;
    uint8_t               *msg;
    voice_twilio_parser_t  tp;
    voice_twilio_msg_t     tm;

    size_t                 sent;        /* caller audio bytes sent */
    unsigned long          seq;
    int                    stop_sent;

    uint8_t               *play;        /* outbound audio received */
    size_t                 play_base;   /* played and dropped before it */
    size_t                 play_len;
    size_t                 play_size;
    size_t                 played;      /* playout position */
    sim_call_mark_t        marks[SIM_CALL_MARKS_MAX];
    int                    nmarks;

    int16_t               *echo;        /* played, for the line's echo */
    size_t                 echo_size;
    uint64_t               echo_pos;    /* samples played into it */
    unsigned               quiet_ms;    /* the caller's, before a voice */
    double                 t_voice;     /* the caller's voice started */

    int16_t               *heard;       /* as played, gaps as silence */
    size_t                 heard_len;
    size_t                 heard_size;

    int16_t               *call_wav;    /* stereo: caller, agent */
    size_t                 call_len;    /* frames */
    size_t                 call_size;

    /* a scripted call: what is said when */
    int                    say;         /* the next or current --say */
    size_t                 say_pos;
    int                    saying;
    int                    talking;     /* the agent's audio plays */
    int                    awaiting;    /* a turn waits for its reply */
    double                 t_talk;      /* agent started / went quiet */
    double                 t_said_end;
    sim_call_turn_t        turns[SIM_CONF_SAY_MAX];

    double                 t_start;
    double                 t_open;
    double                 t_first_in;  /* first caller media sent */
    double                 t_first_out; /* first agent media received */
    double                 t_last_out;
    double                 t_audio_end;

    sim_rtt_t              rtt;
    double                 t_rx;        /* kernel's receive time, wall */
    unsigned long          media_out;
    unsigned long          marks_in;
    unsigned long          marks_back;
    unsigned long          clears;
    int                    close_code;
} sim_call_t;


void sim_call_init(sim_call_t *c, int id, int ep,
    const sim_stream_t *stream);

/* connects to the stream's first address that takes the connection */
void sim_call_start(sim_call_t *c);

/* what epoll reported for the call's socket */
void sim_call_handle(sim_call_t *c, uint32_t events);

/* the next 20 ms of the agent's audio (NULL: none), marks returned */
void sim_call_play(sim_call_t *c, const uint8_t **agent, size_t *n);

void sim_call_send_media(sim_call_t *c, const uint8_t *frame, double t);
void sim_call_send_text(sim_call_t *c, const uint8_t *json, size_t len);
void sim_call_send_stop(sim_call_t *c);
void sim_call_flush(sim_call_t *c);
void sim_call_finish(sim_call_t *c, const char *why, int failed);

#endif /* SIM_CALL_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * --rtt, against a server that echoes the caller's audio: each frame
 * sent is timed until its bytes come back as outbound media.  An echo
 * keeps the order of a call's frames (one TCP stream), so the n-th byte
 * echoed is the n-th byte sent, however the server splits its messages:
 * a frame's round trip ends when the last of its bytes is back, as the
 * kernel stamped its arrival (SO_TIMESTAMPNS; the wall clock, which the
 * sending is timed on too): how late the simulator got to read it does
 * not count, how late the server got to answer does.  The round trips
 * of all calls go into one log histogram; a frame never
 * echoed by the call's end is lost, one echoed more than
 * SIM_RTT_LATE_MS after it was sent is late (a jitter buffer of that
 * much would have dropped it).
 */

#ifndef SIM_RTT_H
#define SIM_RTT_H

#include <stddef.h>
#include <stdint.h>


#define SIM_RTT_LATE_MS  100

/* frames in flight a call times: 10 s of them, later ones are late */
#define SIM_RTT_RING     512


typedef struct {
    double          sent_at[SIM_RTT_RING];
    unsigned long   sent;               /* frames */
    unsigned long   echoed;
    size_t          bytes_back;
    unsigned long   late;
    unsigned long   lost;               /* set at the call's end */
    double          max_ms;
} sim_rtt_t;


typedef struct {
    unsigned long   frames;
    unsigned long   echoed;
    unsigned long   lost;
    unsigned long   late;
    double          p50_ms;
    double          p99_ms;
    double          max_ms;
} sim_rtt_summary_t;


/* a frame of the call is being sent at t */
void sim_rtt_sent(sim_rtt_t *r, double t);

/* n bytes of outbound media arrived at t */
void sim_rtt_back(sim_rtt_t *r, size_t n, double t);

/* the call has ended: what is not back is lost */
void sim_rtt_end(sim_rtt_t *r);

/* all calls' frames so far */
void sim_rtt_summary(sim_rtt_summary_t *s);

#endif /* SIM_RTT_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Line echo, told from the caller: the caller's line often carries the
 * agent's own audio back, 15-30 dB down and 50-300 ms late.  We know
 * what we played, so each inbound frame is compared with it:
 *
 * - what is sent is laid on a playout timeline as Twilio plays it (the
 *   first frame of a burst when it is sent, the rest back to back), as
 *   the level of each 20 ms of it;
 * - for each delay in the window (0 to max_delay_ms, 20 ms apart) the
 *   echo return loss (ERL) is learnt, a high percentile of inbound
 *   against played level, from the frames that are not the caller.  At
 *   the echo's own delay inbound follows played and the ERL stays low;
 *   at the others they are unrelated and it rises: once one delay
 *   stands out, the echo a frame may hold is what played around that
 *   delay, times its ERL;
 * - until then (and whenever the echo stops coming where its delay
 *   says), it is the loudest of what played in the whole window, times
 *   an ERL learnt against that, which is looser;
 * - an inbound frame louder than the prediction by margin_db is the
 *   caller; at or below it, it may be our echo.  Frames near the
 *   caller's are not learnt from, so a caller speaking over the echo
 *   does not lift the ERL over their own voice.
 *
 * Levels, not waveforms: the time from sending to playing is unknown (it
 * includes Twilio's buffer and the network), which an adaptive filter
 * would have to cover sample-exact; a level envelope only needs to cover
 * it within 20 ms slots.  About 3 KB a call, a few hundred operations a
 * frame.  Times are the caller's clock in milliseconds.
 */

#ifndef VOICE_ECHO_H
#define VOICE_ECHO_H

#include <stddef.h>
#include <stdint.h>


/* the playout timeline: 20 ms a slot, 41 s of it */
#define VOICE_ECHO_SLOTS      2048
#define VOICE_ECHO_SLOT       160

/* the delays told apart, 20 ms apart: max_delay_ms is cut to 2 s */
#define VOICE_ECHO_LAGS          101
#define VOICE_ECHO_MAX_DELAY_MS  2000

/* what voice_echo_frame() returns when nothing played: no echo to fear */
#define VOICE_ECHO_NONE       -1000.0

/* the ERL learnt stays within these, and starts cautious */
#define VOICE_ECHO_ERL_MIN    -40.0
#define VOICE_ECHO_ERL_MAX    0.0
#define VOICE_ECHO_ERL_START  -10.0


typedef struct {
    double     margin_db;       /* over the predicted echo: the caller */
    unsigned   max_delay_ms;    /* the longest from playing to its echo */
} voice_echo_conf_t;


typedef struct {
    voice_echo_conf_t  conf;

    uint64_t           play_end;    /* sample where the next audio plays */
    uint64_t           filled;      /* slots below this are laid */
    uint64_t           slot;        /* the slot being laid */
    double             energy;      /* its samples' squares so far */

    /* audio laid more than the timeline holds ahead: the loudest of it */
    uint64_t           unknown;     /* from this slot on; 0: none */
    uint8_t            unknown_level;

    double             erl_db;      /* against the loudest of the window */
    double             lag_erl[VOICE_ECHO_LAGS];   /* against each delay */
    unsigned           lag_seen[VOICE_ECHO_LAGS];  /* frames that told */
    int                lag;         /* the echo's, in slots; -1: unknown */
    double             near_erl;    /* against what played around it */

    double             noise_db;    /* the line with nothing of ours */
    unsigned           hold_ms;     /* the caller was heard: not learnt */
    unsigned           misses;      /* the echo not where its delay is */
    unsigned           miss_ms;
    unsigned           started:1;   /* noise_db set */

    uint8_t            level[VOICE_ECHO_SLOTS];    /* 0: nothing played */
} voice_echo_t;


void voice_echo_init(voice_echo_t *e, const voice_echo_conf_t *conf);

/* n bytes of μ-law sent for playback at "now" */
void voice_echo_play(voice_echo_t *e, uint64_t now, const uint8_t *ulaw,
    size_t n);

/* the playback was cleared at "now": what was not played yet never will */
void voice_echo_clear(voice_echo_t *e, uint64_t now);

/*
 * One inbound 20 ms frame (VOICE_ECHO_SLOT samples) that arrived at
 * "now": the level, dBFS as voice_vad_level() measures it, it must stand
 * above to be the caller and not our echo; VOICE_ECHO_NONE when nothing
 * of ours played within max_delay_ms.  Learns the ERL from it.
 */
double voice_echo_frame(voice_echo_t *e, uint64_t now, const int16_t *pcm);

#endif /* VOICE_ECHO_H */

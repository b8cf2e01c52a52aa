/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The playout clock of a reply: how much more audio may go to Twilio
 * now, and how much of what went the caller has heard.
 *
 * Twilio plays what it receives at 8000 samples a second and goes quiet
 * when it runs out.  The clock keeps t0, the time sample 0 would have
 * played had playback never stopped: sample k plays at t0 + k / 8 ms.
 * Sending stops "lead" samples ahead of that.  When audio comes after
 * playback ran out (an underrun: the caller heard a gap), playback
 * starts again with it, so t0 moves on.  A mark that comes back later
 * than the clock expected says playback is behind it (the network,
 * Twilio's own buffer): t0 moves to match.  Never earlier: no peer
 * plays faster than real time, whatever its marks say.
 *
 * Times are milliseconds of any monotonic clock, audio is counted in
 * samples (μ-law bytes).
 */

#ifndef VOICE_PLAYOUT_H
#define VOICE_PLAYOUT_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    uint64_t       t0;
    uint64_t       sent;        /* since the clock started */
    uint64_t       marked;      /* played, by the last mark back */
    uint64_t       lead;
    unsigned long  underruns;
    unsigned       started:1;   /* its first sample sent */
} voice_playout_t;


/* a new clock, and no underruns counted */
void voice_playout_init(voice_playout_t *p, unsigned long lead_ms);

/* a new clock, from the next sample sent; the underruns stay counted */
void voice_playout_restart(voice_playout_t *p);

/* the samples that may be sent now */
uint64_t voice_playout_room(const voice_playout_t *p, uint64_t now);

/* milliseconds until n more samples may be sent (0: now) */
uint64_t voice_playout_wait(const voice_playout_t *p, uint64_t now,
    uint64_t n);

/*
 * Whole milliseconds of what was sent that are still to play by now (0:
 * less than one, or nothing sent)
 */
uint64_t voice_playout_left(const voice_playout_t *p, uint64_t now);

/* n samples sent now */
void voice_playout_sent(voice_playout_t *p, uint64_t now, uint64_t n);

/* a mark came back now that followed the first "at" samples */
void voice_playout_mark(voice_playout_t *p, uint64_t now, uint64_t at);

/* the samples the caller has heard by now, of those sent */
uint64_t voice_playout_played(const voice_playout_t *p, uint64_t now);

/*
 * The part of a sentence's text heard when "heard" of its "total"
 * samples played: the same share of its characters (UTF-8), cut at the
 * end of the word nearest to that point (none at all is nearest too).
 * Returns the length in bytes of that beginning of the text.
 */
size_t voice_playout_cut(const uint8_t *text, size_t len, uint64_t heard,
    uint64_t total);

#endif /* VOICE_PLAYOUT_H */

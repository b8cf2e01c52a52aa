/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include "voice_g711.h"
#include "voice_playout.h"


#define VOICE_PLAYOUT_RATE  VOICE_G711_SAMPLES_PER_MS


static uint64_t voice_playout_elapsed(const voice_playout_t *p,
    uint64_t now);
static void voice_playout_anchor(voice_playout_t *p, uint64_t now,
    uint64_t at);
static int voice_playout_space(uint8_t c);


void
voice_playout_init(voice_playout_t *p, unsigned long lead_ms)
{
    p->lead = (uint64_t) lead_ms * VOICE_PLAYOUT_RATE;
    p->underruns = 0;

    voice_playout_restart(p);
}


void
voice_playout_restart(voice_playout_t *p)
{
    p->t0 = 0;
    p->sent = 0;
    p->marked = 0;
    p->started = 0;
}


uint64_t
voice_playout_room(const voice_playout_t *p, uint64_t now)
{
    uint64_t  elapsed, ahead;

    elapsed = voice_playout_elapsed(p, now);

    /* before the first sample, or once playback ran out: a whole lead */

    if (!p->started || elapsed >= p->sent) {
        return p->lead;
    }

    ahead = p->sent - elapsed;

    return ahead < p->lead ? p->lead - ahead : 0;
}


uint64_t
voice_playout_wait(const voice_playout_t *p, uint64_t now, uint64_t n)
{
    uint64_t  at;

    if (voice_playout_room(p, now) >= n) {
        return 0;
    }

    /* the time sample (sent + n - lead) plays, rounded up */

    at = p->t0 + (p->sent + n - p->lead + VOICE_PLAYOUT_RATE - 1)
                 / VOICE_PLAYOUT_RATE;

    return at > now ? at - now : 1;
}


uint64_t
voice_playout_left(const voice_playout_t *p, uint64_t now)
{
    uint64_t  elapsed;

    elapsed = voice_playout_elapsed(p, now);

    if (!p->started || elapsed >= p->sent) {
        return 0;
    }

    return (p->sent - elapsed) / VOICE_PLAYOUT_RATE;
}


void
voice_playout_sent(voice_playout_t *p, uint64_t now, uint64_t n)
{
    if (!p->started) {
        p->started = 1;
        p->t0 = now;

    } else if (voice_playout_elapsed(p, now) > p->sent) {

        /* playback ran out before now: it goes on with this sample */

        p->underruns++;
        voice_playout_anchor(p, now, p->sent);
    }

    p->sent += n;
}


void
voice_playout_mark(voice_playout_t *p, uint64_t now, uint64_t at)
{
    if (!p->started || at > p->sent) {
        return;                         /* not of this clock */
    }

    if (at > p->marked) {
        p->marked = at;
    }

    if (voice_playout_elapsed(p, now) > at) {
        voice_playout_anchor(p, now, at);
    }
}


uint64_t
voice_playout_played(const voice_playout_t *p, uint64_t now)
{
    uint64_t  played;

    if (!p->started) {
        return 0;
    }

    played = voice_playout_elapsed(p, now);

    if (played > p->sent) {
        played = p->sent;
    }

    return played > p->marked ? played : p->marked;
}


size_t
voice_playout_cut(const uint8_t *text, size_t len, uint64_t heard,
    uint64_t total)
{
    size_t    i, best, chars;
    uint64_t  target, at, d, best_d;

    if (heard >= total) {
        return len;
    }

    chars = 0;

    for (i = 0; i < len; i++) {
        chars += (text[i] & 0xc0) != 0x80;
    }

    /*
     * Distances are in characters times "total": the point heard is
     * chars * heard / total characters in, without rounding it.
     */

    target = (uint64_t) chars * heard;
    best = 0;
    best_d = target;
    chars = 0;

    for (i = 0; i < len; i++) {
        chars += (text[i] & 0xc0) != 0x80;

        /* the end of a word: no space, and a space or the end after it */

        if (voice_playout_space(text[i])
            || (i + 1 < len && !voice_playout_space(text[i + 1])))
        {
            continue;
        }

        at = (uint64_t) chars * total;
        d = at > target ? at - target : target - at;

        if (d < best_d) {
            best = i + 1;
            best_d = d;
        }

        if (at > target) {
            break;                      /* the later ones are further */
        }
    }

    return best;
}


/* the samples the clock says have played by now, sent or not */

static uint64_t
voice_playout_elapsed(const voice_playout_t *p, uint64_t now)
{
    return now > p->t0 ? (now - p->t0) * VOICE_PLAYOUT_RATE : 0;
}


/* sample "at" plays now (or as near as milliseconds say) */

static void
voice_playout_anchor(voice_playout_t *p, uint64_t now, uint64_t at)
{
    uint64_t  ms;

    ms = at / VOICE_PLAYOUT_RATE;

    p->t0 = now > ms ? now - ms : 0;
}


static int
voice_playout_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
           || c == '\f';
}

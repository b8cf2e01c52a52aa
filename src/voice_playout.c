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


/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Line echo on synthetic calls: the agent's speech sent as the module
 * sends it (in real time, in one burst, or a lead ahead), played as
 * Twilio plays it, and coming back attenuated and late on the caller's
 * line with its noise, and sometimes the caller's own voice over it.
 * Each inbound frame goes through voice_echo and the VAD as the agent
 * feeds them; what counts is whether speech starts, and when.
 */

#include <math.h>

#include "unit.h"
#include "voice_echo.h"
#include "voice_g711.h"
#include "voice_vad.h"


#define MS(n)         ((size_t) (n) * 8)
#define SIG_MS        30000
#define FRAME         VOICE_ECHO_SLOT

#define SEND_REAL     0             /* each frame as it is due */
#define SEND_BURST    1             /* all of it at once */
#define SEND_LEAD     2             /* 600 ms ahead of real time */

#define NO_VOICE      -1000.0


static int16_t   agent[MS(SIG_MS)];   /* what the module sends */
static int16_t   caller[MS(SIG_MS)];  /* the caller's voice, line time */
static uint8_t   ulaw[MS(SIG_MS)];    /* the agent as sent */
static unsigned  seed;


static double
noise(void)
{
    seed = seed * 1103515245 + 12345;
    return ((seed >> 16) & 0x7fff) / 16384.0 - 1.0;
}


static unsigned
rnd(unsigned lo, unsigned hi)
{
    seed = seed * 1103515245 + 12345;
    return lo + ((seed >> 16) & 0x7fff) % (hi - lo + 1);
}


static int16_t
clip(double v)
{
    return (int16_t) (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}


/*
 * Speech-like: words of one to three syllables, each syllable harmonics
 * of "pitch" under an envelope that dips to -10 dB between the syllables
 * of a word; 60-150 ms between words, 400 ms after every eighth.  "db"
 * the level of a syllable's peak, dBFS.
 */

static void
speech(int16_t *sig, size_t from, size_t to, double db, double pitch)
{
    int     h, nsyl, syl, words;
    size_t  i, t, len;
    double  a, v, env;

    a = 32768 * pow(10, db / 20) / 1.2;
    words = 0;

    for (t = from; t < to; ) {
        nsyl = (int) rnd(1, 3);

        for (syl = 0; syl < nsyl; syl++) {
            len = MS(rnd(100, 220));

            for (i = 0; i < len && t + i < to; i++) {
                env = sin(3.14159265 * i / len);

                if ((syl > 0 && i < len / 2)
                    || (syl < nsyl - 1 && i >= len / 2))
                {
                    env = env > 0.3 ? env : 0.3;
                }

                v = 0;

                for (h = 1; h <= 5; h++) {
                    v += sin(2 * 3.14159265 * pitch * h * (t + i) / 8000.0)
                         / h;
                }

                sig[t + i] = clip(sig[t + i] + a * env * v);
            }

            t += len;
        }

        t += MS(rnd(60, 150));

        if (++words % 8 == 0) {
            t += MS(400);
        }
    }
}


/* a square wave at full scale: TTS audio clipped */

static void
square(int16_t *sig, size_t from, size_t to)
{
    size_t  i;

    for (i = from; i < to; i++) {
        sig[i] = (i / 20) % 2 ? 32767 : -32768;
    }
}


typedef struct {
    double    erl_db;           /* of the line; NO_VOICE: no echo */
    unsigned  delay_ms;         /* from playing to the echo */
    unsigned  net_ms;           /* each way, module to Twilio */
    int       send;
    double    noise_db;
    double    agent_db;         /* NO_VOICE: the agent says nothing */
    unsigned  agent_ms;         /* the reply: from 1 s, this long */
    double    caller_db;        /* NO_VOICE: the caller is silent */
    unsigned  caller_from;      /* line time, ms */
    unsigned  caller_to;
    unsigned  clear_ms;         /* the module clears at; 0: never */
    unsigned  total_ms;
    unsigned  max_delay_ms;     /* the detector's; 0: 500 */
    unsigned  jitter_ms;        /* inbound frames up to this much later */
    unsigned  late_ms;          /* Twilio starts playing this much later */
    double    margin_db;        /* the detector's; 0: 6 */
    unsigned  shift_at;         /* line time the echo's delay changes */
    unsigned  shift_ms;         /* to this */
    int       clipped;          /* the agent is a full-scale square */
    unsigned  caller_seed;
} line_t;


typedef struct {
    int       starts;           /* speech starts the VAD saw */
    unsigned  first_ms;         /* line time of the first */
    unsigned  flagged;          /* frames over the threshold */
    unsigned  flagged_voice;    /* of those, with the caller's voice */
    unsigned  voice_frames;     /* frames with the caller's voice */
    double    erl_db;           /* in use at the end */
    double    erl_at_voice;     /* in use when the caller began */
    int       lag;              /* the echo's delay found, slots */
    int       none_at_end;      /* no echo expected at the end */
} result_t;


static voice_vad_conf_t  vad_conf = { 200, 200, 500, 30000, 10, 8, -50 };


/* the ERL the last prediction used */

static double
erl_in_use(const voice_echo_t *e)
{
    int     l;
    double  erl;

    if (e->lag >= 0) {
        return e->near_erl;
    }

    erl = VOICE_ECHO_ERL_MIN;

    for (l = 0; l < 26; l++) {
        erl = e->lag_erl[l] > erl ? e->lag_erl[l] : erl;
    }

    return erl < e->erl_db ? erl : e->erl_db;
}


/*
 * The call as the module sees it: at each 20 ms of module time it sends
 * what the mode has due, then takes the caller's frame that Twilio sent
 * net_ms ago.  Twilio plays the first audio when it arrives and the rest
 * back to back (a clear stops it); the line adds the echo of what played
 * delay_ms ago, the noise and the caller.
 */

static void
run(const line_t *l, result_t *r)
{
    int                ev;
    size_t             i, sent, due, n, agent_len, t0, play_end, cleared;
    int16_t            frame[FRAME];
    double             g, na, v, threshold, level;
    long               k;
    unsigned           t, lt;
    voice_vad_t        vad;
    voice_echo_t       echo;
    voice_echo_conf_t  ec;

    static const uint64_t  base = 1000000;  /* a clock far from 0 */

    memset(agent, 0, sizeof(agent));
    memset(caller, 0, sizeof(caller));
    memset(r, 0, sizeof(result_t));

    agent_len = MS(l->agent_ms);

    if (l->clipped) {
        square(agent, 0, agent_len);

    } else if (l->agent_db > NO_VOICE) {
        speech(agent, 0, agent_len, l->agent_db, 120);
    }

    /* the caller's words do not depend on what the agent says */

    seed = l->caller_seed;

    if (l->caller_db > NO_VOICE) {
        speech(caller, MS(l->caller_from), MS(l->caller_to), l->caller_db,
               210);
    }

    voice_ulaw_encode_buf(agent, agent_len, ulaw);

    ec.margin_db = l->margin_db ? l->margin_db : 6;
    ec.max_delay_ms = l->max_delay_ms ? l->max_delay_ms : 500;
    voice_echo_init(&echo, &ec);
    voice_vad_init(&vad, &vad_conf);

    g = l->erl_db > NO_VOICE ? pow(10, l->erl_db / 20) : 0;
    na = 32768 * pow(10, l->noise_db / 20) * 1.7;

    /* the reply starts at 1 s; Twilio plays it from when it arrives */

    sent = 0;
    t0 = MS(1000 + l->net_ms + l->late_ms);
    play_end = t0 + agent_len;
    cleared = 0;
    r->erl_at_voice = NO_VOICE;

    for (t = 20; t <= l->total_ms; t += 20) {

        if (t >= 1000) {
            switch (l->send) {
            case SEND_BURST:
                due = agent_len;
                break;
            case SEND_LEAD:
                due = MS(t - 1000 + 600);
                break;
            default:
                due = MS(t - 1000 + 20);
            }

            due = due < agent_len ? due : agent_len;

            if (l->clear_ms && t >= l->clear_ms) {
                due = sent;
            }

            if (due > sent) {
                voice_echo_play(&echo, base + t, ulaw + sent, due - sent);
                sent = due;
            }
        }

        if (l->clear_ms && t == l->clear_ms) {
            voice_echo_clear(&echo, base + t);

            /* Twilio stops playing when the clear arrives */
            cleared = MS(t + l->net_ms);
            play_end = cleared < play_end ? cleared : play_end;
        }

        if (t < l->net_ms + 20) {
            continue;
        }

        /* the line's frame that ended net_ms ago */

        lt = t - l->net_ms;
        n = 0;

        for (i = 0; i < FRAME; i++) {
            size_t  s = MS(lt - 20) + i;

            v = na * noise() + caller[s];
            k = (long) s - (long) MS(l->shift_at && lt >= l->shift_at
                                     ? l->shift_ms : l->delay_ms);

            if (k >= (long) t0 && (size_t) k < play_end
                && (size_t) k - t0 < sent)
            {
                v += g * voice_ulaw_decode(ulaw[k - t0]);
            }

            frame[i] = voice_ulaw_decode(voice_ulaw_encode(clip(v)));
            n += caller[s] != 0;
        }

        if (n && r->erl_at_voice == NO_VOICE) {
            r->erl_at_voice = erl_in_use(&echo);
        }

        threshold = voice_echo_frame(&echo, base + t
                                     + (l->jitter_ms ? rnd(0, l->jitter_ms)
                                                     : 0),
                                     frame);
        level = voice_vad_level(frame, FRAME);

        voice_vad_set_echo(&vad, threshold);
        ev = voice_vad_frame(&vad, frame);

        if (n) {
            r->voice_frames++;
        }

        if (level > threshold && level > echo.noise_db + 10) {
            r->flagged++;
            r->flagged_voice += n != 0;
        }

        if (ev == VOICE_VAD_SPEECH_START) {
            if (r->starts++ == 0) {
                r->first_ms = lt;
            }
        }
    }

    r->erl_db = erl_in_use(&echo);
    r->lag = echo.lag;
    r->none_at_end = (voice_echo_frame(&echo, base + t, frame)
                      == VOICE_ECHO_NONE);
}


static void
line_init(line_t *l)
{
    memset(l, 0, sizeof(line_t));

    l->erl_db = -20;
    l->delay_ms = 100;
    l->net_ms = 30;
    l->noise_db = -60;
    l->agent_db = -15;
    l->agent_ms = 8000;
    l->caller_db = NO_VOICE;
    l->total_ms = 10000;
}


/* echo alone never starts speech, whatever its delay, level and sending */

static void
test_echo_alone(void)
{
    int       send, j, runs, fails;
    line_t    l;
    unsigned  delay;
    result_t  r;

    static const double  erls[] = { -15, -20, -30 };

    runs = 0;
    fails = 0;

    for (send = SEND_REAL; send <= SEND_LEAD; send++) {
        for (j = 0; j < 3; j++) {
            for (delay = 50; delay <= 300; delay += 10) {
                line_init(&l);
                l.send = send;
                l.erl_db = erls[j];
                l.delay_ms = delay;
                seed = delay * 7 + send;

                /* every other one with jitter and a late start */

                if (delay % 20) {
                    l.jitter_ms = 40;
                    l.late_ms = 60;
                }

                run(&l, &r);
                runs++;

                if (r.starts || r.flagged) {
                    fails++;
                    fprintf(stderr, "echo at %.0f dB, %u ms, sent %d: "
                            "%d starts, %u frames over\n", l.erl_db,
                            delay, send, r.starts, r.flagged);
                }
            }
        }
    }

    CHECK_INT(runs, 3 * 3 * 26);
    CHECK_INT(fails, 0);
}


/*
 * The echo's delay moves by 40 to 280 ms in the middle of a reply: what
 * comes back early or late is not taken for the caller.
 */

static void
test_echo_moves(void)
{
    int       i;
    line_t    l;
    result_t  r;

    static const unsigned  moves[][2] = {
        { 60, 160 }, { 100, 60 }, { 250, 60 }, { 290, 10 }, { 90, 10 },
        { 100, 300 }, { 200, 240 }
    };

    for (i = 0; i < (int) (sizeof(moves) / sizeof(moves[0])); i++) {
        line_init(&l);
        l.delay_ms = moves[i][0];
        l.shift_at = 5000;
        l.shift_ms = moves[i][1];
        l.send = i % 3;
        seed = i + 40;

        run(&l, &r);
        CHECK_INT(r.starts, 0);
    }
}


/*
 * The caller over the echo: at the agent's level, speech starts no more
 * than 100 ms later than with the agent silent; 10 dB under it, still
 * while they speak when the echo is 20 dB down or more; within the
 * margin of the echo, never (the trade-off voice_barge_in_echo_margin
 * sets).
 */

static unsigned
caller_delay(double echo_db, double caller_db, unsigned delay,
    int agent_speaks, int *starts)
{
    line_t    l;
    result_t  r;

    line_init(&l);
    l.erl_db = echo_db;
    l.delay_ms = delay;
    l.send = delay % 3;
    l.caller_db = l.agent_db + caller_db;
    l.caller_from = 4000 + delay;
    l.caller_to = l.caller_from + 1500;
    l.caller_seed = delay + 1000;
    seed = delay;

    if (!agent_speaks) {
        l.agent_db = NO_VOICE;
    }

    run(&l, &r);

    *starts = r.starts;

    return r.starts ? r.first_ms - l.caller_from : 0;
}


static void
test_caller_over_echo(void)
{
    int       i, starts, silent, late;
    unsigned  delay, ms, alone;

    static const double  echos[] = { -15, -20, -30 };

    for (i = 0; i < 3; i++) {
        late = 0;

        for (delay = 50; delay <= 300; delay += 25) {
            alone = caller_delay(echos[i], 0, delay, 0, &silent);
            ms = caller_delay(echos[i], 0, delay, 1, &starts);

            CHECK_INT(silent, 1);
            CHECK_INT(starts, 1);

            if (starts != 1 || ms > alone + 100) {
                late++;
                fprintf(stderr, "caller at 0 dB, echo at %.0f dB, %u ms: "
                        "%u ms after the voice, %u alone\n", echos[i],
                        delay, ms, alone);
            }
        }

        CHECK_INT(late, 0);
    }

    for (delay = 50; delay <= 300; delay += 25) {
        ms = caller_delay(-20, -10, delay, 1, &starts);
        CHECK_INT(starts, 1);
        CHECK(ms < 1500);

        ms = caller_delay(-30, -10, delay, 1, &starts);
        alone = caller_delay(-30, -10, delay, 0, &silent);
        CHECK_INT(starts, 1);
        CHECK(ms <= alone + 100);
    }

}


/* the ERL learnt: near the line's within a few seconds, from the start */

static void
test_erl(void)
{
    int       i;
    line_t    l;
    result_t  r;

    static const double    erls[] = { -15, -20, -30 };
    static const unsigned  delays[] = { 60, 250, 140 };

    for (i = 0; i < 3; i++) {
        line_init(&l);
        l.erl_db = erls[i];
        l.delay_ms = delays[i];
        l.total_ms = 4000;
        seed = 11 + i;
        run(&l, &r);

        CHECK(r.erl_db > erls[i] - 3 && r.erl_db < erls[i] + 3);

        /* the delay found: there and back, and the echo's own */

        CHECK(r.lag >= (int) (2 * l.net_ms + delays[i]) / 20 - 1
              && r.lag <= (int) (2 * l.net_ms + delays[i]) / 20 + 2);
    }

    /* no echo at all: down to almost the least */

    line_init(&l);
    l.erl_db = NO_VOICE;
    l.total_ms = 9000;
    seed = 14;
    run(&l, &r);
    CHECK(r.erl_db < -35);
    CHECK_INT(r.lag, -1);
    CHECK_INT(r.starts, 0);

    /*
     * the caller talking over it all along, 10 dB under the agent: the
     * ERL does not climb to their level, and they still interrupt
     */

    line_init(&l);
    l.caller_db = l.agent_db - 10;
    l.caller_from = 3000;
    l.caller_to = 9000;
    seed = 15;
    run(&l, &r);
    CHECK(r.erl_at_voice < -17);
    CHECK(r.erl_db < -16);
    CHECK(r.starts >= 1);

    /* a noisy line (-40 dBFS) under a quiet agent: the noise is no echo */

    line_init(&l);
    l.noise_db = -40;
    l.agent_db = -25;
    seed = 16;
    run(&l, &r);
    CHECK_INT(r.starts, 0);
    CHECK(r.erl_db < -10);
}


/* nothing played, before, after, and once a clear stopped it */

static void
test_silence_and_clear(void)
{
    int                i;
    line_t             l;
    int16_t            frame[FRAME];
    uint8_t            sent[FRAME];
    unsigned           first;
    result_t           r;
    voice_echo_t       e;
    voice_echo_conf_t  ec = { 6, 500 };

    /* the caller alone: the detector never stands in the way */

    line_init(&l);
    l.agent_db = NO_VOICE;
    l.agent_ms = 0;
    l.caller_db = -30;
    l.caller_from = 2000;
    l.caller_to = 3000;
    seed = 21;
    run(&l, &r);
    CHECK_INT(r.starts, 1);
    CHECK(r.none_at_end);

    /*
     * after the reply (1 s to 3 s), nothing more to expect once the
     * echo's delay (180 ms there and back) and the margin around it passed
     */

    line_init(&l);
    l.agent_ms = 2000;
    l.total_ms = 3100;
    seed = 22;
    run(&l, &r);
    CHECK(!r.none_at_end);

    l.total_ms = 3300;
    seed = 22;
    run(&l, &r);
    CHECK(r.none_at_end);

    /* cleared at 2 s of an 8 s burst: 500 ms later, nothing */

    line_init(&l);
    l.send = SEND_BURST;
    l.clear_ms = 3000;
    l.total_ms = 3600;
    seed = 23;
    run(&l, &r);
    CHECK(r.none_at_end);
    CHECK_INT(r.starts, 0);

    /* and the caller, from then on, is heard as with no echo at all */

    l.total_ms = 6000;
    l.caller_db = -40;
    l.caller_from = 4000;
    l.caller_to = 5000;
    seed = 23;
    run(&l, &r);
    CHECK_INT(r.starts, 1);
    first = r.first_ms;

    l.erl_db = NO_VOICE;
    l.agent_db = NO_VOICE;
    run(&l, &r);
    CHECK_INT(r.starts, 1);
    CHECK_INT(first, r.first_ms);

    /* played and cleared in the same millisecond; a clear with nothing */

    memset(frame, 0, sizeof(frame));
    memset(sent, 0x80, sizeof(sent));

    voice_echo_init(&e, &ec);
    voice_echo_clear(&e, 1000);
    CHECK(voice_echo_frame(&e, 1000, frame) == VOICE_ECHO_NONE);

    voice_echo_play(&e, 1000, sent, FRAME);
    voice_echo_clear(&e, 1000);
    CHECK(voice_echo_frame(&e, 1000, frame) > VOICE_ECHO_NONE);
    CHECK(voice_echo_frame(&e, 1540, frame) == VOICE_ECHO_NONE);

    /* sent again after a clear: from then */

    voice_echo_play(&e, 1600, sent, FRAME);
    CHECK(voice_echo_frame(&e, 1610, frame) > VOICE_ECHO_NONE);
    CHECK(voice_echo_frame(&e, 2130, frame) == VOICE_ECHO_NONE);

    for (i = 0; i < 10; i++) {
        voice_echo_clear(&e, 3000);
    }

    CHECK(voice_echo_frame(&e, 3000, frame) == VOICE_ECHO_NONE);
}


/* the timeline: bursts, gaps, odd sizes, and more than it holds */

static void
test_timeline(void)
{
    size_t             i;
    int16_t            frame[FRAME];
    uint8_t           *u;
    double             a, b;
    voice_echo_t       e;
    voice_echo_conf_t  ec = { 6, 200 };

    memset(frame, 0, sizeof(frame));

    u = malloc(MS(60000));
    if (u == NULL) {
        UNIT_FAIL("%s", "out of memory");
        return;
    }

    /* 1 s loud, 1 s silence, 1 s quiet, sent in one go at 10 s */

    for (i = 0; i < MS(3000); i++) {
        u[i] = voice_ulaw_encode(i < MS(1000) ? ((i % 16) < 8 ? 8000
                                                                : -8000)
                                    : i < MS(2000) ? 0
                                    : ((i % 16) < 8 ? 80 : -80));
    }

    voice_echo_init(&e, &ec);
    voice_echo_play(&e, 10000, u, MS(3000));

    a = voice_echo_frame(&e, 10500, frame);
    CHECK(a > -40);                           /* loud: -12 dBFS played */
    CHECK(voice_echo_frame(&e, 11100, frame) > VOICE_ECHO_NONE);
    CHECK(voice_echo_frame(&e, 11300, frame) < -80);   /* silence played */
    b = voice_echo_frame(&e, 12500, frame);
    CHECK(b > VOICE_ECHO_NONE && b < a - 35); /* 40 dB quieter */
    CHECK(voice_echo_frame(&e, 13300, frame) == VOICE_ECHO_NONE);

    /* one byte at a time, and a gap: the same as in one piece */

    voice_echo_init(&e, &ec);

    for (i = 0; i < MS(1000); i++) {
        voice_echo_play(&e, 20000, u + i, 1);
    }

    voice_echo_play(&e, 20000, u, 0);
    a = voice_echo_frame(&e, 20500, frame);
    voice_echo_play(&e, 22000, u + MS(2000), MS(1000));
    CHECK(voice_echo_frame(&e, 21500, frame) == VOICE_ECHO_NONE);
    b = voice_echo_frame(&e, 22500, frame);
    CHECK(a > b + 35);

    /*
     * 60 s in one burst, more than the timeline holds: what it cannot
     * hold counts as the loudest of it, never as nothing
     */

    for (i = 0; i < MS(60000); i++) {
        u[i] = voice_ulaw_encode(i < MS(1000) ? 0
                                    : ((i % 16) < 8 ? 4000 : -4000));
    }

    voice_echo_init(&e, &ec);
    voice_echo_play(&e, 30000, u, MS(60000));
    CHECK(e.unknown != 0);
    CHECK(voice_echo_frame(&e, 30500, frame) < -80);

    for (i = 0; i < 59; i++) {
        a = voice_echo_frame(&e, 31100 + i * 1000, frame);

        if (a < -60) {
            break;
        }
    }

    CHECK_INT(i, 59);
    CHECK(voice_echo_frame(&e, 90300, frame) == VOICE_ECHO_NONE);
    CHECK(e.unknown == 0);

    /* a clear inside the overflowed part ends it too */

    voice_echo_init(&e, &ec);
    voice_echo_play(&e, 30000, u, MS(60000));
    voice_echo_clear(&e, 40000);
    CHECK(voice_echo_frame(&e, 40100, frame) > VOICE_ECHO_NONE);
    CHECK(voice_echo_frame(&e, 40300, frame) == VOICE_ECHO_NONE);
    voice_echo_play(&e, 41000, u + MS(1000), FRAME);
    CHECK(voice_echo_frame(&e, 41100, frame) > -60);
    CHECK(voice_echo_frame(&e, 41300, frame) == VOICE_ECHO_NONE);

    free(u);
}


/* full scale both ways, the clock's ends, a window of nothing */

static void
test_extremes(void)
{
    size_t             i;
    int16_t            frame[FRAME];
    uint8_t            sent[FRAME];
    double             th;
    line_t             l;
    result_t           r;
    voice_echo_t       e;
    voice_echo_conf_t  ec = { 6, 0 };

    /* clipped agent, echo at -20 dB: no speech; the caller clipped: speech */

    line_init(&l);
    l.clipped = 1;
    seed = 31;
    run(&l, &r);
    CHECK_INT(r.starts, 0);

    line_init(&l);
    l.clipped = 1;
    l.erl_db = -3;
    l.caller_db = 0;
    l.caller_from = 4000;
    l.caller_to = 6000;
    seed = 32;
    run(&l, &r);
    CHECK(r.erl_db <= VOICE_ECHO_ERL_MAX);
    CHECK(r.starts >= 1);

    /*
     * an echo louder than what was played, over the margin from the
     * cautious start: taken for the caller, the ERL within its bounds
     */

    line_init(&l);
    l.erl_db = 10;
    l.agent_db = -30;
    seed = 33;
    run(&l, &r);
    CHECK(r.starts >= 1);
    CHECK(r.erl_db >= VOICE_ECHO_ERL_MIN && r.erl_db <= VOICE_ECHO_ERL_MAX);

    /* max_delay 0: only the slot playing now */

    for (i = 0; i < FRAME; i++) {
        frame[i] = (i % 2) ? 32767 : -32768;
        sent[i] = voice_ulaw_encode(frame[i]);
    }

    voice_echo_init(&e, &ec);
    voice_echo_play(&e, 0, sent, FRAME);
    th = voice_echo_frame(&e, 0, frame);
    CHECK(th > VOICE_ECHO_NONE && th < 10);
    CHECK(voice_echo_frame(&e, 20, frame) == VOICE_ECHO_NONE);

    /* the clock near the end of its range */

    voice_echo_init(&e, &ec);
    voice_echo_play(&e, (uint64_t) 1 << 60, sent, FRAME);
    CHECK(voice_echo_frame(&e, ((uint64_t) 1 << 60) + 10, frame)
          > VOICE_ECHO_NONE);

    /* frames at the same time, and from before anything was sent */

    ec.max_delay_ms = 5000;
    voice_echo_init(&e, &ec);
    CHECK(voice_echo_frame(&e, 0, frame) == VOICE_ECHO_NONE);
    voice_echo_play(&e, 100, sent, FRAME);

    for (i = 0; i < 1000; i++) {
        th = voice_echo_frame(&e, 100, frame);
        CHECK(th > VOICE_ECHO_NONE);
        CHECK(e.erl_db >= VOICE_ECHO_ERL_MIN && e.erl_db <= VOICE_ECHO_ERL_MAX);
    }

    CHECK(voice_echo_frame(&e, 50, frame) == VOICE_ECHO_NONE);
}


int
main(void)
{
    test_echo_alone();
    test_echo_moves();
    test_caller_over_echo();
    test_erl();
    test_silence_and_clear();
    test_timeline();
    test_extremes();

    UNIT_DONE("echo");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <math.h>

#include "voice_echo.h"
#include "voice_g711.h"
#include "voice_vad.h"


#define VOICE_ECHO_SLOT_MS    (VOICE_ECHO_SLOT / VOICE_G711_SAMPLES_PER_MS)

#define voice_echo_min(a, b)  ((a) < (b) ? (a) : (b))
#define voice_echo_max(a, b)  ((a) > (b) ? (a) : (b))

/*
 * An ERL is a high percentile of inbound against played level: it rises
 * by UP when a frame stands above it and falls by DOWN otherwise, so
 * UP / (UP + DOWN) of the frames end up below it: the 87th percentile,
 * and the 95th against the loudest of the window, which the echo
 * follows less closely.  From the cautious start to a -20 dB line takes
 * about 1.5 s of our audio.
 */
#define VOICE_ECHO_UP_DB           1.0
#define VOICE_ECHO_DOWN_DB         0.15
#define VOICE_ECHO_WINDOW_DOWN_DB  0.05

/* a frame this far under the ERL is no peak: the 87th will do */
#define VOICE_ECHO_FAR_DB          10.0

/*
 * The echo's delay is known once SEEN frames above the noise were
 * compared with it and its ERL stands DIP dB under that of every delay
 * more than APART slots away.  Then what played within NEAR slots of it
 * is what may come back now: an echo frame straddles two played ones, a
 * room's reverberation reaches past the delay, the network's varies.
 * MISSES frames over the prediction that the window explains, each
 * within MISS_MS of the last, and the delay is learnt anew.
 */
#define VOICE_ECHO_LAG_SEEN        50
#define VOICE_ECHO_LAG_DIP_DB      4.0
#define VOICE_ECHO_LAG_APART       3
#define VOICE_ECHO_NEAR            2
#define VOICE_ECHO_MISSES          6
#define VOICE_ECHO_MISS_MS         400

/* a frame within this of the noise tells no more than "quieter than" */
#define VOICE_ECHO_NOISE_DB        3.0

/* a voice stands this far above the noise (the VAD's own threshold) */
#define VOICE_ECHO_VOICE_DB        10.0

/* after the caller was heard, their quieter frames around it too */
#define VOICE_ECHO_HOLD_MS         300

/* a slot's level code in dBFS */
#define voice_echo_db(code)        ((code) / 2.0 - 100)


static void voice_echo_lay(voice_echo_t *e, uint64_t k, uint64_t oldest);
static unsigned voice_echo_at(const voice_echo_t *e, uint64_t k);
static int voice_echo_lag(voice_echo_t *e, unsigned nlags);
static void voice_echo_miss(voice_echo_t *e, int lag, unsigned nlags);
static void voice_echo_learn_lags(voice_echo_t *e, double in,
    const uint8_t *played, unsigned nlags);
static void voice_echo_learn(voice_echo_t *e, double *erl, double in,
    unsigned code, double down);
static uint8_t voice_echo_code(double energy);
static double voice_echo_energy(unsigned code);


void
voice_echo_init(voice_echo_t *e, const voice_echo_conf_t *conf)
{
    int           l;
    voice_echo_t  zero = { 0 };

    *e = zero;
    e->conf = *conf;
    e->erl_db = VOICE_ECHO_ERL_START;
    e->lag = -1;

    if (e->conf.max_delay_ms > VOICE_ECHO_MAX_DELAY_MS) {
        e->conf.max_delay_ms = VOICE_ECHO_MAX_DELAY_MS;
    }

    for (l = 0; l < VOICE_ECHO_LAGS; l++) {
        e->lag_erl[l] = VOICE_ECHO_ERL_START;
    }
}


void
voice_echo_play(voice_echo_t *e, uint64_t now, const uint8_t *ulaw,
    size_t n)
{
    size_t    i, take;
    int16_t   s;
    uint64_t  pos, k, oldest, delay;

    /* a burst plays from when it is sent, or after what plays already */

    pos = now * VOICE_G711_SAMPLES_PER_MS;

    if (pos < e->play_end) {
        pos = e->play_end;
    }

    delay = (uint64_t) e->conf.max_delay_ms * VOICE_G711_SAMPLES_PER_MS;
    oldest = (now * VOICE_G711_SAMPLES_PER_MS
              - voice_echo_min(now * VOICE_G711_SAMPLES_PER_MS, delay))
             / VOICE_ECHO_SLOT;

    while (n) {
        k = pos / VOICE_ECHO_SLOT;

        if (k != e->slot) {
            e->slot = k;
            e->energy = 0;
        }

        take = VOICE_ECHO_SLOT - pos % VOICE_ECHO_SLOT;
        take = take < n ? take : n;

        for (i = 0; i < take; i++) {
            s = voice_ulaw_decode(ulaw[i]);
            e->energy += (double) s * s;
        }

        voice_echo_lay(e, k, oldest);

        pos += take;
        ulaw += take;
        n -= take;
    }

    e->play_end = pos;
}


/*
 * The slot's level so far: a slot partly played counts the rest as
 * silence.  Slots skipped since the last are silence.  A slot so far
 * ahead that it would overwrite one a frame may still be compared with
 * is not kept; from there on the loudest of such audio stands for all.
 */

static void
voice_echo_lay(voice_echo_t *e, uint64_t k, uint64_t oldest)
{
    uint8_t   code;
    uint64_t  j;

    code = voice_echo_code(e->energy);

    for (j = voice_echo_max(e->filled, oldest);
         j < k && j < oldest + VOICE_ECHO_SLOTS;
         j++)
    {
        e->level[j % VOICE_ECHO_SLOTS] = 0;
    }

    if (k >= oldest + VOICE_ECHO_SLOTS) {
        if (e->unknown == 0) {
            e->unknown = voice_echo_min(k, voice_echo_max(e->filled,
                                            oldest + VOICE_ECHO_SLOTS));
        }

        if (code > e->unknown_level) {
            e->unknown_level = code;
        }

        e->filled = voice_echo_max(e->filled, k + 1);

        return;
    }

    e->filled = voice_echo_max(e->filled, k + 1);

    e->level[k % VOICE_ECHO_SLOTS] = code;
}


void
voice_echo_clear(voice_echo_t *e, uint64_t now)
{
    uint64_t  pos, k;

    pos = now * VOICE_G711_SAMPLES_PER_MS;

    if (e->play_end <= pos) {
        return;
    }

    /* the slot playing now played, in part at least; the rest never */

    k = pos / VOICE_ECHO_SLOT;

    e->play_end = pos;

    if (e->filled > k + 1) {
        e->filled = k + 1;
    }

    if (e->unknown > k) {
        e->unknown = 0;
        e->unknown_level = 0;
    }

    /* audio sent next into this slot adds to what it had */

    if (e->slot != k) {
        e->slot = k;
        e->energy = voice_echo_energy(voice_echo_at(e, k));
    }
}


double
voice_echo_frame(voice_echo_t *e, uint64_t now, const int16_t *pcm)
{
    int       l, lag;
    double    in, erl, threshold, window;
    unsigned  best, code, nlags;
    uint64_t  pos, lo, hi, delay;
    uint8_t   played[VOICE_ECHO_LAGS];

    in = voice_vad_level(pcm, VOICE_ECHO_SLOT);

    /* what played in the window, by delay: played[0] is playing now */

    pos = now * VOICE_G711_SAMPLES_PER_MS;
    delay = (uint64_t) e->conf.max_delay_ms * VOICE_G711_SAMPLES_PER_MS;

    lo = (pos - voice_echo_min(pos, delay)) / VOICE_ECHO_SLOT;
    hi = pos / VOICE_ECHO_SLOT;
    nlags = (unsigned) voice_echo_min(hi - lo + 1, VOICE_ECHO_LAGS);
    best = 0;

    for (l = 0; l < (int) nlags; l++) {
        played[l] = (uint8_t) voice_echo_at(e, hi - l);
        best = voice_echo_max(best, played[l]);
    }

    /*
     * The line's own noise: followed down at once, up only while nothing
     * of ours can be on it, so our echo is never taken for noise.
     */

    if (!e->started) {
        e->started = 1;
        e->noise_db = in;

    } else if (in < e->noise_db) {
        e->noise_db += (in - e->noise_db) * 0.5;

    } else if (best == 0) {
        e->noise_db += (in - e->noise_db) * 0.05;
    }

    /* overflowed slots leave no trace once out of the window */

    if (e->unknown && e->filled <= lo) {
        e->unknown = 0;
        e->unknown_level = 0;
    }

    if (best == 0) {
        e->hold_ms = 0;
        return VOICE_ECHO_NONE;
    }

    lag = voice_echo_lag(e, nlags);

    if (lag >= 0) {

        /* what played around the echo's delay, against the ERL there */

        if (e->lag < 0 || lag < e->lag - VOICE_ECHO_NEAR
            || lag > e->lag + VOICE_ECHO_NEAR)
        {
            e->near_erl = e->lag_erl[lag];
        }

        code = 0;

        for (l = lag - VOICE_ECHO_NEAR; l <= lag + VOICE_ECHO_NEAR; l++) {
            if (l >= 0 && l < (int) nlags) {
                code = voice_echo_max(code, played[l]);
            }
        }

        erl = e->near_erl;

    } else {

        /*
         * The loudest of the window.  Each delay's ERL bounds the echo
         * of that delay, so the largest bounds it whatever the delay:
         * on a line with no echo it falls sooner than the window's.
         */

        code = best;
        erl = VOICE_ECHO_ERL_MIN;

        for (l = 0; l < (int) nlags; l++) {
            erl = voice_echo_max(erl, e->lag_erl[l]);
        }

        erl = voice_echo_min(erl, e->erl_db);
    }

    e->lag = lag;

    threshold = code ? voice_echo_db(code) + erl + e->conf.margin_db
                     : VOICE_ECHO_NONE;

    /* what the loudest of the window, with that ERL, could explain */

    window = voice_echo_db(best) + erl + e->conf.margin_db;

    /*
     * The delays learn from every frame the window explains: were the
     * echo's delay to move, those over the prediction would be its
     * echo, and the new delay is found.  A caller speaking softly over
     * the echo lifts them all alike.
     */

    if (in <= window) {
        voice_echo_learn_lags(e, in, played, nlags);
    }

    e->miss_ms -= voice_echo_min(e->miss_ms, VOICE_ECHO_SLOT_MS);

    if (e->miss_ms == 0) {
        e->misses = 0;
    }

    /*
     * The caller: above the echo, and above the noise as a voice is.
     * Nor is a frame halfway there learnt from, nor those around it: a
     * caller speaking softly over the echo would lift its ERL over
     * their voice.
     */

    if (in > threshold - e->conf.margin_db / 2
        && in > e->noise_db + VOICE_ECHO_VOICE_DB)
    {
        e->hold_ms = VOICE_ECHO_HOLD_MS;

        if (lag >= 0 && in <= window) {
            voice_echo_miss(e, lag, nlags);
        }

        return threshold;
    }

    if (e->hold_ms) {
        e->hold_ms -= voice_echo_min(e->hold_ms, VOICE_ECHO_SLOT_MS);
        return threshold;
    }

    voice_echo_learn(e, &e->erl_db, in, best, VOICE_ECHO_WINDOW_DOWN_DB);

    if (lag >= 0 && code) {
        voice_echo_learn(e, &e->near_erl, in, code, VOICE_ECHO_DOWN_DB);
    }

    return threshold;
}


/*
 * Over what played at the echo's delay, yet no louder than the window
 * could explain: the caller, or the echo come back at another delay.
 * Many such in a row and the delay is learnt anew, the window deciding
 * meanwhile.
 */

static void
voice_echo_miss(voice_echo_t *e, int lag, unsigned nlags)
{
    int  l;

    e->miss_ms = VOICE_ECHO_MISS_MS;

    if (++e->misses < VOICE_ECHO_MISSES) {
        return;
    }

    for (l = lag - VOICE_ECHO_NEAR; l <= lag + VOICE_ECHO_NEAR; l++) {
        if (l >= 0 && l < (int) nlags) {
            e->lag_seen[l] = 0;
        }
    }

    e->misses = 0;
}


/*
 * The delay whose ERL stands clearly under those of the delays away
 * from it, or -1.  At the echo's own delay inbound follows played and
 * its percentile stays low; elsewhere the two are unrelated and it
 * rises.
 */

static int
voice_echo_lag(voice_echo_t *e, unsigned nlags)
{
    int     l, lag;
    double  others;

    lag = -1;

    for (l = 0; l < (int) nlags; l++) {
        if (e->lag_seen[l] >= VOICE_ECHO_LAG_SEEN
            && (lag < 0 || e->lag_erl[l] < e->lag_erl[lag]))
        {
            lag = l;
        }
    }

    if (lag < 0) {
        return -1;
    }

    others = VOICE_ECHO_ERL_MAX;

    for (l = 0; l < (int) nlags; l++) {
        if (l < lag - VOICE_ECHO_LAG_APART || l > lag + VOICE_ECHO_LAG_APART) {
            others = voice_echo_min(others, e->lag_erl[l]);
        }
    }

    return (e->lag_erl[lag] + VOICE_ECHO_LAG_DIP_DB <= others) ? lag : -1;
}


/*
 * Each delay learns, a delay at which nothing played too: whatever comes
 * back then is not the echo of that delay.
 */

static void
voice_echo_learn_lags(voice_echo_t *e, double in, const uint8_t *played,
    unsigned nlags)
{
    unsigned  l;

    for (l = 0; l < nlags; l++) {
        voice_echo_learn(e, &e->lag_erl[l], in, played[l],
                         VOICE_ECHO_DOWN_DB);
        e->lag_seen[l] += (played[l] && in > e->noise_db + VOICE_ECHO_NOISE_DB);
    }
}


/*
 * One step of a percentile of inbound against a played level.  A frame
 * at the noise floor only says the echo is no louder than it: that may
 * lower the ERL, never raise it, or the line's noise under our quiet
 * audio would pass for a loud echo.
 */

static void
voice_echo_learn(voice_echo_t *e, double *erl, double in, unsigned code,
    double down)
{
    if (in - voice_echo_db(code) > *erl) {
        if (in > e->noise_db + VOICE_ECHO_NOISE_DB) {
            *erl += VOICE_ECHO_UP_DB;
        }

    } else if (in - voice_echo_db(code) < *erl - VOICE_ECHO_FAR_DB) {
        *erl -= voice_echo_max(down, VOICE_ECHO_DOWN_DB);

    } else {
        *erl -= down;
    }

    *erl = voice_echo_max(*erl, VOICE_ECHO_ERL_MIN);
    *erl = voice_echo_min(*erl, VOICE_ECHO_ERL_MAX);
}


/* the level of slot k: 0 when nothing of ours plays in it */

static unsigned
voice_echo_at(const voice_echo_t *e, uint64_t k)
{
    if (k >= e->filled) {
        return 0;
    }

    if (e->unknown && k >= e->unknown) {
        return e->unknown_level;
    }

    return e->level[k % VOICE_ECHO_SLOTS];
}


/* a slot's level, in half dB from -99.5 dBFS: 1 to 255 */

static uint8_t
voice_echo_code(double energy)
{
    double  ms, code;

    ms = energy / VOICE_ECHO_SLOT;

    if (ms < 1) {
        ms = 1;
    }

    code = (10 * log10(ms / (32768.0 * 32768.0)) + 100) * 2 + 0.5;

    return (uint8_t) (code < 1 ? 1 : code > 255 ? 255 : code);
}


static double
voice_echo_energy(unsigned code)
{
    if (code == 0) {
        return 0;
    }

    return pow(10, voice_echo_db(code) / 10) * 32768.0 * 32768.0
           * VOICE_ECHO_SLOT;
}

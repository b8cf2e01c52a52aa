/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Endpointing on synthetic calls: noise, syllable-like bursts with pauses,
 * clicks, echo while we speak.
 */

#include <math.h>

#include "unit.h"
#include "voice_vad.h"


#define MS(n)   ((n) * 8)

static int16_t   sig[MS(60000)];
static unsigned  seed = 1;


static double
noise(void)
{
    seed = seed * 1103515245 + 12345;
    return ((seed >> 16) & 0x7fff) / 16384.0 - 1.0;
}


/* background noise at dBFS over the whole signal */

static void
background(size_t n, double db)
{
    size_t  i;
    double  a;

    a = 32768 * pow(10, db / 20) * 1.7;

    for (i = 0; i < n; i++) {
        sig[i] = (int16_t) (a * noise());
    }
}


/* a voiced burst: harmonics of 150 Hz under a syllable envelope */

static void
burst(size_t from, size_t len, double db)
{
    size_t  i;
    double  a, env, v;
    int     h;

    a = 32768 * pow(10, db / 20) * 0.6;

    for (i = 0; i < len; i++) {
        env = sin(3.14159265 * i / len);
        v = 0;

        for (h = 1; h <= 5; h++) {
            v += sin(2 * 3.14159265 * 150 * h * (from + i) / 8000.0) / h;
        }

        v = sig[from + i] + a * env * v;
        sig[from + i] = (int16_t) (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
}


/* speech: syllables of 200 ms with 80 ms gaps, from..to (ms) */

static void
speech(unsigned from, unsigned to, double db)
{
    unsigned  t;

    for (t = from; t + 200 <= to; t += 280) {
        burst(MS(t), MS(200), db);
    }
}


typedef struct {
    int       event;
    unsigned  at_ms;
} ev_t;


static int
run_from(size_t from, size_t n, voice_vad_t *v, ev_t *evs, int max)
{
    size_t  i;
    int     e, k;

    k = 0;

    for (i = from; i + VOICE_VAD_FRAME <= n; i += VOICE_VAD_FRAME) {
        e = voice_vad_frame(v, sig + i);

        if (e != VOICE_VAD_NONE && k < max) {
            evs[k].event = e;
            evs[k].at_ms = (unsigned) ((i + VOICE_VAD_FRAME) / 8);
            k++;
        }
    }

    return k;
}


static int
run(size_t n, voice_vad_t *v, ev_t *evs, int max)
{
    return run_from(0, n, v, evs, max);
}


static voice_vad_conf_t  conf = { 200, 200, 500, 30000, 10, 8, -50 };


int
main(void)
{
    int          n;
    ev_t         ev[16];
    voice_vad_t  v;

    /* noise alone, at two levels: nothing */

    background(MS(5000), -60);
    voice_vad_init(&v, &conf);
    CHECK_INT(run(MS(5000), &v, ev, 16), 0);

    background(MS(5000), -40);
    voice_vad_init(&v, &conf);
    CHECK_INT(run(MS(5000), &v, ev, 16), 0);

    /* one utterance of 1.5 s with pauses inside: start, then one end */

    background(MS(4000), -55);
    speech(1000, 2500, -20);
    voice_vad_init(&v, &conf);
    n = run(MS(4000), &v, ev, 16);
    CHECK_INT(n, 2);
    CHECK_INT(ev[0].event, VOICE_VAD_SPEECH_START);
    CHECK(ev[0].at_ms >= 1200 && ev[0].at_ms <= 1400);
    CHECK_INT(ev[1].event, VOICE_VAD_UTTERANCE_END);
    /* the last syllable ends at 2320 ms */
    CHECK(ev[1].at_ms >= 2320 + 400 && ev[1].at_ms <= 2320 + 600);

    /* in -40 dB noise too */

    background(MS(4000), -40);
    speech(1000, 2500, -15);
    voice_vad_init(&v, &conf);
    n = run(MS(4000), &v, ev, 16);
    CHECK_INT(n, 2);
    CHECK(n == 2 && ev[1].at_ms >= 2320 + 400 && ev[1].at_ms <= 2320 + 600);

    /* a 100 ms click does not start speech */

    background(MS(3000), -55);
    burst(MS(1000), MS(100), -10);
    voice_vad_init(&v, &conf);
    CHECK_INT(run(MS(3000), &v, ev, 16), 0);

    /* two utterances 1 s apart are two */

    background(MS(6000), -55);
    speech(500, 1500, -20);
    speech(3000, 4000, -20);
    voice_vad_init(&v, &conf);
    CHECK_INT(run(MS(6000), &v, ev, 16), 4);

    /* max_utterance cuts a 40 s monologue */

    background(MS(45000), -55);
    speech(1000, 41000, -20);
    voice_vad_init(&v, &conf);
    n = run(MS(45000), &v, ev, 16);
    CHECK(n >= 3);
    CHECK_INT(ev[1].event, VOICE_VAD_UTTERANCE_END);
    CHECK(v.ended_by_limit || ev[1].at_ms < 33000);

    /* while we speak: an echo at -35 dB does not interrupt, a voice does */

    background(MS(3000), -55);
    speech(200, 2500, -35);
    voice_vad_init(&v, &conf);
    run(MS(200), &v, ev, 16);
    voice_vad_set_speaking(&v, 1);
    CHECK_INT(run(MS(3000), &v, ev, 16), 0);

    background(MS(3000), -55);
    speech(500, 2500, -15);
    voice_vad_init(&v, &conf);
    voice_vad_set_speaking(&v, 1);
    n = run(MS(3000), &v, ev, 16);
    CHECK(n >= 1 && ev[0].event == VOICE_VAD_SPEECH_START);

    /* barge_in, not min_speech, counts while we speak */

    conf.barge_in_ms = 300;

    background(MS(3000), -55);
    speech(500, 760, -15);
    voice_vad_init(&v, &conf);
    CHECK_INT(run(MS(3000), &v, ev, 16) >= 1 && ev[0].event
              == VOICE_VAD_SPEECH_START, 1);
    voice_vad_init(&v, &conf);
    voice_vad_set_speaking(&v, 1);
    CHECK_INT(run(MS(3000), &v, ev, 16), 0);

    background(MS(3000), -55);
    speech(500, 1400, -15);
    voice_vad_init(&v, &conf);
    voice_vad_set_speaking(&v, 1);
    n = run(MS(3000), &v, ev, 16);
    CHECK(n >= 1 && ev[0].event == VOICE_VAD_SPEECH_START);
    CHECK(n >= 1 && ev[0].at_ms >= 800);

    conf.barge_in_ms = 200;

    /*
     * with the level our echo may reach given instead, the fixed margin
     * is gone: a voice 17 dB over the floor counts while we speak, and
     * not when the echo may reach it
     */

    background(MS(3000), -55);
    speech(500, 2500, -38);
    voice_vad_init(&v, &conf);
    run(MS(200), &v, ev, 16);
    voice_vad_set_speaking(&v, 1);
    CHECK_INT(run_from(MS(200), MS(3000), &v, ev, 16), 0);

    voice_vad_init(&v, &conf);
    run(MS(200), &v, ev, 16);
    voice_vad_set_speaking(&v, 1);
    voice_vad_set_echo(&v, -1000);
    n = run_from(MS(200), MS(3000), &v, ev, 16);
    CHECK(n >= 1 && ev[0].event == VOICE_VAD_SPEECH_START);

    voice_vad_init(&v, &conf);
    run(MS(200), &v, ev, 16);
    voice_vad_set_echo(&v, -30);
    CHECK_INT(run_from(MS(200), MS(3000), &v, ev, 16), 0);

    /*
     * ended by a recognizer while the caller pauses: no end of the VAD's
     * own follows, and the caller going on is a new onset
     */

    background(MS(5000), -55);
    speech(500, 1500, -20);
    speech(1900, 3000, -20);
    voice_vad_init(&v, &conf);
    n = run_from(0, MS(1600), &v, ev, 16);
    CHECK_INT(n, 1);
    CHECK_INT(ev[0].event, VOICE_VAD_SPEECH_START);
    voice_vad_end(&v);
    n = run_from(MS(1600), MS(5000), &v, ev, 16);
    CHECK_INT(n, 2);
    CHECK_INT(ev[0].event, VOICE_VAD_SPEECH_START);
    CHECK(ev[0].at_ms >= 1900 && ev[0].at_ms <= 2300);
    CHECK_INT(ev[1].event, VOICE_VAD_UTTERANCE_END);

    UNIT_DONE("vad");
}

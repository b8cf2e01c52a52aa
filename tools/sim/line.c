/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voice_g711.h"
#include "voice_vad.h"

#include "conf.h"
#include "line.h"
#include "util.h"


/* the caller's voice starts when a frame is this loud after this quiet */
#define SIM_LINE_VOICE_DB   -50
#define SIM_LINE_QUIET_MS   300


/*
 * The played audio is kept, decoded, for as long as the echo is late:
 * the echo of the sample played at p goes out with the caller's sample
 * sent at p + delay.  Before anything played, and in gaps, silence.
 */

void
sim_line_played(sim_call_t *c, const uint8_t *agent, size_t n)
{
    size_t  i, size;

    if (!sim_conf.echo) {
        return;
    }

    if (c->echo == NULL) {
        size = (size_t) sim_conf.echo_delay_ms * 8 + SIM_CALL_FRAME;
        c->echo = calloc(size, sizeof(int16_t));
        if (c->echo == NULL) {
            sim_util_die("out of memory");
        }

        c->echo_size = size;
    }

    for (i = 0; i < SIM_CALL_FRAME; i++) {
        c->echo[(c->echo_pos + i) % c->echo_size] =
                         (agent && i < n) ? voice_ulaw_decode(agent[i]) : 0;
    }

    c->echo_pos += SIM_CALL_FRAME;
}


void
sim_line_frame(sim_call_t *c, const uint8_t *frame, uint8_t *out, double t)
{
    size_t    i;
    double    v, gain, level;
    int16_t   pcm[SIM_CALL_FRAME];
    uint64_t  at, delay;

    /* only -v and --echo-db look at the audio: not so a load test */

    if (!sim_conf.verbose && !sim_conf.echo) {
        memcpy(out, frame, SIM_CALL_FRAME);
        return;
    }

    voice_ulaw_decode_buf(frame, SIM_CALL_FRAME, pcm);

    /* the caller's own voice, before the echo joins it */

    level = voice_vad_level(pcm, SIM_CALL_FRAME);

    if (level > SIM_LINE_VOICE_DB) {
        if (c->quiet_ms >= SIM_LINE_QUIET_MS || c->t_voice == 0) {
            c->t_voice = t;

            if (sim_conf.verbose) {
                fprintf(stderr, "[%d] caller voice at %.3f s\n", c->id,
                        t - c->t_open);
            }
        }

        c->quiet_ms = 0;

    } else {
        c->quiet_ms += 20;
    }

    if (!sim_conf.echo || c->echo == NULL) {
        memcpy(out, frame, SIM_CALL_FRAME);
        return;
    }

    /* the 20 ms played last go out now, delay_ms late */

    gain = pow(10, sim_conf.echo_db / 20);
    delay = (uint64_t) sim_conf.echo_delay_ms * 8;

    for (i = 0; i < SIM_CALL_FRAME; i++) {
        v = pcm[i];
        at = c->echo_pos - SIM_CALL_FRAME + i;

        if (at >= delay) {
            v += gain * c->echo[(at - delay) % c->echo_size];
        }

        v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        out[i] = voice_ulaw_encode((int16_t) lrint(v));
    }
}


void
sim_line_clear(sim_call_t *c)
{
    double  now;

    if (!sim_conf.verbose) {
        return;
    }

    now = sim_util_now();

    if (c->t_voice > 0) {
        fprintf(stderr, "[%d] clear at %.3f s, %.0f ms after the caller's "
                "voice\n", c->id, now - c->t_open, (now - c->t_voice) * 1000);

    } else {
        fprintf(stderr, "[%d] clear at %.3f s\n", c->id, now - c->t_open);
    }
}


void
sim_line_free(sim_call_t *c)
{
    free(c->echo);
    c->echo = NULL;
}

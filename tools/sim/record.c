/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdlib.h>
#include <string.h>

#include "voice_g711.h"
#include "voice_wav.h"

#include "conf.h"
#include "record.h"
#include "util.h"


static void sim_record_raw(const char *file, const uint8_t *ulaw,
    size_t len);


void
sim_record_heard(sim_call_t *c, const uint8_t *agent, size_t n)
{
    if (sim_conf.record == NULL) {
        return;
    }

    if (agent == NULL) {
        if (c->t_first_out <= 0) {
            return;                     /* the agent has not spoken yet */
        }

        n = SIM_CALL_FRAME;
    }

    c->heard = sim_util_grow(c->heard, &c->heard_size, c->heard_len + n, 2);

    if (agent) {
        voice_ulaw_decode_buf(agent, n, c->heard + c->heard_len);

    } else {
        memset(c->heard + c->heard_len, 0, n * 2);
    }

    c->heard_len += n;
}


void
sim_record_frame(sim_call_t *c, const uint8_t *caller, const uint8_t *agent,
    size_t agent_n)
{
    size_t    i;
    int16_t  *f;

    if (sim_conf.record_call == NULL || c->id != 1 || sim_conf.fast) {
        return;
    }

    c->call_wav = sim_util_grow(c->call_wav, &c->call_size,
                                (c->call_len + SIM_CALL_FRAME) * 2, 2);
    f = c->call_wav + c->call_len * 2;

    for (i = 0; i < SIM_CALL_FRAME; i++) {
        f[2 * i] = caller ? voice_ulaw_decode(caller[i]) : 0;
        f[2 * i + 1] = (agent && i < agent_n) ? voice_ulaw_decode(agent[i])
                                              : 0;
    }

    c->call_len += SIM_CALL_FRAME;
}


void
sim_record_write(const sim_call_t *c)
{
    uint8_t  hdr[VOICE_WAV_HEADER];

    if (sim_conf.record) {
        voice_wav_header(hdr, 8000, 1, c->heard_len * 2);
        sim_util_write_file(sim_conf.record, hdr, sizeof(hdr), c->heard,
                            c->heard_len * 2);
    }

    if (sim_conf.record_call) {
        voice_wav_header(hdr, 8000, 2, c->call_len * 4);
        sim_util_write_file(sim_conf.record_call, hdr, sizeof(hdr),
                            c->call_wav, c->call_len * 4);
    }

    if (sim_conf.record_raw) {
        sim_record_raw(sim_conf.record_raw, c->play, c->play_len);
    }

    if (sim_conf.save_sent) {
        sim_record_raw(sim_conf.save_sent, sim_conf.audio,
                       sim_conf.audio_len);
    }
}


/* μ-law as raw PCM16 */

static void
sim_record_raw(const char *file, const uint8_t *ulaw, size_t len)
{
    int16_t  *pcm;

    pcm = malloc(len * 2 + 2);
    if (pcm == NULL) {
        sim_util_die("out of memory");
    }

    voice_ulaw_decode_buf(ulaw, len, pcm);
    sim_util_write_file(file, NULL, 0, pcm, len * 2);
    free(pcm);
}

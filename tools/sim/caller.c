/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "caller.h"
#include "conf.h"
#include "record.h"


static void sim_caller_play(sim_call_t *c, double t, const uint8_t *agent,
    size_t agent_n);
static void sim_caller_script(sim_call_t *c, double t,
    const uint8_t *agent, size_t agent_n);
static void sim_caller_listen(sim_call_t *c, double t,
    const uint8_t *agent);
static void sim_caller_speak(sim_call_t *c, double t, uint8_t *frame);
static int sim_caller_may_speak(sim_call_t *c, double t,
    const sim_conf_say_t *say);
static void sim_caller_live(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));


void
sim_caller_tick(sim_call_t *c, double t)
{
    size_t          agent_n;
    const uint8_t  *agent;

    if (c->state != SIM_CALL_OPEN) {
        return;
    }

    sim_call_play(c, &agent, &agent_n);

    if (sim_conf.nsays) {
        sim_caller_script(c, t, agent, agent_n);

    } else {
        sim_caller_play(c, t, agent, agent_n);
    }

    sim_call_flush(c);
}


/*
 * --play: the audio, then --silence-after of silence, in real time (or,
 * with --fast, all at once); hangs up once the agent has gone quiet.
 */

static void
sim_caller_play(sim_call_t *c, double t, const uint8_t *agent,
    size_t agent_n)
{
    size_t          i, n, total, chunk;
    uint8_t         frame[SIM_CALL_FRAME];
    const uint8_t  *caller;

    caller = NULL;
    total = sim_conf.audio_len + (size_t) sim_conf.silence_after * 8;
    chunk = sim_conf.fast ? total : SIM_CALL_FRAME;

    for (n = 0; n < chunk && c->sent < total; n += SIM_CALL_FRAME) {
        for (i = 0; i < SIM_CALL_FRAME; i++) {
            frame[i] = (c->sent + i < sim_conf.audio_len)
                       ? sim_conf.audio[c->sent + i] : 0xff;
        }

        caller = frame;
        sim_call_send_media(c, frame, t);

        if (c->sent >= total) {
            c->t_audio_end = t;
        }
    }

    sim_record_frame(c, caller, agent, agent_n);

    /* hang up when the audio is done and the agent has gone quiet */

    if (c->sent >= total && !c->stop_sent
        && (!sim_conf.fast || t - (c->t_last_out > c->t_audio_end
                                   ? c->t_last_out : c->t_audio_end)
                              >= sim_conf.drain_ms / 1000.0)
        && c->played >= c->play_len)
    {
        sim_call_send_stop(c);
    }
}


/*
 * A scripted call (--say): each line is said when the agent has answered
 * the one before and gone quiet for --pause, or, with --interrupt, that
 * long into the agent's answer.  The call hangs up once the last answer
 * has been heard (or after --silence-after of nothing).
 */

static void
sim_caller_script(sim_call_t *c, double t, const uint8_t *agent,
    size_t agent_n)
{
    uint8_t          frame[SIM_CALL_FRAME];
    sim_conf_say_t  *say;

    sim_caller_listen(c, t, agent);

    if (c->saying) {
        sim_caller_speak(c, t, frame);
        sim_call_send_media(c, frame, t);
        sim_record_frame(c, frame, agent, agent_n);
        return;
    }

    memset(frame, 0xff, SIM_CALL_FRAME);
    sim_call_send_media(c, frame, t);
    sim_record_frame(c, frame, agent, agent_n);

    if (c->say < sim_conf.nsays) {
        say = &sim_conf.says[c->say];

        if (sim_caller_may_speak(c, t, say)) {
            c->saying = 1;
            c->say_pos = 0;
            c->awaiting = 0;
            c->turns[c->say].t_said = t;

            if (c->id == 1) {
                sim_caller_live("caller: %s%s", say->text,
                                say->interrupt_ms ? "   (interrupting)"
                                                  : "");
            }
        }

        return;
    }

    /* the last answer heard, or nothing for --silence-after: hang up */

    if (!c->stop_sent && !c->talking
        && ((!c->awaiting && t - c->t_talk >= 2 * sim_conf.pause_ms / 1000.0)
            || t - c->t_said_end >= sim_conf.silence_after / 1000.0))
    {
        sim_call_send_stop(c);

        if (c->id == 1) {
            sim_caller_live("caller hangs up");
        }
    }
}


/* when the agent starts and stops talking; its answer to a turn */

static void
sim_caller_listen(sim_call_t *c, double t, const uint8_t *agent)
{
    if (agent && !c->talking) {
        c->talking = 1;
        c->t_talk = t;

        if (c->awaiting) {
            c->awaiting = 0;
            c->turns[c->say - 1].t_reply = t;

            if (c->id == 1) {
                sim_caller_live("agent answers, %.0f ms after the caller "
                                "stopped", (t - c->t_said_end) * 1000);
            }
        }

    } else if (agent == NULL && c->talking) {
        c->talking = 0;
        c->t_talk = t;
    }
}


/* the next frame of the current --say; its last ends the turn */

static void
sim_caller_speak(sim_call_t *c, double t, uint8_t *frame)
{
    size_t           n;
    sim_conf_say_t  *say;

    say = &sim_conf.says[c->say];
    n = say->len - c->say_pos;
    n = n < SIM_CALL_FRAME ? n : SIM_CALL_FRAME;

    memcpy(frame, say->audio + c->say_pos, n);
    memset(frame + n, 0xff, SIM_CALL_FRAME - n);
    c->say_pos += n;

    if (c->say_pos == say->len) {
        c->saying = 0;
        c->say++;
        c->awaiting = 1;
        c->t_said_end = t;
        c->turns[c->say - 1].t_end = t;
    }
}


static int
sim_caller_may_speak(sim_call_t *c, double t, const sim_conf_say_t *say)
{
    if (say->interrupt_ms) {
        return c->talking && !c->awaiting
               && t - c->t_talk >= say->interrupt_ms / 1000.0;
    }

    return !c->talking
           && (!c->awaiting || t - c->t_said_end > 15)
           && t - (c->t_talk > c->t_open ? c->t_talk : c->t_open)
              >= sim_conf.pause_ms / 1000.0
           && t - c->t_open >= 1.5;
}


/* --live: the conversation on stderr, a line at a time */

static void
sim_caller_live(const char *fmt, ...)
{
    va_list     ap;
    time_t      now;
    struct tm   tm;
    char        ts[16];

    if (!sim_conf.live) {
        return;
    }

    now = time(NULL);
    localtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%H:%M:%S", &tm);

    fprintf(stderr, "[%s] ", ts);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}

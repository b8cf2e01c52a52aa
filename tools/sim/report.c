/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdio.h>

#include "conf.h"
#include "report.h"
#include "rtt.h"
#include "run.h"


static void sim_report_json(const sim_call_t *c, int first);
static void sim_report_text(const sim_call_t *c);
static double sim_report_handshake_ms(const sim_call_t *c);
static double sim_report_first_reply_ms(const sim_call_t *c);
static void sim_report_rtt(void);


int
sim_report(sim_call_t *calls, int n)
{
    int          i, failed;
    sim_call_t  *c;

    failed = 0;

    if (sim_conf.json) {
        printf("{\"calls\":[");
    }

    for (i = 0; i < n; i++) {
        c = &calls[i];

        if (!c->failed && c->close_code != 1000) {
            c->failed = 1;
            c->why = "not closed with 1000";
        }

        failed += c->failed;

        if (sim_conf.json) {
            sim_report_json(c, i == 0);

        } else if (n <= 20 || c->failed) {
            sim_report_text(c);
        }
    }

    if (sim_conf.json) {
        printf("],\"summary\":{\"calls\":%d,\"failed\":%d", n, failed);
        sim_report_rtt();
        printf("}}\n");

    } else {
        sim_report_rtt();
        printf("%d calls, %d failed\n", n, failed);
    }

    return failed;
}


static void
sim_report_json(const sim_call_t *c, int first)
{
    int                     i;
    const sim_call_turn_t  *tu;

    printf("%s{\"id\":%d,\"ok\":%s,\"end\":\"%s\",\"close\":%d,"
           "\"handshake_ms\":%.1f,\"first_reply_ms\":%.1f,"
           "\"media_out\":%lu,\"audio_heard_bytes\":%zu,"
           "\"marks\":%lu,\"marks_returned\":%lu,\"clears\":%lu,",
           first ? "" : ",", c->id, c->failed ? "false" : "true",
           c->why ? c->why : "", c->close_code,
           sim_report_handshake_ms(c), sim_report_first_reply_ms(c),
           c->media_out, c->play_base + c->play_len, c->marks_in,
           c->marks_back, c->clears);

    if (sim_conf.rtt) {
        printf("\"frames\":%lu,\"echoed\":%lu,\"lost\":%lu,\"late\":%lu,"
               "\"rtt_max_ms\":%.3f,", c->rtt.sent, c->rtt.echoed,
               c->rtt.lost, c->rtt.late, c->rtt.max_ms);
    }

    printf("\"turns\":[");

    for (i = 0; i < c->say; i++) {
        tu = &c->turns[i];

        printf("%s{\"said_at_ms\":%.0f,\"said_ms\":%.0f,"
               "\"reply_after_ms\":%.0f}", i ? "," : "",
               (tu->t_said - c->t_open) * 1000,
               (tu->t_end - tu->t_said) * 1000,
               tu->t_reply > 0 ? (tu->t_reply - tu->t_end) * 1000 : -1.0);
    }

    printf("]}");
}


static void
sim_report_text(const sim_call_t *c)
{
    int                     i;
    const sim_call_turn_t  *tu;

    printf("call %d: %s, close %d, handshake %.1f ms, first reply "
           "%.1f ms, %lu media messages, %zu bytes of audio heard, "
           "%lu marks (%lu returned), %lu clears\n",
           c->id, c->why ? c->why : "?", c->close_code,
           sim_report_handshake_ms(c), sim_report_first_reply_ms(c),
           c->media_out, c->play_base + c->play_len, c->marks_in,
           c->marks_back, c->clears);

    for (i = 0; i < c->say; i++) {
        tu = &c->turns[i];

        printf("  turn %d: said %.1f s in, for %.1f s; ", i + 1,
               tu->t_said - c->t_open, tu->t_end - tu->t_said);

        if (tu->t_reply > 0) {
            printf("answered %.0f ms after the caller stopped\n",
                   (tu->t_reply - tu->t_end) * 1000);

        } else {
            printf("no answer\n");
        }
    }
}


static double
sim_report_handshake_ms(const sim_call_t *c)
{
    return c->t_open > 0 ? (c->t_open - c->t_start) * 1000 : -1.0;
}


static double
sim_report_first_reply_ms(const sim_call_t *c)
{
    return c->t_first_out > 0 ? (c->t_first_out - c->t_first_in) * 1000
                              : -1.0;
}


/*
 * --rtt: all calls' frames, and how late the simulator itself ticked
 * (a loaded simulator's lag is in the round trips it measures)
 */

static void
sim_report_rtt(void)
{
    sim_rtt_summary_t  s;

    if (!sim_conf.rtt) {
        return;
    }

    sim_rtt_summary(&s);

    if (sim_conf.json) {
        printf(",\"frames\":%lu,\"echoed\":%lu,\"lost\":%lu,\"late\":%lu,"
               "\"late_ms\":%d,\"rtt_ms\":{\"p50\":%.3f,\"p99\":%.3f,"
               "\"max\":%.3f},\"sim_lag_max_ms\":%.3f",
               s.frames, s.echoed, s.lost, s.late, SIM_RTT_LATE_MS,
               s.p50_ms, s.p99_ms, s.max_ms, sim_run_late_ms);
        return;
    }

    printf("echo round trip of %lu frames: p50 %.3f ms, p99 %.3f ms, "
           "max %.3f ms; %lu lost, %lu late (over %d ms); the simulator "
           "ticked up to %.1f ms late\n", s.echoed, s.p50_ms, s.p99_ms,
           s.max_ms, s.lost, s.late, SIM_RTT_LATE_MS, sim_run_late_ms);
}

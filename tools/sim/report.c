/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdio.h>

#include "conf.h"
#include "report.h"


static void sim_report_json(const sim_call_t *c, int first);
static void sim_report_text(const sim_call_t *c);
static double sim_report_handshake_ms(const sim_call_t *c);
static double sim_report_first_reply_ms(const sim_call_t *c);


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
        printf("],\"summary\":{\"calls\":%d,\"failed\":%d}}\n", n, failed);

    } else {
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
           "\"marks\":%lu,\"marks_returned\":%lu,\"clears\":%lu,"
           "\"turns\":[",
           first ? "" : ",", c->id, c->failed ? "false" : "true",
           c->why ? c->why : "", c->close_code,
           sim_report_handshake_ms(c), sim_report_first_reply_ms(c),
           c->media_out, c->play_len, c->marks_in, c->marks_back,
           c->clears);

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
           c->media_out, c->play_len, c->marks_in, c->marks_back,
           c->clears);

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

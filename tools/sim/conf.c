/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "util.h"


static void sim_conf_option(int opt, const char *arg);
static void sim_conf_usage(void) __attribute__((noreturn));


sim_conf_t  sim_conf;

/* --interrupt applies to the --say after it */
static int  sim_conf_interrupt;


static const struct option  sim_conf_options[] = {
    { "url", required_argument, NULL, 'u' },
    { "stream-url", required_argument, NULL, 's' },
    { "token", required_argument, NULL, 't' },
    { "play", required_argument, NULL, 'p' },
    { "play-ulaw", required_argument, NULL, 'P' },
    { "silence-after", required_argument, NULL, 'S' },
    { "record", required_argument, NULL, 'r' },
    { "record-raw", required_argument, NULL, 'R' },
    { "save-sent", required_argument, NULL, 'W' },
    { "calls", required_argument, NULL, 'n' },
    { "ramp", required_argument, NULL, 'm' },
    { "fast", no_argument, NULL, 'f' },
    { "drain-ms", required_argument, NULL, 'd' },
    { "dtmf", required_argument, NULL, 'D' },
    { "json", no_argument, NULL, 'j' },
    { "rtt", no_argument, NULL, 'X' },
    { "timeout", required_argument, NULL, 'T' },
    { "insecure", no_argument, NULL, 'k' },
    { "say", required_argument, NULL, 'y' },
    { "interrupt", required_argument, NULL, 'I' },
    { "pause", required_argument, NULL, 'Z' },
    { "record-call", required_argument, NULL, 'C' },
    { "live", no_argument, NULL, 'L' },
    { "echo-db", required_argument, NULL, 'E' },
    { "echo-delay-ms", required_argument, NULL, 'e' },
    { NULL, 0, NULL, 0 }
};


void
sim_conf_parse(int argc, char **argv)
{
    int          opt;
    sim_conf_t  *cf;

    cf = &sim_conf;

    cf->calls = 1;
    cf->pause_ms = 800;
    cf->silence_after = -1;
    cf->drain_ms = 2000;
    cf->timeout = 120;
    cf->echo_delay_ms = 100;

    while ((opt = getopt_long(argc, argv, "v", sim_conf_options, NULL))
           != -1)
    {
        sim_conf_option(opt, optarg);
    }

    if ((cf->url == NULL) == (cf->stream_url == NULL) || cf->calls < 1
        || (cf->nsays && (cf->play || cf->play_ulaw || cf->fast))
        || (cf->echo && (cf->fast || cf->echo_db > 0))
        || cf->echo_delay_ms < 0 || cf->echo_delay_ms > 10000)
    {
        sim_conf_usage();
    }

    if (cf->silence_after < 0) {
        cf->silence_after = cf->nsays ? 15000 : 1000;
    }
}


static void
sim_conf_option(int opt, const char *arg)
{
    sim_conf_t  *cf;

    cf = &sim_conf;

    switch (opt) {
    case 'u': cf->url = arg; break;
    case 's': cf->stream_url = arg; break;
    case 't': cf->token = arg; break;
    case 'p': cf->play = arg; break;
    case 'P': cf->play_ulaw = arg; break;
    case 'S': cf->silence_after = atoi(arg); break;
    case 'r': cf->record = arg; break;
    case 'R': cf->record_raw = arg; break;
    case 'W': cf->save_sent = arg; break;
    case 'n': cf->calls = atoi(arg); break;
    case 'm': cf->ramp_ms = atoi(arg); break;
    case 'f': cf->fast = 1; break;
    case 'd': cf->drain_ms = atoi(arg); break;
    case 'D': cf->dtmf = arg; break;
    case 'j': cf->json = 1; break;
    case 'X': cf->rtt = 1; break;
    case 'T': cf->timeout = atoi(arg); break;
    case 'k': cf->insecure = 1; break;
    case 'v': cf->verbose = 1; break;
    case 'Z': cf->pause_ms = atoi(arg); break;
    case 'C': cf->record_call = arg; break;
    case 'L': cf->live = 1; break;
    case 'E': cf->echo = 1; cf->echo_db = atof(arg); break;
    case 'e': cf->echo_delay_ms = atoi(arg); break;

    case 'y':
        if (cf->nsays == SIM_CONF_SAY_MAX) {
            sim_util_die("at most %d --say", SIM_CONF_SAY_MAX);
        }

        cf->says[cf->nsays++].text = arg;
        sim_conf_interrupt = 0;
        break;

    case 'I':
        sim_conf_interrupt = atoi(arg);

        if (cf->nsays < SIM_CONF_SAY_MAX) {
            cf->says[cf->nsays].interrupt_ms = sim_conf_interrupt;
        }

        break;

    default:
        sim_conf_usage();
    }
}


static void
sim_conf_usage(void)
{
    fprintf(stderr,
        "usage: voice-sim (--url WEBHOOK_URL | --stream-url WS_URL) "
        "[options]\n"
        "  --url URL            Twilio voice webhook (http/https) to call\n"
        "  --stream-url URL     skip the webhook, open this ws:// or wss:// "
        "URL\n"
        "  --token TOKEN        auth token: signs the webhook and the "
        "handshake,\n"
        "                       makes the voiceToken of calls without a "
        "webhook\n"
        "  --play FILE.wav      caller audio (PCM16/G.711, any rate, to "
        "8 kHz)\n"
        "  --play-ulaw FILE     caller audio as raw 8 kHz μ-law\n"
        "  --silence-after MS   silence streamed after the audio (1000)\n"
        "  --say TEXT           say this (espeak-ng) once the agent is quiet;\n"
        "                       repeat for a conversation\n"
        "  --interrupt MS       the next --say starts MS into the agent's "
        "answer\n"
        "  --pause MS           quiet before each --say (800)\n"
        "  --record OUT.wav     what the caller heard, in real time\n"
        "  --record-call OUT.wav  the call in stereo: caller left, agent "
        "right\n"
        "  --live               print the conversation as it happens (stderr)\n"
        "  --record-raw OUT     the received audio as raw PCM16, no gaps\n"
        "  --echo-db DB         the agent's audio comes back on the caller's\n"
        "                       line DB (0 or less) down, as it plays\n"
        "  --echo-delay-ms MS   ... this late (100); not with --fast\n"
        "  --save-sent OUT      the caller audio sent, as raw PCM16\n"
        "  --calls N            N calls at once; --ramp MS between starts\n"
        "  --fast               no real-time pacing; --drain-ms MS (2000)\n"
        "  --dtmf DIGITS        send DTMF digits after start\n"
        "  --json               a JSON report\n"
        "  --rtt                the server echoes: report each frame's "
        "round trip\n"
        "                       (p50, p99, max), frames lost and late "
        "(> 100 ms)\n"
        "  --timeout S          give up after S seconds (120)\n"
        "  --insecure           do not verify TLS certificates\n"
        "  -v                   print every message, when the caller's "
        "voice starts\n"
        "                       and when each clear arrives after it\n");
    exit(2);
}

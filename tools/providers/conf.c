/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "listen.h"
#include "server.h"
#include "stt.h"


static void vp_conf_usage(void);


vp_conf_t  vp_conf;


int
vp_conf_parse(int argc, char **argv)
{
    int     opt;
    long    v;
    char   *end;

    static const struct option  opts[] = {
        { "listen",       required_argument, NULL, 'l' },
        { "port-file",    required_argument, NULL, 'p' },
        { "log",          required_argument, NULL, 'L' },
        { "model-dir",    required_argument, NULL, 'm' },
        { "word-delay",   required_argument, NULL, 'w' },
        { "listen-idle",  required_argument, NULL, 'i' },
        { "max-children", required_argument, NULL, 'c' },
        { "no-fork",      no_argument,       NULL, 'n' },
        { "no-grammar",   no_argument,       NULL, 'g' },
        { "verbose",      no_argument,       NULL, 'v' },
        { "help",         no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    vp_conf.model_dir = VP_STT_MODEL_DIR;
    vp_conf.grammar = 1;
    vp_conf.word_delay = 30;
    vp_conf.listen_idle = VP_LISTEN_IDLE;
    vp_conf.max_children = VP_SERVER_CHILDREN_MAX;

    while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'l': vp_conf.listen = optarg; break;
        case 'p': vp_conf.port_file = optarg; break;
        case 'L': vp_conf.log_file = optarg; break;
        case 'm': vp_conf.model_dir = optarg; break;
        case 'n': vp_conf.no_fork = 1; break;
        case 'g': vp_conf.grammar = 0; break;
        case 'v': vp_conf.verbose = 1; break;

        case 'w':
        case 'c':
        case 'i':
            v = strtol(optarg, &end, 10);

            if (end == optarg || *end != '\0' || v < 0
                || v > (opt == 'i' ? 3600000 : 10000)
                || (opt != 'w' && v == 0))
            {
                fprintf(stderr, "voice-providers: bad value \"%s\"\n",
                        optarg);
                return 2;
            }

            if (opt == 'w') {
                vp_conf.word_delay = (unsigned) v;

            } else if (opt == 'i') {
                vp_conf.listen_idle = (unsigned) v;

            } else {
                vp_conf.max_children = (v > VP_SERVER_CHILDREN_MAX)
                                       ? VP_SERVER_CHILDREN_MAX : (unsigned) v;
            }

            break;

        case 'h':
            vp_conf_usage();
            return 0;

        default:
            vp_conf_usage();
            return 2;
        }
    }

    if (vp_conf.listen == NULL || optind != argc) {
        vp_conf_usage();
        return 2;
    }

    return -1;
}


static void
vp_conf_usage(void)
{
    fprintf(stderr,
        "usage: voice-providers --listen ADDR:PORT [options]\n"
        "\n"
        "  --listen ADDR:PORT   address to listen on (port 0: any free)\n"
        "  --port-file FILE     write the port there once listening\n"
        "  --log FILE           request log (default stderr)\n"
        "  --model-dir DIR      pocketsphinx model (default "
        VP_STT_MODEL_DIR ")\n"
        "  --word-delay MS      pause between streamed LLM words (30)\n"
        "  --listen-idle MS     close a /v1/listen WebSocket with 1011 after\n"
        "                       MS without audio or a message (%d, as\n"
        "                       Deepgram's 10 s)\n"
        "  --max-children N     connections served at once (%d)\n"
        "  --no-grammar         the general language model only, no FAQ "
        "grammar\n"
        "  --no-fork            serve connections one by one in-process\n"
        "  -v                   log more\n"
        "\n"
        "endpoints: POST /v1/audio/transcriptions, /v1/chat/completions,\n"
        "  /v1/text-to-speech/VOICE[/stream]?output_format=ulaw_8000|\n"
        "  alaw_8000|pcm_8000|pcm_16000|pcm_22050|pcm_24000|pcm_44100|"
        "pcm_48000,\n"
        "  /v1/audio/speech; WebSocket GET /v1/listen?encoding=mulaw&\n"
        "  sample_rate=8000[&interim_results=true&endpointing=MS|false&\n"
        "  utterance_end_ms=MS&vad_events=true]\n",
        VP_LISTEN_IDLE, VP_SERVER_CHILDREN_MAX);
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* voice-sim's command line, and the caller audio it names */

#ifndef SIM_CONF_H
#define SIM_CONF_H

#include <stddef.h>
#include <stdint.h>


#define SIM_CONF_SAY_MAX  32


/* one thing the caller says in a scripted call (--say) */

typedef struct {
    const char    *text;
    uint8_t       *audio;               /* μ-law 8 kHz */
    size_t         len;
    int            interrupt_ms;        /* start while the agent speaks */
} sim_conf_say_t;


typedef struct {
    const char      *url;
    const char      *stream_url;
    const char      *token;
    const char      *play;
    const char      *play_ulaw;
    const char      *record;
    const char      *record_raw;
    const char      *save_sent;
    const char      *dtmf;
    const char      *record_call;
    sim_conf_say_t   says[SIM_CONF_SAY_MAX];
    int              nsays;
    int              pause_ms;
    int              live;
    int              calls;
    int              ramp_ms;
    int              silence_after;
    int              fast;
    int              drain_ms;
    int              json;
    int              rtt;
    int              timeout;
    int              insecure;
    int              verbose;
    int              echo;              /* --echo-db given */
    double           echo_db;
    int              echo_delay_ms;

    uint8_t         *audio;             /* --play's μ-law, loaded */
    size_t           audio_len;
} sim_conf_t;


extern sim_conf_t  sim_conf;


/* fills sim_conf from the options; prints the usage and exits on error */
void sim_conf_parse(int argc, char **argv);

#endif /* SIM_CONF_H */

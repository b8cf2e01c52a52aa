/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * voice-sim: plays Twilio's part of phone calls against the module.
 *
 * Signs and POSTs the voice webhook, reads the TwiML, opens the Media
 * Stream with a signed handshake, sends connected/start and the caller's
 * audio in 20 ms media messages, and plays the outbound audio back in
 * real time the way Twilio does: marks return when playback reaches them,
 * "clear" empties the buffer and returns the pending marks.  Many calls
 * run at once on one epoll loop, for load tests.
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "audio.h"
#include "conf.h"
#include "record.h"
#include "report.h"
#include "run.h"
#include "stream.h"
#include "webhook.h"


int
main(int argc, char **argv)
{
    int            failed;
    sim_call_t    *calls;
    struct rlimit  rl;
    sim_stream_t   stream = { .nparams = 0 };

    sim_conf_parse(argc, argv);

    /* a socket a call: thousands of calls need more than the default */

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    srandom((unsigned) time(NULL) ^ (unsigned) getpid());
    curl_global_init(CURL_GLOBAL_DEFAULT);

    sim_audio_load(&sim_conf);

    if (sim_conf.url) {
        sim_webhook_run(&sim_conf, &stream);

    } else {
        snprintf(stream.url, sizeof(stream.url), "%s", sim_conf.stream_url);
    }

    sim_stream_init(&stream, sim_conf.insecure);

    calls = sim_run(&stream, sim_conf.calls);

    failed = sim_report(calls, sim_conf.calls);
    sim_record_write(&calls[0]);

    sim_stream_free(&stream);

    return failed ? 1 : 0;
}

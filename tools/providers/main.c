/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * voice-providers: the cloud providers' HTTP wire formats, answered by
 * Debian's offline engines, so that the module can be shown with no API
 * key and no network.  nginx reaches it with proxy_pass.
 *
 *   POST /v1/audio/transcriptions         OpenAI STT: pocketsphinx
 *   GET  /v1/listen (WebSocket)           Deepgram live STT: pocketsphinx
 *                                         as the audio arrives
 *   POST /v1/chat/completions             OpenAI LLM: a shop's small FAQ
 *   POST /v1/text-to-speech/ID[/stream]   ElevenLabs TTS: espeak-ng
 *   POST /v1/audio/speech                 OpenAI TTS: espeak-ng
 *
 * Neither pocketsphinx nor espeak-ng is thread-safe, so each connection
 * gets a process of its own: the parent loads both engines once (the
 * acoustic and language models take 0.4 to 0.7 s, espeak-ng 10 ms) and
 * forks a child per accepted connection, which inherits them and serves
 * that connection's keep-alive requests with plain blocking I/O.  One
 * call never waits for another's synthesis or decoding.
 */

#include <signal.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "server.h"
#include "stt.h"
#include "tts.h"


int
main(int argc, char **argv)
{
    int       ls, port, rc;
    double    t0, t_stt, t_tts;
    sigset_t  block;

    rc = vp_conf_parse(argc, argv);
    if (rc != -1) {
        return rc;
    }

    if (vp_conf.log_file && vp_log_open(vp_conf.log_file) != 0) {
        return 1;
    }

    signal(SIGPIPE, SIG_IGN);

    /*
     * Blocked before the libraries start threads of their own (the
     * speech engines do), so those inherit the mask: the server's signals
     * then reach only its main thread, in ppoll().  A SIGTERM taken by
     * another thread would set the quit flag behind a ppoll() that never
     * wakes, and the server would outlive whoever stops it.
     */

    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, NULL);

    ls = vp_server_listen(vp_conf.listen);
    if (ls == -1) {
        return 1;
    }

    /* loaded before the first fork, so that no call pays for it */

    t0 = vp_clock_now_ms();
    if (vp_stt_init() != 0) {
        return 1;
    }

    t_stt = vp_clock_now_ms() - t0;

    t0 = vp_clock_now_ms();
    if (vp_tts_init() != 0) {
        return 1;
    }

    t_tts = vp_clock_now_ms() - t0;

    port = vp_server_local_port(ls);

    if (vp_conf.port_file && vp_server_write_port_file(port) != 0) {
        return 1;
    }

    vp_log_printf("listening on port %d; stt model loaded in %.0f ms, tts "
                  "in %.0f ms", port, t_stt, t_tts);

    vp_server_run(ls);

    close(ls);
    vp_stt_free();
    vp_tts_free();

    vp_log_printf("exiting");

    return 0;
}

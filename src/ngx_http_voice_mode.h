/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The call-mode interface.  A mode (echo, the agent; later Twilio
 * ConversationRelay, a speech-to-speech provider) is a const table of
 * callbacks in a file of its own, chosen by voice_media_stream; the
 * stream calls it only through the table, and the mode uses only the
 * stream's API (ngx_http_voice_stream.h).
 */

#ifndef NGX_HTTP_VOICE_MODE_H
#define NGX_HTTP_VOICE_MODE_H

#include <ngx_config.h>
#include <ngx_core.h>


struct ngx_http_voice_stream_s;


/*
 * start: Twilio's "start" event arrived; returns the mode's state for
 * the call (from the request pool), or NULL to close the call (1011).
 * audio: the caller's μ-law 8 kHz, as it comes.  mark, dtmf: the name of
 * a mark Twilio played, a key the caller pressed.  stop: Twilio ends the
 * stream; the stream closes right after.  end: the call is over, however
 * it ended; nothing can be sent, but what the mode has not told its
 * events yet (a turn going on) is told now.  cleanup: the call's pool
 * goes; free what the mode holds outside it.  Any but start may be NULL.
 */

typedef struct {
    ngx_str_t                    name;
    void                      *(*start)(struct ngx_http_voice_stream_s *st,
                                        void *conf);
    void                       (*audio)(void *ctx, u_char *ulaw, size_t n);
    void                       (*mark)(void *ctx, u_char *name);
    void                       (*dtmf)(void *ctx, u_char *digit);
    void                       (*stop)(void *ctx);
    void                       (*end)(void *ctx);
    void                       (*cleanup)(void *ctx);
} ngx_http_voice_mode_t;

#endif /* NGX_HTTP_VOICE_MODE_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Echo mode: the caller's audio goes back as decoding and encoding it
 * again gives it, with a mark after each second of it.  A test of the
 * line and of the media path without any provider.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_echo.h"
#include "voice_g711.h"
#include "voice_mark.h"


typedef struct {
    ngx_http_voice_stream_t     *stream;
    ngx_uint_t                   samples;
    ngx_uint_t                   seconds;
} ngx_http_voice_echo_t;


static void *ngx_http_voice_echo_start(ngx_http_voice_stream_t *st,
    void *conf);
static void ngx_http_voice_echo_audio(void *ctx, u_char *ulaw, size_t n);


const ngx_http_voice_mode_t  ngx_http_voice_echo_mode = {
    ngx_string("echo"),
    ngx_http_voice_echo_start,
    ngx_http_voice_echo_audio,
    NULL,                                  /* mark */
    NULL,                                  /* dtmf */
    NULL,                                  /* stop */
    NULL,                                  /* end */
    NULL                                   /* cleanup */
};


static void *
ngx_http_voice_echo_start(ngx_http_voice_stream_t *st, void *conf)
{
    ngx_http_voice_echo_t  *echo;

    echo = ngx_pcalloc(st->request->pool, sizeof(ngx_http_voice_echo_t));
    if (echo == NULL) {
        return NULL;
    }

    echo->stream = st;

    return echo;
}


static void
ngx_http_voice_echo_audio(void *ctx, u_char *ulaw, size_t n)
{
    ngx_http_voice_echo_t  *echo = ctx;

    size_t  len;
    u_char  name[VOICE_MARK_MAX];
    u_char  out[VOICE_TWILIO_MEDIA_MAX];

    /* decoded and encoded again, in one pass over the bytes */

    voice_ulaw_reencode_buf(ulaw, n, out);

    if (ngx_http_voice_stream_send_media(echo->stream, out, n) != NGX_OK) {
        return;
    }

    echo->samples += n;

    if (echo->samples >= VOICE_G711_RATE) {
        echo->samples -= VOICE_G711_RATE;
        echo->seconds++;

        len = voice_mark_echo(name, echo->seconds);
        (void) ngx_http_voice_stream_send_mark(echo->stream, name, len);
    }
}

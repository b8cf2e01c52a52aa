/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Speech-to-text, batch: the utterance as a WAV file (PCM16 8 kHz) in
 * multipart/form-data, the OpenAI transcriptions shape that most
 * providers accept; the reply is read whole, bounded, and parsed by
 * voice_stt.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_clock.h"
#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_stt.h"
#include "voice_g711.h"
#include "voice_stt.h"
#include "voice_wav.h"


static void ngx_http_voice_stt_data(ngx_http_voice_provider_req_t *pr,
    u_char *p, size_t n);
static void ngx_http_voice_stt_done(ngx_http_voice_provider_req_t *pr);
static void ngx_http_voice_stt_pcm_le(int16_t *pcm, size_t n);


void
ngx_http_voice_stt_init(ngx_http_voice_stt_t *stt,
    ngx_http_voice_stt_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_stt_pt handler, void *data)
{
    stt->conf = conf;
    stt->stream = st;
    stt->handler = handler;
    stt->data = data;
}


ngx_int_t
ngx_http_voice_stt_start(ngx_http_voice_stt_t *stt, int16_t *pcm, size_t n)
{
    size_t                      len;
    u_char                     *body;
    char                        boundary[48];
    u_char                      hdr[VOICE_WAV_HEADER];
    char                        ct[96];
    char                        model[128], lang[64];
    ngx_http_voice_stt_conf_t  *conf;

    conf = stt->conf;

    ngx_log_error(NGX_LOG_INFO, stt->stream->connection->log, 0,
                  "voice: utterance of %uz ms", n / VOICE_G711_SAMPLES_PER_MS);

    voice_wav_header(hdr, VOICE_G711_RATE, 1, n * 2);

    ngx_sprintf((u_char *) boundary, "voice-%08xD%08xD%Z",
                (uint32_t) ngx_random(), (uint32_t) ngx_random());
    ngx_sprintf((u_char *) ct, "multipart/form-data; boundary=%s%Z",
                boundary);
    ngx_sprintf((u_char *) model, "%*s%Z",
                ngx_min(conf->model.len, sizeof(model) - 1),
                conf->model.data);
    ngx_sprintf((u_char *) lang, "%*s%Z",
                ngx_min(conf->language.len, sizeof(lang) - 1),
                conf->language.data);

    /* PCM16 little-endian, in place for the body, then back */

    ngx_http_voice_stt_pcm_le(pcm, n);

    len = voice_stt_multipart(NULL, boundary, hdr, sizeof(hdr),
                              (u_char *) pcm, n * 2, model, lang);

    body = ngx_http_voice_mem_alloc(NULL, len);

    if (body) {
        (void) voice_stt_multipart(body, boundary, hdr, sizeof(hdr),
                                   (u_char *) pcm, n * 2, model, lang);
    }

    ngx_http_voice_stt_pcm_le(pcm, n);

    if (body == NULL) {
        return NGX_ERROR;
    }

    stt->reply_len = 0;

    stt->pr = ngx_http_voice_provider_request(stt->stream, &conf->uri, "stt",
                                              ct, body, len);
    if (stt->pr == NULL) {
        return NGX_ERROR;
    }

    stt->pr->on_data = ngx_http_voice_stt_data;
    stt->pr->on_done = ngx_http_voice_stt_done;
    stt->pr->data = stt;

    return NGX_OK;
}


void
ngx_http_voice_stt_cancel(ngx_http_voice_stt_t *stt)
{
    ngx_http_voice_provider_cancel(stt->pr);
    stt->pr = NULL;
}


void
ngx_http_voice_stt_cleanup(ngx_http_voice_stt_t *stt)
{
    if (stt->reply) {
        ngx_http_voice_mem_free(NULL, stt->reply);
        stt->reply = NULL;
    }
}


/* collects the whole reply body, bounded */

static void
ngx_http_voice_stt_data(ngx_http_voice_provider_req_t *pr, u_char *p, size_t n)
{
    ngx_http_voice_stt_t  *stt = pr->data;

    if (stt->reply == NULL) {
        stt->reply = ngx_http_voice_mem_alloc(NULL,
                                              NGX_HTTP_VOICE_STT_REPLY_MAX);
        if (stt->reply == NULL) {
            return;
        }
    }

    n = ngx_min(n, NGX_HTTP_VOICE_STT_REPLY_MAX - stt->reply_len);
    ngx_memcpy(stt->reply + stt->reply_len, p, n);
    stt->reply_len += n;
}


static void
ngx_http_voice_stt_done(ngx_http_voice_provider_req_t *pr)
{
    int                    rc;
    size_t                 len;
    ngx_log_t             *log;
    ngx_http_voice_stt_t  *stt = pr->data;
    u_char                 text[NGX_HTTP_VOICE_STT_TEXT_MAX];

    if (stt->pr != pr) {
        return;
    }

    stt->done_us = ngx_http_voice_clock_usec();
    stt->pr = NULL;
    stt->failed = 1;

    log = stt->stream->connection->log;

    if (!pr->ok) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: stt provider \"%V\" failed with status %ui%s, "
                      "turn dropped%V", &stt->conf->uri, pr->status,
                      ngx_http_voice_provider_cut_short(pr),
                      ngx_http_voice_provider_error_body(pr));
        stt->handler(stt->data, NULL, 0);
        return;
    }

    rc = voice_stt_reply(stt->reply, stt->reply_len, text, sizeof(text), &len,
                         NULL);

    if (rc == VOICE_STT_INVALID || rc == VOICE_STT_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: stt provider \"%V\" sent an invalid reply, "
                      "turn dropped", &stt->conf->uri);
        stt->handler(stt->data, NULL, 0);
        return;
    }

    stt->failed = 0;

    if (rc == VOICE_STT_NONE) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "voice: empty transcript ignored");
        stt->handler(stt->data, NULL, 0);
        return;
    }

    stt->ms = ngx_current_msec - pr->started;

    stt->handler(stt->data, text, len);
}


/* host order to PCM16 little-endian in place; done twice, back again */

static void
ngx_http_voice_stt_pcm_le(int16_t *pcm, size_t n)
{
    size_t     i;
    uint16_t   v;
    u_char    *p;

    p = (u_char *) pcm;

    for (i = 0; i < n; i++) {
        v = (uint16_t) pcm[i];
        p[2 * i] = (u_char) (v & 0xff);
        p[2 * i + 1] = (u_char) (v >> 8);
    }
}

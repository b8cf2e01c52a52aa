/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The reply: sentences -> TTS requests -> ordered playout with marks.
 *
 * Each sentence has its own audio buffer, filled as its TTS response
 * arrives (converted by voice_tts_audio.c).  The head sentence's buffer
 * goes out in whole 20 ms frames; a sentence further on waits until those
 * before it are done, so audio plays in order whichever TTS answers
 * first.  Text, audio and converters are malloc'd and freed when the
 * reply ends.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_clock.h"
#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_reply.h"
#include "voice_g711.h"
#include "voice_mark.h"
#include "voice_tts.h"
#include "voice_vad.h"


static void ngx_http_voice_reply_say(ngx_http_voice_reply_t *reply,
    const u_char *text, size_t len);
static u_char *ngx_http_voice_reply_body(ngx_http_voice_reply_t *reply,
    const u_char *text, size_t len, size_t *blen);
static ngx_http_voice_reply_sentence_t *ngx_http_voice_reply_sentence(
    ngx_http_voice_reply_t *reply, ngx_http_voice_provider_req_t *pr);
static void ngx_http_voice_reply_tts_data(ngx_http_voice_provider_req_t *pr,
    u_char *p, size_t n);
static void ngx_http_voice_reply_tts_done(ngx_http_voice_provider_req_t *pr);
static ngx_int_t ngx_http_voice_reply_append(
    ngx_http_voice_reply_sentence_t *s, u_char *ulaw, size_t n);
static void ngx_http_voice_reply_pump(ngx_http_voice_reply_t *reply);
static void ngx_http_voice_reply_timed(ngx_http_voice_reply_t *reply,
    uint64_t since);
static void ngx_http_voice_reply_free(ngx_http_voice_reply_sentence_t *s);


void
ngx_http_voice_reply_init(ngx_http_voice_reply_t *reply,
    ngx_http_voice_reply_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_reply_pt on_speaking, ngx_http_voice_reply_pt on_timed,
    void *data)
{
    reply->conf = conf;
    reply->stream = st;
    reply->on_speaking = on_speaking;
    reply->on_timed = on_timed;
    reply->data = data;
}


void
ngx_http_voice_reply_begin(ngx_http_voice_reply_t *reply, ngx_uint_t held)
{
    voice_sentence_init(&reply->splitter, reply->splitter_buf,
                        sizeof(reply->splitter_buf),
                        NGX_HTTP_VOICE_REPLY_SENTENCE_MAX);

    reply->complete = 0;
    reply->held = held;
    reply->timed = 0;
    reply->begun = ngx_current_msec;
    reply->sentence_ms = 0;
    reply->tts_first_ms = 0;
    reply->tts_us = 0;
    reply->media_us = 0;
}


void
ngx_http_voice_reply_release(ngx_http_voice_reply_t *reply)
{
    uint64_t  us;

    us = ngx_http_voice_clock_usec();

    reply->held = 0;
    ngx_http_voice_reply_pump(reply);

    /* audio held back goes now: the turn's first audio is this */

    ngx_http_voice_reply_timed(reply, us);
}


/* every complete sentence goes to TTS at once */

void
ngx_http_voice_reply_text(ngx_http_voice_reply_t *reply, const u_char *text,
    size_t len)
{
    int             ready;
    size_t          used, olen;
    const uint8_t  *out;

    for ( ;; ) {
        used = voice_sentence_feed(&reply->splitter, text, len, &out, &olen,
                                   &ready);
        if (text) {
            text += used;
        }

        len -= used;

        if (ready) {
            ngx_http_voice_reply_say(reply, out, olen);
            continue;
        }

        if (len == 0) {
            break;
        }
    }

    if (text == NULL) {
        if (voice_sentence_flush(&reply->splitter, &out, &olen)) {
            ngx_http_voice_reply_say(reply, out, olen);
        }

        reply->complete = 1;
        ngx_http_voice_reply_pump(reply);
    }
}


void
ngx_http_voice_reply_close(ngx_http_voice_reply_t *reply)
{
    reply->complete = 1;
}


ngx_int_t
ngx_http_voice_reply_mark(ngx_http_voice_reply_t *reply, u_char *name)
{
    unsigned long  turn, index;

    /* marks of a cleared reply come back unplayed */

    if (voice_mark_parse_sentence((char *) name, &turn, &index) != 0
        || turn != reply->turn)
    {
        return NGX_DECLINED;
    }

    reply->heard = ngx_max(reply->heard, (ngx_uint_t) index + 1);

    return NGX_OK;
}


ngx_uint_t
ngx_http_voice_reply_over(ngx_http_voice_reply_t *reply)
{
    return reply->complete && reply->playing >= reply->nsentences
           && reply->heard >= reply->nsentences;
}


u_char *
ngx_http_voice_reply_heard_text(ngx_http_voice_reply_t *reply, size_t *len)
{
    size_t                            n;
    u_char                           *text, *p;
    ngx_uint_t                        i, heard;
    ngx_http_voice_reply_sentence_t  *s;

    heard = ngx_min(reply->heard, reply->nsentences);
    n = 0;

    for (i = 0; i < heard; i++) {
        if (!reply->sentences[i].failed) {
            n += reply->sentences[i].text_len + 1;
        }
    }

    if (n == 0) {
        return NULL;
    }

    text = ngx_http_voice_mem_alloc(NULL, n);
    if (text == NULL) {
        return NULL;
    }

    p = text;

    for (i = 0; i < heard; i++) {
        s = &reply->sentences[i];

        if (!s->failed) {
            p = ngx_cpymem(p, s->text, s->text_len);
            *p++ = ' ';
        }
    }

    *len = n - 1;

    return text;
}


void
ngx_http_voice_reply_end(ngx_http_voice_reply_t *reply)
{
    ngx_uint_t  i;

    for (i = 0; i < reply->nsentences; i++) {
        ngx_http_voice_provider_cancel(reply->sentences[i].pr);
        ngx_http_voice_reply_free(&reply->sentences[i]);
    }

    reply->nsentences = 0;
    reply->playing = 0;
    reply->heard = 0;
    reply->complete = 0;
    reply->held = 0;
    reply->speaking = 0;
    reply->turn++;
}


void
ngx_http_voice_reply_cleanup(ngx_http_voice_reply_t *reply)
{
    ngx_uint_t  i;

    for (i = 0; i < reply->nsentences; i++) {
        ngx_http_voice_reply_free(&reply->sentences[i]);
    }

    reply->nsentences = 0;
}


/* one sentence to TTS */

static void
ngx_http_voice_reply_say(ngx_http_voice_reply_t *reply, const u_char *text,
    size_t len)
{
    size_t                            blen;
    u_char                           *body;
    uint64_t                          us;
    ngx_http_voice_reply_sentence_t  *s;

    us = ngx_http_voice_clock_usec();

    if (reply->nsentences == NGX_HTTP_VOICE_REPLY_SENTENCES) {
        ngx_log_error(NGX_LOG_INFO, reply->stream->connection->log, 0,
                      "voice: reply longer than %d sentences, rest dropped",
                      NGX_HTTP_VOICE_REPLY_SENTENCES);
        return;
    }

    s = &reply->sentences[reply->nsentences];
    ngx_memzero(s, sizeof(ngx_http_voice_reply_sentence_t));

    s->text = ngx_http_voice_mem_alloc(NULL, len);
    if (s->text == NULL) {
        return;
    }

    if (voice_tts_audio_init(&s->conv, reply->conf->format,
                             reply->conf->rate)
        != 0)
    {
        ngx_http_voice_mem_free(NULL, s->text);
        s->text = NULL;
        return;
    }

    ngx_memcpy(s->text, text, len);
    s->text_len = len;
    s->index = reply->nsentences;

    reply->nsentences++;

    body = ngx_http_voice_reply_body(reply, text, len, &blen);
    if (body == NULL) {
        return;
    }

    if (reply->stream->conf->log_transcripts) {
        ngx_log_error(NGX_LOG_INFO, reply->stream->connection->log, 0,
                      "voice: agent says \"%*s\"", len, text);

    } else {
        ngx_log_error(NGX_LOG_INFO, reply->stream->connection->log, 0,
                      "voice: agent says sentence %ui, %uz bytes",
                      s->index, len);
    }

    s->pr = ngx_http_voice_provider_request(reply->stream, &reply->conf->uri,
                                            "tts", "application/json", body,
                                            blen);
    if (s->pr == NULL) {
        s->done = 1;
        return;
    }

    s->pr->on_data = ngx_http_voice_reply_tts_data;
    s->pr->on_done = ngx_http_voice_reply_tts_done;
    s->pr->data = reply;

    if (s->index == 0) {
        reply->tts_us = ngx_http_voice_clock_usec() - us;
        reply->sentence_ms = ngx_current_msec - reply->begun;
    }
}


/* the request body in the configured dialect (mem_alloc'd) */

static u_char *
ngx_http_voice_reply_body(ngx_http_voice_reply_t *reply, const u_char *text,
    size_t len, size_t *blen)
{
    u_char                       *body, model[128], voice[64];
    ngx_http_voice_reply_conf_t  *conf;

    conf = reply->conf;

    ngx_sprintf(model, "%*s%Z", ngx_min(conf->model.len, sizeof(model) - 1),
                conf->model.data);
    ngx_sprintf(voice, "%*s%Z", ngx_min(conf->voice.len, sizeof(voice) - 1),
                conf->voice.data);

    if (conf->dialect == NGX_HTTP_VOICE_REPLY_OPENAI) {
        *blen = voice_tts_openai(NULL, text, len, (char *) model,
                                 (char *) voice);

    } else {
        *blen = voice_tts_elevenlabs(NULL, text, len, (char *) model);
    }

    body = ngx_http_voice_mem_alloc(NULL, *blen);
    if (body == NULL) {
        return NULL;
    }

    if (conf->dialect == NGX_HTTP_VOICE_REPLY_OPENAI) {
        (void) voice_tts_openai(body, text, len, (char *) model,
                                (char *) voice);

    } else {
        (void) voice_tts_elevenlabs(body, text, len, (char *) model);
    }

    return body;
}


static ngx_http_voice_reply_sentence_t *
ngx_http_voice_reply_sentence(ngx_http_voice_reply_t *reply,
    ngx_http_voice_provider_req_t *pr)
{
    ngx_uint_t  i;

    for (i = 0; i < reply->nsentences; i++) {
        if (reply->sentences[i].pr == pr) {
            return &reply->sentences[i];
        }
    }

    return NULL;
}


static void
ngx_http_voice_reply_tts_data(ngx_http_voice_provider_req_t *pr, u_char *p,
    size_t n)
{
    size_t                            k, used;
    uint64_t                          us;
    ngx_http_voice_reply_t           *reply = pr->data;
    ngx_http_voice_reply_sentence_t  *s;
    u_char                            ulaw[1024];

    s = ngx_http_voice_reply_sentence(reply, pr);

    if (s == NULL || pr->status != NGX_HTTP_OK) {
        return;
    }

    us = ngx_http_voice_clock_usec();

    if (!s->first_byte) {
        s->first_byte = 1;

        if (s->index == 0) {
            reply->tts_first_ms = ngx_current_msec - pr->started;
        }
    }

    for ( ;; ) {
        k = voice_tts_audio_convert(&s->conv, p, n, &used, ulaw,
                                    sizeof(ulaw));
        p += used;
        n -= used;

        if (k && ngx_http_voice_reply_append(s, ulaw, k) != NGX_OK) {
            break;
        }

        if (k < sizeof(ulaw)) {
            break;
        }
    }

    ngx_http_voice_reply_pump(reply);
    ngx_http_voice_reply_timed(reply, us);
}


/* the first audio went out: the turn's timings are complete */

static void
ngx_http_voice_reply_timed(ngx_http_voice_reply_t *reply, uint64_t since)
{
    if (reply->speaking && !reply->timed) {
        reply->timed = 1;
        reply->media_us = ngx_http_voice_clock_usec() - since;
        reply->on_timed(reply->data);
    }
}


static ngx_int_t
ngx_http_voice_reply_append(ngx_http_voice_reply_sentence_t *s,
    u_char *ulaw, size_t n)
{
    size_t   size;
    u_char  *p;

    /* what was sent already goes */

    if (s->sent) {
        ngx_memmove(s->audio, s->audio + s->sent, s->audio_len - s->sent);
        s->audio_len -= s->sent;
        s->sent = 0;
    }

    if (s->audio_len + n > s->audio_size) {
        size = ngx_max(s->audio_size * 2, s->audio_len + n);
        size = ngx_max(size, VOICE_G711_RATE);

        p = ngx_http_voice_mem_realloc(NULL, s->audio, size);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s->audio = p;
        s->audio_size = size;
    }

    ngx_memcpy(s->audio + s->audio_len, ulaw, n);
    s->audio_len += n;

    return NGX_OK;
}


static void
ngx_http_voice_reply_tts_done(ngx_http_voice_provider_req_t *pr)
{
    ngx_http_voice_reply_t           *reply = pr->data;
    ngx_http_voice_reply_sentence_t  *s;

    s = ngx_http_voice_reply_sentence(reply, pr);

    if (s == NULL) {
        return;
    }

    s->pr = NULL;
    s->done = 1;

    if (!pr->ok) {
        s->failed = 1;

        ngx_log_error(NGX_LOG_ERR, reply->stream->connection->log, 0,
                      "voice: tts provider \"%V\" failed with status %ui%s, "
                      "sentence %ui dropped", &reply->conf->uri, pr->status,
                      ngx_http_voice_provider_cut_short(pr), s->index);
    }

    ngx_http_voice_reply_pump(reply);
}


/*
 * Sends the reply's audio in order, in 20 ms media messages as it
 * arrives, with a mark when a sentence is complete.
 */

static void
ngx_http_voice_reply_pump(ngx_http_voice_reply_t *reply)
{
    size_t                            n;
    u_char                            name[VOICE_MARK_MAX];
    ngx_http_voice_reply_sentence_t  *s;

    if (reply->held) {
        return;
    }

    while (reply->playing < reply->nsentences) {
        s = &reply->sentences[reply->playing];

        n = s->audio_len - s->sent;

        if (!s->done) {
            n -= n % VOICE_VAD_FRAME;
        }

        if (n) {
            if (!reply->speaking) {
                reply->speaking = 1;
                reply->on_speaking(reply->data);
            }

            if (ngx_http_voice_stream_send_media(reply->stream,
                                                 s->audio + s->sent, n)
                != NGX_OK)
            {
                return;
            }

            if (reply->on_audio) {
                reply->on_audio(reply->data, s->audio + s->sent, n);
            }

            s->sent += n;
        }

        if (!s->done) {
            return;
        }

        if (!s->marked) {
            s->marked = 1;

            n = voice_mark_sentence(name, reply->turn, s->index);
            (void) ngx_http_voice_stream_send_mark(reply->stream, name, n);
        }

        reply->playing++;
    }
}


static void
ngx_http_voice_reply_free(ngx_http_voice_reply_sentence_t *s)
{
    if (s->text) {
        ngx_http_voice_mem_free(NULL, s->text);
    }

    if (s->audio) {
        ngx_http_voice_mem_free(NULL, s->audio);
    }

    voice_tts_audio_free(&s->conv);

    ngx_memzero(s, sizeof(ngx_http_voice_reply_sentence_t));
}

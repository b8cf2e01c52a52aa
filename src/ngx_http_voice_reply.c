/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The reply: sentences -> TTS requests -> ordered playout with marks.
 *
 * Each sentence has its own audio buffer, filled as its TTS response
 * arrives (converted by voice_tts_audio.c).  The head sentence's buffer
 * goes out in 20 ms media messages (less only when that is all there is
 * and nothing else plays); a sentence further on waits until those
 * before it are done, so audio plays in order whichever TTS answers
 * first.  Text, audio and converters are malloc'd; a sentence's
 * audio is freed once heard (its mark back), the rest when the reply
 * ends, and the audio not heard yet is capped
 * (NGX_HTTP_VOICE_REPLY_AUDIO_MAX).
 *
 * The audio goes at the pace Twilio plays it, voice_playout_lead ahead
 * at most (voice_playout.c keeps the clock), however fast the TTS
 * delivers: a clear then has little to discard, the output queue holds
 * little more than the lead for a caller that reads, and the clock knows
 * at any moment how much of the reply was heard.  A timer sends each
 * message when its time comes.  Nothing is sent from inside a provider's
 * callback: they post the timer's event, which sends outside the
 * upstream's frames, so that a call ended by a send never pulls the
 * upstream out from under its own code.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_clock.h"
#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_reply.h"
#include "voice_g711.h"
#include "voice_log.h"
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
static ngx_int_t ngx_http_voice_reply_append(ngx_http_voice_reply_t *reply,
    ngx_http_voice_reply_sentence_t *s, u_char *ulaw, size_t n);
static void ngx_http_voice_reply_cap(ngx_http_voice_reply_t *reply,
    ngx_http_voice_reply_sentence_t *s);
static void ngx_http_voice_reply_drop(ngx_http_voice_reply_t *reply);
static void ngx_http_voice_reply_post(ngx_http_voice_reply_t *reply);
static void ngx_http_voice_reply_wake(ngx_event_t *ev);
static ngx_int_t ngx_http_voice_reply_pump(ngx_http_voice_reply_t *reply);
static void ngx_http_voice_reply_stop(ngx_http_voice_reply_t *reply);
static void ngx_http_voice_reply_timed(ngx_http_voice_reply_t *reply,
    uint64_t since);
static void ngx_http_voice_reply_heard(ngx_http_voice_reply_t *reply,
    ngx_uint_t n);
static void ngx_http_voice_reply_where(ngx_http_voice_reply_t *reply,
    ngx_uint_t *sentence, size_t *offset);
static void ngx_http_voice_reply_position(ngx_http_voice_reply_t *reply,
    uint64_t played, ngx_uint_t *sentence, size_t *offset);
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

    reply->wake.handler = ngx_http_voice_reply_wake;
    reply->wake.data = reply;
    reply->wake.log = st->connection->log;
}


void
ngx_http_voice_reply_begin(ngx_http_voice_reply_t *reply, ngx_uint_t held)
{
    /* a paused reply that nobody ended goes now */

    if (reply->nsentences || reply->paused) {
        ngx_http_voice_reply_end(reply);
    }

    voice_sentence_init(&reply->splitter, reply->splitter_buf,
                        sizeof(reply->splitter_buf),
                        NGX_HTTP_VOICE_REPLY_SENTENCE_MAX);

    reply->complete = 0;
    reply->apologized = 0;
    reply->held = held;
    reply->timed = 0;
    reply->begun = ngx_current_msec;
    reply->sentence_ms = 0;
    reply->tts_first_ms = 0;
    reply->tts_us = 0;
    reply->media_us = 0;
    reply->audio_held = 0;
    reply->capped = 0;

    reply->clock_sentence = 0;
    reply->clock_offset = 0;
    reply->pause_sentence = 0;
    reply->pause_offset = 0;

    voice_playout_init(&reply->clock, reply->conf->lead);
}


void
ngx_http_voice_reply_release(ngx_http_voice_reply_t *reply)
{
    /* audio held back goes now: the turn's first audio is this */

    reply->ready_us = ngx_http_voice_clock_usec();
    reply->held = 0;

    ngx_http_voice_reply_post(reply);
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
        ngx_http_voice_reply_post(reply);
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
    unsigned long                     turn, index;
    ngx_http_voice_reply_sentence_t  *s;

    /* marks of a cleared reply come back unplayed */

    if (voice_mark_parse_sentence((char *) name, &turn, &index) != 0
        || turn != reply->turn || index >= reply->nsentences)
    {
        return NGX_DECLINED;
    }

    s = &reply->sentences[index];

    if (!s->marked) {
        return NGX_DECLINED;
    }

    /* playback is where the mark was, whatever the clock thought */

    voice_playout_mark(&reply->clock, ngx_current_msec, s->mark_at);
    ngx_http_voice_reply_heard(reply, index + 1);

    return NGX_OK;
}


void
ngx_http_voice_reply_pause(ngx_http_voice_reply_t *reply)
{
    size_t                            back;
    ngx_uint_t                        i;
    ngx_http_voice_reply_sentence_t  *s;

    if (reply->paused) {
        return;
    }

    ngx_http_voice_reply_where(reply, &reply->pause_sentence,
                               &reply->pause_offset);

    reply->paused = 1;
    reply->speaking = 0;

    if (reply->wake.timer_set) {
        ngx_del_timer(&reply->wake);
    }

    ngx_http_voice_reply_heard(reply, reply->pause_sentence);

    /*
     * What was sent from here on is to be sent again, and marked anew
     * under a turn of its own: the marks Twilio returns for the cleared
     * audio are then not taken for played.
     */

    reply->turn++;
    reply->playing = reply->pause_sentence;

    for (i = reply->playing; i < reply->nsentences; i++) {
        s = &reply->sentences[i];

        s->marked = 0;
        s->sent = 0;
    }

    if (reply->playing < reply->nsentences) {
        back = reply->pause_offset - reply->pause_offset % VOICE_VAD_FRAME;
        back -= ngx_min(back, (size_t) NGX_HTTP_VOICE_REPLY_RESUME_BACK
                              * VOICE_G711_SAMPLES_PER_MS);

        reply->sentences[reply->playing].sent = back;
    }
}


void
ngx_http_voice_reply_resume(ngx_http_voice_reply_t *reply)
{
    if (!reply->paused) {
        return;
    }

    reply->paused = 0;

    /* a new clock, from where playback goes on */

    voice_playout_restart(&reply->clock);

    reply->clock_sentence = reply->playing;
    reply->clock_offset = (reply->playing < reply->nsentences)
                          ? reply->sentences[reply->playing].sent : 0;

    ngx_http_voice_reply_post(reply);
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
    size_t                            n, off, cut;
    u_char                           *text, *p;
    ngx_uint_t                        i, k, whole;
    ngx_http_voice_reply_sentence_t  *s;

    cut = 0;

    if (ngx_http_voice_reply_over(reply)) {
        k = reply->nsentences;

    } else {
        ngx_http_voice_reply_where(reply, &k, &off);

        /*
         * The sentence playing: the share of its audio played is the
         * share of its text heard.  While its TTS is still answering,
         * the audio so far stands for the whole, which says too much.
         */

        if (k < reply->nsentences && off && !reply->sentences[k].failed) {
            s = &reply->sentences[k];
            cut = voice_playout_cut(s->text, s->text_len, off, s->audio_len);

            if (cut == s->text_len) {
                k++;
                cut = 0;
            }
        }
    }

    whole = reply->complete && k >= reply->nsentences && !reply->capped;

    n = cut;

    for (i = 0; i < k; i++) {
        if (!reply->sentences[i].failed) {
            n += reply->sentences[i].text_len + 1;
        }
    }

    if (n == 0) {
        return NULL;
    }

    if (!whole) {
        n += sizeof(NGX_HTTP_VOICE_REPLY_CUT);
    }

    text = ngx_http_voice_mem_alloc(NULL, n);
    if (text == NULL) {
        return NULL;
    }

    p = text;

    for (i = 0; i < k; i++) {
        s = &reply->sentences[i];

        if (!s->failed) {
            p = ngx_cpymem(p, s->text, s->text_len);
            *p++ = ' ';
        }
    }

    if (cut) {
        p = ngx_cpymem(p, reply->sentences[k].text, cut);

    } else {
        p--;
    }

    if (!whole) {
        p = ngx_cpymem(p, NGX_HTTP_VOICE_REPLY_CUT,
                       sizeof(NGX_HTTP_VOICE_REPLY_CUT) - 1);
    }

    *len = p - text;

    return text;
}


void
ngx_http_voice_reply_end(ngx_http_voice_reply_t *reply)
{
    ngx_uint_t  i;

    ngx_http_voice_reply_stop(reply);

    for (i = 0; i < reply->nsentences; i++) {
        ngx_http_voice_provider_cancel(reply->sentences[i].pr);
        ngx_http_voice_reply_free(&reply->sentences[i]);
    }

    reply->nsentences = 0;
    reply->playing = 0;
    reply->heard = 0;
    reply->audio_held = 0;
    reply->complete = 0;
    reply->held = 0;
    reply->paused = 0;
    reply->speaking = 0;
    reply->turn++;
}


void
ngx_http_voice_reply_cleanup(ngx_http_voice_reply_t *reply)
{
    ngx_uint_t  i;

    ngx_http_voice_reply_stop(reply);

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
    size_t                            blen, n;
    u_char                           *body;
    uint64_t                          us;
    ngx_http_voice_reply_sentence_t  *s;
    u_char                            esc[VOICE_LOG_ESCAPED_LEN(
                                          NGX_HTTP_VOICE_REPLY_SENTENCE_MAX)];

    us = ngx_http_voice_clock_usec();

    if (reply->capped) {
        return;
    }

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
        n = voice_log_escape(esc, text,
                             ngx_min(len, NGX_HTTP_VOICE_REPLY_SENTENCE_MAX));

        ngx_log_error(NGX_LOG_INFO, reply->stream->connection->log, 0,
                      "voice: agent says \"%*s\"", n, esc);

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
    s->pr->streamed = 1;

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

    if (s == NULL || pr->status != NGX_HTTP_OK || s->dropped) {
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

        if (k && ngx_http_voice_reply_append(reply, s, ulaw, k) != NGX_OK) {
            break;
        }

        if (k < sizeof(ulaw)) {
            break;
        }
    }

    if (!reply->speaking) {
        reply->ready_us = us;
    }

    ngx_http_voice_reply_post(reply);
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
ngx_http_voice_reply_append(ngx_http_voice_reply_t *reply,
    ngx_http_voice_reply_sentence_t *s, u_char *ulaw, size_t n)
{
    size_t   size, max;
    u_char  *p;

    max = (size_t) NGX_HTTP_VOICE_REPLY_AUDIO_MAX * VOICE_G711_RATE;

    if (reply->audio_held + n > max) {
        n = max - reply->audio_held;
        ngx_http_voice_reply_cap(reply, s);
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
    reply->audio_held += n;

    return s->dropped ? NGX_DONE : NGX_OK;
}


/*
 * The reply holds as much audio as it may: this sentence ends with what
 * it has, the ones after it and those still to come are dropped, and
 * their TTS requests go (from the timer's event: not inside this one's
 * upstream).
 */

static void
ngx_http_voice_reply_cap(ngx_http_voice_reply_t *reply,
    ngx_http_voice_reply_sentence_t *s)
{
    ngx_uint_t  i;

    if (!reply->capped) {
        ngx_log_error(NGX_LOG_INFO, reply->stream->connection->log, 0,
                      "voice: reply holds %d s of audio, sentence %ui cut "
                      "there and the rest of the reply dropped",
                      NGX_HTTP_VOICE_REPLY_AUDIO_MAX, s->index);
    }

    reply->capped = 1;
    reply->complete = 1;

    for (i = s->index; i < reply->nsentences; i++) {
        reply->sentences[i].dropped = 1;
        reply->sentences[i].done = 1;
        reply->sentences[i].failed = (i != s->index);
    }

    ngx_http_voice_reply_post(reply);
}


static void
ngx_http_voice_reply_drop(ngx_http_voice_reply_t *reply)
{
    ngx_uint_t                        i;
    ngx_http_voice_reply_sentence_t  *s;

    for (i = 0; i < reply->nsentences; i++) {
        s = &reply->sentences[i];

        if (s->dropped && s->pr) {
            ngx_http_voice_provider_cancel(s->pr);
            s->pr = NULL;
        }
    }
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

    if (s->dropped) {
        return;
    }

    s->done = 1;

    if (!pr->ok) {
        s->failed = 1;

        ngx_log_error(NGX_LOG_ERR, reply->stream->connection->log, 0,
                      "voice: tts provider \"%V\" failed with status %ui%s, "
                      "sentence %ui dropped%V", &reply->conf->uri,
                      pr->status, ngx_http_voice_provider_cut_short(pr),
                      s->index, ngx_http_voice_provider_error_body(pr));

        /* the caller hears that something went wrong, once a reply */

        if (reply->conf->apology_audio.len && !reply->apologized
            && ngx_http_voice_reply_append(reply, s,
                                           reply->conf->apology_audio.data,
                                           reply->conf->apology_audio.len)
               == NGX_OK)
        {
            reply->apologized = 1;

            ngx_log_error(NGX_LOG_INFO, reply->stream->connection->log, 0,
                          "voice: \"voice_apology_audio\" plays instead");
        }
    }

    ngx_http_voice_reply_post(reply);
}


/* the timer's event, posted: its handler runs once the current one ends */

static void
ngx_http_voice_reply_post(ngx_http_voice_reply_t *reply)
{
    if (!reply->wake.posted) {
        ngx_post_event(&reply->wake, &ngx_posted_events);
    }
}


static void
ngx_http_voice_reply_wake(ngx_event_t *ev)
{
    ngx_http_voice_reply_t  *reply = ev->data;

    ngx_connection_t  *c;

    c = reply->stream->connection;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }

    if (reply->capped) {
        ngx_http_voice_reply_drop(reply);
    }

    if (ngx_http_voice_reply_pump(reply) == NGX_OK) {
        ngx_http_voice_reply_timed(reply, reply->ready_us);
    }

    ngx_http_run_posted_requests(c);
}


/*
 * Sends the reply's audio in order, in 20 ms media messages as its time
 * comes, with a mark when a sentence is complete; the timer is set for
 * the next message.  NGX_ERROR: the call is over, nothing more goes.
 */

static ngx_int_t
ngx_http_voice_reply_pump(ngx_http_voice_reply_t *reply)
{
    size_t                            n;
    uint64_t                          wait, left;
    ngx_msec_t                        now;
    u_char                            name[VOICE_MARK_MAX];
    ngx_http_voice_reply_sentence_t  *s;

    if (reply->held || reply->paused) {
        return NGX_OK;
    }

    now = ngx_current_msec;

    while (reply->playing < reply->nsentences) {
        s = &reply->sentences[reply->playing];

        for ( ;; ) {
            n = s->audio_len - s->sent;

            /*
             * Whole frames while more may come, the last one as it is.
             * Part of a frame goes too when the caller has nothing left
             * to hear: the first audio of a reply is not held back for
             * the rest of its frame, nor is playback left to run out
             * waiting for it (the timer sends it then).
             */

            if (!s->done && n % VOICE_VAD_FRAME) {
                left = voice_playout_left(&reply->clock, now);

                if (n > VOICE_VAD_FRAME || left) {
                    n -= n % VOICE_VAD_FRAME;
                }

                if (n == 0) {
                    ngx_add_timer(&reply->wake, (ngx_msec_t) left);
                    return NGX_OK;
                }
            }

            if (n == 0) {
                break;
            }

            n = ngx_min(n, VOICE_VAD_FRAME);

            wait = voice_playout_wait(&reply->clock, now, n);

            if (wait) {
                ngx_add_timer(&reply->wake, (ngx_msec_t) wait);
                return NGX_OK;
            }

            if (!reply->speaking) {
                reply->speaking = 1;
                reply->on_speaking(reply->data);
            }

            if (ngx_http_voice_stream_send_media(reply->stream,
                                                 s->audio + s->sent, n)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            voice_playout_sent(&reply->clock, now, n);

            if (reply->on_audio) {
                reply->on_audio(reply->data, s->audio + s->sent, n);
            }

            s->sent += n;
        }

        if (!s->done) {
            return NGX_OK;
        }

        if (!s->marked) {
            s->marked = 1;
            s->mark_at = reply->clock.sent;

            n = voice_mark_sentence(name, reply->turn, s->index);

            if (ngx_http_voice_stream_send_mark(reply->stream, name, n)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        reply->playing++;
    }

    return NGX_OK;
}


/* no more sending: the timer and its posted event go */

static void
ngx_http_voice_reply_stop(ngx_http_voice_reply_t *reply)
{
    if (reply->wake.timer_set) {
        ngx_del_timer(&reply->wake);
    }

    if (reply->wake.posted) {
        ngx_delete_posted_event(&reply->wake);
    }
}


/*
 * Where the caller is in the reply: a sentence and the offset in its
 * audio.  Paused, where it stopped; else where the clock says, but not
 * before where a pause stopped it: audio played again after a resume
 * was heard already.
 */

static void
ngx_http_voice_reply_where(ngx_http_voice_reply_t *reply,
    ngx_uint_t *sentence, size_t *offset)
{
    if (!reply->paused) {
        ngx_http_voice_reply_position(reply,
                      voice_playout_played(&reply->clock, ngx_current_msec),
                      sentence, offset);

        if (*sentence > reply->pause_sentence
            || (*sentence == reply->pause_sentence
                && *offset >= reply->pause_offset))
        {
            return;
        }
    }

    *sentence = reply->pause_sentence;
    *offset = reply->pause_offset;
}


/*
 * Where the first "played" samples of the clock end: a sentence and the
 * offset in its audio.  Past the end of a sentence sent whole is the
 * start of the next; the one being sent holds what is left.
 */

static void
ngx_http_voice_reply_position(ngx_http_voice_reply_t *reply,
    uint64_t played, ngx_uint_t *sentence, size_t *offset)
{
    size_t      n, off;
    ngx_uint_t  i;

    off = reply->clock_offset;

    for (i = reply->clock_sentence; i < reply->nsentences; i++) {
        n = reply->sentences[i].sent - off;

        if (played < n || i >= reply->playing) {
            *sentence = i;
            *offset = off + (size_t) ngx_min(played, n);
            return;
        }

        played -= n;
        off = 0;
    }

    *sentence = i;
    *offset = 0;
}


/* the first n sentences were heard: their audio is not needed any more */

static void
ngx_http_voice_reply_heard(ngx_http_voice_reply_t *reply, ngx_uint_t n)
{
    ngx_http_voice_reply_sentence_t  *s;

    for ( /* void */ ; reply->heard < n; reply->heard++) {
        s = &reply->sentences[reply->heard];

        if (s->audio) {
            ngx_http_voice_mem_free(NULL, s->audio);
            s->audio = NULL;
            s->audio_size = 0;
            reply->audio_held -= s->audio_len;
        }
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

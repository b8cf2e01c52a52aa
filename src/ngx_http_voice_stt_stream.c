/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Streaming speech-to-text.  The connection opens at the call's start
 * and is reopened with backoff whenever it fails; what is lost meanwhile
 * is reported, so the agent can send that utterance the batch way.
 *
 * Only the caller's speech is sent (from 300 ms before the onset the
 * agent's endpointer found, to the end it found): silence costs nothing
 * and a KeepAlive holds the connection meanwhile.
 *
 * Deepgram: μ-law as binary frames, "Finalize" at the end; the Results
 * marked is_final are the utterance's segments, the one marked
 * from_finalize (or speech_final) ends it.  OpenAI: base64 audio in
 * input_audio_buffer.append, "commit" at the end; deltas, then the
 * completed transcript.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_metrics.h"
#include "ngx_http_voice_stt_stream.h"
#include "voice_deepgram.h"
#include "voice_realtime.h"


static void ngx_http_voice_stt_stream_connect(ngx_http_voice_stt_stream_t *ss);
static void ngx_http_voice_stt_stream_open(void *data);
static void ngx_http_voice_stt_stream_message(void *data, ngx_uint_t opcode,
    u_char *p, size_t len);
static void ngx_http_voice_stt_stream_deepgram(ngx_http_voice_stt_stream_t *ss,
    u_char *p, size_t len);
static void ngx_http_voice_stt_stream_openai(ngx_http_voice_stt_stream_t *ss,
    u_char *p, size_t len);
static void ngx_http_voice_stt_stream_closed(void *data, const char *reason);
static void ngx_http_voice_stt_stream_segment(ngx_http_voice_stt_stream_t *ss,
    u_char *text, size_t len, ngx_uint_t final);
static void ngx_http_voice_stt_stream_end(ngx_http_voice_stt_stream_t *ss,
    ngx_uint_t event);
static ngx_int_t ngx_http_voice_stt_stream_send_audio(
    ngx_http_voice_stt_stream_t *ss, u_char *ulaw, size_t n);
static ngx_int_t ngx_http_voice_stt_stream_control(
    ngx_http_voice_stt_stream_t *ss, const char *msg);
static void ngx_http_voice_stt_stream_reconnect(ngx_event_t *ev);
static void ngx_http_voice_stt_stream_keepalive(ngx_event_t *ev);
static void ngx_http_voice_stt_stream_deadline(ngx_event_t *ev);


static const ngx_http_voice_upstream_handler_t
    ngx_http_voice_stt_stream_handler =
{
    ngx_http_voice_stt_stream_open,
    ngx_http_voice_stt_stream_message,
    ngx_http_voice_stt_stream_closed
};


ngx_int_t
ngx_http_voice_stt_stream_init(ngx_http_voice_stt_stream_t *ss,
    ngx_http_voice_stt_stream_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_stt_stream_pt handler, void *data)
{
    ngx_log_t  *log;

    ss->conf = conf;
    ss->stream = st;
    ss->handler = handler;
    ss->data = data;
    ss->backoff = NGX_HTTP_VOICE_STT_STREAM_BACKOFF;

    ss->preroll = ngx_pnalloc(st->request->pool,
                              NGX_HTTP_VOICE_STT_STREAM_PREROLL);
    ss->text = ngx_pnalloc(st->request->pool,
                           NGX_HTTP_VOICE_STT_STREAM_TEXT_MAX);

    if (ss->preroll == NULL || ss->text == NULL) {
        return NGX_ERROR;
    }

    log = st->connection->log;

    ss->reconnect.handler = ngx_http_voice_stt_stream_reconnect;
    ss->reconnect.data = ss;
    ss->reconnect.log = log;

    ss->keepalive.handler = ngx_http_voice_stt_stream_keepalive;
    ss->keepalive.data = ss;
    ss->keepalive.log = log;

    ss->deadline.handler = ngx_http_voice_stt_stream_deadline;
    ss->deadline.data = ss;
    ss->deadline.log = log;

    ngx_http_voice_stt_stream_connect(ss);

    return NGX_OK;
}


static void
ngx_http_voice_stt_stream_connect(ngx_http_voice_stt_stream_t *ss)
{
    ss->open = 0;
    ss->utterances = 0;

    ss->upstream = ngx_http_voice_upstream_open(ss->stream->request,
                                         &ss->conf->upstream,
                                         &ngx_http_voice_stt_stream_handler,
                                         ss);
    if (ss->upstream == NULL) {
        ngx_log_error(NGX_LOG_ERR, ss->stream->connection->log, 0,
                      "voice: stt stream \"%V\" cannot be opened",
                      &ss->conf->upstream.url);
        ngx_add_timer(&ss->reconnect, ss->backoff);
    }
}


static void
ngx_http_voice_stt_stream_open(void *data)
{
    ngx_http_voice_stt_stream_t  *ss = data;

    size_t   len;
    u_char  *msg;
    char     model[128], lang[64];

    ngx_log_error(NGX_LOG_INFO, ss->stream->connection->log, 0,
                  "voice: stt stream \"%V\" open", &ss->conf->upstream.url);

    ss->open = 1;
    ss->backoff = NGX_HTTP_VOICE_STT_STREAM_BACKOFF;
    ss->last_sent = ngx_current_msec;

    if (ss->conf->dialect == NGX_HTTP_VOICE_STT_STREAM_OPENAI) {
        ngx_sprintf((u_char *) model, "%*s%Z",
                    ngx_min(ss->conf->model.len, sizeof(model) - 1),
                    ss->conf->model.data);
        ngx_sprintf((u_char *) lang, "%*s%Z",
                    ngx_min(ss->conf->language.len, sizeof(lang) - 1),
                    ss->conf->language.data);

        len = voice_realtime_session(NULL, model, lang);

        msg = ngx_http_voice_mem_alloc(NULL, len);
        if (msg == NULL) {
            return;
        }

        (void) voice_realtime_session(msg, model, lang);
        (void) ngx_http_voice_upstream_send(ss->upstream, VOICE_WS_OP_TEXT,
                                            msg, len);
        ngx_http_voice_mem_free(NULL, msg);

        return;
    }

    ngx_add_timer(&ss->keepalive, NGX_HTTP_VOICE_STT_STREAM_KEEPALIVE);
}


void
ngx_http_voice_stt_stream_audio(ngx_http_voice_stt_stream_t *ss,
    u_char *ulaw, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        ss->preroll[ss->preroll_pos] = ulaw[i];
        ss->preroll_pos = (ss->preroll_pos + 1)
                          % NGX_HTTP_VOICE_STT_STREAM_PREROLL;
    }

    ss->preroll_len = ngx_min(ss->preroll_len + n,
                              NGX_HTTP_VOICE_STT_STREAM_PREROLL);

    if (ss->speaking && !ss->failed) {
        (void) ngx_http_voice_stt_stream_send_audio(ss, ulaw, n);
    }
}


ngx_int_t
ngx_http_voice_stt_stream_begin(ngx_http_voice_stt_stream_t *ss,
    size_t preroll)
{
    /* the caller went on before the last part's transcript came: one */

    if (!ss->finalizing) {
        ss->final_len = 0;
        ss->text_len = 0;
    }

    return ngx_http_voice_stt_stream_resume(ss, preroll);
}


ngx_int_t
ngx_http_voice_stt_stream_resume(ngx_http_voice_stt_stream_t *ss,
    size_t preroll)
{
    size_t   n, k, first;
    u_char   buf[NGX_HTTP_VOICE_STT_STREAM_PREROLL];

    if (!ngx_http_voice_upstream_is_open(ss->upstream)) {
        return NGX_DECLINED;
    }

    ss->text_len = ss->final_len;
    ss->kept = ss->final_len;

    ss->speaking = 1;
    ss->failed = 0;
    ss->utterances++;

    if (ss->deadline.timer_set) {
        ngx_del_timer(&ss->deadline);
    }

    n = ngx_min(preroll, ss->preroll_len);
    first = (ss->preroll_pos + NGX_HTTP_VOICE_STT_STREAM_PREROLL - n)
            % NGX_HTTP_VOICE_STT_STREAM_PREROLL;

    for (k = 0; k < n; k++) {
        buf[k] = ss->preroll[(first + k) % NGX_HTTP_VOICE_STT_STREAM_PREROLL];
    }

    if (n && ngx_http_voice_stt_stream_send_audio(ss, buf, n) != NGX_OK) {
        ss->speaking = 0;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_voice_stt_stream_finalize(ngx_http_voice_stt_stream_t *ss)
{
    const char  *msg;

    ss->speaking = 0;

    if (ss->failed || !ngx_http_voice_upstream_is_open(ss->upstream)) {
        return NGX_DECLINED;
    }

    msg = (ss->conf->dialect == NGX_HTTP_VOICE_STT_STREAM_OPENAI)
          ? VOICE_REALTIME_COMMIT : VOICE_DEEPGRAM_FINALIZE;

    if (ngx_http_voice_stt_stream_control(ss, msg) != NGX_OK) {
        return NGX_DECLINED;
    }

    ss->finalizing = 1;
    ngx_add_timer(&ss->deadline, ss->conf->timeout);

    return NGX_OK;
}


void
ngx_http_voice_stt_stream_abandon(ngx_http_voice_stt_stream_t *ss)
{
    const char  *msg;

    if (ss->speaking || ss->finalizing) {
        ngx_http_voice_metrics_provider(NGX_HTTP_VOICE_P_STT_STREAM,
                                        NGX_HTTP_VOICE_R_CANCELLED);
    }

    ss->speaking = 0;
    ss->finalizing = 0;
    ss->final_len = 0;
    ss->text_len = 0;

    if (ss->deadline.timer_set) {
        ngx_del_timer(&ss->deadline);
    }

    if (!ngx_http_voice_upstream_is_open(ss->upstream)) {
        return;
    }

    /* what the recognizer holds of it goes, and its answer is ignored */

    msg = (ss->conf->dialect == NGX_HTTP_VOICE_STT_STREAM_OPENAI)
          ? VOICE_REALTIME_CLEAR : VOICE_DEEPGRAM_FINALIZE;

    (void) ngx_http_voice_stt_stream_control(ss, msg);
}


void
ngx_http_voice_stt_stream_stop(ngx_http_voice_stt_stream_t *ss)
{
    ss->speaking = 0;
    ss->finalizing = 0;
}


void
ngx_http_voice_stt_stream_cleanup(ngx_http_voice_stt_stream_t *ss)
{
    if (ss->reconnect.timer_set) {
        ngx_del_timer(&ss->reconnect);
    }

    if (ss->keepalive.timer_set) {
        ngx_del_timer(&ss->keepalive);
    }

    if (ss->deadline.timer_set) {
        ngx_del_timer(&ss->deadline);
    }

    if (ss->upstream == NULL) {
        return;
    }

    if (ss->conf->dialect == NGX_HTTP_VOICE_STT_STREAM_DEEPGRAM) {
        (void) ngx_http_voice_stt_stream_control(ss,
                                                 VOICE_DEEPGRAM_CLOSESTREAM);
    }

    ngx_http_voice_upstream_destroy(ss->upstream, VOICE_WS_CLOSE_NORMAL);
    ss->upstream = NULL;
}


static void
ngx_http_voice_stt_stream_message(void *data, ngx_uint_t opcode, u_char *p,
    size_t len)
{
    ngx_http_voice_stt_stream_t  *ss = data;

    if (opcode != VOICE_WS_OP_TEXT) {
        return;
    }

    if (ss->conf->dialect == NGX_HTTP_VOICE_STT_STREAM_OPENAI) {
        ngx_http_voice_stt_stream_openai(ss, p, len);

    } else {
        ngx_http_voice_stt_stream_deepgram(ss, p, len);
    }
}


static void
ngx_http_voice_stt_stream_deepgram(ngx_http_voice_stt_stream_t *ss,
    u_char *p, size_t len)
{
    int                       rc;
    size_t                    tlen;
    voice_deepgram_result_t   res;
    u_char                    text[NGX_HTTP_VOICE_STT_STREAM_TEXT_MAX];

    ngx_memzero(&res, sizeof(voice_deepgram_result_t));

    rc = voice_deepgram_parse(p, len, &res, text, sizeof(text), &tlen,
                              &ngx_http_voice_mem_yajl);

    switch (rc) {

    case VOICE_DEEPGRAM_RESULTS:

        if (!ss->speaking && !ss->finalizing) {
            return;
        }

        ngx_http_voice_stt_stream_segment(ss, text, tlen, res.is_final);

        if (ss->speaking && res.from_finalize) {
            /* a Finalize the caller spoke past: its words stay, no end */
            ss->finalizing = 0;
            return;
        }

        if (ss->finalizing && !ss->speaking
            && (res.from_finalize || res.speech_final))
        {
            ngx_http_voice_stt_stream_end(ss, NGX_HTTP_VOICE_STT_STREAM_FINAL);
            return;
        }

        if (ss->speaking && res.speech_final && ss->final_len) {
            ngx_http_voice_stt_stream_end(ss, NGX_HTTP_VOICE_STT_STREAM_ENDED);
        }

        return;

    case VOICE_DEEPGRAM_UTTERANCE_END:

        if (ss->finalizing && !ss->speaking) {
            ngx_http_voice_stt_stream_end(ss, NGX_HTTP_VOICE_STT_STREAM_FINAL);

        } else if (ss->speaking && ss->final_len) {
            ngx_http_voice_stt_stream_end(ss, NGX_HTTP_VOICE_STT_STREAM_ENDED);
        }

        return;

    case VOICE_DEEPGRAM_ERROR:
        ngx_log_error(NGX_LOG_ERR, ss->stream->connection->log, 0,
                      "voice: stt stream \"%V\" error: \"%*s\"",
                      &ss->conf->upstream.url, tlen, text);
        return;

    case VOICE_DEEPGRAM_INVALID:
        ngx_log_error(NGX_LOG_ERR, ss->stream->connection->log, 0,
                      "voice: stt stream \"%V\" sent an invalid message",
                      &ss->conf->upstream.url);
        return;

    default:
        return;
    }
}


static void
ngx_http_voice_stt_stream_openai(ngx_http_voice_stt_stream_t *ss, u_char *p,
    size_t len)
{
    int     rc;
    size_t  tlen;
    u_char  text[NGX_HTTP_VOICE_STT_STREAM_TEXT_MAX];

    rc = voice_realtime_parse(p, len, text, sizeof(text), &tlen,
                              &ngx_http_voice_mem_yajl);

    switch (rc) {

    case VOICE_REALTIME_DELTA:

        if (ss->speaking || ss->finalizing) {

            /* deltas are pieces of words: the tail grows as they come */

            tlen = ngx_min(tlen, NGX_HTTP_VOICE_STT_STREAM_TEXT_MAX
                                 - ss->text_len);
            ngx_memcpy(ss->text + ss->text_len, text, tlen);
            ss->text_len += tlen;

            if (ss->speaking && ss->text_len) {
                ss->handler(ss->data, NGX_HTTP_VOICE_STT_STREAM_INTERIM,
                            ss->text, ss->text_len);
            }
        }

        return;

    case VOICE_REALTIME_COMPLETED:

        if (ss->finalizing && !ss->speaking) {

            /* a commit's transcript covers the audio since the last one */

            ss->final_len = ss->kept;
            ngx_http_voice_stt_stream_segment(ss, text, tlen, 1);
            ngx_http_voice_stt_stream_end(ss, NGX_HTTP_VOICE_STT_STREAM_FINAL);
        }

        return;

    case VOICE_REALTIME_ERROR:
        ngx_log_error(NGX_LOG_ERR, ss->stream->connection->log, 0,
                      "voice: stt stream \"%V\" error: \"%*s\"",
                      &ss->conf->upstream.url, tlen, text);
        return;

    case VOICE_REALTIME_INVALID:
        ngx_log_error(NGX_LOG_ERR, ss->stream->connection->log, 0,
                      "voice: stt stream \"%V\" sent an invalid message",
                      &ss->conf->upstream.url);
        return;

    default:
        return;
    }
}


/*
 * A piece of transcript: after the final segments so far, joined by a
 * space; a final one stays, an interim one is replaced by the next.
 */

static void
ngx_http_voice_stt_stream_segment(ngx_http_voice_stt_stream_t *ss,
    u_char *text, size_t len, ngx_uint_t final)
{
    size_t  room;

    ss->text_len = ss->final_len;

    if (len) {
        if (ss->text_len && ss->text_len < NGX_HTTP_VOICE_STT_STREAM_TEXT_MAX
            && text[0] != ' ')
        {
            ss->text[ss->text_len++] = ' ';
        }

        room = NGX_HTTP_VOICE_STT_STREAM_TEXT_MAX - ss->text_len;
        len = ngx_min(len, room);

        ngx_memcpy(ss->text + ss->text_len, text, len);
        ss->text_len += len;
    }

    if (final) {
        ss->final_len = ss->text_len;
    }

    if (ss->speaking && ss->text_len) {
        ss->handler(ss->data, NGX_HTTP_VOICE_STT_STREAM_INTERIM, ss->text,
                    ss->text_len);
    }
}


static void
ngx_http_voice_stt_stream_end(ngx_http_voice_stt_stream_t *ss,
    ngx_uint_t event)
{
    /* one utterance, one request for the metrics */

    ngx_http_voice_metrics_provider(NGX_HTTP_VOICE_P_STT_STREAM,
                         ss->timed_out ? NGX_HTTP_VOICE_R_TIMEOUT
                         : (event == NGX_HTTP_VOICE_STT_STREAM_LOST)
                           ? NGX_HTTP_VOICE_R_ERROR : NGX_HTTP_VOICE_R_OK);

    if (event == NGX_HTTP_VOICE_STT_STREAM_LOST || ss->timed_out) {
        ss->stream->provider_failures++;
    }

    ss->timed_out = 0;

    /* ENDED is the recognizer's opinion: the agent decides, and stops */

    if (event != NGX_HTTP_VOICE_STT_STREAM_ENDED) {
        ss->speaking = 0;
    }

    ss->finalizing = 0;

    if (ss->deadline.timer_set) {
        ngx_del_timer(&ss->deadline);
    }

    ss->handler(ss->data, event, ss->text, ss->text_len);
}


static void
ngx_http_voice_stt_stream_closed(void *data, const char *reason)
{
    ngx_http_voice_stt_stream_t  *ss = data;

    ngx_uint_t  lost;

    ngx_log_error(NGX_LOG_ERR, ss->stream->connection->log, 0,
                  "voice: stt stream \"%V\" lost (%s), reconnecting in %M ms",
                  &ss->conf->upstream.url, reason, ss->backoff);

    lost = ss->speaking || ss->finalizing;

    ngx_http_voice_upstream_destroy(ss->upstream, 0);
    ss->upstream = NULL;
    ss->open = 0;

    if (ss->keepalive.timer_set) {
        ngx_del_timer(&ss->keepalive);
    }

    ngx_add_timer(&ss->reconnect, ss->backoff);
    ss->backoff = ngx_min(ss->backoff * 2,
                          NGX_HTTP_VOICE_STT_STREAM_BACKOFF_MAX);

    if (lost) {
        ss->failed = 1;
        ngx_http_voice_stt_stream_end(ss, NGX_HTTP_VOICE_STT_STREAM_LOST);
    }
}


static ngx_int_t
ngx_http_voice_stt_stream_send_audio(ngx_http_voice_stt_stream_t *ss,
    u_char *ulaw, size_t n)
{
    size_t     len;
    u_char    *msg;
    ngx_int_t  rc;

    ss->last_sent = ngx_current_msec;

    if (ss->conf->dialect == NGX_HTTP_VOICE_STT_STREAM_DEEPGRAM) {
        return ngx_http_voice_upstream_send(ss->upstream, VOICE_WS_OP_BINARY,
                                            ulaw, n);
    }

    len = voice_realtime_append(NULL, ulaw, n);

    msg = ngx_http_voice_mem_alloc(NULL, len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    (void) voice_realtime_append(msg, ulaw, n);

    rc = ngx_http_voice_upstream_send(ss->upstream, VOICE_WS_OP_TEXT, msg,
                                      len);

    ngx_http_voice_mem_free(NULL, msg);

    return rc;
}


static ngx_int_t
ngx_http_voice_stt_stream_control(ngx_http_voice_stt_stream_t *ss,
    const char *msg)
{
    ss->last_sent = ngx_current_msec;

    return ngx_http_voice_upstream_send(ss->upstream, VOICE_WS_OP_TEXT,
                                        (u_char *) msg, ngx_strlen(msg));
}


static void
ngx_http_voice_stt_stream_reconnect(ngx_event_t *ev)
{
    ngx_http_voice_stt_stream_t  *ss = ev->data;

    ngx_http_voice_stt_stream_connect(ss);
}


/* Deepgram closes a connection that hears nothing for 10 s */

static void
ngx_http_voice_stt_stream_keepalive(ngx_event_t *ev)
{
    ngx_http_voice_stt_stream_t  *ss = ev->data;

    ngx_msec_t  idle;

    if (!ngx_http_voice_upstream_is_open(ss->upstream)) {
        return;
    }

    idle = ngx_current_msec - ss->last_sent;

    if (idle >= NGX_HTTP_VOICE_STT_STREAM_KEEPALIVE) {
        (void) ngx_http_voice_stt_stream_control(ss, VOICE_DEEPGRAM_KEEPALIVE);
        idle = 0;
    }

    if (ngx_http_voice_upstream_is_open(ss->upstream)) {
        ngx_add_timer(&ss->keepalive,
                      NGX_HTTP_VOICE_STT_STREAM_KEEPALIVE - idle);
    }
}


/* the final transcript is late: what was heard is all there is */

static void
ngx_http_voice_stt_stream_deadline(ngx_event_t *ev)
{
    ngx_http_voice_stt_stream_t  *ss = ev->data;

    if (!ss->finalizing) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, ss->stream->connection->log, 0,
                  "voice: stt stream \"%V\" sent no final transcript in "
                  "%M ms", &ss->conf->upstream.url, ss->conf->timeout);

    ss->timed_out = 1;

    ngx_http_voice_stt_stream_end(ss, ss->text_len
                                      ? NGX_HTTP_VOICE_STT_STREAM_FINAL
                                      : NGX_HTTP_VOICE_STT_STREAM_LOST);

    ngx_http_run_posted_requests(ss->stream->connection);
}

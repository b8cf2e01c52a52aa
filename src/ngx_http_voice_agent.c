/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The agent: the turn state machine of a call.
 *
 * LISTENING -> HEARING (speech) -> TRANSCRIBING (STT request) -> THINKING
 * (LLM stream; each complete sentence goes to TTS at once) -> SPEAKING
 * (audio to the caller as it arrives, a mark after each sentence) ->
 * LISTENING when the last mark comes back.  Caller speech while we think
 * or speak clears what Twilio has buffered, abandons the reply's requests
 * and keeps in the history only what the caller heard.
 *
 * Everything allocated here that can grow with the call (audio, text,
 * request bodies) is malloc'd and freed as soon as it is done with, so a
 * long call holds only its bounded history.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_module.h"
#include "voice_g711.h"
#include "voice_llm.h"
#include "voice_resample.h"
#include "voice_sentence.h"
#include "voice_sse.h"
#include "voice_stt.h"
#include "voice_tts.h"
#include "voice_vad.h"
#include "voice_wav.h"


#define NGX_HTTP_VOICE_PREROLL     2400     /* 300 ms */
#define NGX_HTTP_VOICE_SENTENCES   32       /* per reply */
#define NGX_HTTP_VOICE_REPLY_MAX   65536    /* STT reply, LLM error body */
#define NGX_HTTP_VOICE_TEXT_MAX    4096     /* one delta, one transcript */
#define NGX_HTTP_VOICE_PREQS       40


typedef enum {
    ngx_http_voice_listening = 0,
    ngx_http_voice_hearing,
    ngx_http_voice_transcribing,
    ngx_http_voice_thinking,
    ngx_http_voice_speaking
} ngx_http_voice_state_e;


typedef struct {
    u_char                  *text;
    size_t                   text_len;
    ngx_uint_t               index;

    u_char                  *audio;         /* μ-law, not yet sent */
    size_t                   audio_len;
    size_t                   audio_size;
    size_t                   sent;

    voice_resampler_t       *rs;
    u_char                   carry;         /* half a PCM16 sample */
    unsigned                 has_carry:1;
    u_char                   head[512];     /* a WAV header being read */
    size_t                   head_len;
    ngx_uint_t               rate;
    unsigned                 started:1;     /* WAV: header read */

    ngx_http_voice_preq_t   *pr;
    unsigned                 used:1;
    unsigned                 done:1;
    unsigned                 marked:1;
    unsigned                 heard_first:1; /* first byte from TTS */
    unsigned                 failed:1;      /* TTS failed: never heard */
} ngx_http_voice_sentence_t;


typedef struct {
    const char              *role;
    u_char                  *text;
    size_t                   len;
} ngx_http_voice_turn_t;


typedef struct {
    ngx_http_voice_call_t      *call;
    ngx_http_voice_loc_conf_t  *conf;
    ngx_http_voice_state_e      state;

    voice_vad_t                 vad;
    int16_t                     frame[VOICE_VAD_FRAME];
    size_t                      nframe;
    int16_t                     preroll[NGX_HTTP_VOICE_PREROLL];
    size_t                      preroll_pos;
    size_t                      preroll_len;

    int16_t                    *utt;
    size_t                      utt_len;
    size_t                      utt_size;
    size_t                      kept;           /* being transcribed */

    ngx_uint_t                  turn;
    ngx_uint_t                  answered;       /* turns of the caller's */
    ngx_http_voice_preq_t      *stt;
    ngx_http_voice_preq_t      *llm;
    u_char                     *reply;          /* STT reply, error body */
    size_t                      reply_len;

    voice_sse_t                 sse;
    u_char                      sse_buf[16384];
    voice_sentence_t            splitter;
    u_char                      sentence_buf[2048];
    unsigned                    llm_done:1;
    unsigned                    llm_failed:1;
    unsigned                    llm_saw_done:1;
    unsigned                    speaking:1;
    unsigned                    greeting:1;

    ngx_http_voice_sentence_t   sentences[NGX_HTTP_VOICE_SENTENCES];
    ngx_uint_t                  nsentences;
    ngx_uint_t                  playing;
    ngx_uint_t                  heard;

    ngx_http_voice_turn_t      *history;
    ngx_uint_t                  nhistory;

    ngx_http_voice_preq_t      *preqs[NGX_HTTP_VOICE_PREQS];

    /* the turn's timings, logged when its reply starts to play */
    ngx_msec_t                  t_end;          /* utterance ended */
    ngx_msec_t                  endpointing;
    ngx_msec_t                  stt_ms;
    ngx_msec_t                  llm_first_ms;
    ngx_msec_t                  llm_sentence_ms;
    ngx_msec_t                  t_llm;          /* LLM request made */
    ngx_msec_t                  tts_first_ms;
    uint64_t                    handoff_us[3];  /* stt->llm, ->tts, ->media */
    unsigned                    llm_first:1;
    unsigned                    timed:1;
} ngx_http_voice_agent_t;


static void ngx_http_voice_agent_audio(ngx_http_voice_call_t *call,
    u_char *ulaw, size_t n);
static void ngx_http_voice_agent_frame(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_mark(ngx_http_voice_call_t *call,
    u_char *name);
static void ngx_http_voice_agent_dtmf(ngx_http_voice_call_t *call,
    u_char *digit);
static void ngx_http_voice_agent_cleanup(ngx_http_voice_call_t *call);

static void ngx_http_voice_barge_in(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_end_reply(ngx_http_voice_agent_t *ag,
    ngx_uint_t heard);
static void ngx_http_voice_reply_check(ngx_http_voice_agent_t *ag);

static void ngx_http_voice_stt_request(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_stt_data(ngx_http_voice_preq_t *pr, u_char *p,
    size_t n);
static void ngx_http_voice_stt_done(ngx_http_voice_preq_t *pr);

static void ngx_http_voice_llm_request(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_llm_data(ngx_http_voice_preq_t *pr, u_char *p,
    size_t n);
static void ngx_http_voice_llm_done(ngx_http_voice_preq_t *pr);
static void ngx_http_voice_llm_text(ngx_http_voice_agent_t *ag,
    const u_char *text, size_t len);

static void ngx_http_voice_say(ngx_http_voice_agent_t *ag,
    const u_char *text, size_t len);
static void ngx_http_voice_tts_data(ngx_http_voice_preq_t *pr, u_char *p,
    size_t n);
static void ngx_http_voice_tts_done(ngx_http_voice_preq_t *pr);
static void ngx_http_voice_tts_pcm(ngx_http_voice_agent_t *ag,
    ngx_http_voice_sentence_t *s, u_char *p, size_t n);
static ngx_int_t ngx_http_voice_audio_append(ngx_http_voice_sentence_t *s,
    u_char *ulaw, size_t n);
static void ngx_http_voice_pump(ngx_http_voice_agent_t *ag);

static ngx_http_voice_preq_t *ngx_http_voice_agent_request(
    ngx_http_voice_agent_t *ag, ngx_str_t *uri, const char *name,
    const char *content_type, u_char *body, size_t len);
static void ngx_http_voice_body_free(ngx_http_voice_preq_t *pr);
static void ngx_http_voice_history_add(ngx_http_voice_agent_t *ag,
    const char *role, const u_char *text, size_t len);
static void ngx_http_voice_sentence_free(ngx_http_voice_sentence_t *s);
static void ngx_http_voice_utt_drop(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_pcm_le(int16_t *pcm, size_t n);
static void ngx_http_voice_turn_log(ngx_http_voice_agent_t *ag);
static const char *ngx_http_voice_cut_short(ngx_http_voice_preq_t *pr);
static uint64_t ngx_http_voice_usec(void);


void
ngx_http_voice_agent_start(ngx_http_voice_call_t *call)
{
    ngx_http_voice_agent_t     *ag;
    ngx_http_voice_loc_conf_t  *conf;
    voice_vad_conf_t            vc;

    conf = call->conf;

    ag = ngx_pcalloc(call->request->pool, sizeof(ngx_http_voice_agent_t));
    if (ag == NULL) {
        ngx_http_voice_close(call, 1011, "out of memory");
        return;
    }

    ag->history = ngx_pcalloc(call->request->pool,
                              (conf->llm_max_history + 1)
                              * sizeof(ngx_http_voice_turn_t));
    if (ag->history == NULL) {
        ngx_http_voice_close(call, 1011, "out of memory");
        return;
    }

    ag->call = call;
    ag->conf = conf;

    vc.min_speech_ms = conf->vad_min_speech;
    vc.silence_ms = conf->vad_silence;
    vc.max_utterance_ms = conf->max_utterance;
    vc.threshold_db = 10;
    vc.speaking_margin_db = 8;
    vc.min_level_db = -50;

    voice_vad_init(&ag->vad, &vc);

    call->mode_ctx = ag;
    call->on_audio = ngx_http_voice_agent_audio;
    call->on_mark = ngx_http_voice_agent_mark;
    call->on_dtmf = ngx_http_voice_agent_dtmf;
    call->mode_cleanup = ngx_http_voice_agent_cleanup;

    if (conf->greeting.len) {
        ag->state = ngx_http_voice_thinking;
        ag->greeting = 1;

        ngx_http_voice_history_add(ag, "assistant", conf->greeting.data,
                                   conf->greeting.len);
        voice_sentence_init(&ag->splitter, ag->sentence_buf,
                            sizeof(ag->sentence_buf), 300);
        ngx_http_voice_llm_text(ag, conf->greeting.data, conf->greeting.len);
        ngx_http_voice_llm_text(ag, NULL, 0);
    }
}


static void
ngx_http_voice_agent_audio(ngx_http_voice_call_t *call, u_char *ulaw,
    size_t n)
{
    size_t                   i;
    ngx_http_voice_agent_t  *ag;

    ag = call->mode_ctx;

    for (i = 0; i < n; i++) {
        ag->frame[ag->nframe++] = voice_ulaw_decode(ulaw[i]);

        if (ag->nframe == VOICE_VAD_FRAME) {
            ngx_http_voice_agent_frame(ag);
            ag->nframe = 0;

            if (call->done) {
                return;
            }
        }
    }
}


/* one 20 ms frame of the caller */

static void
ngx_http_voice_agent_frame(ngx_http_voice_agent_t *ag)
{
    int      ev;
    size_t   i, k, need, base;
    int16_t *utt;

    for (i = 0; i < VOICE_VAD_FRAME; i++) {
        ag->preroll[ag->preroll_pos] = ag->frame[i];
        ag->preroll_pos = (ag->preroll_pos + 1) % NGX_HTTP_VOICE_PREROLL;
    }

    ag->preroll_len = ngx_min(ag->preroll_len + VOICE_VAD_FRAME,
                              NGX_HTTP_VOICE_PREROLL);

    if (ag->state == ngx_http_voice_hearing) {
        need = ag->utt_len + VOICE_VAD_FRAME;

        if (need > ag->utt_size) {
            utt = ngx_http_voice_realloc(NULL, ag->utt,
                                         need * 2 * sizeof(int16_t));
            if (utt == NULL) {
                return;
            }

            ag->utt = utt;
            ag->utt_size = need * 2;
        }

        ngx_memcpy(ag->utt + ag->utt_len, ag->frame,
                   VOICE_VAD_FRAME * sizeof(int16_t));
        ag->utt_len += VOICE_VAD_FRAME;
    }

    ev = voice_vad_frame(&ag->vad, ag->frame);

    if (ev == VOICE_VAD_SPEECH_START) {

        base = 0;

        if (ag->state == ngx_http_voice_transcribing) {

            /*
             * The caller went on after a pause while the first part was
             * being transcribed: it is all one utterance, sent again.
             */

            ngx_http_voice_provider_cancel(ag->stt);
            ag->stt = NULL;

            if (ag->kept + ag->preroll_len
                <= (size_t) ag->conf->max_utterance * 8)
            {
                base = ag->kept;
            }

            ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                          "voice: caller went on speaking, utterance "
                          "continues");

        } else if (ag->state != ngx_http_voice_listening) {
            if (!ag->conf->barge_in) {
                return;
            }

            ngx_http_voice_barge_in(ag);
        }

        ag->kept = 0;

        /* the utterance starts with what came before the onset */

        need = base + ag->preroll_len;

        if (need > ag->utt_size) {
            utt = ngx_http_voice_realloc(NULL, ag->utt,
                                         need * 2 * sizeof(int16_t));
            if (utt == NULL) {
                return;
            }

            ag->utt = utt;
            ag->utt_size = need * 2;
        }

        k = (ag->preroll_pos + NGX_HTTP_VOICE_PREROLL - ag->preroll_len)
            % NGX_HTTP_VOICE_PREROLL;

        for (i = 0; i < ag->preroll_len; i++) {
            ag->utt[base + i] = ag->preroll[(k + i) % NGX_HTTP_VOICE_PREROLL];
        }

        ag->utt_len = base + ag->preroll_len;
        ag->state = ngx_http_voice_hearing;

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ag->call->connection->log, 0,
                       "voice: caller speaks");
        return;
    }

    if (ev == VOICE_VAD_UTTERANCE_END
        && ag->state == ngx_http_voice_hearing)
    {
        ag->t_end = ngx_current_msec;
        ag->endpointing = ag->vad.ended_by_limit ? 0 : ag->conf->vad_silence;
        ngx_http_voice_stt_request(ag);
    }
}


/* caller speech during a reply: stop it where the caller stopped hearing */

static void
ngx_http_voice_barge_in(ngx_http_voice_agent_t *ag)
{
    ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                  "voice: caller interrupted, %ui of %ui sentences heard",
                  ag->heard, ag->nsentences);

    if (ag->speaking) {
        (void) ngx_http_voice_send_clear(ag->call);
    }

    ngx_http_voice_provider_cancel(ag->stt);
    ag->stt = NULL;
    ngx_http_voice_utt_drop(ag);

    ngx_http_voice_end_reply(ag, ag->heard);
}


/* the reply is over: history keeps the sentences the caller heard */

static void
ngx_http_voice_end_reply(ngx_http_voice_agent_t *ag, ngx_uint_t heard)
{
    size_t                      len;
    u_char                     *text, *p;
    ngx_uint_t                  i;
    ngx_http_voice_sentence_t  *s;

    ngx_http_voice_provider_cancel(ag->llm);
    ag->llm = NULL;

    len = 0;

    for (i = 0; i < heard && i < ag->nsentences; i++) {
        if (!ag->sentences[i].failed) {
            len += ag->sentences[i].text_len + 1;
        }
    }

    /* the greeting is in the history from the start */

    if (len && !ag->greeting) {
        text = ngx_http_voice_malloc(NULL, len);

        if (text) {
            p = text;

            for (i = 0; i < heard && i < ag->nsentences; i++) {
                s = &ag->sentences[i];

                if (!s->failed) {
                    p = ngx_cpymem(p, s->text, s->text_len);
                    *p++ = ' ';
                }
            }

            ngx_http_voice_history_add(ag, "assistant", text, len - 1);
            ngx_http_voice_free(NULL, text);
        }
    }

    for (i = 0; i < ag->nsentences; i++) {
        ngx_http_voice_provider_cancel(ag->sentences[i].pr);
        ngx_http_voice_sentence_free(&ag->sentences[i]);
    }

    ag->nsentences = 0;
    ag->playing = 0;
    ag->heard = 0;
    ag->llm_done = 0;
    ag->llm_failed = 0;
    ag->speaking = 0;
    ag->greeting = 0;
    ag->turn++;
    ag->state = ngx_http_voice_listening;

    voice_vad_set_speaking(&ag->vad, 0);
}


static void
ngx_http_voice_agent_mark(ngx_http_voice_call_t *call, u_char *name)
{
    ngx_int_t                turn, index;
    u_char                  *p, *dash;
    ngx_http_voice_agent_t  *ag;

    ag = call->mode_ctx;

    /* our marks are "t<turn>-s<sentence>" */

    if (name[0] != 't') {
        return;
    }

    dash = (u_char *) ngx_strchr(name, '-');
    if (dash == NULL || dash[1] != 's') {
        return;
    }

    turn = ngx_atoi(name + 1, dash - name - 1);
    p = dash + 2;
    index = ngx_atoi(p, ngx_strlen(p));

    /* marks of a cleared reply come back unplayed */

    if (turn == NGX_ERROR || index == NGX_ERROR
        || (ngx_uint_t) turn != ag->turn)
    {
        return;
    }

    ag->heard = ngx_max(ag->heard, (ngx_uint_t) index + 1);

    ngx_http_voice_reply_check(ag);
}


static void
ngx_http_voice_agent_dtmf(ngx_http_voice_call_t *call, u_char *digit)
{
    u_char                   text[64], *p;
    ngx_http_voice_agent_t  *ag;

    ag = call->mode_ctx;

    if (ag->state != ngx_http_voice_listening) {
        ngx_http_voice_barge_in(ag);
    }

    p = ngx_snprintf(text, sizeof(text), "[caller pressed %s]", digit);

    ag->t_end = ngx_current_msec;
    ag->endpointing = 0;
    ag->stt_ms = 0;
    ag->handoff_us[0] = 0;

    ngx_http_voice_history_add(ag, "user", text, p - text);
    ngx_http_voice_llm_request(ag);
}


/* STT: the utterance as a WAV file in multipart/form-data */

static void
ngx_http_voice_stt_request(ngx_http_voice_agent_t *ag)
{
    size_t                      len;
    u_char                     *body, *pcm;
    char                        boundary[48];
    u_char                      hdr[VOICE_WAV_HEADER];
    ngx_http_voice_loc_conf_t  *conf;
    char                        ct[96];
    char                        model[128], lang[64];

    conf = ag->conf;

    ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                  "voice: utterance of %uz ms", ag->utt_len / 8);

    /* PCM16 little-endian, in place for the body, then back */

    pcm = (u_char *) ag->utt;
    ngx_http_voice_pcm_le(ag->utt, ag->utt_len);

    voice_wav_header(hdr, 8000, 1, ag->utt_len * 2);

    ngx_sprintf((u_char *) boundary, "voice-%08xD%08xD%Z",
                (uint32_t) ngx_random(), (uint32_t) ngx_random());
    ngx_sprintf((u_char *) ct, "multipart/form-data; boundary=%s%Z",
                boundary);
    ngx_sprintf((u_char *) model, "%*s%Z",
                ngx_min(conf->stt_model.len, sizeof(model) - 1),
                conf->stt_model.data);
    ngx_sprintf((u_char *) lang, "%*s%Z",
                ngx_min(conf->stt_language.len, sizeof(lang) - 1),
                conf->stt_language.data);

    len = voice_stt_multipart(NULL, boundary, hdr, sizeof(hdr), pcm,
                              ag->utt_len * 2, model, lang);

    body = ngx_http_voice_malloc(NULL, len);
    if (body == NULL) {
        ngx_http_voice_utt_drop(ag);
        ag->state = ngx_http_voice_listening;
        return;
    }

    (void) voice_stt_multipart(body, boundary, hdr, sizeof(hdr), pcm,
                               ag->utt_len * 2, model, lang);

    ngx_http_voice_pcm_le(ag->utt, ag->utt_len);

    /*
     * The audio stays until its transcript is in, in case the caller
     * goes on speaking; none is kept between turns.
     */

    ag->kept = ag->utt_len;
    ag->reply_len = 0;

    ag->stt = ngx_http_voice_agent_request(ag, &conf->stt, "stt", ct, body,
                                           len);
    if (ag->stt == NULL) {
        ngx_http_voice_utt_drop(ag);
        ag->state = ngx_http_voice_listening;
        return;
    }

    ag->stt->on_data = ngx_http_voice_stt_data;
    ag->stt->on_done = ngx_http_voice_stt_done;
    ag->stt->data = ag;

    ag->state = ngx_http_voice_transcribing;
}


/* collects a whole reply body, bounded */

static void
ngx_http_voice_stt_data(ngx_http_voice_preq_t *pr, u_char *p, size_t n)
{
    ngx_http_voice_agent_t  *ag = pr->data;

    if (ag->reply == NULL) {
        ag->reply = ngx_http_voice_malloc(NULL, NGX_HTTP_VOICE_REPLY_MAX);
        if (ag->reply == NULL) {
            return;
        }
    }

    n = ngx_min(n, NGX_HTTP_VOICE_REPLY_MAX - ag->reply_len);
    ngx_memcpy(ag->reply + ag->reply_len, p, n);
    ag->reply_len += n;
}


static void
ngx_http_voice_stt_done(ngx_http_voice_preq_t *pr)
{
    int                      rc;
    size_t                   len;
    uint64_t                 us;
    ngx_http_voice_agent_t  *ag = pr->data;
    u_char                   text[NGX_HTTP_VOICE_TEXT_MAX];

    if (ag->stt != pr) {
        return;
    }

    us = ngx_http_voice_usec();

    ag->stt = NULL;
    ag->state = ngx_http_voice_listening;
    ngx_http_voice_utt_drop(ag);

    if (!pr->ok) {
        ngx_log_error(NGX_LOG_ERR, ag->call->connection->log, 0,
                      "voice: stt provider \"%V\" failed with status %ui%s, "
                      "turn dropped", &ag->conf->stt, pr->status,
                      ngx_http_voice_cut_short(pr));
        return;
    }

    rc = voice_stt_reply(ag->reply, ag->reply_len, text, sizeof(text), &len,
                         NULL);

    if (rc == VOICE_STT_INVALID || rc == VOICE_STT_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ag->call->connection->log, 0,
                      "voice: stt provider \"%V\" sent an invalid reply, "
                      "turn dropped", &ag->conf->stt);
        return;
    }

    if (rc == VOICE_STT_NONE) {
        ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                      "voice: empty transcript ignored");
        return;
    }

    ag->stt_ms = ngx_current_msec - pr->started;

    ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                  "voice: caller said \"%*s\" (stt %M ms)", len, text,
                  ag->stt_ms);

    ngx_http_voice_history_add(ag, "user", text, len);
    ngx_http_voice_llm_request(ag);

    ag->handoff_us[0] = ngx_http_voice_usec() - us;
}


static void
ngx_http_voice_llm_request(ngx_http_voice_agent_t *ag)
{
    size_t                      len;
    u_char                     *body;
    ngx_uint_t                  i, n;
    voice_llm_message_t        *msgs;
    ngx_http_voice_loc_conf_t  *conf;

    conf = ag->conf;

    msgs = ngx_http_voice_malloc(NULL, (ag->nhistory + 1)
                                       * sizeof(voice_llm_message_t));
    if (msgs == NULL) {
        return;
    }

    n = 0;

    if (conf->system_prompt.len) {
        msgs[n].role = "system";
        msgs[n].content = conf->system_prompt.data;
        msgs[n].content_len = conf->system_prompt.len;
        n++;
    }

    for (i = 0; i < ag->nhistory; i++) {
        msgs[n].role = ag->history[i].role;
        msgs[n].content = ag->history[i].text;
        msgs[n].content_len = ag->history[i].len;
        n++;
    }

    len = voice_llm_request_size((char *) conf->llm_model.data,
                                 conf->llm_model.len, msgs, n);

    body = ngx_http_voice_malloc(NULL, len);
    if (body == NULL) {
        ngx_http_voice_free(NULL, msgs);
        return;
    }

    (void) voice_llm_request(body, (char *) conf->llm_model.data,
                             conf->llm_model.len, msgs, n);

    ngx_http_voice_free(NULL, msgs);

    voice_sse_init(&ag->sse, ag->sse_buf, sizeof(ag->sse_buf));
    voice_sentence_init(&ag->splitter, ag->sentence_buf,
                        sizeof(ag->sentence_buf), 300);

    ag->llm_done = 0;
    ag->llm_failed = 0;
    ag->llm_saw_done = 0;
    ag->llm_first = 0;
    ag->timed = 0;
    ag->llm_first_ms = 0;
    ag->llm_sentence_ms = 0;
    ag->t_llm = ngx_current_msec;
    ag->tts_first_ms = 0;
    ag->handoff_us[1] = 0;
    ag->handoff_us[2] = 0;
    ag->reply_len = 0;

    ag->llm = ngx_http_voice_agent_request(ag, &conf->llm, "llm",
                                           "application/json", body, len);
    if (ag->llm == NULL) {
        ag->state = ngx_http_voice_listening;
        return;
    }

    ag->llm->on_data = ngx_http_voice_llm_data;
    ag->llm->on_done = ngx_http_voice_llm_done;
    ag->llm->data = ag;

    ag->state = ngx_http_voice_thinking;
}


static void
ngx_http_voice_llm_data(ngx_http_voice_preq_t *pr, u_char *p, size_t n)
{
    int                      rc;
    size_t                   used, dlen, tlen;
    const uint8_t           *data;
    ngx_http_voice_agent_t  *ag = pr->data;
    u_char                   text[NGX_HTTP_VOICE_TEXT_MAX];

    if (ag->llm != pr) {
        return;
    }

    if (pr->status != NGX_HTTP_OK) {
        /* an error body: kept for the log line */
        ngx_http_voice_stt_data(pr, p, n);
        return;
    }

    while (n && ag->llm == pr) {
        rc = voice_sse_feed(&ag->sse, p, n, &used, &data, &dlen);
        p += used;
        n -= used;

        if (rc != VOICE_SSE_EVENT) {
            continue;
        }

        rc = voice_llm_delta(data, dlen, text, sizeof(text), &tlen, NULL);

        switch (rc) {

        case VOICE_LLM_TEXT:
            if (!ag->llm_first) {
                ag->llm_first = 1;
                ag->llm_first_ms = ngx_current_msec - pr->started;
            }

            ngx_http_voice_llm_text(ag, text, tlen);
            break;

        case VOICE_LLM_DONE:
            /* the end comes with the request's: the tail is flushed then */
            ag->llm_saw_done = 1;
            break;

        case VOICE_LLM_ERROR:
            ngx_log_error(NGX_LOG_ERR, ag->call->connection->log, 0,
                          "voice: llm provider \"%V\" error: \"%*s\"",
                          &ag->conf->llm, tlen, text);
            ag->llm_failed = 1;
            break;

        case VOICE_LLM_INVALID:
            ngx_log_error(NGX_LOG_ERR, ag->call->connection->log, 0,
                          "voice: llm provider \"%V\" sent an invalid event",
                          &ag->conf->llm);
            ag->llm_failed = 1;
            break;
        }
    }
}


static void
ngx_http_voice_llm_done(ngx_http_voice_preq_t *pr)
{
    ngx_http_voice_agent_t  *ag = pr->data;

    if (ag->llm != pr) {
        return;
    }

    ag->llm = NULL;

    if (!pr->ok || ag->llm_failed || !ag->llm_saw_done) {

        if (pr->ok && !ag->llm_failed) {
            ngx_log_error(NGX_LOG_ERR, ag->call->connection->log, 0,
                          "voice: llm provider \"%V\" stream ended without "
                          "[DONE], rest of the turn dropped", &ag->conf->llm);

        } else {
            ngx_log_error(NGX_LOG_ERR, ag->call->connection->log, 0,
                          "voice: llm provider \"%V\" failed with status "
                          "%ui%s, turn dropped", &ag->conf->llm, pr->status,
                          pr->ok ? " (error event)"
                                 : ngx_http_voice_cut_short(pr));
        }

        /* what was said already stays said; the unfinished tail goes */

        ag->llm_done = 1;
        ngx_http_voice_reply_check(ag);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ag->call->connection->log, 0,
                   "voice: llm done in %M ms",
                   ngx_current_msec - pr->started);

    ngx_http_voice_llm_text(ag, NULL, 0);
}


/* LLM text in; every complete sentence goes to TTS at once (NULL: end) */

static void
ngx_http_voice_llm_text(ngx_http_voice_agent_t *ag, const u_char *text,
    size_t len)
{
    int             ready;
    size_t          used, olen;
    const uint8_t  *out;

    for ( ;; ) {
        used = voice_sentence_feed(&ag->splitter, text, len, &out, &olen,
                                   &ready);
        if (text) {
            text += used;
        }

        len -= used;

        if (ready) {
            ngx_http_voice_say(ag, out, olen);
            continue;
        }

        if (len == 0) {
            break;
        }
    }

    if (text == NULL) {
        if (voice_sentence_flush(&ag->splitter, &out, &olen)) {
            ngx_http_voice_say(ag, out, olen);
        }

        ag->llm_done = 1;
        ngx_http_voice_pump(ag);
        ngx_http_voice_reply_check(ag);
    }
}


/* the reply ends when all of it is said and every mark came back */

static void
ngx_http_voice_reply_check(ngx_http_voice_agent_t *ag)
{
    if (!ag->llm_done || ag->playing < ag->nsentences
        || ag->heard < ag->nsentences)
    {
        return;
    }

    if (ag->nsentences) {
        ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                      "voice: reply of %ui sentences played",
                      ag->nsentences);
    }

    ngx_http_voice_end_reply(ag, ag->heard);
}


/* one sentence to TTS */

static void
ngx_http_voice_say(ngx_http_voice_agent_t *ag, const u_char *text,
    size_t len)
{
    size_t                      blen;
    u_char                     *body, model[128], voice[64];
    uint64_t                    us;
    ngx_http_voice_sentence_t  *s;
    ngx_http_voice_loc_conf_t  *conf;

    conf = ag->conf;
    us = ngx_http_voice_usec();

    if (ag->nsentences == NGX_HTTP_VOICE_SENTENCES) {
        ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                      "voice: reply longer than %d sentences, rest dropped",
                      NGX_HTTP_VOICE_SENTENCES);
        return;
    }

    s = &ag->sentences[ag->nsentences];
    ngx_memzero(s, sizeof(ngx_http_voice_sentence_t));

    s->text = ngx_http_voice_malloc(NULL, len);
    if (s->text == NULL) {
        return;
    }

    ngx_memcpy(s->text, text, len);
    s->text_len = len;
    s->index = ag->nsentences;
    s->used = 1;
    s->rate = conf->tts_rate;

    ag->nsentences++;

    ngx_sprintf(model, "%*s%Z", ngx_min(conf->tts_model.len, 127),
                conf->tts_model.data);
    ngx_sprintf(voice, "%*s%Z", ngx_min(conf->tts_voice.len, 63),
                conf->tts_voice.data);

    if (conf->tts_dialect == NGX_HTTP_VOICE_OPENAI) {
        blen = voice_tts_openai(NULL, text, len, (char *) model,
                                (char *) voice);
        body = ngx_http_voice_malloc(NULL, blen);
        if (body == NULL) {
            return;
        }

        (void) voice_tts_openai(body, text, len, (char *) model,
                                (char *) voice);

    } else {
        blen = voice_tts_elevenlabs(NULL, text, len, (char *) model);
        body = ngx_http_voice_malloc(NULL, blen);
        if (body == NULL) {
            return;
        }

        (void) voice_tts_elevenlabs(body, text, len, (char *) model);
    }

    ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                  "voice: agent says \"%*s\"", len, text);

    s->pr = ngx_http_voice_agent_request(ag, &conf->tts, "tts",
                                         "application/json", body, blen);
    if (s->pr == NULL) {
        s->done = 1;
        return;
    }

    s->pr->on_data = ngx_http_voice_tts_data;
    s->pr->on_done = ngx_http_voice_tts_done;
    s->pr->data = s;

    if (s->index == 0) {
        ag->handoff_us[1] = ngx_http_voice_usec() - us;
        ag->llm_sentence_ms = ngx_current_msec - ag->t_llm;
    }
}


static void
ngx_http_voice_tts_data(ngx_http_voice_preq_t *pr, u_char *p, size_t n)
{
    uint64_t                    us;
    ngx_http_voice_agent_t     *ag;
    ngx_http_voice_sentence_t  *s = pr->data;

    ag = pr->call->mode_ctx;

    if (s->pr != pr || pr->status != NGX_HTTP_OK) {
        return;
    }

    us = ngx_http_voice_usec();

    if (s->index == 0 && !s->heard_first) {
        s->heard_first = 1;
        ag->tts_first_ms = ngx_current_msec - pr->started;
    }

    if (ag->conf->tts_format == NGX_HTTP_VOICE_TTS_ULAW) {
        (void) ngx_http_voice_audio_append(s, p, n);

    } else {
        ngx_http_voice_tts_pcm(ag, s, p, n);
    }

    ngx_http_voice_pump(ag);

    if (ag->speaking && !ag->timed) {
        ag->handoff_us[2] = ngx_http_voice_usec() - us;
        ngx_http_voice_turn_log(ag);
    }
}


/* PCM16LE (or a WAV file of it) at any rate to μ-law 8 kHz */

static void
ngx_http_voice_tts_pcm(ngx_http_voice_agent_t *ag,
    ngx_http_voice_sentence_t *s, u_char *p, size_t n)
{
    size_t        k, in_n, used, out_n;
    int16_t       in[1024], out[1024];
    u_char        ulaw[1024];
    voice_wav_t   wav;

    if (ag->conf->tts_format == NGX_HTTP_VOICE_TTS_WAV && !s->started) {
        k = ngx_min(n, sizeof(s->head) - s->head_len);
        ngx_memcpy(s->head + s->head_len, p, k);
        s->head_len += k;

        if (voice_wav_parse(s->head, s->head_len, &wav) != 0) {
            if (s->head_len == sizeof(s->head)) {
                s->started = 1;     /* not WAV: nothing of it is played */
                s->rate = 0;
            }

            return;
        }

        if (wav.format != VOICE_WAV_PCM16 || wav.channels != 1) {
            s->started = 1;
            s->rate = 0;
            return;
        }

        s->started = 1;
        s->rate = wav.rate;

        /* the data so far, after the header */
        p = s->head + wav.data_offset;
        n = s->head_len - wav.data_offset;
    }

    if (s->rate == 0) {
        return;
    }

    if (s->rate != 8000 && s->rs == NULL) {
        s->rs = voice_resampler_create(s->rate, 8000,
                                       VOICE_RESAMPLE_QUALITY);
        if (s->rs == NULL) {
            return;
        }
    }

    while (n) {

        /* samples may be split across chunks */

        in_n = 0;

        if (s->has_carry) {
            in[in_n++] = (int16_t) (s->carry | p[0] << 8);
            p++;
            n--;
            s->has_carry = 0;
        }

        while (n >= 2 && in_n < 1024) {
            in[in_n++] = (int16_t) (p[0] | p[1] << 8);
            p += 2;
            n -= 2;
        }

        if (n == 1 && in_n < 1024) {
            s->carry = p[0];
            s->has_carry = 1;
            n = 0;
        }

        if (s->rs) {
            k = 0;

            while (k < in_n) {
                out_n = voice_resample(s->rs, in + k, in_n - k, out, 1024,
                                       &used);
                k += used;

                voice_ulaw_encode_buf(out, out_n, ulaw);

                if (ngx_http_voice_audio_append(s, ulaw, out_n) != NGX_OK) {
                    return;
                }

                if (used == 0 && out_n == 0) {
                    break;
                }
            }

        } else {
            voice_ulaw_encode_buf(in, in_n, ulaw);

            if (ngx_http_voice_audio_append(s, ulaw, in_n) != NGX_OK) {
                return;
            }
        }
    }
}


static ngx_int_t
ngx_http_voice_audio_append(ngx_http_voice_sentence_t *s, u_char *ulaw,
    size_t n)
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
        size = ngx_max(size, 8000);

        p = ngx_http_voice_realloc(NULL, s->audio, size);
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
ngx_http_voice_tts_done(ngx_http_voice_preq_t *pr)
{
    ngx_http_voice_agent_t     *ag;
    ngx_http_voice_sentence_t  *s = pr->data;

    ag = pr->call->mode_ctx;

    if (s->pr != pr) {
        return;
    }

    s->pr = NULL;
    s->done = 1;

    if (!pr->ok) {
        s->failed = 1;

        ngx_log_error(NGX_LOG_ERR, ag->call->connection->log, 0,
                      "voice: tts provider \"%V\" failed with status %ui%s, "
                      "sentence %ui dropped", &ag->conf->tts, pr->status,
                      ngx_http_voice_cut_short(pr), s->index);
    }

    ngx_http_voice_pump(ag);
}


/*
 * Sends the reply's audio in order, in 20 ms media messages as it
 * arrives, with a mark when a sentence is complete.
 */

static void
ngx_http_voice_pump(ngx_http_voice_agent_t *ag)
{
    size_t                      n;
    u_char                      name[32], *p;
    ngx_http_voice_sentence_t  *s;

    while (ag->playing < ag->nsentences) {
        s = &ag->sentences[ag->playing];

        n = s->audio_len - s->sent;

        if (!s->done) {
            n -= n % VOICE_VAD_FRAME;
        }

        if (n) {
            if (!ag->speaking) {
                ag->speaking = 1;
                ag->state = ngx_http_voice_speaking;
                voice_vad_set_speaking(&ag->vad, 1);

                ngx_log_debug1(NGX_LOG_DEBUG_HTTP,
                               ag->call->connection->log, 0,
                               "voice: first audio %M ms after the caller "
                               "stopped", ngx_current_msec - ag->t_end);
            }

            if (ngx_http_voice_send_media(ag->call, s->audio + s->sent, n)
                != NGX_OK)
            {
                return;
            }

            s->sent += n;
        }

        if (!s->done) {
            return;
        }

        if (!s->marked) {
            s->marked = 1;

            p = ngx_sprintf(name, "t%ui-s%ui", ag->turn, s->index);
            (void) ngx_http_voice_send_mark(ag->call, name, p - name);
        }

        ag->playing++;
    }
}


static ngx_http_voice_preq_t *
ngx_http_voice_agent_request(ngx_http_voice_agent_t *ag, ngx_str_t *uri,
    const char *name, const char *content_type, u_char *body, size_t len)
{
    ngx_uint_t              i;
    ngx_http_voice_preq_t  *pr;

    pr = ngx_http_voice_provider_request(ag->call, uri, name, content_type,
                                         body, len);
    if (pr == NULL) {
        ngx_log_error(NGX_LOG_ERR, ag->call->connection->log, 0,
                      "voice: cannot start the %s request to \"%V\"", name,
                      uri);
        ngx_http_voice_free(NULL, body);
        return NULL;
    }

    pr->body_free = ngx_http_voice_body_free;

    /* remembered until done, so the body is freed whatever happens */

    for (i = 0; i < NGX_HTTP_VOICE_PREQS; i++) {
        if (ag->preqs[i] == NULL) {
            ag->preqs[i] = pr;
            break;
        }
    }

    return pr;
}


static void
ngx_http_voice_body_free(ngx_http_voice_preq_t *pr)
{
    ngx_uint_t               i;
    ngx_http_voice_agent_t  *ag;

    ag = pr->call->mode_ctx;

    if (pr->body) {
        ngx_http_voice_free(NULL, pr->body);
        pr->body = NULL;
    }

    for (i = 0; i < NGX_HTTP_VOICE_PREQS; i++) {
        if (ag->preqs[i] == pr) {
            ag->preqs[i] = NULL;
        }
    }
}


/*
 * One line per turn, when its reply starts to play: where the time went
 * from the end of the caller's speech to the first audio back.  "module"
 * is the worker's own time in the three hand-offs (STT reply to LLM
 * request, first sentence to TTS request, first TTS bytes to media).
 */

static void
ngx_http_voice_turn_log(ngx_http_voice_agent_t *ag)
{
    ag->timed = 1;

    if (ag->greeting) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ag->call->connection->log, 0,
                  "voice: turn %ui timings: endpointing %M ms, stt %M ms, "
                  "llm first token %M ms, llm first sentence %M ms, "
                  "tts first byte %M ms, voice-to-voice %M ms, "
                  "module %uL us (%uL + %uL + %uL)",
                  ++ag->answered, ag->endpointing, ag->stt_ms,
                  ag->llm_first_ms, ag->llm_sentence_ms, ag->tts_first_ms,
                  ngx_current_msec - ag->t_end + ag->endpointing,
                  ag->handoff_us[0] + ag->handoff_us[1] + ag->handoff_us[2],
                  ag->handoff_us[0], ag->handoff_us[1], ag->handoff_us[2]);
}


/* a 2xx answer that still failed: the body ended before it was whole */

static const char *
ngx_http_voice_cut_short(ngx_http_voice_preq_t *pr)
{
    if (pr->header && pr->status >= 200 && pr->status < 300 && !pr->last) {
        return " (response cut short)";
    }

    return "";
}


static uint64_t
ngx_http_voice_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static void
ngx_http_voice_history_add(ngx_http_voice_agent_t *ag, const char *role,
    const u_char *text, size_t len)
{
    u_char     *copy;
    ngx_uint_t  max;

    max = ag->conf->llm_max_history;

    if (max == 0) {
        return;
    }

    copy = ngx_http_voice_malloc(NULL, len ? len : 1);
    if (copy == NULL) {
        return;
    }

    ngx_memcpy(copy, text, len);

    if (ag->nhistory == max) {
        ngx_http_voice_free(NULL, ag->history[0].text);
        ngx_memmove(&ag->history[0], &ag->history[1],
                    (max - 1) * sizeof(ngx_http_voice_turn_t));
        ag->nhistory--;
    }

    ag->history[ag->nhistory].role = role;
    ag->history[ag->nhistory].text = copy;
    ag->history[ag->nhistory].len = len;
    ag->nhistory++;
}


static void
ngx_http_voice_utt_drop(ngx_http_voice_agent_t *ag)
{
    if (ag->utt) {
        ngx_http_voice_free(NULL, ag->utt);
    }

    ag->utt = NULL;
    ag->utt_len = 0;
    ag->utt_size = 0;
    ag->kept = 0;
}


/* host order to PCM16 little-endian in place; done twice, back again */

static void
ngx_http_voice_pcm_le(int16_t *pcm, size_t n)
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


static void
ngx_http_voice_sentence_free(ngx_http_voice_sentence_t *s)
{
    if (s->text) {
        ngx_http_voice_free(NULL, s->text);
    }

    if (s->audio) {
        ngx_http_voice_free(NULL, s->audio);
    }

    voice_resampler_destroy(s->rs);

    ngx_memzero(s, sizeof(ngx_http_voice_sentence_t));
}


static void
ngx_http_voice_agent_cleanup(ngx_http_voice_call_t *call)
{
    ngx_uint_t               i;
    ngx_http_voice_agent_t  *ag;

    ag = call->mode_ctx;

    for (i = 0; i < NGX_HTTP_VOICE_PREQS; i++) {
        if (ag->preqs[i] && ag->preqs[i]->body) {
            ngx_http_voice_free(NULL, ag->preqs[i]->body);
            ag->preqs[i]->body = NULL;
        }
    }

    for (i = 0; i < ag->nsentences; i++) {
        ngx_http_voice_sentence_free(&ag->sentences[i]);
    }

    for (i = 0; i < ag->nhistory; i++) {
        ngx_http_voice_free(NULL, ag->history[i].text);
    }

    if (ag->utt) {
        ngx_http_voice_free(NULL, ag->utt);
    }

    if (ag->reply) {
        ngx_http_voice_free(NULL, ag->reply);
    }
}

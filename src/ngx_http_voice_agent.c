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
 * The hand-offs live beside it: ngx_http_voice_stt.c (the utterance to
 * text in one request) or ngx_http_voice_stt_stream.c (the caller's audio
 * to a streaming recognizer as they speak), ngx_http_voice_llm.c (the
 * history and the streamed completion), ngx_http_voice_reply.c
 * (sentences to TTS and the ordered playout).
 *
 * With voice_speculative, the transcript is asked for after
 * voice_speculative_silence, and the LLM and TTS requests start at once;
 * nothing plays until voice_vad_silence has passed, and if the caller
 * goes on first, that reply is dropped unheard and its turn taken back
 * from the history.
 *
 * Caller speech over the agent's own audio counts only where it stands
 * over the echo of it the line may bring back (voice_echo.c): the reply
 * hands the agent every piece of audio it sends, laid there on the
 * timeline Twilio plays it on.
 *
 * With a streaming recognizer, caller speech during a reply interrupts
 * only once its interim words count (voice_barge_in_min_words, less
 * voice_barge_in_ignore), so a cough or an "okay" does not; and an
 * utterance the recognizer loses goes the batch way (voice_stt).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_agent.h"
#include "ngx_http_voice_clock.h"
#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_metrics.h"
#include "voice_g711.h"
#include "voice_log.h"
#include "voice_vad.h"


#define NGX_HTTP_VOICE_AGENT_PREROLL                                          \
    (NGX_HTTP_VOICE_AGENT_PREROLL_MS * VOICE_G711_SAMPLES_PER_MS)

/* while the agent speaks, its echo on the line must not be speech */
#define NGX_HTTP_VOICE_AGENT_THRESHOLD_DB   10
#define NGX_HTTP_VOICE_AGENT_SPEAKING_DB    8
#define NGX_HTTP_VOICE_AGENT_MIN_LEVEL_DB  -50


typedef enum {
    ngx_http_voice_agent_listening = 0,
    ngx_http_voice_agent_hearing,
    ngx_http_voice_agent_transcribing,
    ngx_http_voice_agent_thinking,
    ngx_http_voice_agent_speaking
} ngx_http_voice_agent_state_e;


typedef struct {
    ngx_http_voice_stream_t      *stream;
    ngx_http_voice_agent_conf_t  *conf;
    ngx_http_voice_agent_state_e  state;

    voice_vad_t                   vad;
    voice_echo_t                  echo;           /* of what we play */
    u_char                        uframe[VOICE_VAD_FRAME];  /* as sent */
    int16_t                       frame[VOICE_VAD_FRAME];
    size_t                        nframe;
    int16_t                       preroll[NGX_HTTP_VOICE_AGENT_PREROLL];
    size_t                        preroll_pos;
    size_t                        preroll_len;

    /* the utterance, kept until its transcript is in */
    int16_t                      *utt;
    size_t                        utt_len;
    size_t                        utt_size;
    size_t                        kept;           /* being transcribed */

    ngx_http_voice_stt_t          stt;
    ngx_http_voice_stt_stream_t   ss;
    ngx_http_voice_llm_t          llm;
    ngx_http_voice_reply_t        reply;

    /* the turn's timings, logged when its reply starts to play */
    ngx_uint_t                    answered;       /* the caller's turns */
    ngx_msec_t                    t_end;          /* utterance ended */
    ngx_msec_t                    endpointing;
    ngx_msec_t                    stt_ms;
    ngx_msec_t                    t_stt;          /* transcript asked */
    uint64_t                      stt_llm_us;     /* transcript -> LLM */
    ngx_msec_t                    v2v;            /* voice-to-voice */

    /* the caller's turns told to voice_events, and the one being told */
    ngx_uint_t                    told;
    ngx_str_t                     heard;

    /* keys pressed, one turn when voice_dtmf_timeout passes or at "#" */
    u_char                        digits[NGX_HTTP_VOICE_AGENT_DIGITS];
    size_t                        ndigits;
    ngx_event_t                   dtmf;

    /* voice_max_call_duration, then the goodbye's own bound */
    ngx_event_t                   time_up;
    const char                   *end_reason;    /* of the close, ending */

    /* caller audio taken, against the time since the start */
    ngx_msec_t                    t_start;
    uint64_t                      samples_in;

    unsigned                      greeting:1;
    unsigned                      ahead:1;        /* audio dropped, logged */
    unsigned                      canned:1;       /* apology or goodbye */
    unsigned                      ending:1;       /* saying goodbye */
    unsigned                      stream_stt:1;   /* configured */
    unsigned                      streaming:1;    /* this utterance */
    unsigned                      barge_pending:1;    /* awaiting words */
    unsigned                      echo_aware:1;   /* voice_echo decides */

    /* the turn of the reply going on, for its event when it ends */
    unsigned                      turn_open:1;
    unsigned                      timed:1;        /* its audio played */
    unsigned                      interrupted:1;  /* by the caller */

    /* a speculative turn: asked for, its transcript in, its reply going */
    unsigned                      spec:1;
    unsigned                      spec_heard:1;
    unsigned                      spec_thinking:1;
} ngx_http_voice_agent_t;


static void *ngx_http_voice_agent_start(ngx_http_voice_stream_t *st,
    void *conf);
static void ngx_http_voice_agent_audio(void *ctx, u_char *ulaw, size_t n);
static void ngx_http_voice_agent_mark(void *ctx, u_char *name);
static void ngx_http_voice_agent_dtmf(void *ctx, u_char *digit);
static void ngx_http_voice_agent_end(void *ctx);
static void ngx_http_voice_agent_cleanup(void *ctx);

static size_t ngx_http_voice_agent_real_time(ngx_http_voice_agent_t *ag,
    size_t n);
static void ngx_http_voice_agent_dtmf_handler(ngx_event_t *ev);
static void ngx_http_voice_agent_stop(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_keys(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_say(ngx_http_voice_agent_t *ag,
    ngx_str_t *text);
static void ngx_http_voice_agent_apologize(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_time_up(ngx_event_t *ev);
static void ngx_http_voice_agent_goodbye(ngx_http_voice_agent_t *ag);

static void ngx_http_voice_agent_frame(ngx_http_voice_agent_t *ag);
static ngx_int_t ngx_http_voice_agent_onset(ngx_http_voice_agent_t *ag);
static ngx_int_t ngx_http_voice_agent_preroll(ngx_http_voice_agent_t *ag,
    size_t base);
static ngx_int_t ngx_http_voice_agent_utt_room(ngx_http_voice_agent_t *ag,
    size_t need);
static void ngx_http_voice_agent_utt_drop(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_barge_in(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_pause(ngx_http_voice_agent_t *ag);
static ngx_int_t ngx_http_voice_agent_resume(ngx_http_voice_agent_t *ag,
    ngx_uint_t words);
static void ngx_http_voice_agent_think(ngx_http_voice_agent_t *ag,
    ngx_uint_t held);
static void ngx_http_voice_agent_speculate(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_spec_drop(ngx_http_voice_agent_t *ag);
static ngx_int_t ngx_http_voice_agent_spec_end(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_check(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_end_reply(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_tell(ngx_http_voice_agent_t *ag,
    u_char *heard, size_t len);
static void ngx_http_voice_agent_fill_turn(voice_event_t *e, void *data);

static void ngx_http_voice_agent_batch_done(void *data, u_char *text,
    size_t len);
static void ngx_http_voice_agent_stream_event(void *data, ngx_uint_t event,
    u_char *text, size_t len);
static ngx_uint_t ngx_http_voice_agent_words(ngx_http_voice_agent_t *ag,
    u_char *text, size_t len);
static void ngx_http_voice_agent_batch(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_said(ngx_http_voice_agent_t *ag,
    u_char *text, size_t len, const char *how, ngx_msec_t ms);
static void ngx_http_voice_agent_transcript(ngx_http_voice_agent_t *ag,
    u_char *text, size_t len, uint64_t since);
static void ngx_http_voice_agent_llm_text(void *data, u_char *text,
    size_t len);
static void ngx_http_voice_agent_llm_done(void *data, ngx_uint_t ok);
static void ngx_http_voice_agent_llm_action(void *data, ngx_uint_t action);
static void ngx_http_voice_agent_leave(ngx_http_voice_agent_t *ag);
static void ngx_http_voice_agent_first_audio(void *data);
static void ngx_http_voice_agent_played(void *data, u_char *ulaw, size_t n);
static void ngx_http_voice_agent_timings(void *data);


const ngx_http_voice_mode_t  ngx_http_voice_agent_mode = {
    ngx_string("agent"),
    ngx_http_voice_agent_start,
    ngx_http_voice_agent_audio,
    ngx_http_voice_agent_mark,
    ngx_http_voice_agent_dtmf,
    NULL,                                  /* stop: cleanup does it */
    ngx_http_voice_agent_end,
    ngx_http_voice_agent_cleanup
};


static void *
ngx_http_voice_agent_start(ngx_http_voice_stream_t *st, void *conf)
{
    ngx_http_voice_agent_t       *ag;
    ngx_http_voice_agent_conf_t  *acf = conf;
    voice_vad_conf_t              vc;
    voice_echo_conf_t             ec;

    ag = ngx_pcalloc(st->request->pool, sizeof(ngx_http_voice_agent_t));
    if (ag == NULL) {
        return NULL;
    }

    ag->stream = st;
    ag->conf = acf;
    ag->t_start = ngx_current_msec;

    ag->dtmf.handler = ngx_http_voice_agent_dtmf_handler;
    ag->dtmf.data = ag;
    ag->dtmf.log = st->connection->log;

    ag->time_up.handler = ngx_http_voice_agent_time_up;
    ag->time_up.data = ag;
    ag->time_up.log = st->connection->log;

    if (acf->max_call_duration) {
        ngx_add_timer(&ag->time_up, acf->max_call_duration);
    }

    if (ngx_http_voice_llm_init(&ag->llm, &acf->llm, st,
                                ngx_http_voice_agent_llm_text,
                                ngx_http_voice_agent_llm_done,
                                ngx_http_voice_agent_llm_action, ag)
        != NGX_OK)
    {
        return NULL;
    }

    ngx_http_voice_stt_init(&ag->stt, &acf->stt, st,
                            ngx_http_voice_agent_batch_done, ag);

    if (acf->stt_stream.upstream.url.len) {
        ag->stream_stt = 1;

        if (ngx_http_voice_stt_stream_init(&ag->ss, &acf->stt_stream, st,
                                           ngx_http_voice_agent_stream_event,
                                           ag)
            != NGX_OK)
        {
            return NULL;
        }
    }

    ngx_http_voice_reply_init(&ag->reply, &acf->tts, st,
                              ngx_http_voice_agent_first_audio,
                              ngx_http_voice_agent_timings, ag);

    vc.min_speech_ms = acf->vad_min_speech;
    vc.barge_in_ms = acf->barge_in_min_speech;
    vc.silence_ms = acf->vad_silence;
    vc.max_utterance_ms = acf->max_utterance;
    vc.threshold_db = NGX_HTTP_VOICE_AGENT_THRESHOLD_DB;
    vc.speaking_margin_db = NGX_HTTP_VOICE_AGENT_SPEAKING_DB;
    vc.min_level_db = NGX_HTTP_VOICE_AGENT_MIN_LEVEL_DB;

    voice_vad_init(&ag->vad, &vc);

    /* barge-in knows our echo from the caller by what was played */

    if (acf->echo_margin != NGX_HTTP_VOICE_AGENT_ECHO_OFF) {
        ec.margin_db = acf->echo_margin;
        ec.max_delay_ms = acf->echo_delay;
        voice_echo_init(&ag->echo, &ec);

        ag->echo_aware = 1;
        ag->reply.on_audio = ngx_http_voice_agent_played;
    }

    if (acf->greeting.len) {
        ag->state = ngx_http_voice_agent_thinking;
        ag->greeting = 1;

        ngx_http_voice_reply_begin(&ag->reply, 0);
        ngx_http_voice_reply_text(&ag->reply, acf->greeting.data,
                                  acf->greeting.len);
        ngx_http_voice_reply_text(&ag->reply, NULL, 0);
        ngx_http_voice_agent_check(ag);
    }

    return ag;
}


static void
ngx_http_voice_agent_audio(void *ctx, u_char *ulaw, size_t n)
{
    ngx_http_voice_agent_t  *ag = ctx;

    size_t  i;

    if (ag->ending) {
        return;
    }

    n = ngx_http_voice_agent_real_time(ag, n);

    for (i = 0; i < n; i++) {
        ag->uframe[ag->nframe] = ulaw[i];
        ag->frame[ag->nframe++] = voice_ulaw_decode(ulaw[i]);

        if (ag->nframe == VOICE_VAD_FRAME) {
            ngx_http_voice_agent_frame(ag);
            ag->nframe = 0;

            if (ag->stream->done) {
                return;
            }
        }
    }
}


/*
 * How much of n samples just in to take: what keeps the caller no more
 * than NGX_HTTP_VOICE_AGENT_AHEAD_MS ahead of the time since the start.
 * The rest is dropped, so a peer that sends faster than it could speak
 * gets no more turns, nor provider requests, than speech would.
 */

static size_t
ngx_http_voice_agent_real_time(ngx_http_voice_agent_t *ag, size_t n)
{
    uint64_t  allowed;

    allowed = (uint64_t) (ngx_current_msec - ag->t_start
                          + NGX_HTTP_VOICE_AGENT_AHEAD_MS)
              * VOICE_G711_SAMPLES_PER_MS;

    if (ag->samples_in + n <= allowed) {
        ag->samples_in += n;
        return n;
    }

    if (!ag->ahead) {
        ag->ahead = 1;

        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: caller audio arrives faster than real time, "
                      "what is more than %d ms ahead is dropped",
                      NGX_HTTP_VOICE_AGENT_AHEAD_MS);
    }

    n = (ag->samples_in < allowed) ? (size_t) (allowed - ag->samples_in) : 0;
    ag->samples_in += n;

    return n;
}


/* one 20 ms frame of the caller */

static void
ngx_http_voice_agent_frame(ngx_http_voice_agent_t *ag)
{
    int     ev;
    size_t  i;

    if (ag->stream_stt) {
        ngx_http_voice_stt_stream_audio(&ag->ss, ag->uframe, VOICE_VAD_FRAME);
    }

    for (i = 0; i < VOICE_VAD_FRAME; i++) {
        ag->preroll[ag->preroll_pos] = ag->frame[i];
        ag->preroll_pos = (ag->preroll_pos + 1) % NGX_HTTP_VOICE_AGENT_PREROLL;
    }

    ag->preroll_len = ngx_min(ag->preroll_len + VOICE_VAD_FRAME,
                              NGX_HTTP_VOICE_AGENT_PREROLL);

    if (ag->state == ngx_http_voice_agent_hearing || ag->barge_pending) {
        if (ngx_http_voice_agent_utt_room(ag, ag->utt_len + VOICE_VAD_FRAME)
            != NGX_OK)
        {
            return;
        }

        ngx_memcpy(ag->utt + ag->utt_len, ag->frame,
                   VOICE_VAD_FRAME * sizeof(int16_t));
        ag->utt_len += VOICE_VAD_FRAME;
    }

    if (ag->echo_aware) {
        voice_vad_set_echo(&ag->vad, voice_echo_frame(&ag->echo,
                                                      ngx_current_msec,
                                                      ag->frame));
    }

    ev = voice_vad_frame(&ag->vad, ag->frame);

    if (ag->state == ngx_http_voice_agent_hearing && ev == VOICE_VAD_NONE
        && ag->vad.in_speech && !ag->barge_pending)
    {
        if (ag->spec && ag->vad.silence_run_ms == 0) {
            ngx_http_voice_agent_spec_drop(ag);

        } else if (!ag->spec && ag->conf->speculative
                   && ag->vad.silence_run_ms >= ag->conf->speculative_silence)
        {
            ngx_http_voice_agent_speculate(ag);
        }
    }

    if (ev == VOICE_VAD_SPEECH_START) {
        (void) ngx_http_voice_agent_onset(ag);
        return;
    }

    if (ev != VOICE_VAD_UTTERANCE_END) {
        return;
    }

    if (ag->barge_pending) {

        /* a sound over the reply that held no words: the reply goes on */

        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: caller's sound during the reply held no "
                      "words, not an interruption");

        ngx_http_voice_stt_stream_abandon(&ag->ss);
        ag->barge_pending = 0;
        ag->streaming = 0;
        ngx_http_voice_agent_utt_drop(ag);
        return;
    }

    if (ag->state != ngx_http_voice_agent_hearing) {
        return;
    }

    ag->t_end = ngx_current_msec;
    ag->endpointing = ag->vad.ended_by_limit ? 0 : ag->conf->vad_silence;

    /* the audio stays in case the caller goes on speaking */

    ag->kept = ag->utt_len;
    ag->state = ngx_http_voice_agent_transcribing;

    if (ag->spec) {
        switch (ngx_http_voice_agent_spec_end(ag)) {

        case NGX_OK:
            ngx_http_voice_agent_utt_drop(ag);
            return;

        case NGX_AGAIN:
            /* its transcript is on the way: it is this turn's */
            return;

        default:
            ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                          "voice: empty transcript ignored");
            ngx_http_voice_agent_utt_drop(ag);
            ag->state = ngx_http_voice_agent_listening;
            ag->streaming = 0;
            return;
        }
    }

    ag->t_stt = ngx_current_msec;

    if (ag->streaming) {
        if (ngx_http_voice_stt_stream_finalize(&ag->ss) == NGX_OK) {
            return;
        }

        ag->streaming = 0;
    }

    ngx_http_voice_agent_batch(ag);
}


/* the utterance to the batch STT location, if there is one */

static void
ngx_http_voice_agent_batch(ngx_http_voice_agent_t *ag)
{
    if (ag->conf->stt.uri.len == 0) {
        ngx_log_error(NGX_LOG_ERR, ag->stream->connection->log, 0,
                      "voice: stt stream \"%V\" lost the utterance and "
                      "there is no \"voice_stt\" to fall back on, turn "
                      "dropped", &ag->conf->stt_stream.upstream.url);

        /* no words, as with an empty transcript */

        ngx_http_voice_agent_transcript(ag, NULL, 0, 0);
        ngx_http_voice_agent_apologize(ag);
        return;
    }

    if (ngx_http_voice_stt_start(&ag->stt, ag->utt, ag->utt_len) != NGX_OK) {
        ngx_http_voice_agent_transcript(ag, NULL, 0, 0);
        return;
    }

    ag->kept = ag->utt_len;
    ag->state = ngx_http_voice_agent_transcribing;
}


/* the caller starts to speak: a new utterance, a longer one, or barge-in */

static ngx_int_t
ngx_http_voice_agent_onset(ngx_http_voice_agent_t *ag)
{
    size_t  base;

    base = 0;

    if (ag->state == ngx_http_voice_agent_transcribing) {

        /*
         * The caller went on after a pause while the first part was
         * being transcribed: it is all one utterance, sent again.
         */

        ngx_http_voice_stt_cancel(&ag->stt);

        if (ag->kept + ag->preroll_len
            <= (size_t) ag->conf->max_utterance * VOICE_G711_SAMPLES_PER_MS)
        {
            base = ag->kept;
        }

        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: caller went on speaking, utterance "
                      "continues");

    } else if (ag->state != ngx_http_voice_agent_listening || ag->ending) {
        if (!ag->conf->barge_in || ag->ending
            || (ag->greeting && !ag->conf->greeting_interruptible))
        {
            return NGX_DECLINED;
        }

        /*
         * With a recognizer that sends interim words, they decide
         * whether this interrupts; OpenAI's sends none before a commit.
         */

        if (ag->stream_stt && ag->conf->barge_in_words
            && ag->conf->stt_stream.dialect
               == NGX_HTTP_VOICE_STT_STREAM_DEEPGRAM
            && ngx_http_voice_stt_stream_begin(&ag->ss, ag->preroll_len)
               == NGX_OK)
        {
            ag->barge_pending = 1;
            ag->streaming = 1;

            return ngx_http_voice_agent_preroll(ag, 0);
        }

        /* the transcript says whether it interrupted (not speculatively) */

        if (ag->conf->barge_in_resume && !ag->conf->speculative) {
            ngx_http_voice_agent_pause(ag);

        } else {
            ngx_http_voice_agent_barge_in(ag);
        }
    }

    ag->kept = 0;

    if (ngx_http_voice_agent_preroll(ag, base) != NGX_OK) {
        return NGX_ERROR;
    }

    ag->state = ngx_http_voice_agent_hearing;

    /* a part already sent the batch way stays there with the rest */

    if (ag->stream_stt && (base == 0 || ag->streaming)) {
        ag->streaming = (ngx_http_voice_stt_stream_begin(&ag->ss,
                                                         ag->preroll_len)
                         == NGX_OK);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ag->stream->connection->log, 0,
                   "voice: caller speaks");

    return NGX_OK;
}


/* the utterance starts at "base" with what came before the onset */

static ngx_int_t
ngx_http_voice_agent_preroll(ngx_http_voice_agent_t *ag, size_t base)
{
    size_t  i, k;

    if (ngx_http_voice_agent_utt_room(ag, base + ag->preroll_len) != NGX_OK) {
        return NGX_ERROR;
    }

    k = (ag->preroll_pos + NGX_HTTP_VOICE_AGENT_PREROLL - ag->preroll_len)
        % NGX_HTTP_VOICE_AGENT_PREROLL;

    for (i = 0; i < ag->preroll_len; i++) {
        ag->utt[base + i] =
                         ag->preroll[(k + i) % NGX_HTTP_VOICE_AGENT_PREROLL];
    }

    ag->utt_len = base + ag->preroll_len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_voice_agent_utt_room(ngx_http_voice_agent_t *ag, size_t need)
{
    int16_t  *utt;

    if (need <= ag->utt_size) {
        return NGX_OK;
    }

    utt = ngx_http_voice_mem_realloc(NULL, ag->utt,
                                     need * 2 * sizeof(int16_t));
    if (utt == NULL) {
        return NGX_ERROR;
    }

    ag->utt = utt;
    ag->utt_size = need * 2;

    return NGX_OK;
}


static void
ngx_http_voice_agent_utt_drop(ngx_http_voice_agent_t *ag)
{
    if (ag->utt) {
        ngx_http_voice_mem_free(NULL, ag->utt);
    }

    ag->utt = NULL;
    ag->utt_len = 0;
    ag->utt_size = 0;
    ag->kept = 0;
}


/* caller speech during a reply: stop it where the caller stopped hearing */

static void
ngx_http_voice_agent_barge_in(ngx_http_voice_agent_t *ag)
{
    ngx_http_voice_agent_pause(ag);
    ngx_http_voice_agent_end_reply(ag);
}


/*
 * The reply stops playing where the caller is.  With
 * voice_barge_in_resume that is all until the transcript says whether
 * the speech held words: its requests go on, and it may play on.
 */

static void
ngx_http_voice_agent_pause(ngx_http_voice_agent_t *ag)
{
    if (!ag->ending) {
        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: caller interrupted, %ui of %ui sentences heard",
                      ag->reply.heard, ag->reply.nsentences);

        ag->stream->barge_ins++;
        ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_BARGE_INS);

        ag->interrupted = 1;
    }

    if (ag->reply.speaking) {
        (void) ngx_http_voice_stream_send_clear(ag->stream);

        /* Twilio drops what it has not played: no echo of it to come */

        if (ag->echo_aware) {
            voice_echo_clear(&ag->echo, ngx_current_msec);
        }
    }

    ngx_http_voice_stt_cancel(&ag->stt);
    ngx_http_voice_reply_pause(&ag->reply);

    voice_vad_set_speaking(&ag->vad, 0);
}


/*
 * The transcript of speech that paused the reply: without words the
 * reply plays on (NGX_OK); with words it ends, the history keeping what
 * was heard of it (NGX_DECLINED, as when no reply was paused).
 */

static ngx_int_t
ngx_http_voice_agent_resume(ngx_http_voice_agent_t *ag, ngx_uint_t words)
{
    if (!ag->reply.paused) {
        return NGX_DECLINED;
    }

    if (words) {
        ngx_http_voice_agent_end_reply(ag);
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                  "voice: the interruption held no words, the reply goes on");

    ag->interrupted = 0;

    ag->state = ngx_http_voice_agent_thinking;

    ngx_http_voice_reply_resume(&ag->reply);
    ngx_http_voice_agent_check(ag);

    return NGX_OK;
}


static void
ngx_http_voice_agent_mark(void *ctx, u_char *name)
{
    ngx_http_voice_agent_t  *ag = ctx;

    if (ngx_http_voice_reply_mark(&ag->reply, name) == NGX_OK) {
        ngx_http_voice_agent_check(ag);
    }
}


/*
 * A key: the first of a turn interrupts whatever goes on; the keys then
 * gather until voice_dtmf_timeout passes without one, or "#", so that a
 * number typed, or fifty keys in one message, is one turn.
 */

static void
ngx_http_voice_agent_dtmf(void *ctx, u_char *digit)
{
    ngx_http_voice_agent_t  *ag = ctx;

    if (digit[0] == '\0' || digit[1] != '\0'
        || ngx_strchr((u_char *) "0123456789*#ABCD", digit[0]) == NULL)
    {
        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: dtmf event with an unknown key ignored");
        return;
    }

    if (ag->ending
        || (ag->greeting && !ag->conf->greeting_interruptible))
    {
        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: key pressed during the %s ignored",
                      ag->ending ? "goodbye" : "greeting");
        return;
    }

    if (ag->ndigits == 0) {
        ngx_http_voice_agent_stop(ag);
    }

    if (ag->ndigits == NGX_HTTP_VOICE_AGENT_DIGITS) {
        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: more than %d keys in one turn, key dropped",
                      NGX_HTTP_VOICE_AGENT_DIGITS);

    } else {
        ag->digits[ag->ndigits++] = digit[0];
    }

    if (digit[0] == '#') {
        if (ag->dtmf.timer_set) {
            ngx_del_timer(&ag->dtmf);
        }

        ngx_http_voice_agent_keys(ag);
        return;
    }

    ngx_add_timer(&ag->dtmf, ag->conf->dtmf_timeout);
}


/* a key, or the call's end, stops what goes on: and an utterance heard */

static void
ngx_http_voice_agent_stop(ngx_http_voice_agent_t *ag)
{
    if (ag->barge_pending) {
        ngx_http_voice_stt_stream_abandon(&ag->ss);
        ag->barge_pending = 0;
        ag->streaming = 0;
    }

    if (ag->spec) {
        ngx_http_voice_agent_spec_drop(ag);
        ngx_http_voice_stt_stream_abandon(&ag->ss);
        ag->streaming = 0;
    }

    if (ag->state != ngx_http_voice_agent_listening) {
        ngx_http_voice_agent_barge_in(ag);
        ngx_http_voice_agent_utt_drop(ag);
    }
}


static void
ngx_http_voice_agent_dtmf_handler(ngx_event_t *ev)
{
    ngx_http_voice_agent_t  *ag = ev->data;

    ngx_connection_t  *c;

    c = ag->stream->connection;

    ngx_http_voice_agent_keys(ag);
    ngx_http_run_posted_requests(c);
}


/* the keys gathered: the caller's turn, without STT */

static void
ngx_http_voice_agent_keys(ngx_http_voice_agent_t *ag)
{
    u_char  text[sizeof("[caller pressed ]") + NGX_HTTP_VOICE_AGENT_DIGITS];
    u_char  *p;

    if (ag->ndigits == 0 || ag->stream->done) {
        return;
    }

    p = ngx_snprintf(text, sizeof(text), "[caller pressed %*s]",
                     ag->ndigits, ag->digits);
    ag->ndigits = 0;

    /* caller speech that started after the first key: the keys go first */

    ngx_http_voice_agent_stop(ag);

    ag->t_end = ngx_current_msec;
    ag->endpointing = 0;
    ag->stt_ms = 0;
    ag->stt_llm_us = 0;

    ngx_http_voice_llm_history_add(&ag->llm, "user", text, p - text);
    ngx_http_voice_agent_think(ag, 0);
}


/* words of the module's own: the apology, the goodbye */

static void
ngx_http_voice_agent_say(ngx_http_voice_agent_t *ag, ngx_str_t *text)
{
    ag->state = ngx_http_voice_agent_thinking;
    ag->canned = 1;

    ngx_http_voice_reply_begin(&ag->reply, 0);
    ngx_http_voice_reply_text(&ag->reply, text->data, text->len);
    ngx_http_voice_reply_text(&ag->reply, NULL, 0);
    ngx_http_voice_agent_check(ag);
}


/* a provider failed the turn: the caller hears so, not silence */

static void
ngx_http_voice_agent_apologize(ngx_http_voice_agent_t *ag)
{
    if (ag->conf->apology.len == 0 || ag->ending || ag->stream->done
        || ag->state != ngx_http_voice_agent_listening)
    {
        return;
    }

    ngx_http_voice_agent_say(ag, &ag->conf->apology);
}


static void
ngx_http_voice_agent_time_up(ngx_event_t *ev)
{
    ngx_http_voice_agent_t  *ag = ev->data;

    ngx_connection_t  *c;

    c = ag->stream->connection;

    if (ag->ending) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "voice: the goodbye was not heard in time, closing");
        ngx_http_voice_agent_leave(ag);

    } else {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "voice: the call reached voice_max_call_duration "
                      "(%M ms), saying goodbye", ag->conf->max_call_duration);
        ngx_http_voice_agent_goodbye(ag);
    }

    ngx_http_run_posted_requests(c);
}


/*
 * The call is over: whatever goes on stops, the goodbye is said, and the
 * stream closes with 1000 once its mark is back (Twilio then runs the
 * TwiML after <Connect>; with none, the call ends).
 */

static void
ngx_http_voice_agent_goodbye(ngx_http_voice_agent_t *ag)
{
    if (ag->dtmf.timer_set) {
        ngx_del_timer(&ag->dtmf);
    }

    ag->ndigits = 0;
    ag->ending = 1;
    ag->end_reason = "call duration limit";

    ngx_http_voice_agent_stop(ag);

    if (ag->streaming) {
        ngx_http_voice_stt_stream_abandon(&ag->ss);
        ag->streaming = 0;
    }

    ngx_http_voice_stt_cancel(&ag->stt);
    ngx_http_voice_agent_utt_drop(ag);
    ag->state = ngx_http_voice_agent_listening;

    if (ag->conf->goodbye.len == 0) {
        ngx_http_voice_stream_close(ag->stream, VOICE_WS_CLOSE_NORMAL,
                                    "call duration limit");
        return;
    }

    ngx_add_timer(&ag->time_up, NGX_HTTP_VOICE_AGENT_GOODBYE_MS);

    ngx_http_voice_agent_say(ag, &ag->conf->goodbye);
}


static void
ngx_http_voice_agent_batch_done(void *data, u_char *text, size_t len)
{
    ngx_http_voice_agent_t  *ag = data;

    ag->stt_ms = ag->stt.ms;

    if (text) {
        ngx_http_voice_agent_said(ag, text, len, "stt", ag->stt_ms);
    }

    ngx_http_voice_agent_transcript(ag, text, len, ag->stt.done_us);

    if (text == NULL && ag->stt.failed
        && ag->state == ngx_http_voice_agent_listening)
    {
        ngx_http_voice_agent_apologize(ag);
    }
}


/*
 * The caller's words reach error.log only with voice_log_transcripts on:
 * they are personal data.  Otherwise the line says how much and when.
 */

static void
ngx_http_voice_agent_said(ngx_http_voice_agent_t *ag, u_char *text,
    size_t len, const char *how, ngx_msec_t ms)
{
    size_t      n;
    u_char     *esc;
    ngx_log_t  *log;

    log = ag->stream->connection->log;

    /* escaped: a transcript is the provider's text, it cannot forge lines */

    esc = ag->stream->conf->log_transcripts
          ? ngx_http_voice_mem_alloc(NULL, VOICE_LOG_ESCAPED_LEN(len) + 1)
          : NULL;

    if (esc) {
        n = voice_log_escape(esc, text, len);

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "voice: caller said \"%*s\" (%s %M ms)",
                      n, esc, how, ms);

        ngx_http_voice_mem_free(NULL, esc);

    } else {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "voice: caller said %uz bytes (%s %M ms)",
                      len, how, ms);
    }
}


/* the caller's turn (NULL: none, the turn is dropped) */

static void
ngx_http_voice_agent_transcript(ngx_http_voice_agent_t *ag, u_char *text,
    size_t len, uint64_t since)
{
    if (ag->spec && ag->state == ngx_http_voice_agent_hearing) {

        /* early: the reply is made now and held until the caller is done */

        ag->spec_heard = 1;

        if (text && len) {
            ngx_http_voice_llm_history_add(&ag->llm, "user", text, len);
            ngx_http_voice_agent_think(ag, 1);
            ag->stt_llm_us = ngx_http_voice_clock_usec() - since;
        }

        return;
    }

    ag->state = ngx_http_voice_agent_listening;
    ag->streaming = 0;
    ngx_http_voice_agent_utt_drop(ag);

    if (ngx_http_voice_agent_resume(ag, text && len) == NGX_OK
        || text == NULL)
    {
        return;
    }

    ngx_http_voice_llm_history_add(&ag->llm, "user", text, len);
    ngx_http_voice_agent_think(ag, 0);

    ag->stt_llm_us = ngx_http_voice_clock_usec() - since;
}


static void
ngx_http_voice_agent_stream_event(void *data, ngx_uint_t event,
    u_char *text, size_t len)
{
    ngx_http_voice_agent_t  *ag = data;

    uint64_t    us;
    ngx_log_t  *log;
    ngx_msec_t  silence;

    us = ngx_http_voice_clock_usec();
    log = ag->stream->connection->log;

    if (!ag->streaming) {
        return;
    }

    switch (event) {

    case NGX_HTTP_VOICE_STT_STREAM_INTERIM:

        if (ag->barge_pending && ngx_http_voice_agent_words(ag, text, len)
                                 >= ag->conf->barge_in_words)
        {
            ag->barge_pending = 0;
            ngx_http_voice_agent_barge_in(ag);
            ag->state = ngx_http_voice_agent_hearing;
        }

        return;

    case NGX_HTTP_VOICE_STT_STREAM_ENDED:

        /* the recognizer heard the end first: taken if the caller is quiet */

        if (ag->barge_pending || ag->state != ngx_http_voice_agent_hearing
            || !ag->vad.in_speech || ag->vad.silence_run_ms == 0)
        {
            return;
        }

        silence = ag->vad.silence_run_ms;

        voice_vad_end(&ag->vad);
        ngx_http_voice_stt_stream_stop(&ag->ss);

        ag->t_end = ngx_current_msec;
        ag->endpointing = silence;
        ag->stt_ms = 0;

        ngx_http_voice_agent_said(ag, text, len,
                                  "stt stream, end of speech after", silence);

        ngx_http_voice_agent_transcript(ag, text, len, us);
        return;

    case NGX_HTTP_VOICE_STT_STREAM_FINAL:

        if (ag->state != ngx_http_voice_agent_transcribing
            && !(ag->spec && ag->state == ngx_http_voice_agent_hearing))
        {
            return;
        }

        ag->stt_ms = ngx_current_msec - ag->t_stt;

        if (len == 0) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "voice: empty transcript ignored");
            ngx_http_voice_agent_transcript(ag, NULL, 0, us);
            return;
        }

        ngx_http_voice_agent_said(ag, text, len, "stt stream", ag->stt_ms);

        ngx_http_voice_agent_transcript(ag, text, len, us);
        return;

    default: /* NGX_HTTP_VOICE_STT_STREAM_LOST */

        ag->streaming = 0;

        if (ag->barge_pending) {
            /* no words to decide by: the endpointer's word goes */
            ag->barge_pending = 0;
            ngx_http_voice_agent_barge_in(ag);
            ag->state = ngx_http_voice_agent_hearing;
            return;
        }

        if (ag->spec && ag->state == ngx_http_voice_agent_hearing) {
            /* asked again, the batch way, when the caller is done */
            ag->spec = 0;
            return;
        }

        if (ag->state == ngx_http_voice_agent_transcribing) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "voice: utterance sent to \"%V\" instead",
                          &ag->conf->stt.uri);
            ngx_http_voice_agent_batch(ag);
        }

        return;
    }
}


/* the words of an interim transcript that count for an interruption */

static ngx_uint_t
ngx_http_voice_agent_words(ngx_http_voice_agent_t *ag, u_char *text,
    size_t len)
{
    ngx_array_t  *ignore;

    ignore = ag->conf->barge_in_ignore;

    return voice_words_count(text, len, ignore ? ignore->elts : NULL,
                             ignore ? ignore->nelts : 0);
}


/* the caller's turn is in the history: the model answers */

static void
ngx_http_voice_agent_think(ngx_http_voice_agent_t *ag, ngx_uint_t held)
{
    /* a speculative turn is the caller's once the caller is done */

    ag->turn_open = !held;
    ag->timed = 0;
    ag->interrupted = 0;

    ngx_http_voice_reply_begin(&ag->reply, held);

    if (ngx_http_voice_llm_start(&ag->llm, held) != NGX_OK) {
        if (!held) {
            ag->state = ngx_http_voice_agent_listening;
        }

        return;
    }

    if (held) {
        ag->spec_thinking = 1;
        return;
    }

    ag->state = ngx_http_voice_agent_thinking;
}


/* enough silence to guess the caller is done: the transcript, now */

static void
ngx_http_voice_agent_speculate(ngx_http_voice_agent_t *ag)
{
    ag->spec = 1;
    ag->t_stt = ngx_current_msec;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ag->stream->connection->log, 0,
                   "voice: speculative turn after %ui ms of silence",
                   (ngx_uint_t) ag->vad.silence_run_ms);

    if (ag->streaming) {
        if (ngx_http_voice_stt_stream_finalize(&ag->ss) == NGX_OK) {
            return;
        }

        ag->streaming = 0;
    }

    if (ag->conf->stt.uri.len == 0
        || ngx_http_voice_stt_start(&ag->stt, ag->utt, ag->utt_len)
           != NGX_OK)
    {
        ag->spec = 0;
    }
}


/* the caller went on: the speculative turn never happened */

static void
ngx_http_voice_agent_spec_drop(ngx_http_voice_agent_t *ag)
{
    ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                  "voice: caller went on speaking, speculative reply "
                  "dropped unheard");

    if (ag->spec_thinking) {
        ngx_http_voice_llm_cancel(&ag->llm);
        ngx_http_voice_reply_end(&ag->reply);
        ngx_http_voice_llm_history_pop(&ag->llm);
    }

    /* the transcript asked for: the rest of the utterance joins it */

    if (ag->streaming) {
        ag->streaming = (ngx_http_voice_stt_stream_resume(&ag->ss,
                                                          VOICE_VAD_FRAME)
                         == NGX_OK);

    } else {
        ngx_http_voice_stt_cancel(&ag->stt);
    }

    ag->spec = 0;
    ag->spec_heard = 0;
    ag->spec_thinking = 0;
}


/*
 * The endpointer confirms the end the speculative turn guessed: its
 * reply plays (NGX_OK), or its transcript is still awaited (NGX_AGAIN),
 * or it heard nothing (NGX_DECLINED).
 */

static ngx_int_t
ngx_http_voice_agent_spec_end(ngx_http_voice_agent_t *ag)
{
    ngx_uint_t  thinking;

    thinking = ag->spec_thinking;

    if (!ag->spec_heard) {
        ag->spec = 0;
        return NGX_AGAIN;
    }

    ag->spec = 0;
    ag->spec_heard = 0;
    ag->spec_thinking = 0;

    if (!thinking) {
        return NGX_DECLINED;
    }

    ag->state = ngx_http_voice_agent_thinking;
    ag->turn_open = 1;

    ngx_http_voice_reply_release(&ag->reply);
    ngx_http_voice_llm_release(&ag->llm);
    ngx_http_voice_agent_check(ag);

    return NGX_OK;
}


static void
ngx_http_voice_agent_llm_text(void *data, u_char *text, size_t len)
{
    ngx_http_voice_agent_t  *ag = data;

    ngx_http_voice_reply_text(&ag->reply, text, len);
}


static void
ngx_http_voice_agent_llm_done(void *data, ngx_uint_t ok)
{
    ngx_http_voice_agent_t  *ag = data;

    if (ok) {
        ngx_http_voice_reply_text(&ag->reply, NULL, 0);

    } else {
        /* what was said already stays said; the unfinished tail goes */
        ngx_http_voice_reply_close(&ag->reply);

        if (!ag->reply.held && ag->reply.nsentences == 0) {
            ngx_http_voice_agent_end_reply(ag);
            ngx_http_voice_agent_apologize(ag);
            return;
        }
    }

    ngx_http_voice_agent_check(ag);
}


/* the reply ends when all of it is said and every mark came back */

static void
ngx_http_voice_agent_check(ngx_http_voice_agent_t *ag)
{
    if (ag->reply.held || ag->reply.paused
        || !ngx_http_voice_reply_over(&ag->reply))
    {
        return;
    }

    if (ag->reply.nsentences) {
        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: reply of %ui sentences played, %ul underruns",
                      ag->reply.nsentences, ag->reply.clock.underruns);
    }

    ngx_http_voice_agent_end_reply(ag);

    if (ag->ending) {
        ngx_http_voice_agent_leave(ag);
    }
}


/*
 * The last words are heard: the call moves to a person if the model
 * asked for it, or the stream closes with 1000
 */

static void
ngx_http_voice_agent_leave(ngx_http_voice_agent_t *ag)
{
    if (ngx_http_voice_llm_hand_off(&ag->llm) == NGX_AGAIN) {
        return;
    }

    if (ag->time_up.timer_set) {
        ngx_del_timer(&ag->time_up);
    }

    ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                  "voice: closing the stream: %s", ag->end_reason);

    ngx_http_voice_stream_close(ag->stream, VOICE_WS_CLOSE_NORMAL,
                                ag->end_reason);
}


/* end_call or transfer_call: the reply goes on, the caller cannot cut it */

static void
ngx_http_voice_agent_llm_action(void *data, ngx_uint_t action)
{
    ngx_http_voice_agent_t  *ag = data;

    ngx_msec_t  elapsed;

    switch (action) {

    case NGX_HTTP_VOICE_LLM_END:
        if (!ag->ending) {
            ag->ending = 1;
            ag->end_reason = "call ended by the agent";
            ngx_add_timer(&ag->time_up, NGX_HTTP_VOICE_AGENT_GOODBYE_MS);
        }

        return;

    case NGX_HTTP_VOICE_LLM_TRANSFERRED:
        if (ag->time_up.timer_set) {
            ngx_del_timer(&ag->time_up);
        }

        ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                      "voice: closing the stream: call transferred");

        ngx_http_voice_stream_close(ag->stream, VOICE_WS_CLOSE_NORMAL,
                                    "call transferred");
        return;

    default: /* NGX_HTTP_VOICE_LLM_RESUME: the transfer failed */

        ag->ending = 0;

        if (ag->time_up.timer_set) {
            ngx_del_timer(&ag->time_up);
        }

        if (ag->conf->max_call_duration) {
            elapsed = ngx_current_msec - ag->t_start;

            if (elapsed >= ag->conf->max_call_duration) {
                ngx_http_voice_agent_goodbye(ag);
                return;
            }

            ngx_add_timer(&ag->time_up,
                          ag->conf->max_call_duration - elapsed);
        }

        ngx_http_voice_agent_think(ag, 0);
        return;
    }
}


/* the reply is over: history keeps the sentences the caller heard */

static void
ngx_http_voice_agent_end_reply(ngx_http_voice_agent_t *ag)
{
    size_t   len;
    u_char  *text;

    ngx_http_voice_llm_cancel(&ag->llm);

    text = ngx_http_voice_reply_heard_text(&ag->reply, &len);

    ngx_http_voice_agent_tell(ag, text, len);

    if (text) {
        ngx_http_voice_llm_history_add(&ag->llm, "assistant", text, len);
        ngx_http_voice_mem_free(NULL, text);
    }

    ngx_http_voice_reply_end(&ag->reply);

    ag->greeting = 0;
    ag->canned = 0;
    ag->state = ngx_http_voice_agent_listening;

    voice_vad_set_speaking(&ag->vad, 0);
}


static void
ngx_http_voice_agent_first_audio(void *data)
{
    ngx_http_voice_agent_t  *ag = data;

    ag->state = ngx_http_voice_agent_speaking;
    voice_vad_set_speaking(&ag->vad, 1);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ag->stream->connection->log, 0,
                   "voice: first audio %M ms after the caller stopped",
                   ngx_current_msec - ag->t_end);
}


static void
ngx_http_voice_agent_played(void *data, u_char *ulaw, size_t n)
{
    ngx_http_voice_agent_t  *ag = data;

    voice_echo_play(&ag->echo, ngx_current_msec, ulaw, n);
}


/*
 * One line per turn, when its reply starts to play: where the time went
 * from the end of the caller's speech to the first audio back.  "module"
 * is the worker's own time in the three hand-offs (STT reply to LLM
 * request, first sentence to TTS request, first TTS bytes to media).
 */

static void
ngx_http_voice_agent_timings(void *data)
{
    ngx_http_voice_agent_t  *ag = data;

    ngx_msec_t               v2v;
    ngx_http_voice_reply_t  *rp;

    if (ag->greeting || ag->canned) {
        return;
    }

    rp = &ag->reply;
    v2v = ngx_current_msec - ag->t_end + ag->endpointing;

    ag->v2v = v2v;
    ag->timed = 1;

    ag->stream->turns++;
    ngx_http_voice_metrics_inc(NGX_HTTP_VOICE_M_TURNS);

    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_ENDPOINTING,
                                   ag->endpointing * 1000);
    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_STT, ag->stt_ms * 1000);
    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_LLM_FIRST_TOKEN,
                                   ag->llm.first_ms * 1000);
    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_LLM_FIRST_SENTENCE,
                                   rp->sentence_ms * 1000);
    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_TTS_FIRST_BYTE,
                                   rp->tts_first_ms * 1000);
    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_VOICE_TO_VOICE,
                                   v2v * 1000);
    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_STT_LLM, ag->stt_llm_us);
    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_LLM_TTS, rp->tts_us);
    ngx_http_voice_metrics_observe(NGX_HTTP_VOICE_H_TTS_MEDIA, rp->media_us);

    ngx_log_error(NGX_LOG_INFO, ag->stream->connection->log, 0,
                  "voice: turn %ui timings: endpointing %M ms, stt %M ms, "
                  "llm first token %M ms, llm first sentence %M ms, "
                  "tts first byte %M ms, voice-to-voice %M ms, "
                  "module %uL us (%uL + %uL + %uL)",
                  ++ag->answered, ag->endpointing, ag->stt_ms,
                  ag->llm.first_ms, rp->sentence_ms, rp->tts_first_ms,
                  v2v, ag->stt_llm_us + rp->tts_us + rp->media_us,
                  ag->stt_llm_us, rp->tts_us, rp->media_us);
}


/*
 * The turn's event (voice_events), when its reply ends or the call does:
 * what the caller said, all the model replied and what of it was heard,
 * the functions it called, and where the time went.
 */

static void
ngx_http_voice_agent_tell(ngx_http_voice_agent_t *ag, u_char *heard,
    size_t len)
{
    if (!ag->turn_open) {
        return;
    }

    ag->turn_open = 0;
    ag->told++;

    /* for the fill only: the text is the caller's */

    ag->heard.data = heard;
    ag->heard.len = heard ? len : 0;

    ngx_http_voice_events_push(ag->stream, "turn",
                               ngx_http_voice_agent_fill_turn, ag);

    ngx_str_null(&ag->heard);
}


static void
ngx_http_voice_agent_fill_turn(voice_event_t *e, void *data)
{
    ngx_http_voice_agent_t  *ag = data;

    ngx_uint_t                     i, u;
    ngx_http_voice_reply_t        *rp;
    ngx_http_voice_llm_message_t  *h;

    rp = &ag->reply;
    h = ag->llm.history;

    voice_event_uint(e, "turn", ag->told);

    /* the caller's message of the turn, and what came of it since */

    for (u = ag->llm.nhistory; u > 0; u--) {
        if (ngx_strcmp(h[u - 1].role, "user") == 0) {
            break;
        }
    }

    if (u) {
        voice_event_str(e, "transcript", h[u - 1].text, h[u - 1].len);

    } else {
        voice_event_str(e, "transcript", (u_char *) "", 0);
    }

    voice_event_str_open(e, "reply");

    for (i = 0; i < rp->nsentences; i++) {
        if (i) {
            voice_event_str_more(e, (u_char *) " ", 1);
        }

        voice_event_str_more(e, rp->sentences[i].text,
                             rp->sentences[i].text_len);
    }

    voice_event_str_close(e);

    voice_event_str(e, "heard", ag->heard.data, ag->heard.len);
    voice_event_bool(e, "interrupted", ag->interrupted);

    /* as the model asked for them, and as the functions answered */

    voice_event_array(e, "tool_calls");

    for (i = u; i < ag->llm.nhistory; i++) {
        if (h[i].extra_len > 2 && ngx_strcmp(h[i].role, "assistant") == 0) {
            voice_event_raw(e, NULL, h[i].extra + 1, h[i].extra_len - 2);
        }
    }

    voice_event_close(e);

    voice_event_array(e, "tool_results");

    for (i = u; i < ag->llm.nhistory; i++) {
        if (ngx_strcmp(h[i].role, "tool") == 0) {
            voice_event_object(e, NULL);
            voice_event_str(e, "tool_call_id", h[i].extra, h[i].extra_len);
            voice_event_str(e, "content", h[i].text, h[i].len);
            voice_event_close(e);
        }
    }

    voice_event_close(e);

    if (!ag->timed) {
        voice_event_null(e, "timings");
        return;
    }

    voice_event_object(e, "timings");
    voice_event_uint(e, "endpointing_ms", ag->endpointing);
    voice_event_uint(e, "stt_ms", ag->stt_ms);
    voice_event_uint(e, "llm_first_token_ms", ag->llm.first_ms);
    voice_event_uint(e, "llm_first_sentence_ms", rp->sentence_ms);
    voice_event_uint(e, "tts_first_byte_ms", rp->tts_first_ms);
    voice_event_uint(e, "voice_to_voice_ms", ag->v2v);
    voice_event_uint(e, "module_us",
                     ag->stt_llm_us + rp->tts_us + rp->media_us);
    voice_event_close(e);
}


/* the call is over: a turn still going on is told as far as it got */

static void
ngx_http_voice_agent_end(void *ctx)
{
    ngx_http_voice_agent_t  *ag = ctx;

    size_t   len;
    u_char  *text;

    if (!ag->turn_open) {
        return;
    }

    text = ngx_http_voice_reply_heard_text(&ag->reply, &len);

    ngx_http_voice_agent_tell(ag, text, len);

    if (text) {
        ngx_http_voice_mem_free(NULL, text);
    }
}


static void
ngx_http_voice_agent_cleanup(void *ctx)
{
    ngx_http_voice_agent_t  *ag = ctx;

    if (ag->dtmf.timer_set) {
        ngx_del_timer(&ag->dtmf);
    }

    if (ag->time_up.timer_set) {
        ngx_del_timer(&ag->time_up);
    }

    ngx_http_voice_reply_cleanup(&ag->reply);
    ngx_http_voice_llm_cleanup(&ag->llm);
    ngx_http_voice_stt_cleanup(&ag->stt);

    if (ag->stream_stt) {
        ngx_http_voice_stt_stream_cleanup(&ag->ss);
    }

    if (ag->utt) {
        ngx_http_voice_mem_free(NULL, ag->utt);
        ag->utt = NULL;
    }
}

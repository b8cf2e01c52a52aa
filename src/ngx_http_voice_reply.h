/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The agent's reply: text in, cut into sentences; each sentence to the
 * voice_tts location at once; their audio, converted to μ-law 8 kHz as
 * it arrives, played in sentence order in 20 ms media messages at the
 * pace of speech (voice_playout_lead ahead of playback at most), with a
 * mark after each sentence to learn what the caller heard.
 */

#ifndef NGX_HTTP_VOICE_REPLY_H
#define NGX_HTTP_VOICE_REPLY_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_provider.h"
#include "voice_playout.h"
#include "voice_sentence.h"
#include "voice_tts_audio.h"


#define NGX_HTTP_VOICE_REPLY_ELEVENLABS  0
#define NGX_HTTP_VOICE_REPLY_OPENAI      1

/* sentences a reply may have, and the longest before it is cut */
#define NGX_HTTP_VOICE_REPLY_SENTENCES     32
#define NGX_HTTP_VOICE_REPLY_SENTENCE_MAX  300

/* the largest voice_apology_audio file */
#define NGX_HTTP_VOICE_APOLOGY_MAX  (1024 * 1024)

/*
 * The most audio a reply holds at once, in seconds of μ-law (8 KB each):
 * the sentences not yet heard.  More from a TTS is dropped, and the rest
 * of the reply with it.
 */
#define NGX_HTTP_VOICE_REPLY_AUDIO_MAX     120

/* after the text of a reply the caller did not hear to its end */
#define NGX_HTTP_VOICE_REPLY_CUT           " [interrupted]"

/* a paused reply plays on from this long before where it stopped */
#define NGX_HTTP_VOICE_REPLY_RESUME_BACK   200


typedef struct {
    ngx_str_t                    uri;           /* voice_tts */
    ngx_uint_t                   dialect;       /* voice_tts_dialect */
    ngx_str_t                    model;         /* voice_tts_model */
    ngx_str_t                    voice;         /* voice_tts_voice */
    ngx_uint_t                   format;        /* VOICE_TTS_AUDIO_* */
    ngx_uint_t                   rate;          /* of voice_tts_format */

    /* voice_apology_audio, as μ-law 8 kHz: plays for a failed sentence */
    ngx_str_t                    apology_audio;
    ngx_msec_t                   lead;          /* voice_playout_lead */
} ngx_http_voice_reply_conf_t;


typedef struct {
    u_char                         *text;
    size_t                          text_len;
    ngx_uint_t                      index;

    u_char                         *audio;         /* μ-law, all of it */
    size_t                          audio_len;
    size_t                          audio_size;
    size_t                          sent;
    uint64_t                        mark_at;       /* on the clock */
    voice_tts_audio_t               conv;

    ngx_http_voice_provider_req_t  *pr;
    unsigned                        done:1;
    unsigned                        marked:1;
    unsigned                        first_byte:1;  /* from TTS */
    unsigned                        failed:1;  /* TTS failed: unheard */
    unsigned                        dropped:1; /* past the reply's cap */
} ngx_http_voice_reply_sentence_t;


typedef void (*ngx_http_voice_reply_pt)(void *data);


typedef struct {
    ngx_http_voice_reply_conf_t     *conf;
    ngx_http_voice_stream_t         *stream;

    voice_sentence_t                 splitter;
    u_char                           splitter_buf[2048];

    ngx_http_voice_reply_sentence_t  sentences[NGX_HTTP_VOICE_REPLY_SENTENCES];
    ngx_uint_t                       nsentences;
    ngx_uint_t                       playing;       /* sentences sent whole */
    ngx_uint_t                       heard;         /* by their marks */
    size_t                           audio_held;    /* of those not heard */

    /* in the marks' names, so those of a cleared reply are told apart */
    ngx_uint_t                       turn;

    /* what was played when, and the next media message's time */
    voice_playout_t                  clock;
    ngx_event_t                      wake;

    /* where the clock's first sample is: a sentence, an offset in it */
    ngx_uint_t                       clock_sentence;
    size_t                           clock_offset;

    /* where a paused reply stopped, as heard */
    ngx_uint_t                       pause_sentence;
    size_t                           pause_offset;

    /* the reply's timings */
    ngx_msec_t                       begun;
    ngx_msec_t                       sentence_ms;   /* to the first sentence */
    ngx_msec_t                       tts_first_ms;  /* its TTS first byte */
    uint64_t                         tts_us;        /* sentence -> TTS */
    uint64_t                         media_us;      /* TTS bytes -> media */
    uint64_t                         ready_us;      /* audio to play came */

    ngx_http_voice_reply_pt          on_speaking;   /* first audio sent */
    ngx_http_voice_reply_pt          on_timed;      /* the timings are in */

    /* each media message's audio, right after it is sent; NULL: none */
    void                           (*on_audio)(void *data, u_char *ulaw,
                                               size_t n);
    void                            *data;

    unsigned                         complete:1;    /* no more text */
    unsigned                         held:1;        /* nothing played yet */
    unsigned                         speaking:1;
    unsigned                         timed:1;
    unsigned                         apologized:1;  /* apology audio sent */
    unsigned                         capped:1;      /* audio held too long */
    unsigned                         paused:1;
} ngx_http_voice_reply_t;


void ngx_http_voice_reply_init(ngx_http_voice_reply_t *reply,
    ngx_http_voice_reply_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_reply_pt on_speaking, ngx_http_voice_reply_pt on_timed,
    void *data);

/*
 * A new reply's text is coming.  "held": its requests go, but none of
 * its audio plays before ngx_http_voice_reply_release() (a speculative
 * reply, made before the caller is known to have finished).
 */
void ngx_http_voice_reply_begin(ngx_http_voice_reply_t *reply,
    ngx_uint_t held);
void ngx_http_voice_reply_release(ngx_http_voice_reply_t *reply);

/* more text; NULL: the end of it, the last sentence goes too */
void ngx_http_voice_reply_text(ngx_http_voice_reply_t *reply,
    const u_char *text, size_t len);

/* no more text: an unfinished sentence is dropped */
void ngx_http_voice_reply_close(ngx_http_voice_reply_t *reply);

/*
 * The caller interrupted, and the interruption may turn out to hold no
 * words: the caller has sent Twilio a "clear"; nothing more plays, and
 * the reply remembers what was heard (for heard_text) and where to play
 * on from: the start of the 20 ms frame playing, less
 * NGX_HTTP_VOICE_REPLY_RESUME_BACK ms, not before the sentence's start.
 * Its audio stays, its TTS and the text still coming go on; the marks
 * Twilio returns for what was sent before are ignored.  speaking goes
 * back to 0, and on_speaking is called again with the first audio after
 * ngx_http_voice_reply_resume(), which plays on from there.  Either may
 * be followed by ngx_http_voice_reply_end() instead (the interruption
 * held words: heard_text() first).  Both do nothing when there is
 * nothing to do.
 */
void ngx_http_voice_reply_pause(ngx_http_voice_reply_t *reply);
void ngx_http_voice_reply_resume(ngx_http_voice_reply_t *reply);

/* a mark came back; NGX_DECLINED: not of this reply */
ngx_int_t ngx_http_voice_reply_mark(ngx_http_voice_reply_t *reply,
    u_char *name);

/* all of it said, and every mark back */
ngx_uint_t ngx_http_voice_reply_over(ngx_http_voice_reply_t *reply);

/*
 * What the caller heard, one text (mem_alloc'd), or NULL for nothing:
 * the sentences played whole, then the part of the one playing, cut at
 * the word playback reached, and NGX_HTTP_VOICE_REPLY_CUT unless the
 * reply was heard to its end.
 */
u_char *ngx_http_voice_reply_heard_text(ngx_http_voice_reply_t *reply,
    size_t *len);

/* abandons what is left, frees it all; the next reply gets a new turn */
void ngx_http_voice_reply_end(ngx_http_voice_reply_t *reply);
void ngx_http_voice_reply_cleanup(ngx_http_voice_reply_t *reply);

#endif /* NGX_HTTP_VOICE_REPLY_H */

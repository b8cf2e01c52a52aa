/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* voice_media_stream agent: the caller talks with a model */

#ifndef NGX_HTTP_VOICE_AGENT_H
#define NGX_HTTP_VOICE_AGENT_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_llm.h"
#include "ngx_http_voice_reply.h"
#include "ngx_http_voice_stream.h"
#include "ngx_http_voice_stt.h"
#include "ngx_http_voice_stt_stream.h"
#include "voice_echo.h"
#include "voice_words.h"


typedef struct {
    ngx_http_voice_stt_conf_t         stt;
    ngx_http_voice_stt_stream_conf_t  stt_stream;
    ngx_http_voice_llm_conf_t         llm;
    ngx_http_voice_reply_conf_t       tts;

    ngx_str_t                         greeting;       /* voice_greeting */
    ngx_str_t                         apology;        /* voice_apology */
    ngx_str_t                         goodbye;        /* voice_goodbye */
    ngx_msec_t                        max_call_duration;
    ngx_msec_t                        vad_silence;    /* voice_vad_silence */
    ngx_msec_t                        vad_min_speech; /* .._vad_min_speech */
    ngx_flag_t                        barge_in;       /* voice_barge_in */
    ngx_msec_t                        barge_in_min_speech;
    ngx_flag_t                        greeting_interruptible;
    ngx_uint_t                        barge_in_words; /* .._min_words */
    ngx_array_t                      *barge_in_ignore;    /* voice_words_t */
    ngx_flag_t                        barge_in_resume;    /* .._resume */
    ngx_int_t                         echo_margin;    /* dB; or ECHO_OFF */
    ngx_msec_t                        echo_delay;     /* .._echo_delay */
    ngx_msec_t                        max_utterance;  /* .._max_utterance */
    ngx_flag_t                        speculative;    /* voice_speculative */
    ngx_msec_t                        speculative_silence;
    ngx_msec_t                        dtmf_timeout;   /* voice_dtmf_timeout */
} ngx_http_voice_agent_conf_t;


/* what comes before the onset is confirmed, kept for the utterance */
#define NGX_HTTP_VOICE_AGENT_PREROLL_MS  300

/*
 * Barge-in over the line's echo of the agent (voice_echo.c): how far
 * over the echo predicted the caller must be, in dB, and how late after
 * playing the echo may come back; OFF: the fixed margin while the agent
 * speaks, as before.
 */
#define NGX_HTTP_VOICE_AGENT_ECHO_MARGIN    6
#define NGX_HTTP_VOICE_AGENT_ECHO_DELAY_MS  500
#define NGX_HTTP_VOICE_AGENT_ECHO_OFF       -2      /* -1: NGX_CONF_UNSET */

/* the keys of one turn, at most; more in one go are dropped */
#define NGX_HTTP_VOICE_AGENT_DIGITS      64

/*
 * Caller audio is taken no faster than real time, with this much ahead
 * of it allowed (a network stall that Twilio catches up on): a peer that
 * does not pace cannot make provider requests faster than speech could.
 */
#define NGX_HTTP_VOICE_AGENT_AHEAD_MS    5000

/* the goodbye of voice_max_call_duration is heard by then, or the call ends */
#define NGX_HTTP_VOICE_AGENT_GOODBYE_MS  15000


extern const ngx_http_voice_mode_t  ngx_http_voice_agent_mode;

#endif /* NGX_HTTP_VOICE_AGENT_H */

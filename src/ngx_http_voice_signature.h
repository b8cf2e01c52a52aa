/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * What proves a request comes from Twilio for one of our calls:
 * X-Twilio-Signature on the webhook and on the WebSocket handshake, and
 * the voiceToken and account of the stream's "start".
 */

#ifndef NGX_HTTP_VOICE_SIGNATURE_H
#define NGX_HTTP_VOICE_SIGNATURE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "voice_signature.h"
#include "voice_twilio.h"


typedef struct {
    ngx_str_t                    auth_token;    /* voice_twilio_auth_token */
    ngx_str_t                    account_sid;   /* voice_twilio_account_sid */
    ngx_http_complex_value_t    *public_url;    /* voice_public_url */

    /*
     * voice_stream_token, NGX_CONF_UNSET when not given: on wherever
     * there is an auth token; voice_stream_token_lifetime
     */
    ngx_flag_t                   stream_token;
    time_t                       token_lifetime;
} ngx_http_voice_signature_conf_t;


/*
 * Checks X-Twilio-Signature over the URL Twilio requested and the given
 * form parameters.  "scheme" is used when voice_public_url is not set.
 * NGX_OK: valid or no token configured; NGX_DECLINED: missing or wrong;
 * NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_voice_signature_check(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *conf, ngx_str_t *scheme,
    voice_form_param_t *params, size_t n);

/*
 * The voiceToken <Parameter> of a webhook's TwiML: the token for the
 * request's CallSid (from the POST parameters, else the query string),
 * in the request's pool.  NGX_DECLINED: no token to give (off, or no
 * usable CallSid); NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_voice_signature_token(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *conf, voice_form_param_t *params,
    size_t n, ngx_str_t *token);

/*
 * Checks a media stream's "start": its account and its voiceToken.
 * NGX_DECLINED, after an info line that says why: the stream is not for
 * this call and must be closed.
 */
ngx_int_t ngx_http_voice_signature_start(ngx_log_t *log,
    ngx_http_voice_signature_conf_t *conf, voice_twilio_msg_t *m);

#endif /* NGX_HTTP_VOICE_SIGNATURE_H */

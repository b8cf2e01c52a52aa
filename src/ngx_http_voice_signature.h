/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* X-Twilio-Signature on the webhook and on the WebSocket handshake */

#ifndef NGX_HTTP_VOICE_SIGNATURE_H
#define NGX_HTTP_VOICE_SIGNATURE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "voice_signature.h"


typedef struct {
    ngx_str_t                    auth_token;    /* voice_twilio_auth_token */
    ngx_http_complex_value_t    *public_url;    /* voice_public_url */
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

#endif /* NGX_HTTP_VOICE_SIGNATURE_H */

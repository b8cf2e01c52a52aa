/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* Twilio's voice webhook: TwiML that connects the call to a media stream */

#ifndef NGX_HTTP_VOICE_WEBHOOK_H
#define NGX_HTTP_VOICE_WEBHOOK_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_signature.h"


typedef struct {
    ngx_str_t                    name;
    ngx_http_complex_value_t     value;
} ngx_http_voice_webhook_param_t;


typedef struct {
    ngx_http_complex_value_t    *stream_url;    /* voice_stream_url */
    ngx_array_t                 *params;        /* voice_stream_parameter */
    size_t                       max_form_size; /* voice_max_form_size */
} ngx_http_voice_webhook_conf_t;


/* the content handler of voice_twiml */
ngx_int_t ngx_http_voice_webhook_handler(ngx_http_request_t *r,
    ngx_http_voice_webhook_conf_t *conf,
    ngx_http_voice_signature_conf_t *signature);

#endif /* NGX_HTTP_VOICE_WEBHOOK_H */

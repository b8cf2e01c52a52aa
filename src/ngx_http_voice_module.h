/*
 * Copyright (C) ngx_http_voice_module authors
 */

#ifndef NGX_HTTP_VOICE_MODULE_H
#define NGX_HTTP_VOICE_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "voice_signature.h"


typedef struct {
    ngx_str_t                    name;
    ngx_http_complex_value_t     value;
} ngx_http_voice_param_conf_t;


typedef struct {
    ngx_http_complex_value_t    *stream_url;
    ngx_array_t                 *stream_params;
    ngx_str_t                    auth_token;
    ngx_http_complex_value_t    *public_url;
    size_t                       max_form_size;

    /* the location that declared a content handler, for messages */
    ngx_str_t                   *handler_location;
    ngx_uint_t                   twiml;             /* unsigned:1 */
} ngx_http_voice_loc_conf_t;


typedef struct {
    ngx_flag_t                   warned_no_token;
} ngx_http_voice_main_conf_t;


ngx_int_t ngx_http_voice_twiml_handler(ngx_http_request_t *r);

/*
 * Checks X-Twilio-Signature over the URL Twilio requested and the given
 * form parameters.  "scheme" is used when voice_public_url is not set.
 * NGX_OK: valid or no token configured; NGX_DECLINED: missing or wrong;
 * NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_voice_check_signature(ngx_http_request_t *r,
    ngx_str_t *scheme, voice_param_t *params, size_t n);


extern ngx_module_t  ngx_http_voice_module;

#endif /* NGX_HTTP_VOICE_MODULE_H */

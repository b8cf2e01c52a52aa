/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * X-Twilio-Signature on the webhook and on the WebSocket handshake.  The
 * computation is pure (voice_signature.c); here the URL Twilio requested
 * is found and the header is compared.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_header.h"
#include "ngx_http_voice_signature.h"
#include "voice_log.h"


static ngx_int_t ngx_http_voice_signature_url(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *conf, ngx_str_t *scheme,
    ngx_str_t *url);
static ngx_uint_t ngx_http_voice_signature_matches(ngx_str_t *token,
    ngx_str_t *url, voice_form_param_t *params, size_t n, u_char *scratch,
    u_char *want);


ngx_int_t
ngx_http_voice_signature_check(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *conf, ngx_str_t *scheme,
    voice_form_param_t *params, size_t n)
{
    u_char           *scratch;
    size_t            len;
    ngx_str_t         url, alt, header, text, *token;
    ngx_table_elt_t  *h;
    u_char            want[VOICE_SIGNATURE_LEN + 4];

    token = &conf->auth_token;

    if (token->len == 0) {
        return NGX_OK;
    }

    h = ngx_http_voice_header_find(r, "X-Twilio-Signature",
                                   sizeof("X-Twilio-Signature") - 1);
    if (h == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: request without X-Twilio-Signature");
        return NGX_DECLINED;
    }

    /* a SHA-1 HMAC is 28 base64 characters */

    if (h->value.len != ngx_base64_encoded_length(VOICE_SIGNATURE_LEN)) {
        goto invalid;
    }

    header.data = want;

    if (ngx_decode_base64(&header, &h->value) != NGX_OK
        || header.len != VOICE_SIGNATURE_LEN)
    {
        goto invalid;
    }

    if (ngx_http_voice_signature_url(r, conf, scheme, &url) != NGX_OK) {
        return NGX_ERROR;
    }

    len = voice_signature_scratch(url.len + 4, params, n);

    scratch = ngx_pnalloc(r->pool, len);
    alt.data = ngx_pnalloc(r->pool, url.len + 4);

    if (scratch == NULL || alt.data == NULL) {
        return NGX_ERROR;
    }

    alt.len = voice_signature_toggle_port(url.data, url.len, alt.data);

    voice_form_sort(params, n);

    if (ngx_http_voice_signature_matches(token, &url, params, n, scratch,
                                         want)
        || (alt.len
            && ngx_http_voice_signature_matches(token, &alt, params, n,
                                                scratch, want)))
    {
        return NGX_OK;
    }

    /* the Host header and the URI are the peer's */

    len = voice_log_escape(NULL, url.data, url.len);

    text.data = ngx_pnalloc(r->pool, len);
    if (text.data == NULL) {
        return NGX_ERROR;
    }

    text.len = voice_log_escape(text.data, url.data, url.len);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voice: X-Twilio-Signature does not match \"%V\"", &text);

    return NGX_DECLINED;

invalid:

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voice: malformed X-Twilio-Signature");

    return NGX_DECLINED;
}


static ngx_uint_t
ngx_http_voice_signature_matches(ngx_str_t *token, ngx_str_t *url,
    voice_form_param_t *params, size_t n, u_char *scratch, u_char *want)
{
    size_t   i;
    u_char   digest[VOICE_SIGNATURE_LEN];

    if (voice_signature(token->data, token->len, url->data, url->len,
                        params, n, 0, scratch, digest) == 0
        && voice_signature_equal(digest, want))
    {
        return 1;
    }

    /*
     * Twilio's Python library counts a repeated name=value pair once; the
     * other libraries count it each time.  Accept either.
     */

    for (i = 1; i < n; i++) {
        if (params[i].name_len == params[i - 1].name_len
            && params[i].value_len == params[i - 1].value_len
            && ngx_memcmp(params[i].name, params[i - 1].name,
                          params[i].name_len) == 0
            && ngx_memcmp(params[i].value, params[i - 1].value,
                          params[i].value_len) == 0)
        {
            return voice_signature(token->data, token->len, url->data,
                                   url->len, params, n, 1, scratch, digest)
                       == 0
                   && voice_signature_equal(digest, want);
        }
    }

    return 0;
}


/*
 * The URL Twilio requested: voice_public_url when set (TLS terminated in
 * front of nginx), else the scheme, the Host header as sent and the
 * request URI with its query string.
 */

static ngx_int_t
ngx_http_voice_signature_url(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *conf, ngx_str_t *scheme,
    ngx_str_t *url)
{
    u_char     *p;
    ngx_str_t  *host;

    if (conf->public_url) {
        return ngx_http_complex_value(r, conf->public_url, url);
    }

    if (r->headers_in.host) {
        host = &r->headers_in.host->value;

    } else {
        host = &r->headers_in.server;
    }

    url->len = scheme->len + sizeof("://") - 1 + host->len
               + r->unparsed_uri.len;

    url->data = ngx_pnalloc(r->pool, url->len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, scheme->data, scheme->len);
    p = ngx_cpymem(p, "://", sizeof("://") - 1);
    p = ngx_cpymem(p, host->data, host->len);
    ngx_memcpy(p, r->unparsed_uri.data, r->unparsed_uri.len);

    return NGX_OK;
}


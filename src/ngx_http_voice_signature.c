/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * X-Twilio-Signature on the webhook and on the WebSocket handshake, and
 * the voiceToken that ties a media stream to the call the webhook
 * answered.  The computations are pure (voice_signature.c,
 * voice_token.c); here the URL Twilio requested is found, the header is
 * compared, and the token is minted and checked.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_header.h"
#include "ngx_http_voice_signature.h"
#include "voice_log.h"
#include "voice_token.h"


static ngx_int_t ngx_http_voice_signature_url(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *conf, ngx_str_t *scheme,
    ngx_str_t *url);
static ngx_uint_t ngx_http_voice_signature_matches(ngx_str_t *token,
    ngx_str_t *url, voice_form_param_t *params, size_t n, u_char *scratch,
    u_char *want);
static ngx_int_t ngx_http_voice_signature_call_sid(ngx_http_request_t *r,
    voice_form_param_t *params, size_t n, voice_form_param_t **sid);
static voice_form_param_t *ngx_http_voice_signature_find(
    voice_form_param_t *params, size_t n);


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



ngx_int_t
ngx_http_voice_signature_token(ngx_http_request_t *r,
    ngx_http_voice_signature_conf_t *conf, voice_form_param_t *params,
    size_t n, ngx_str_t *token)
{
    voice_form_param_t  *sid;

    if (conf->auth_token.len == 0 || conf->stream_token == 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_voice_signature_call_sid(r, params, n, &sid) != NGX_OK) {
        return NGX_ERROR;
    }

    if (sid == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: webhook without a CallSid, "
                      "no voiceToken for its stream");
        return NGX_DECLINED;
    }

    if (sid->value_len > VOICE_TOKEN_SID_MAX) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: webhook CallSid of %uz bytes is too long, "
                      "no voiceToken for its stream", sid->value_len);
        return NGX_DECLINED;
    }

    token->data = ngx_pnalloc(r->pool, VOICE_TOKEN_LEN);
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    token->len = voice_token_mint(token->data, conf->auth_token.data,
                                  conf->auth_token.len, sid->value,
                                  sid->value_len,
                                  ngx_time() + conf->token_lifetime);

    if (token->len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "voice: voiceToken could not be made");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The CallSid parameter: Twilio POSTs it, or puts it in the query string
 * of a webhook set to GET.  *sid is NULL when there is none.
 */

static ngx_int_t
ngx_http_voice_signature_call_sid(ngx_http_request_t *r,
    voice_form_param_t *params, size_t n, voice_form_param_t **sid)
{
    long     count;
    u_char  *args;
    size_t   max;

    *sid = ngx_http_voice_signature_find(params, n);

    if (*sid != NULL || r->args.len == 0) {
        return NGX_OK;
    }

    /* decoded in place: a copy, r->args stays as nginx has it */

    args = ngx_pnalloc(r->pool, r->args.len);
    if (args == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(args, r->args.data, r->args.len);

    max = voice_form_count(args, r->args.len);

    params = ngx_palloc(r->pool, max * sizeof(voice_form_param_t));
    if (params == NULL) {
        return NGX_ERROR;
    }

    count = voice_form_parse(args, r->args.len, params, max);

    if (count > 0) {
        *sid = ngx_http_voice_signature_find(params, count);
    }

    return NGX_OK;
}


static voice_form_param_t *
ngx_http_voice_signature_find(voice_form_param_t *params, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (params[i].name_len == sizeof("CallSid") - 1
            && ngx_strncmp(params[i].name, "CallSid", sizeof("CallSid") - 1)
               == 0)
        {
            return &params[i];
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_voice_signature_start(ngx_log_t *log,
    ngx_http_voice_signature_conf_t *conf, voice_twilio_msg_t *m)
{
    int          rc;
    size_t       len, n, k;
    unsigned     i;
    const char  *why, *value;
    u_char       call[VOICE_LOG_ESCAPED_LEN(VOICE_TWILIO_SID_MAX)];
    u_char       account[VOICE_LOG_ESCAPED_LEN(VOICE_TWILIO_SID_MAX)];

    len = ngx_strlen(m->call_sid);

    if (conf->account_sid.len
        && (ngx_strlen(m->account_sid) != conf->account_sid.len
            || ngx_strncmp(m->account_sid, conf->account_sid.data,
                           conf->account_sid.len)
               != 0))
    {
        n = voice_log_escape(call, (u_char *) m->call_sid, len);
        k = voice_log_escape(account, (u_char *) m->account_sid,
                             ngx_strlen(m->account_sid));

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "voice: call \"%*s\" refused: account \"%*s\" is not "
                      "voice_twilio_account_sid", n, call, k, account);
        return NGX_DECLINED;
    }

    if (conf->auth_token.len == 0 || conf->stream_token == 0) {
        return NGX_OK;
    }

    value = NULL;

    for (i = 0; i < m->nparams; i++) {
        if (ngx_strcmp(m->params[i].name, VOICE_TOKEN_NAME) == 0) {
            value = m->params[i].value;
            break;
        }
    }

    if (value == NULL) {
        why = "missing";

    } else {
        rc = voice_token_verify(conf->auth_token.data, conf->auth_token.len,
                                (u_char *) m->call_sid, len,
                                (u_char *) value, ngx_strlen(value),
                                ngx_time());

        switch (rc) {

        case VOICE_TOKEN_OK:
            return NGX_OK;

        case VOICE_TOKEN_EXPIRED:
            why = "expired";
            break;

        case VOICE_TOKEN_MISMATCH:
            why = "not for this call";
            break;

        case VOICE_TOKEN_MALFORMED:
            why = "malformed";
            break;

        default:
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "voice: voiceToken could not be checked");
            return NGX_ERROR;
        }
    }

    n = voice_log_escape(call, (u_char *) m->call_sid, len);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "voice: call \"%*s\" refused: voiceToken %s", n, call, why);

    return NGX_DECLINED;
}

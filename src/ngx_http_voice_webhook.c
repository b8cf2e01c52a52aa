/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Twilio's voice webhook: validates the request and answers TwiML that
 * connects the call to our Media Streams location, with the voiceToken
 * that lets only this call's stream in.  The TwiML itself is built by
 * voice_twiml.c.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_header.h"
#include "ngx_http_voice_module.h"
#include "ngx_http_voice_webhook.h"
#include "voice_token.h"
#include "voice_twiml.h"


/* the request's configuration, for the body handler */

typedef struct {
    ngx_http_voice_webhook_conf_t    *conf;
    ngx_http_voice_signature_conf_t  *signature;
} ngx_http_voice_webhook_ctx_t;


static void ngx_http_voice_webhook_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_voice_webhook_read_form(ngx_http_request_t *r,
    ngx_http_voice_webhook_ctx_t *ctx, ngx_str_t *body);
static ngx_int_t ngx_http_voice_webhook_respond(ngx_http_request_t *r,
    ngx_http_voice_webhook_ctx_t *ctx, voice_form_param_t *params, size_t n);


static ngx_str_t  ngx_http_voice_webhook_http = ngx_string("http");
static ngx_str_t  ngx_http_voice_webhook_https = ngx_string("https");


ngx_int_t
ngx_http_voice_webhook_handler(ngx_http_request_t *r,
    ngx_http_voice_webhook_conf_t *conf,
    ngx_http_voice_signature_conf_t *signature)
{
    ngx_int_t                      rc;
    ngx_http_voice_webhook_ctx_t  *ctx;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ctx = ngx_palloc(r->pool, sizeof(ngx_http_voice_webhook_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->conf = conf;
    ctx->signature = signature;

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_voice_webhook_respond(r, ctx, NULL, 0);
    }

    if (r->headers_in.content_length_n > (off_t) conf->max_form_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: webhook body of %O bytes is larger than "
                      "voice_max_form_size", r->headers_in.content_length_n);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_voice_module);

    rc = ngx_http_read_client_request_body(r, ngx_http_voice_webhook_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_voice_webhook_body(ngx_http_request_t *r)
{
    long                           n;
    ngx_int_t                      rc;
    ngx_str_t                      body;
    voice_form_param_t            *params;
    ngx_http_voice_webhook_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_voice_module);

    rc = ngx_http_voice_webhook_read_form(r, ctx, &body);
    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    params = ngx_palloc(r->pool, voice_form_count(body.data, body.len)
                                 * sizeof(voice_form_param_t));
    if (params == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    n = voice_form_parse(body.data, body.len, params,
                         voice_form_count(body.data, body.len));
    if (n < 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: malformed form body in webhook");
        ngx_http_finalize_request(r, NGX_HTTP_BAD_REQUEST);
        return;
    }

    ngx_http_finalize_request(r,
                              ngx_http_voice_webhook_respond(r, ctx, params,
                                                             n));
}


/* the whole form body in one piece of memory, within voice_max_form_size */

static ngx_int_t
ngx_http_voice_webhook_read_form(ngx_http_request_t *r,
    ngx_http_voice_webhook_ctx_t *ctx, ngx_str_t *body)
{
    u_char       *p;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    if (r->headers_in.content_type == NULL
        || ngx_strncasecmp(r->headers_in.content_type->value.data,
                           (u_char *) "application/x-www-form-urlencoded",
                           sizeof("application/x-www-form-urlencoded") - 1)
           != 0)
    {
        /* not a form: nothing of it is signed as parameters */
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);
    }

    if (len > ctx->conf->max_form_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: webhook body of %uz bytes is larger than "
                      "voice_max_form_size", len);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    body->data = ngx_pnalloc(r->pool, len);
    if (body->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body->data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        /* a body past client_body_buffer_size was spooled to a file */

        size = b->file_last - b->file_pos;
        n = ngx_read_file(b->file, p, size, b->file_pos);

        if (n != (ssize_t) size) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p += size;
    }

    body->len = len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_voice_webhook_respond(ngx_http_request_t *r,
    ngx_http_voice_webhook_ctx_t *ctx, voice_form_param_t *params, size_t n)
{
    size_t                           len;
    ngx_int_t                        rc;
    ngx_str_t                        url, value, token, *scheme;
    ngx_buf_t                       *b;
    ngx_uint_t                       i, nparams, nconf;
    voice_twiml_param_t             *tp;
    ngx_http_voice_webhook_param_t  *pc;

#if (NGX_HTTP_SSL)
    scheme = r->connection->ssl ? &ngx_http_voice_webhook_https
                                : &ngx_http_voice_webhook_http;
#else
    scheme = &ngx_http_voice_webhook_http;
#endif

    rc = ngx_http_voice_signature_check(r, ctx->signature, scheme, params,
                                        n);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_FORBIDDEN;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_complex_value(r, ctx->conf->stream_url, &url) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_voice_signature_token(r, ctx->signature, params, n,
                                        &token);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    nconf = ctx->conf->params ? ctx->conf->params->nelts : 0;
    nparams = (rc == NGX_OK);
    tp = NULL;

    if (nconf + nparams) {
        tp = ngx_palloc(r->pool,
                        (nconf + nparams) * sizeof(voice_twiml_param_t));
        if (tp == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /*
     * The token goes first: the stream reads the first
     * VOICE_TWILIO_PARAMS_MAX parameters only.
     */

    if (nparams) {
        tp[0].name = (u_char *) VOICE_TOKEN_NAME;
        tp[0].name_len = sizeof(VOICE_TOKEN_NAME) - 1;
        tp[0].value = token.data;
        tp[0].value_len = token.len;
    }

    pc = nconf ? ctx->conf->params->elts : NULL;

    for (i = 0; i < nconf; i++) {
        if (ngx_http_complex_value(r, &pc[i].value, &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        tp[nparams].name = pc[i].name.data;
        tp[nparams].name_len = pc[i].name.len;
        tp[nparams].value = value.data;
        tp[nparams].value_len = value.len;
        nparams++;
    }

    len = voice_twiml_stream(NULL, url.data, url.len, tp, nparams);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last += voice_twiml_stream(b->last, url.data, url.len, tp, nparams);

    return ngx_http_voice_header_respond(r, b, "text/xml");
}

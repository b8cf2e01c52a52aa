/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Twilio's voice webhook: validates the request and answers TwiML that
 * connects the call to our Media Streams location.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_module.h"


static void ngx_http_voice_twiml_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_voice_read_form(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_voice_twiml_respond(ngx_http_request_t *r,
    voice_param_t *params, size_t n);
static size_t ngx_http_voice_xml_escape(u_char *dst, u_char *src,
    size_t len);


static ngx_str_t  ngx_http_voice_http = ngx_string("http");
static ngx_str_t  ngx_http_voice_https = ngx_string("https");


ngx_int_t
ngx_http_voice_twiml_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_voice_loc_conf_t  *vlcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_http_voice_twiml_respond(r, NULL, 0);
    }

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voice_module);

    if (r->headers_in.content_length_n > (off_t) vlcf->max_form_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voice: webhook body of %O bytes is larger than "
                      "voice_max_form_size", r->headers_in.content_length_n);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_voice_twiml_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_voice_twiml_body(ngx_http_request_t *r)
{
    long            n;
    ngx_int_t       rc;
    ngx_str_t       body;
    voice_param_t  *params;

    rc = ngx_http_voice_read_form(r, &body);
    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    params = ngx_palloc(r->pool, voice_form_count(body.data, body.len)
                                 * sizeof(voice_param_t));
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

    ngx_http_finalize_request(r, ngx_http_voice_twiml_respond(r, params, n));
}


/* the whole form body in one piece of memory, within voice_max_form_size */

static ngx_int_t
ngx_http_voice_read_form(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char                     *p;
    size_t                      len, size;
    ssize_t                     n;
    ngx_buf_t                  *b;
    ngx_chain_t                *cl;
    ngx_http_voice_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voice_module);

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

    if (len > vlcf->max_form_size) {
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
ngx_http_voice_twiml_respond(ngx_http_request_t *r, voice_param_t *params,
    size_t n)
{
    size_t                        len;
    ngx_int_t                     rc;
    ngx_str_t                     url, *values, *scheme;
    ngx_buf_t                    *b;
    ngx_uint_t                    i;
    ngx_chain_t                   out;
    ngx_http_voice_loc_conf_t    *vlcf;
    ngx_http_voice_param_conf_t  *pc;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voice_module);

#if (NGX_HTTP_SSL)
    scheme = r->connection->ssl ? &ngx_http_voice_https : &ngx_http_voice_http;
#else
    scheme = &ngx_http_voice_http;
#endif

    rc = ngx_http_voice_check_signature(r, scheme, params, n);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_FORBIDDEN;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_complex_value(r, vlcf->stream_url, &url) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
                 "<Connect><Stream url=\"\">") - 1
          + ngx_http_voice_xml_escape(NULL, url.data, url.len)
          + sizeof("</Stream></Connect></Response>\n") - 1;

    values = NULL;
    pc = NULL;

    if (vlcf->stream_params) {
        pc = vlcf->stream_params->elts;

        values = ngx_palloc(r->pool,
                            vlcf->stream_params->nelts * sizeof(ngx_str_t));
        if (values == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < vlcf->stream_params->nelts; i++) {
            if (ngx_http_complex_value(r, &pc[i].value, &values[i])
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            len += sizeof("<Parameter name=\"\" value=\"\"/>") - 1
                   + ngx_http_voice_xml_escape(NULL, pc[i].name.data,
                                               pc[i].name.len)
                   + ngx_http_voice_xml_escape(NULL, values[i].data,
                                               values[i].len);
        }
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                         "<Response><Connect><Stream url=\"",
                         sizeof("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                "<Response><Connect><Stream url=\"") - 1);
    b->last += ngx_http_voice_xml_escape(b->last, url.data, url.len);
    *b->last++ = '"';
    *b->last++ = '>';

    for (i = 0; pc && i < vlcf->stream_params->nelts; i++) {
        b->last = ngx_cpymem(b->last, "<Parameter name=\"",
                             sizeof("<Parameter name=\"") - 1);
        b->last += ngx_http_voice_xml_escape(b->last, pc[i].name.data,
                                             pc[i].name.len);
        b->last = ngx_cpymem(b->last, "\" value=\"",
                             sizeof("\" value=\"") - 1);
        b->last += ngx_http_voice_xml_escape(b->last, values[i].data,
                                             values[i].len);
        b->last = ngx_cpymem(b->last, "\"/>", sizeof("\"/>") - 1);
    }

    b->last = ngx_cpymem(b->last, "</Stream></Connect></Response>\n",
                         sizeof("</Stream></Connect></Response>\n") - 1);

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/xml");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * Escapes text for a double-quoted XML attribute.  Control characters that
 * XML 1.0 does not allow are dropped.  With dst NULL, returns the length.
 */

static size_t
ngx_http_voice_xml_escape(u_char *dst, u_char *src, size_t len)
{
    u_char      *p, *end;
    size_t       n;
    const char  *e;

    n = 0;
    end = src + len;

    for (p = src; p < end; p++) {

        switch (*p) {
        case '&':  e = "&amp;";  break;
        case '<':  e = "&lt;";   break;
        case '>':  e = "&gt;";   break;
        case '"':  e = "&quot;"; break;
        case '\'': e = "&apos;"; break;
        case '\t': e = "&#9;";   break;
        case '\n': e = "&#10;";  break;
        case '\r': e = "&#13;";  break;
        default:
            if (*p < 0x20) {
                continue;
            }

            if (dst) {
                dst[n] = *p;
            }

            n++;
            continue;
        }

        if (dst) {
            ngx_memcpy(dst + n, e, ngx_strlen(e));
        }

        n += ngx_strlen(e);
    }

    return n;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Request headers that nginx 1.22 does not keep in headers_in, and the
 * response of the module's own content handlers
 */

#ifndef NGX_HTTP_VOICE_HEADER_H
#define NGX_HTTP_VOICE_HEADER_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the first request header of that name, case-insensitively, or NULL */
ngx_table_elt_t *ngx_http_voice_header_find(ngx_http_request_t *r,
    const char *name, size_t len);

/* a comma-separated header (h may be NULL) holds the token */
ngx_uint_t ngx_http_voice_header_has_token(ngx_table_elt_t *h,
    const char *token, size_t len);

/* a 200 response of one buffer, of the type given (a literal) */
ngx_int_t ngx_http_voice_header_respond(ngx_http_request_t *r, ngx_buf_t *b,
    const char *type);

#endif /* NGX_HTTP_VOICE_HEADER_H */

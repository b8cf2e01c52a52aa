/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_voice_mem.h"


ngx_uint_t  ngx_http_voice_mem_live;


yajl_alloc_funcs  ngx_http_voice_mem_yajl = {
    ngx_http_voice_mem_alloc,
    ngx_http_voice_mem_realloc,
    ngx_http_voice_mem_free,
    NULL
};


void *
ngx_http_voice_mem_alloc(void *ctx, size_t size)
{
    void  *p;

    p = malloc(size);

    if (p) {
        ngx_http_voice_mem_live++;
    }

    return p;
}


void *
ngx_http_voice_mem_realloc(void *ctx, void *ptr, size_t size)
{
    void  *p;

    p = realloc(ptr, size);

    if (p && ptr == NULL) {
        ngx_http_voice_mem_live++;
    }

    return p;
}


void
ngx_http_voice_mem_free(void *ctx, void *ptr)
{
    if (ptr) {
        ngx_http_voice_mem_live--;
        free(ptr);
    }
}


void
ngx_http_voice_mem_check(ngx_log_t *log, ngx_uint_t live_calls)
{
    if (live_calls == 0 && ngx_http_voice_mem_live != 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "voice: %ui allocations outlived their calls",
                      ngx_http_voice_mem_live);
    }
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Memory outside request pools: what can grow with a call (the output
 * queue, audio, text, request bodies, yajl parsers) is malloc'd through
 * these and freed as soon as it is done with, and counted, so a worker
 * can tell at exit whether any of it outlived its call.
 */

#ifndef NGX_HTTP_VOICE_MEM_H
#define NGX_HTTP_VOICE_MEM_H

#include <ngx_config.h>
#include <ngx_core.h>

#include <yajl/yajl_common.h>


/* ctx is unused: the signatures are yajl's */
void *ngx_http_voice_mem_alloc(void *ctx, size_t size);
void *ngx_http_voice_mem_realloc(void *ctx, void *ptr, size_t size);
void ngx_http_voice_mem_free(void *ctx, void *ptr);

/* alerts if allocations are live while no call is */
void ngx_http_voice_mem_check(ngx_log_t *log, ngx_uint_t live_calls);


extern yajl_alloc_funcs  ngx_http_voice_mem_yajl;
extern ngx_uint_t        ngx_http_voice_mem_live;

#endif /* NGX_HTTP_VOICE_MEM_H */

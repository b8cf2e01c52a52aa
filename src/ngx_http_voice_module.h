/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The module's identity, for the parts that keep a request context or
 * read a configuration: nothing else, so every part can include it and
 * the includes still run one way (module -> modes -> stream -> pure).
 */

#ifndef NGX_HTTP_VOICE_MODULE_H
#define NGX_HTTP_VOICE_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


extern ngx_module_t  ngx_http_voice_module;

#endif /* NGX_HTTP_VOICE_MODULE_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* voice_media_stream echo: the caller hears themselves */

#ifndef NGX_HTTP_VOICE_ECHO_H
#define NGX_HTTP_VOICE_ECHO_H

#include "ngx_http_voice_stream.h"


extern const ngx_http_voice_mode_t  ngx_http_voice_echo_mode;

#endif /* NGX_HTTP_VOICE_ECHO_H */

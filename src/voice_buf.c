/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_buf.h"


size_t
voice_buf_str(uint8_t *out, size_t at, const char *s)
{
    return voice_buf_mem(out, at, (const uint8_t *) s, strlen(s));
}


size_t
voice_buf_mem(uint8_t *out, size_t at, const uint8_t *p, size_t len)
{
    if (out && len) {
        memcpy(out + at, p, len);
    }

    return len;
}

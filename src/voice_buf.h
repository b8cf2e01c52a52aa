/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Bodies built in two passes: with out NULL the writers only count, so a
 * caller sizes its buffer exactly, then fills it with the same calls.
 * Each writes at out + at and returns how many bytes that is.
 */

#ifndef VOICE_BUF_H
#define VOICE_BUF_H

#include <stddef.h>
#include <stdint.h>


size_t voice_buf_str(uint8_t *out, size_t at, const char *s);
size_t voice_buf_mem(uint8_t *out, size_t at, const uint8_t *p, size_t len);

#endif /* VOICE_BUF_H */

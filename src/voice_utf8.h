/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Strict UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates,
 * nothing above U+10FFFF, no sequence cut short.
 */

#ifndef VOICE_UTF8_H
#define VOICE_UTF8_H

#include <stddef.h>
#include <stdint.h>


/* 1 if all of p[0..len) is UTF-8, 0 if not */
int voice_utf8_valid(const uint8_t *p, size_t len);

/* the length of the valid sequence at p (1 for ASCII), or 0 */
size_t voice_utf8_seq_len(const uint8_t *p, size_t len);

/*
 * How much of p[0..len) fits in max bytes without cutting a valid
 * sequence in two: len if it all fits, else max or a little less.
 */
size_t voice_utf8_cut(const uint8_t *p, size_t len, size_t max);

#endif /* VOICE_UTF8_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#ifndef VOICE_JSON_H
#define VOICE_JSON_H

#include <stddef.h>
#include <stdint.h>


/*
 * Escapes text for the inside of a JSON string: quote, backslash and
 * control characters; valid UTF-8 passes through, invalid bytes become
 * U+FFFD so the output is always valid JSON.  With out NULL, returns the
 * length only.
 */
size_t voice_json_escape(uint8_t *out, const uint8_t *in, size_t len);

#endif /* VOICE_JSON_H */

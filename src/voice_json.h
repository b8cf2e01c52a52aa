/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * JSON as the providers speak it: text escaped into the bodies we send,
 * and one string read out of the replies they send back.
 */

#ifndef VOICE_JSON_H
#define VOICE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>


/*
 * What voice_json_reply() returns; the providers' readers return these
 * under their own names (VOICE_LLM_DONE takes the 2 left out here).
 */
#define VOICE_JSON_NONE      0      /* no string at the path, or only "" */
#define VOICE_JSON_TEXT      1
#define VOICE_JSON_ERROR     3      /* the provider's error object */
#define VOICE_JSON_INVALID   4      /* not JSON, or nested too deep */

/* a path element: the first element of an array */
#define VOICE_JSON_FIRST     "[0]"


/*
 * Escapes text for the inside of a JSON string: quote, backslash and
 * control characters; valid UTF-8 passes through, invalid bytes become
 * U+FFFD so the output is always valid JSON.  With out NULL, returns the
 * length only.
 */
size_t voice_json_escape(uint8_t *out, const uint8_t *in, size_t len);

/* voice_json_escape() at out + at, for the two-pass writers of voice_buf.h */
size_t voice_json_put(uint8_t *out, size_t at, const uint8_t *in,
    size_t len);

/*
 * Reads a provider's reply: the string found at "path" (object keys from
 * the top, NULL-terminated; VOICE_JSON_FIRST steps into an array), or the
 * message of an error object {"error": {"message": ...}}, copied into
 * text (at most cap bytes, the rest dropped).  Strings found are joined;
 * an error message starts the text over.  Documents nested deeper than 7
 * are invalid.
 */
int voice_json_reply(const uint8_t *data, size_t len,
    const char *const *path, uint8_t *text, size_t cap, size_t *text_len,
    const yajl_alloc_funcs *af);

#endif /* VOICE_JSON_H */

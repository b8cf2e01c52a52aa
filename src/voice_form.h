/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * application/x-www-form-urlencoded bodies, as Twilio's webhook sends
 * them: decoded into parameters and sorted as Twilio's libraries sort
 * them for a signature.
 */

#ifndef VOICE_FORM_H
#define VOICE_FORM_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    uint8_t  *name;
    size_t    name_len;
    uint8_t  *value;
    size_t    value_len;
} voice_form_param_t;


/* the most parameters voice_form_parse() can return for this body */
size_t voice_form_count(const uint8_t *body, size_t len);

/*
 * Splits an application/x-www-form-urlencoded body into parameters,
 * decoding "+" and "%XX" in place.  Returns the number of parameters, or
 * -1 on a malformed escape.  Empty pairs ("a=1&&b=2") are skipped; a name
 * without "=" has an empty value.
 */
long voice_form_parse(uint8_t *body, size_t len, voice_form_param_t *params,
    size_t max);

/* orders two parameters: by name, then by value, bytewise (qsort's form) */
int voice_form_cmp(const void *a, const void *b);

/* sorts by name, then by value (bytewise), as Twilio's libraries do */
void voice_form_sort(voice_form_param_t *params, size_t n);

#endif /* VOICE_FORM_H */

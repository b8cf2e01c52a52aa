/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Form bodies as the webhook receives them: decoding never reads or
 * writes out of bounds, and every parameter lies inside the body.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_signature.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long                 n, i;
    size_t               max;
    uint8_t             *body, *scratch, digest[VOICE_SIGNATURE_LEN];
    voice_form_param_t  *params;

    body = malloc(size + 1);
    memcpy(body, data, size);

    max = voice_form_count(body, size);
    params = malloc(max * sizeof(voice_form_param_t));

    n = voice_form_parse(body, size, params, max);

    for (i = 0; i < n; i++) {
        if (params[i].name < body
            || params[i].name + params[i].name_len > body + size
            || params[i].value + params[i].value_len > body + size)
        {
            abort();
        }
    }

    if (n >= 0) {
        voice_form_sort(params, n);
        scratch = malloc(voice_signature_scratch(size, params, n) + 1);
        voice_signature((const uint8_t *) "k", 1, data, size, params, n,
                        size & 1, scratch, digest);
        free(scratch);
    }

    scratch = malloc(size + 8);
    (void) voice_signature_toggle_port(data, size, scratch);

    free(scratch);
    free(params);
    free(body);

    return 0;
}

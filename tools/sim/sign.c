/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "util.h"


void
sim_sign(const char *token, const char *url, voice_form_param_t *params,
    size_t n, char out[SIM_SIGN_LEN])
{
    size_t    url_len;
    uint8_t  *scratch, digest[VOICE_SIGNATURE_LEN];

    url_len = strlen(url);

    voice_form_sort(params, n);

    scratch = malloc(voice_signature_scratch(url_len, params, n) + 1);
    if (scratch == NULL) {
        sim_util_die("out of memory");
    }

    if (voice_signature((const uint8_t *) token, strlen(token),
                        (const uint8_t *) url, url_len, params, n, 0,
                        scratch, digest)
        != 0)
    {
        sim_util_die("cannot compute the signature");
    }

    free(scratch);

    sim_util_base64(digest, VOICE_SIGNATURE_LEN, out);
}

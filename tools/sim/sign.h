/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* X-Twilio-Signature of a request, as Twilio computes it */

#ifndef SIM_SIGN_H
#define SIM_SIGN_H

#include <stddef.h>

#include "voice_signature.h"


#define SIM_SIGN_LEN  64                /* base64 of the digest, and NUL */


/*
 * base64(HMAC-SHA1(token, url + the parameters sorted, name + value))
 * into out; the parameters are sorted in place.  Failure is fatal.
 */
void sim_sign(const char *token, const char *url, voice_form_param_t *params,
    size_t n, char out[SIM_SIGN_LEN]);

#endif /* SIM_SIGN_H */

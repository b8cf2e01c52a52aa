/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Twilio request signatures: X-Twilio-Signature computed as Twilio does,
 * base64(HMAC-SHA1(auth token, URL + name1 + value1 + name2 + value2 ...))
 * with the POST parameters sorted by name.
 */

#ifndef VOICE_SIGNATURE_H
#define VOICE_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "voice_form.h"


#define VOICE_SIGNATURE_LEN  20     /* raw HMAC-SHA1 */


/*
 * Bytes voice_signature() needs in its scratch buffer for this URL and
 * these parameters.
 */
size_t voice_signature_scratch(size_t url_len,
    const voice_form_param_t *params, size_t n);

/*
 * Computes the raw signature of a request.  The parameters must be sorted.
 * With "dedupe" set, a name+value pair repeated exactly is counted once,
 * as Twilio's Python library does.  Returns 0, or -1 if OpenSSL failed.
 */
int voice_signature(const uint8_t *token, size_t token_len,
    const uint8_t *url, size_t url_len, const voice_form_param_t *params,
    size_t n, int dedupe, uint8_t *scratch,
    uint8_t digest[VOICE_SIGNATURE_LEN]);

/* constant-time comparison of two raw signatures; 1 when equal */
int voice_signature_equal(const uint8_t *a, const uint8_t *b);

/*
 * The same URL with the default port toggled: "https://h/x" <->
 * "https://h:443/x" (":80" for http and ws, ":443" for https and wss).
 * Twilio may sign either form.  Writes into out (url_len + 4 bytes) and
 * returns the new length, or 0 if the URL has another port or no scheme.
 */
size_t voice_signature_toggle_port(const uint8_t *url, size_t url_len,
    uint8_t *out);

#endif /* VOICE_SIGNATURE_H */

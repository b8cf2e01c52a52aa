/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "voice_signature.h"


size_t
voice_signature_scratch(size_t url_len, const voice_form_param_t *params,
    size_t n)
{
    size_t  i, len;

    len = url_len;

    for (i = 0; i < n; i++) {
        len += params[i].name_len + params[i].value_len;
    }

    return len;
}


int
voice_signature(const uint8_t *token, size_t token_len,
    const uint8_t *url, size_t url_len, const voice_form_param_t *params,
    size_t n, int dedupe, uint8_t *scratch,
    uint8_t digest[VOICE_SIGNATURE_LEN])
{
    size_t        i;
    uint8_t      *p;
    unsigned int  len;

    p = scratch;

    memcpy(p, url, url_len);
    p += url_len;

    for (i = 0; i < n; i++) {

        if (dedupe && i > 0
            && voice_form_cmp(&params[i - 1], &params[i]) == 0)
        {
            continue;
        }

        memcpy(p, params[i].name, params[i].name_len);
        p += params[i].name_len;
        memcpy(p, params[i].value, params[i].value_len);
        p += params[i].value_len;
    }

    len = VOICE_SIGNATURE_LEN;

    if (HMAC(EVP_sha1(), token, (int) token_len, scratch, p - scratch,
             digest, &len)
        == NULL || len != VOICE_SIGNATURE_LEN)
    {
        return -1;
    }

    return 0;
}


int
voice_signature_equal(const uint8_t *a, const uint8_t *b)
{
    return CRYPTO_memcmp(a, b, VOICE_SIGNATURE_LEN) == 0;
}


size_t
voice_signature_toggle_port(const uint8_t *url, size_t url_len, uint8_t *out)
{
    size_t          slen, plen;
    const char     *port;
    const uint8_t  *host, *end, *p, *q, *colon;

    if (url_len > 8 && strncmp((const char *) url, "https://", 8) == 0) {
        slen = 8;
        port = ":443";

    } else if (url_len > 6 && strncmp((const char *) url, "wss://", 6) == 0) {
        slen = 6;
        port = ":443";

    } else if (url_len > 7 && strncmp((const char *) url, "http://", 7) == 0)
    {
        slen = 7;
        port = ":80";

    } else if (url_len > 5 && strncmp((const char *) url, "ws://", 5) == 0) {
        slen = 5;
        port = ":80";

    } else {
        return 0;
    }

    host = url + slen;
    end = url + url_len;

    for (p = host; p < end; p++) {
        if (*p == '/' || *p == '?' || *p == '#') {
            break;
        }
    }

    /* the authority is [host..p); skip an IPv6 literal before the port */

    colon = NULL;

    for (q = host; q < p; q++) {
        if (*q == ']') {
            colon = NULL;

        } else if (*q == ':') {
            colon = q;
        }
    }

    plen = strlen(port);

    if (colon == NULL) {
        memcpy(out, url, p - url);
        memcpy(out + (p - url), port, plen);
        memcpy(out + (p - url) + plen, p, end - p);
        return url_len + plen;
    }

    if ((size_t) (p - colon) != plen
        || memcmp(colon, port, plen) != 0)
    {
        return 0;
    }

    memcpy(out, url, colon - url);
    memcpy(out + (colon - url), p, end - p);

    return url_len - plen;
}

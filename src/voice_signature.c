/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "voice_signature.h"


static int voice_hex(uint8_t c);
static int voice_param_cmp(const void *a, const void *b);
static size_t voice_form_decode(uint8_t *s, size_t len);


size_t
voice_form_count(const uint8_t *body, size_t len)
{
    size_t  i, n;

    n = 1;

    for (i = 0; i < len; i++) {
        if (body[i] == '&') {
            n++;
        }
    }

    return n;
}


long
voice_form_parse(uint8_t *body, size_t len, voice_param_t *params,
    size_t max)
{
    size_t    n, nlen, vlen;
    uint8_t  *p, *end, *amp, *eq;

    n = 0;
    p = body;
    end = body + len;

    while (p < end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            p++;
            continue;
        }

        if (n == max) {
            return -1;
        }

        eq = memchr(p, '=', amp - p);

        if (eq == NULL) {
            nlen = voice_form_decode(p, amp - p);
            vlen = 0;
            params[n].value = amp;

        } else {
            nlen = voice_form_decode(p, eq - p);
            vlen = voice_form_decode(eq + 1, amp - eq - 1);
            params[n].value = eq + 1;
        }

        if (nlen == (size_t) -1 || vlen == (size_t) -1) {
            return -1;
        }

        params[n].name = p;
        params[n].name_len = nlen;
        params[n].value_len = vlen;
        n++;

        p = amp + 1;
    }

    return (long) n;
}


/* decodes "+" and "%XX" in place; the result never grows */
static size_t
voice_form_decode(uint8_t *s, size_t len)
{
    int     hi, lo;
    size_t  i, o;

    for (i = 0, o = 0; i < len; i++, o++) {

        if (s[i] == '+') {
            s[o] = ' ';

        } else if (s[i] == '%') {
            if (i + 2 >= len) {
                return (size_t) -1;
            }

            hi = voice_hex(s[i + 1]);
            lo = voice_hex(s[i + 2]);

            if (hi < 0 || lo < 0) {
                return (size_t) -1;
            }

            s[o] = (uint8_t) (hi << 4 | lo);
            i += 2;

        } else {
            s[o] = s[i];
        }
    }

    return o;
}


static int
voice_hex(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
voice_bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int  rc;

    rc = memcmp(a, b, alen < blen ? alen : blen);

    if (rc != 0) {
        return rc;
    }

    return (alen > blen) - (alen < blen);
}


static int
voice_param_cmp(const void *a, const void *b)
{
    int                   rc;
    const voice_param_t  *pa, *pb;

    pa = a;
    pb = b;

    rc = voice_bytes_cmp(pa->name, pa->name_len, pb->name, pb->name_len);

    if (rc != 0) {
        return rc;
    }

    return voice_bytes_cmp(pa->value, pa->value_len, pb->value,
                           pb->value_len);
}


void
voice_params_sort(voice_param_t *params, size_t n)
{
    if (n > 1) {
        qsort(params, n, sizeof(voice_param_t), voice_param_cmp);
    }
}


size_t
voice_signature_scratch(size_t url_len, const voice_param_t *params,
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
    const uint8_t *url, size_t url_len, const voice_param_t *params,
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
            && voice_param_cmp(&params[i - 1], &params[i]) == 0)
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
voice_url_toggle_port(const uint8_t *url, size_t url_len, uint8_t *out)
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

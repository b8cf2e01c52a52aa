/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "voice_token.h"


static int voice_token_mac(const uint8_t *key, size_t key_len,
    const uint8_t *call_sid, size_t call_sid_len, const uint8_t *expiry,
    size_t expiry_len, uint8_t mac[VOICE_TOKEN_MAC_LEN]);
static void voice_token_hex(uint8_t *out,
    const uint8_t mac[VOICE_TOKEN_MAC_LEN]);


size_t
voice_token_mint(uint8_t *out, const uint8_t *key, size_t key_len,
    const uint8_t *call_sid, size_t call_sid_len, int64_t expiry)
{
    size_t   i, n;
    uint8_t  digits[VOICE_TOKEN_EXPIRY_MAX], mac[VOICE_TOKEN_MAC_LEN];

    if (expiry < 0 || expiry > 999999999999999999LL) {
        return 0;
    }

    /* the digits backwards, then in order */

    n = 0;

    do {
        digits[n++] = (uint8_t) ('0' + expiry % 10);
        expiry /= 10;
    } while (expiry);

    for (i = 0; i < n; i++) {
        out[i] = digits[n - 1 - i];
    }

    if (voice_token_mac(key, key_len, call_sid, call_sid_len, out, n, mac)
        != 0)
    {
        return 0;
    }

    out[n++] = '.';

    voice_token_hex(out + n, mac);

    return n + 2 * VOICE_TOKEN_MAC_LEN;
}


int
voice_token_verify(const uint8_t *key, size_t key_len,
    const uint8_t *call_sid, size_t call_sid_len, const uint8_t *token,
    size_t token_len, int64_t now)
{
    size_t          i, n;
    int64_t         expiry;
    const uint8_t  *dot, *hex;
    uint8_t         mac[VOICE_TOKEN_MAC_LEN], want[2 * VOICE_TOKEN_MAC_LEN];

    if (token_len > VOICE_TOKEN_LEN) {
        return VOICE_TOKEN_MALFORMED;
    }

    dot = memchr(token, '.', token_len);
    if (dot == NULL) {
        return VOICE_TOKEN_MALFORMED;
    }

    n = dot - token;
    hex = dot + 1;

    if (n == 0 || n > VOICE_TOKEN_EXPIRY_MAX
        || token_len - n - 1 != 2 * VOICE_TOKEN_MAC_LEN)
    {
        return VOICE_TOKEN_MALFORMED;
    }

    expiry = 0;

    for (i = 0; i < n; i++) {
        if (token[i] < '0' || token[i] > '9') {
            return VOICE_TOKEN_MALFORMED;
        }

        expiry = expiry * 10 + (token[i] - '0');
    }

    for (i = 0; i < 2 * VOICE_TOKEN_MAC_LEN; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9')
              || (hex[i] >= 'a' && hex[i] <= 'f')))
        {
            return VOICE_TOKEN_MALFORMED;
        }
    }

    /* no token is minted for a longer SID */

    if (call_sid_len > VOICE_TOKEN_SID_MAX) {
        return VOICE_TOKEN_MISMATCH;
    }

    /* the expiry as the token spells it is what was signed */

    if (voice_token_mac(key, key_len, call_sid, call_sid_len, token, n, mac)
        != 0)
    {
        return VOICE_TOKEN_ERROR;
    }

    voice_token_hex(want, mac);

    if (CRYPTO_memcmp(want, hex, sizeof(want)) != 0) {
        return VOICE_TOKEN_MISMATCH;
    }

    if (now > expiry) {
        return VOICE_TOKEN_EXPIRED;
    }

    return VOICE_TOKEN_OK;
}


/* HMAC-SHA256(key, call_sid ":" expiry) */

static int
voice_token_mac(const uint8_t *key, size_t key_len, const uint8_t *call_sid,
    size_t call_sid_len, const uint8_t *expiry, size_t expiry_len,
    uint8_t mac[VOICE_TOKEN_MAC_LEN])
{
    unsigned int  len;
    uint8_t       data[VOICE_TOKEN_SID_MAX + 1 + VOICE_TOKEN_EXPIRY_MAX];

    if (call_sid_len > VOICE_TOKEN_SID_MAX
        || expiry_len > VOICE_TOKEN_EXPIRY_MAX)
    {
        return -1;
    }

    memcpy(data, call_sid, call_sid_len);
    data[call_sid_len] = ':';
    memcpy(data + call_sid_len + 1, expiry, expiry_len);

    len = VOICE_TOKEN_MAC_LEN;

    if (HMAC(EVP_sha256(), key, (int) key_len, data,
             call_sid_len + 1 + expiry_len, mac, &len)
        == NULL || len != VOICE_TOKEN_MAC_LEN)
    {
        return -1;
    }

    return 0;
}


static void
voice_token_hex(uint8_t *out, const uint8_t mac[VOICE_TOKEN_MAC_LEN])
{
    size_t  i;

    static const char  hex[] = "0123456789abcdef";

    for (i = 0; i < VOICE_TOKEN_MAC_LEN; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 0x0f];
    }
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * voiceToken as the media stream reads it from the peer: any bytes are
 * checked without reading out of bounds, and a token made for the SID
 * (the input's first byte says how long) is valid until its expiry only.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_token.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int      rc;
    size_t   sid_len, n;
    int64_t  expiry;
    uint8_t  token[VOICE_TOKEN_LEN], *copy;

    /* the input as a token, in memory of its own size */

    copy = malloc(size ? size : 1);
    memcpy(copy, data, size);

    rc = voice_token_verify((const uint8_t *) "k", 1,
                            (const uint8_t *) "CA1", 3, copy, size, 0);
    if (rc == VOICE_TOKEN_OK) {
        /* a forgery: the fuzzer found an HMAC-SHA256 */
        abort();
    }

    free(copy);

    if (size == 0) {
        return 0;
    }

    /* a SID from the input, a token made for it */

    sid_len = data[0] % (VOICE_TOKEN_SID_MAX + 1);
    sid_len = sid_len < size - 1 ? sid_len : size - 1;
    expiry = (int64_t) (size * 7919);

    n = voice_token_mint(token, data + 1, size - 1 - sid_len, data + 1,
                         sid_len, expiry);
    if (n == 0 || n > VOICE_TOKEN_LEN) {
        abort();
    }

    if (voice_token_verify(data + 1, size - 1 - sid_len, data + 1, sid_len,
                           token, n, expiry) != VOICE_TOKEN_OK
        || voice_token_verify(data + 1, size - 1 - sid_len, data + 1,
                              sid_len, token, n, expiry + 1)
           != VOICE_TOKEN_EXPIRED)
    {
        abort();
    }

    return 0;
}

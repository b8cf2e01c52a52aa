/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * voiceToken: a token made by the documented formula elsewhere (Python's
 * hmac) byte for byte, and every way a token can be wrong: expired, for
 * another call or key, each byte tampered with, truncated at each length,
 * over-long, malformed.
 */

#include "unit.h"
#include "voice_token.h"


#define KEY   "s3cret"
#define SID   "CA0123456789abcdef0123456789abcdef"

/* hmac.new(b"s3cret", b"CA0123...cdef:1700000000", sha256).hexdigest() */
#define MAC   "348eb8ae5d40290585879f22d59c4de5792275fa686a0d9ee5765a1e0225b5f7"
#define GOOD  "1700000000." MAC

#define NOW   1699999990


static int
verify(const char *sid, const char *token, size_t len, int64_t now)
{
    return voice_token_verify((const uint8_t *) KEY, sizeof(KEY) - 1,
                              (const uint8_t *) sid, strlen(sid),
                              (const uint8_t *) token, len, now);
}


static int
verify_str(const char *token, int64_t now)
{
    return verify(SID, token, strlen(token), now);
}


static void
test_mint(void)
{
    size_t   n;
    uint8_t  out[VOICE_TOKEN_LEN];
    char     sid[VOICE_TOKEN_SID_MAX + 2];

    n = voice_token_mint(out, (const uint8_t *) KEY, sizeof(KEY) - 1,
                         (const uint8_t *) SID, sizeof(SID) - 1,
                         1700000000);
    CHECK_MEM(out, n, GOOD, sizeof(GOOD) - 1);

    /* the range of an expiry */

    n = voice_token_mint(out, (const uint8_t *) KEY, sizeof(KEY) - 1,
                         (const uint8_t *) SID, sizeof(SID) - 1, 0);
    CHECK_INT(n, 2 + 2 * VOICE_TOKEN_MAC_LEN);
    CHECK(n > 2 && out[0] == '0' && out[1] == '.');
    CHECK_INT(verify(SID, (char *) out, n, 0), VOICE_TOKEN_OK);

    n = voice_token_mint(out, (const uint8_t *) KEY, sizeof(KEY) - 1,
                         (const uint8_t *) SID, sizeof(SID) - 1,
                         999999999999999999LL);
    CHECK_INT(n, VOICE_TOKEN_LEN);
    CHECK_INT(verify(SID, (char *) out, n, NOW), VOICE_TOKEN_OK);

    CHECK_INT(voice_token_mint(out, (const uint8_t *) KEY, sizeof(KEY) - 1,
                               (const uint8_t *) SID, sizeof(SID) - 1, -1),
              0);
    CHECK_INT(voice_token_mint(out, (const uint8_t *) KEY, sizeof(KEY) - 1,
                               (const uint8_t *) SID, sizeof(SID) - 1,
                               1000000000000000000LL),
              0);

    /* a SID of up to 64 bytes, as the stream reads one */

    memset(sid, 'C', sizeof(sid) - 1);
    sid[VOICE_TOKEN_SID_MAX] = '\0';

    n = voice_token_mint(out, (const uint8_t *) KEY, sizeof(KEY) - 1,
                         (const uint8_t *) sid, VOICE_TOKEN_SID_MAX, NOW);
    CHECK(n > 0);
    CHECK_INT(verify(sid, (char *) out, n, NOW), VOICE_TOKEN_OK);

    sid[VOICE_TOKEN_SID_MAX] = 'C';
    sid[VOICE_TOKEN_SID_MAX + 1] = '\0';

    CHECK_INT(voice_token_mint(out, (const uint8_t *) KEY, sizeof(KEY) - 1,
                               (const uint8_t *) sid, VOICE_TOKEN_SID_MAX + 1,
                               NOW),
              0);
    CHECK_INT(verify(sid, (char *) out, n, NOW), VOICE_TOKEN_MISMATCH);

    /* an empty SID and an empty key are still a MAC */

    n = voice_token_mint(out, (const uint8_t *) "", 0, (const uint8_t *) "",
                         0, NOW);
    CHECK(n > 0);
    CHECK_INT(voice_token_verify((const uint8_t *) "", 0,
                                 (const uint8_t *) "", 0, out, n, NOW),
              VOICE_TOKEN_OK);
    CHECK_INT(verify("", (char *) out, n, NOW), VOICE_TOKEN_MISMATCH);
}


static void
test_valid_and_expired(void)
{
    char    upper[sizeof(GOOD)];
    size_t  i;

    CHECK_INT(verify_str(GOOD, NOW), VOICE_TOKEN_OK);
    CHECK_INT(verify_str(GOOD, 1700000000), VOICE_TOKEN_OK);
    CHECK_INT(verify_str(GOOD, 1700000001), VOICE_TOKEN_EXPIRED);
    CHECK_INT(verify_str(GOOD, 1800000000), VOICE_TOKEN_EXPIRED);

    /* the hex is lowercase, as the formula writes it */

    for (i = 0; i < sizeof(GOOD); i++) {
        upper[i] = (GOOD[i] >= 'a' && GOOD[i] <= 'f') ? GOOD[i] - 0x20
                                                       : GOOD[i];
    }

    CHECK_INT(verify_str(upper, NOW), VOICE_TOKEN_MALFORMED);
}


static void
test_other_call_or_key(void)
{
    CHECK_INT(verify("CA0123456789abcdef0123456789abcdee", GOOD,
                     sizeof(GOOD) - 1, NOW),
              VOICE_TOKEN_MISMATCH);
    CHECK_INT(verify("CA0123456789abcdef0123456789abcdef0", GOOD,
                     sizeof(GOOD) - 1, NOW),
              VOICE_TOKEN_MISMATCH);
    CHECK_INT(verify("", GOOD, sizeof(GOOD) - 1, NOW), VOICE_TOKEN_MISMATCH);

    CHECK_INT(voice_token_verify((const uint8_t *) "s3creT", 6,
                                 (const uint8_t *) SID, sizeof(SID) - 1,
                                 (const uint8_t *) GOOD, sizeof(GOOD) - 1,
                                 NOW),
              VOICE_TOKEN_MISMATCH);

    /* a forged token is not "expired", whatever expiry it names */

    CHECK_INT(verify_str("1600000000." MAC, NOW),
              VOICE_TOKEN_MISMATCH);

    /* the expiry is signed as spelt: leading zeros are another token */

    CHECK_INT(verify_str("01700000000." MAC, NOW),
              VOICE_TOKEN_MISMATCH);
}


static void
test_tampered(void)
{
    int       rc;
    char      t[sizeof(GOOD)];
    size_t    i;
    unsigned  bit;

    /* every bit of every byte, flipped: never a valid token */

    for (i = 0; i < sizeof(GOOD) - 1; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(t, GOOD, sizeof(GOOD));
            t[i] ^= (char) (1u << bit);

            rc = verify(SID, t, sizeof(GOOD) - 1, NOW);

            if (rc != VOICE_TOKEN_MALFORMED && rc != VOICE_TOKEN_MISMATCH) {
                UNIT_FAIL("byte %zu bit %u: %d", i, bit, rc);
            } else {
                unit_passed++;
            }
        }
    }
}


static void
test_malformed(void)
{
    char    t[2 * VOICE_TOKEN_LEN];
    size_t  i;

    /* truncated at every length */

    for (i = 0; i < sizeof(GOOD) - 1; i++) {
        CHECK_INT(verify(SID, GOOD, i, NOW), VOICE_TOKEN_MALFORMED);
    }

    /* one byte more, anything */

    memcpy(t, GOOD, sizeof(GOOD) - 1);
    t[sizeof(GOOD) - 1] = '0';
    CHECK_INT(verify(SID, t, sizeof(GOOD), NOW), VOICE_TOKEN_MALFORMED);

    /* longer than any token */

    memset(t, '1', sizeof(t));
    CHECK_INT(verify(SID, t, sizeof(t), NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify(SID, t, VOICE_TOKEN_LEN + 1, NOW),
              VOICE_TOKEN_MALFORMED);

    CHECK_INT(verify_str("", NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str(".", NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("1700000000.", NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("." MAC, NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("1700000000" MAC, NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("1700000000:" MAC, NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("-1700000000." MAC, NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("+1700000000." MAC, NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("1700000000.."
        "348eb8ae5d40290585879f22d59c4de5792275fa686a0d9ee5765a1e0225b5f",
        NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("1700000000. "
        "348eb8ae5d40290585879f22d59c4de5792275fa686a0d9ee5765a1e0225b5f",
        NOW), VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("1700000000."
        "348eb8ae5d40290585879f22d59c4de5792275fa686a0d9ee5765a1e0225b5fg",
        NOW), VOICE_TOKEN_MALFORMED);

    /* 19 digits would not fit; 18 do */

    CHECK_INT(verify_str("1000000000000000000." MAC, NOW),
              VOICE_TOKEN_MALFORMED);
    CHECK_INT(verify_str("100000000000000000." MAC, NOW),
              VOICE_TOKEN_MISMATCH);

    /* a NUL inside is a byte like any other */

    memcpy(t, GOOD, sizeof(GOOD));
    t[3] = '\0';
    CHECK_INT(verify(SID, t, sizeof(GOOD) - 1, NOW), VOICE_TOKEN_MALFORMED);
}


int
main(void)
{
    test_mint();
    test_valid_and_expired();
    test_other_call_or_key();
    test_tampered();
    test_malformed();

    UNIT_DONE("token");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The voiceToken that binds a media stream to its call.  The webhook
 * puts it into the TwiML as a <Parameter>; Twilio hands it back in the
 * stream's start.customParameters, and the stream is refused unless it
 * is for start.callSid and not expired:
 *
 *     voiceToken = expiry "." hex(HMAC-SHA256(auth token,
 *                                             CallSid ":" expiry))
 *
 * expiry in decimal Unix seconds, the hex in lowercase.  SHA-256 keeps
 * these MACs apart from Twilio's own signatures, which are HMAC-SHA1
 * under the same key.
 */

#ifndef VOICE_TOKEN_H
#define VOICE_TOKEN_H

#include <stddef.h>
#include <stdint.h>


#define VOICE_TOKEN_NAME         "voiceToken"

#define VOICE_TOKEN_MAC_LEN      32         /* raw HMAC-SHA256 */
#define VOICE_TOKEN_SID_MAX      64         /* as in voice_twilio.h */
#define VOICE_TOKEN_EXPIRY_MAX   18         /* digits: fits in int64_t */
#define VOICE_TOKEN_LEN          (VOICE_TOKEN_EXPIRY_MAX + 1              \
                                  + 2 * VOICE_TOKEN_MAC_LEN)

#define VOICE_TOKEN_OK            0
#define VOICE_TOKEN_MALFORMED    -1
#define VOICE_TOKEN_MISMATCH     -2         /* not for this call or key */
#define VOICE_TOKEN_EXPIRED      -3
#define VOICE_TOKEN_ERROR        -4         /* OpenSSL failed */


/*
 * Writes the token of a call that expires at expiry (0 to 10^18 - 1)
 * into out, which holds VOICE_TOKEN_LEN bytes, and returns its length;
 * 0 if the expiry is out of range, the SID longer than
 * VOICE_TOKEN_SID_MAX, or OpenSSL failed.
 */
size_t voice_token_mint(uint8_t *out, const uint8_t *key, size_t key_len,
    const uint8_t *call_sid, size_t call_sid_len, int64_t expiry);

/*
 * Checks a token for this call at time now.  A token whose MAC does not
 * match is VOICE_TOKEN_MISMATCH whatever its expiry says; one that
 * matches is VOICE_TOKEN_EXPIRED once now is past its expiry.  The MAC
 * is compared, as hex, in constant time.
 */
int voice_token_verify(const uint8_t *key, size_t key_len,
    const uint8_t *call_sid, size_t call_sid_len, const uint8_t *token,
    size_t token_len, int64_t now);

#endif /* VOICE_TOKEN_H */

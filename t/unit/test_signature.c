/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <openssl/evp.h>

#include "unit.h"
#include "voice_signature.h"


static void
sign(const char *token, const char *url, char *body, int dedupe,
    char *b64)
{
    long                n;
    uint8_t             digest[VOICE_SIGNATURE_LEN];
    uint8_t             scratch[4096];
    voice_form_param_t  params[64];

    n = voice_form_parse((uint8_t *) body, strlen(body), params, 64);
    CHECK(n >= 0);
    voice_form_sort(params, n);
    CHECK(voice_signature_scratch(strlen(url), params, n) <= sizeof(scratch));
    CHECK_INT(voice_signature((const uint8_t *) token, strlen(token),
                              (const uint8_t *) url, strlen(url), params, n,
                              dedupe, scratch, digest), 0);
    EVP_EncodeBlock((unsigned char *) b64, digest, VOICE_SIGNATURE_LEN);
}


static void
test_twilio_example(void)
{
    char  b64[64];
    char  body[] = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030"
                   "&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    char  shuffled[] = "To=%2B18005551212&Digits=1234&CallSid=CA1234567890ABCDE"
                       "&From=%2B12349013030&Caller=%2B12349013030";

    /* Twilio's published example */

    sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", body, 0,
         b64);
    CHECK_STR(b64, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");

    /* order of the body does not matter */

    sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", shuffled, 0,
         b64);
    CHECK_STR(b64, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}


static void
test_repeated(void)
{
    char  a[] = "To=1&X=b&X=a";
    char  b[] = "X=a&To=1&X=b";
    char  c[] = "X=a&X=a&To=1";
    char  s1[64], s2[64], s3[64], s4[64];

    /* values of a repeated name are sorted too */

    sign("tok", "https://h/x", a, 0, s1);
    sign("tok", "https://h/x", b, 0, s2);
    CHECK_STR(s1, s2);

    /* exact duplicates: counted twice, or once when deduplicated */

    sign("tok", "https://h/x", c, 0, s3);
    memcpy(c, "X=a&X=a&To=1", sizeof(c));
    sign("tok", "https://h/x", c, 1, s4);
    CHECK(strcmp(s3, s4) != 0);

    {
        char  d[] = "X=a&To=1";

        sign("tok", "https://h/x", d, 0, s3);
        CHECK_STR(s3, s4);
    }
}


static void
toggle(const char *in, const char *want)
{
    size_t   n;
    uint8_t  out[256];

    n = voice_signature_toggle_port((const uint8_t *) in, strlen(in), out);

    if (want == NULL) {
        CHECK_INT(n, 0);
        return;
    }

    CHECK_MEM(out, n, want, strlen(want));
}


static void
test_toggle_port(void)
{
    toggle("https://h.com/a?b=1", "https://h.com:443/a?b=1");
    toggle("https://h.com:443/a?b=1", "https://h.com/a?b=1");
    toggle("http://h.com/a", "http://h.com:80/a");
    toggle("http://h.com:80/a", "http://h.com/a");
    toggle("wss://h.com/s/1", "wss://h.com:443/s/1");
    toggle("ws://h.com:80/s", "ws://h.com/s");
    toggle("https://h.com", "https://h.com:443");
    toggle("https://h.com?x=1", "https://h.com:443?x=1");
    toggle("https://[::1]/a", "https://[::1]:443/a");
    toggle("https://[::1]:443/a", "https://[::1]/a");
    toggle("https://h.com:8443/a", NULL);
    toggle("http://h.com:443/a", NULL);
    toggle("ftp://h.com/a", NULL);
    toggle("", NULL);
}


static void
test_equal(void)
{
    uint8_t  a[VOICE_SIGNATURE_LEN], b[VOICE_SIGNATURE_LEN];
    int      i;

    memset(a, 7, sizeof(a));
    memcpy(b, a, sizeof(a));
    CHECK(voice_signature_equal(a, b));

    for (i = 0; i < VOICE_SIGNATURE_LEN; i++) {
        b[i] ^= 1;
        CHECK(!voice_signature_equal(a, b));
        b[i] ^= 1;
    }
}


int
main(void)
{
    test_twilio_example();
    test_repeated();
    test_toggle_port();
    test_equal();

    UNIT_DONE("signature");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * TwiML: every byte value through the attribute escaper against a table
 * written out here, and whole documents byte for byte, their length
 * known before they are written.
 */

#include "unit.h"
#include "voice_twiml.h"


/* what a byte becomes inside an attribute value */

static const char *
ref_escape(unsigned c, char *buf)
{
    switch (c) {
    case '&':  return "&amp;";
    case '<':  return "&lt;";
    case '>':  return "&gt;";
    case '"':  return "&quot;";
    case '\'': return "&apos;";
    case 0x09: return "&#9;";
    case 0x0a: return "&#10;";
    case 0x0d: return "&#13;";
    }

    /* other control characters are not allowed in XML 1.0 */

    if (c < 0x20) {
        return "";
    }

    buf[0] = (char) c;
    buf[1] = '\0';

    return buf;
}


static void
check_doc(const char *url, const voice_twiml_param_t *params, size_t n,
    const char *want)
{
    size_t   len, wrote;
    uint8_t  out[1024];

    len = voice_twiml_stream(NULL, (const uint8_t *) url, strlen(url),
                             params, n);
    memset(out, '#', sizeof(out));
    wrote = voice_twiml_stream(out, (const uint8_t *) url, strlen(url),
                               params, n);

    CHECK_INT(wrote, len);
    CHECK_MEM(out, wrote, want, strlen(want));
    CHECK_INT(out[wrote], '#');
}


int
main(void)
{
    char                  one[2];
    size_t                c, n, len, bad;
    uint8_t               b, all[256], out[2048], want[2048];
    const char           *e;
    voice_twiml_param_t   p[3];

    /* every byte alone */

    bad = 0;

    for (c = 0; c < 256; c++) {
        b = (uint8_t) c;
        e = ref_escape((unsigned) c, one);

        n = voice_twiml_escape(out, &b, 1);

        if (n != strlen(e) || memcmp(out, e, n) != 0
            || voice_twiml_escape(NULL, &b, 1) != n)
        {
            UNIT_FAIL("byte 0x%02zx escaped to \"%.*s\"", c, (int) n, out);
            bad++;
        }
    }

    CHECK_INT(bad, 0);

    /* all of them in one text: the same, one after another */

    len = 0;

    for (c = 0; c < 256; c++) {
        all[c] = (uint8_t) c;
        e = ref_escape((unsigned) c, one);
        memcpy(want + len, e, strlen(e));
        len += strlen(e);
    }

    n = voice_twiml_escape(out, all, 256);
    CHECK_MEM(out, n, want, len);
    CHECK_INT(voice_twiml_escape(NULL, all, 256), len);

    /* nothing to escape: nothing written */

    CHECK_INT(voice_twiml_escape(NULL, NULL, 0), 0);

    /* a document without parameters */

    check_doc("wss://example.com/api/v1/voice/media-stream/c1", NULL, 0,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>"
              "<Stream url=\"wss://example.com/api/v1/voice/media-stream/c1\">"
              "</Stream></Connect></Response>\n");

    /* with parameters, each escaped: names, values and the URL */

    p[0].name = (const uint8_t *) "callId";
    p[0].name_len = 6;
    p[0].value = (const uint8_t *) "c1";
    p[0].value_len = 2;
    p[1].name = (const uint8_t *) "a\"b";
    p[1].name_len = 3;
    p[1].value = (const uint8_t *) "<x & 'y'>\n\x01";
    p[1].value_len = 11;
    p[2].name = (const uint8_t *) "empty";
    p[2].name_len = 5;
    p[2].value = NULL;
    p[2].value_len = 0;

    check_doc("wss://h/s?a=1&b=2", p, 3,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>"
              "<Stream url=\"wss://h/s?a=1&amp;b=2\">"
              "<Parameter name=\"callId\" value=\"c1\"/>"
              "<Parameter name=\"a&quot;b\" value=\"&lt;x &amp; &apos;y&apos;"
              "&gt;&#10;\"/>"
              "<Parameter name=\"empty\" value=\"\"/>"
              "</Stream></Connect></Response>\n");

    /* an empty URL still makes a whole document */

    check_doc("", NULL, 0,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>"
              "<Stream url=\"\"></Stream></Connect></Response>\n");

    /* a transfer: a number, a SIP URI, each escaped */

    n = voice_twiml_dial(out, (const uint8_t *) "+15551234567", 12);
    CHECK_INT(voice_twiml_dial(NULL, (const uint8_t *) "+15551234567", 12), n);
    CHECK_MEM(out, n, "<Response><Dial><Number>+15551234567</Number></Dial>"
              "</Response>", 63);

    n = voice_twiml_dial(out, (const uint8_t *) "SIP:desk@pbx.example?x=1&y=2",
                         28);
    CHECK_MEM(out, n, "<Response><Dial><Sip>SIP:desk@pbx.example?x=1&amp;y=2"
              "</Sip></Dial></Response>", 77);

    n = voice_twiml_dial(out, (const uint8_t *) "sips:a@b", 8);
    CHECK_MEM(out, n, "<Response><Dial><Sip>sips:a@b</Sip></Dial></Response>",
              53);

    n = voice_twiml_dial(out, (const uint8_t *) "sip", 3);
    CHECK_MEM(out, n, "<Response><Dial><Number>sip</Number></Dial></Response>",
              54);

    UNIT_DONE("twiml");
}

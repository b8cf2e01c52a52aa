/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <strings.h>

#include "voice_buf.h"
#include "voice_twiml.h"


size_t
voice_twiml_escape(uint8_t *out, const uint8_t *s, size_t len)
{
    size_t       i, n;
    const char  *e;

    n = 0;

    for (i = 0; i < len; i++) {

        switch (s[i]) {
        case '&':  e = "&amp;";  break;
        case '<':  e = "&lt;";   break;
        case '>':  e = "&gt;";   break;
        case '"':  e = "&quot;"; break;
        case '\'': e = "&apos;"; break;
        case '\t': e = "&#9;";   break;
        case '\n': e = "&#10;";  break;
        case '\r': e = "&#13;";  break;
        default:
            if (s[i] < 0x20) {
                continue;
            }

            if (out) {
                out[n] = s[i];
            }

            n++;
            continue;
        }

        n += voice_buf_str(out, n, e);
    }

    return n;
}


/* voice_twiml_escape() at out + at */

static size_t
voice_twiml_put(uint8_t *out, size_t at, const uint8_t *s, size_t len)
{
    return voice_twiml_escape(out ? out + at : NULL, s, len);
}


size_t
voice_twiml_stream(uint8_t *out, const uint8_t *url, size_t url_len,
    const voice_twiml_param_t *params, size_t n)
{
    size_t  i, len;

    len = voice_buf_str(out, 0, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                        "<Response><Connect><Stream url=\"");
    len += voice_twiml_put(out, len, url, url_len);
    len += voice_buf_str(out, len, "\">");

    for (i = 0; i < n; i++) {
        len += voice_buf_str(out, len, "<Parameter name=\"");
        len += voice_twiml_put(out, len, params[i].name, params[i].name_len);
        len += voice_buf_str(out, len, "\" value=\"");
        len += voice_twiml_put(out, len, params[i].value,
                               params[i].value_len);
        len += voice_buf_str(out, len, "\"/>");
    }

    len += voice_buf_str(out, len, "</Stream></Connect></Response>\n");

    return len;
}


size_t
voice_twiml_dial(uint8_t *out, const uint8_t *to, size_t to_len)
{
    size_t       len;
    const char  *noun;

    noun = ((to_len >= 4 && strncasecmp((const char *) to, "sip:", 4) == 0)
            || (to_len >= 5 && strncasecmp((const char *) to, "sips:", 5)
                               == 0))
           ? "Sip" : "Number";

    len = voice_buf_str(out, 0, "<Response><Dial><");
    len += voice_buf_str(out, len, noun);
    len += voice_buf_str(out, len, ">");
    len += voice_twiml_put(out, len, to, to_len);
    len += voice_buf_str(out, len, "</");
    len += voice_buf_str(out, len, noun);
    len += voice_buf_str(out, len, "></Dial></Response>");

    return len;
}

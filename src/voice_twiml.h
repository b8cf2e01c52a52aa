/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The TwiML that answers Twilio's voice webhook: connect the call to a
 * media stream at a URL, with parameters that come back in the stream's
 * "start" message; and the TwiML that moves a live call elsewhere.
 */

#ifndef VOICE_TWIML_H
#define VOICE_TWIML_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    const uint8_t  *name;
    size_t          name_len;
    const uint8_t  *value;
    size_t          value_len;
} voice_twiml_param_t;


/*
 * Escapes text for an XML attribute value: & < > " ' as entities, tab,
 * LF and CR as character references (so they survive attribute value
 * normalization); other control characters, which XML 1.0 does not
 * allow, are dropped.  With out NULL, returns the length only.
 */
size_t voice_twiml_escape(uint8_t *out, const uint8_t *s, size_t len);

/*
 * <Response><Connect><Stream url="..."> with a <Parameter> each.  With
 * out NULL, returns the exact length; otherwise writes it and returns it.
 */
size_t voice_twiml_stream(uint8_t *out, const uint8_t *url, size_t url_len,
    const voice_twiml_param_t *params, size_t n);

/*
 * <Response><Dial> to a destination: a <Sip> noun for a "sip:" or
 * "sips:" URI, else a <Number>; the TwiML of a transfer.  With out NULL,
 * returns the exact length.
 */
size_t voice_twiml_dial(uint8_t *out, const uint8_t *to, size_t to_len);

#endif /* VOICE_TWIML_H */

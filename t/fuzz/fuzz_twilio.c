/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Twilio messages as a peer could send them, through one long-lived parser
 * as in a call; and the builders with bytes of the input as sid and name,
 * whose output must parse back.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_json.h"
#include "voice_twilio.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                        n, half, sn;
    uint8_t                       out[4096], sid[200 * 6];
    static int                    ready;
    static voice_twilio_msg_t     m;
    static voice_twilio_parser_t  p;
    static char                   copy[VOICE_TWILIO_PAYLOAD_MAX];

    if (!ready) {
        if (voice_twilio_parser_init(&p, NULL) != VOICE_TWILIO_OK) {
            abort();
        }

        ready = 1;
    }

    if (voice_twilio_parse(&p, data, size, &m) == VOICE_TWILIO_OK) {
        if (m.payload_len > VOICE_TWILIO_PAYLOAD_MAX
            || m.nparams > VOICE_TWILIO_PARAMS_MAX)
        {
            abort();
        }

        /* the payload, in the input or the parser, is there to be read */

        memcpy(copy, m.payload, m.payload_len);
    }

    half = size / 2 > 200 ? 200 : size / 2;

    /* the SID escaped once, as the module does for the call */

    sn = voice_json_escape(sid, data, half);

    n = voice_twilio_mark(out, sizeof(out), (const char *) sid, sn,
                          data + half, half);

    if (n != voice_twilio_mark_size(sn, data + half, half)) {
        abort();
    }

    if (voice_twilio_parse(&p, out, n, &m) != VOICE_TWILIO_OK
        && strcmp(p.error, "string value too long") != 0)
    {
        abort();
    }

    return 0;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The media messages read without yajl against yajl: two long-lived
 * parsers as in a call, one as the module has it and one made to send
 * every message to yajl, read the input whole and then as messages cut
 * at each 0xff byte (which no message the fast path takes holds).  They
 * must agree on everything: the return code and error, every field of
 * the message, the payload's bytes and where it points; and the fast
 * path takes only what yajl reads as a media message.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_twilio.h"


static voice_twilio_parser_t  fast, slow;
static voice_twilio_msg_t     fm, sm;


static int
same_str(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }

    return strcmp(a, b) == 0;
}


static void
same(const uint8_t *data, size_t size)
{
    int            fr, sr;
    unsigned       i;
    unsigned long  before;

    before = fast.fast;

    fr = voice_twilio_parse(&fast, data, size, &fm);
    sr = voice_twilio_parse(&slow, data, size, &sm);

    if (fr != sr
        || !same_str(fast.error, slow.error)
        || strcmp(fast.event_name, slow.event_name) != 0
        || fm.event != sm.event
        || fm.sequence != sm.sequence
        || strcmp(fm.stream_sid, sm.stream_sid) != 0
        || strcmp(fm.call_sid, sm.call_sid) != 0
        || strcmp(fm.account_sid, sm.account_sid) != 0
        || strcmp(fm.encoding, sm.encoding) != 0
        || fm.sample_rate != sm.sample_rate
        || fm.channels != sm.channels
        || fm.nparams != sm.nparams
        || fm.track_outbound != sm.track_outbound
        || fm.chunk != sm.chunk
        || fm.timestamp != sm.timestamp
        || fm.payload_len != sm.payload_len
        || memcmp(fm.payload, sm.payload, fm.payload_len) != 0
        || (fm.payload == fast.payload) != (sm.payload == slow.payload)
        || strcmp(fm.digit, sm.digit) != 0
        || strcmp(fm.mark_name, sm.mark_name) != 0)
    {
        abort();
    }

    /* in the input, at the same place */

    if (sm.payload != slow.payload
        && (fm.payload != sm.payload
            || sm.payload < (const char *) data
            || sm.payload + sm.payload_len > (const char *) data + size))
    {
        abort();
    }

    for (i = 0; i < fm.nparams; i++) {
        if (strcmp(fm.params[i].name, sm.params[i].name) != 0
            || strcmp(fm.params[i].value, sm.params[i].value) != 0)
        {
            abort();
        }
    }

    if (fast.fast != before
        && (fast.fast != before + 1 || sr != VOICE_TWILIO_OK
            || sm.event != VOICE_TWILIO_MEDIA))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t        *msg;
    const uint8_t  *s, *end, *cut;
    static int      ready;

    if (!ready) {
        if (voice_twilio_parser_init(&fast, NULL) != VOICE_TWILIO_OK
            || voice_twilio_parser_init(&slow, NULL) != VOICE_TWILIO_OK)
        {
            abort();
        }

        slow.slow_only = 1;
        ready = 1;
    }

    same(data, size);

    s = data;
    end = data + size;

    while (s < end) {
        cut = memchr(s, 0xff, (size_t) (end - s));

        if (cut == NULL) {
            cut = end;
        }

        /* each message its own copy, as long as it is: no read past it */

        if (cut != data + size || s != data) {
            msg = malloc((size_t) (cut - s) + 1);

            if (msg == NULL) {
                abort();
            }

            memcpy(msg, s, (size_t) (cut - s));
            same(msg, (size_t) (cut - s));
            free(msg);
        }

        s = cut + 1;
    }

    return 0;
}

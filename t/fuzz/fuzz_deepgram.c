/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Deepgram's messages on arbitrary bytes: the code is one of the
 * reader's, the text never goes past its buffer, is UTF-8, is there only
 * for results and errors, and a small buffer gets what a large one gets
 * cut on a character boundary.  The input as a transcript, escaped into
 * a result, comes back as it was.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_deepgram.h"
#include "voice_json.h"
#include "voice_utf8.h"


#define SMALL  7
#define LARGE  4096


static uint8_t  small[SMALL];
static uint8_t  large[LARGE];


static void
read_message(const uint8_t *data, size_t size)
{
    int                      rc1, rc2;
    size_t                   n1, n2;
    voice_deepgram_result_t  r1, r2;

    rc1 = voice_deepgram_parse(data, size, &r1, small, SMALL, &n1, NULL);
    rc2 = voice_deepgram_parse(data, size, &r2, large, LARGE, &n2, NULL);

    if (rc1 != rc2 || rc1 < VOICE_DEEPGRAM_INVALID
        || rc1 > VOICE_DEEPGRAM_ERROR || n1 > SMALL || n2 > LARGE
        || memcmp(&r1, &r2, sizeof(r1)) != 0)
    {
        abort();
    }

    if (n1 != voice_utf8_cut(large, n2, SMALL)
        || memcmp(small, large, n1) != 0 || !voice_utf8_valid(large, n2))
    {
        abort();
    }

    if (n2 && rc2 != VOICE_DEEPGRAM_RESULTS && rc2 != VOICE_DEEPGRAM_ERROR) {
        abort();
    }
}


static void
round_trip(const uint8_t *data, size_t size)
{
    size_t                   len, n, e;
    uint8_t                 *json;
    voice_deepgram_result_t  r;
    static const char        head[] =
        "{\"channel\":{\"alternatives\":[{\"transcript\":\"";
    static const char        tail[] = "\"}]},\"type\":\"Results\"}";

    if (!voice_utf8_valid(data, size)) {
        return;
    }

    e = voice_json_escape(NULL, data, size);
    json = malloc(sizeof(head) + e + sizeof(tail));

    len = sizeof(head) - 1;
    memcpy(json, head, len);
    len += voice_json_escape(json + len, data, size);
    memcpy(json + len, tail, sizeof(tail) - 1);
    len += sizeof(tail) - 1;

    if (voice_deepgram_parse(json, len, &r, large, LARGE, &n, NULL)
            != VOICE_DEEPGRAM_RESULTS
        || n != voice_utf8_cut(data, size, LARGE)
        || memcmp(large, data, n) != 0)
    {
        abort();
    }

    free(json);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_message(data, size);
    round_trip(data, size);

    return 0;
}

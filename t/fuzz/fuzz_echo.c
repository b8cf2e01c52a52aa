/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The echo detector driven by arbitrary bytes: audio played in pieces of
 * any size at any time, inbound frames of any content, clears, time
 * jumping ahead (and a clock starting anywhere).  Whatever comes, its
 * ERLs stay within their bounds, the delay it finds within the window,
 * and what it returns is "nothing played" or a level it could mean.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "voice_echo.h"


#define OP_PLAY   0
#define OP_FRAME  1
#define OP_CLEAR  2
#define OP_WAIT   3


static void
check(const voice_echo_t *e, double threshold)
{
    int  l;

    if (threshold != VOICE_ECHO_NONE
        && !(threshold > -150 && threshold < 100))
    {
        abort();
    }

    if (e->erl_db < VOICE_ECHO_ERL_MIN || e->erl_db > VOICE_ECHO_ERL_MAX
        || e->lag < -1 || e->lag >= VOICE_ECHO_LAGS
        || isnan(e->noise_db) || isnan(e->near_erl))
    {
        abort();
    }

    for (l = 0; l < VOICE_ECHO_LAGS; l++) {
        if (e->lag_erl[l] < VOICE_ECHO_ERL_MIN
            || e->lag_erl[l] > VOICE_ECHO_ERL_MAX)
        {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t             n;
    int16_t            frame[VOICE_ECHO_SLOT];
    uint64_t           now;
    voice_echo_t      *e;
    voice_echo_conf_t  conf;

    if (size < 4) {
        return 0;
    }

    conf.margin_db = data[0] % 41;
    conf.max_delay_ms = (unsigned) data[1] * 20;
    now = (uint64_t) data[2] << (data[3] % 48);
    data += 4;
    size -= 4;

    e = malloc(sizeof(voice_echo_t));
    if (e == NULL) {
        return 0;
    }

    voice_echo_init(e, &conf);

    while (size >= 2) {
        n = data[1];
        data += 2;
        size -= 2;

        switch (data[-2] % 4) {

        case OP_PLAY:
            n = n * 8 < size ? n * 8 : size;
            voice_echo_play(e, now, data, n);
            data += n;
            size -= n;
            break;

        case OP_FRAME:
            memset(frame, 0, sizeof(frame));
            n = size < sizeof(frame) ? size : sizeof(frame);
            memcpy(frame, data, n);
            check(e, voice_echo_frame(e, now, frame));
            data += n;
            size -= n;
            break;

        case OP_CLEAR:
            voice_echo_clear(e, now);
            break;

        default: /* OP_WAIT */
            now += n * (data[-2] >> 6 ? 20 : 1);
            break;
        }
    }

    free(e);

    return 0;
}

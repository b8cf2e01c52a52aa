/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The resampler keeps the telephone band and stops what would alias:
 * a passband tone within 0.5 dB, a tone above 4 kHz down 40 dB or more.
 */

#include <math.h>

#include "unit.h"
#include "voice_resample.h"


#define N  48000


static double
level_db(unsigned in_rate, unsigned out_rate, double freq, int chunked)
{
    size_t              i, n, used, got, pos;
    double              sum, rms;
    static int16_t      in[N], out[N * 3];
    voice_resampler_t  *rs;

    for (i = 0; i < N; i++) {
        in[i] = (int16_t) (16000 * sin(2 * 3.14159265358979 * freq * i / in_rate));
    }

    rs = voice_resampler_create(in_rate, out_rate, VOICE_RESAMPLE_QUALITY);

    got = 0;
    pos = 0;

    while (pos < N) {
        n = chunked ? (size_t) (1 + (pos * 7919) % 333) : N;
        n = (n > N - pos) ? N - pos : n;

        got += voice_resample(rs, in + pos, n, out + got,
                              sizeof(out) / 2 - got, &used);
        pos += used;
    }

    voice_resampler_destroy(rs);

    /* skip the filter's delay at both ends */

    sum = 0;
    n = 0;

    for (i = got / 8; i < got - got / 8; i++) {
        sum += (double) out[i] * out[i];
        n++;
    }

    rms = sqrt(sum / n);

    return 20 * log10(rms / (16000 / sqrt(2)));
}


static void
check_pass(unsigned in_rate, unsigned out_rate, double freq)
{
    double  db;

    db = level_db(in_rate, out_rate, freq, 0);

    if (fabs(db) > 0.5) {
        UNIT_FAIL("%u -> %u Hz: %.0f Hz tone at %.2f dB", in_rate, out_rate,
                  freq, db);
        return;
    }

    unit_passed++;
}


static void
check_stop(unsigned in_rate, double freq)
{
    double  db;

    db = level_db(in_rate, 8000, freq, 0);

    if (db > -40) {
        UNIT_FAIL("%u -> 8000 Hz: %.0f Hz tone only %.1f dB down", in_rate,
                  freq, db);
        return;
    }

    unit_passed++;
}


int
main(void)
{
    unsigned  rates[] = { 16000, 22050, 24000, 44100 };
    size_t    i;

    for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        check_pass(rates[i], 8000, 300);
        check_pass(rates[i], 8000, 1000);
        check_pass(rates[i], 8000, 3000);
        check_stop(rates[i], 5000);
        check_stop(rates[i], 6000);
    }

    check_pass(8000, 16000, 1000);
    check_pass(8000, 16000, 3000);

    /* chunks of any size give the same level */

    CHECK(fabs(level_db(24000, 8000, 1000, 1)
               - level_db(24000, 8000, 1000, 0)) < 0.01);

    UNIT_DONE("resample");
}

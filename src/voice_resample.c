/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <speex/speex_resampler.h>

#include "voice_resample.h"


voice_resampler_t *
voice_resampler_create(unsigned in_rate, unsigned out_rate, int quality)
{
    int  err;

    if (quality < 4) {
        quality = 4;
    }

    return (voice_resampler_t *) speex_resampler_init(1, in_rate, out_rate,
                                                      quality, &err);
}


void
voice_resampler_destroy(voice_resampler_t *rs)
{
    if (rs) {
        speex_resampler_destroy((SpeexResamplerState *) rs);
    }
}


size_t
voice_resample_out_max(size_t in_n, unsigned in_rate, unsigned out_rate)
{
    return (size_t) ((uint64_t) in_n * out_rate / in_rate) + 2;
}


size_t
voice_resample(voice_resampler_t *rs, const int16_t *in, size_t in_n,
    int16_t *out, size_t out_cap, size_t *in_used)
{
    spx_uint32_t  ilen, olen;

    ilen = (spx_uint32_t) in_n;
    olen = (spx_uint32_t) out_cap;

    speex_resampler_process_int((SpeexResamplerState *) rs, 0, in, &ilen,
                                out, &olen);

    *in_used = ilen;

    return olen;
}

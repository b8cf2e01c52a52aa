/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Sample-rate conversion of PCM16 mono, streaming, with libspeexdsp's
 * resampler: its windowed-sinc filter at quality 4 or more keeps the
 * telephone band flat and stops aliasing above the new Nyquist.
 */

#ifndef VOICE_RESAMPLE_H
#define VOICE_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>


#define VOICE_RESAMPLE_QUALITY  5


typedef struct voice_resampler_s  voice_resampler_t;


/* allocates with malloc (speexdsp does); NULL on failure */
voice_resampler_t *voice_resampler_create(unsigned in_rate,
    unsigned out_rate, int quality);
void voice_resampler_destroy(voice_resampler_t *rs);

/* output samples at most for in_n input samples */
size_t voice_resample_out_max(size_t in_n, unsigned in_rate,
    unsigned out_rate);

/*
 * Converts as much of "in" as fits in "out"; *in_used says how much was
 * read.  Returns the samples written.
 */
size_t voice_resample(voice_resampler_t *rs, const int16_t *in,
    size_t in_n, int16_t *out, size_t out_cap, size_t *in_used);

#endif /* VOICE_RESAMPLE_H */

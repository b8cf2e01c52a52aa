/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * What a TTS provider streams back, in any of the formats
 * voice_tts_format names, turned into μ-law 8 kHz for the caller as it
 * arrives.  Chunks may end anywhere: inside a sample, inside the WAV
 * header, or carry a header and audio together; the output is the same.
 */

#ifndef VOICE_TTS_AUDIO_H
#define VOICE_TTS_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "voice_resample.h"


#define VOICE_TTS_AUDIO_ULAW      0     /* ulaw_8000: passed through */
#define VOICE_TTS_AUDIO_PCM       1     /* PCM16LE mono at "rate" */
#define VOICE_TTS_AUDIO_WAV       2     /* a WAV file of PCM16 mono */

/* a WAV file's audio must start within its first 512 bytes */
#define VOICE_TTS_AUDIO_HEAD      512

/* the PCM rates played: up to 8 times up, 48 times down */
#define VOICE_TTS_AUDIO_RATE_MIN  1000
#define VOICE_TTS_AUDIO_RATE_MAX  384000


typedef struct {
    int                 format;
    unsigned            rate;       /* of the PCM; WAV: 0 until its header */
    voice_resampler_t  *rs;         /* rate is not 8000: made on first use */

    uint8_t             carry;      /* the first byte of a split sample */
    unsigned            has_carry:1;
    unsigned            failed:1;   /* unplayable: nothing comes out */

    /* WAV: the file's first bytes, until its header is read */
    uint8_t             head[VOICE_TTS_AUDIO_HEAD];
    size_t              head_len;
    size_t              head_pos;   /* audio in head converted up to here */
} voice_tts_audio_t;


/*
 * rate: the PCM rate (8000 for ULAW, ignored for WAV).  Returns 0, or -1
 * for a bad format or rate; voice_tts_audio_free() is safe either way.
 */
int voice_tts_audio_init(voice_tts_audio_t *a, int format, unsigned rate);

/*
 * Converts from in[0..len): writes at most cap μ-law bytes to out and
 * returns how many; *used is how much of in was consumed.  A return below
 * cap means all of in was consumed, and nothing is held back but an odd
 * byte or an incomplete header.  Callers loop: call again with the rest
 * while the return equals cap.
 */
size_t voice_tts_audio_convert(voice_tts_audio_t *a, const uint8_t *in,
    size_t len, size_t *used, uint8_t *out, size_t cap);

/*
 * Nonzero once the stream is known to be unplayable: a WAV file that is
 * not PCM16 mono at a rate played, no WAV header in the first
 * VOICE_TTS_AUDIO_HEAD bytes, or no memory for the resampler.
 */
int voice_tts_audio_failed(const voice_tts_audio_t *a);

/* frees the resampler; safe twice, and after init only */
void voice_tts_audio_free(voice_tts_audio_t *a);

#endif /* VOICE_TTS_AUDIO_H */

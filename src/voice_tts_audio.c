/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_g711.h"
#include "voice_tts_audio.h"
#include "voice_wav.h"


/* samples converted at a time */
#define VOICE_TTS_AUDIO_BLOCK  1024


static size_t voice_tts_audio_header(voice_tts_audio_t *a, const uint8_t *in,
    size_t len);
static size_t voice_tts_audio_pcm(voice_tts_audio_t *a, const uint8_t *p,
    size_t len, size_t *used, uint8_t *out, size_t cap);


int
voice_tts_audio_init(voice_tts_audio_t *a, int format, unsigned rate)
{
    memset(a, 0, sizeof(voice_tts_audio_t));

    a->format = format;

    switch (format) {

    case VOICE_TTS_AUDIO_ULAW:
        if (rate == VOICE_G711_RATE) {
            a->rate = rate;
            return 0;
        }

        break;

    case VOICE_TTS_AUDIO_PCM:
        if (rate >= VOICE_TTS_AUDIO_RATE_MIN
            && rate <= VOICE_TTS_AUDIO_RATE_MAX)
        {
            a->rate = rate;
            return 0;
        }

        break;

    case VOICE_TTS_AUDIO_WAV:
        return 0;
    }

    a->failed = 1;

    return -1;
}


size_t
voice_tts_audio_convert(voice_tts_audio_t *a, const uint8_t *in, size_t len,
    size_t *used, uint8_t *out, size_t cap)
{
    size_t  n, k, head;

    if (a->failed) {
        *used = len;
        return 0;
    }

    if (a->format == VOICE_TTS_AUDIO_ULAW) {
        n = len < cap ? len : cap;

        if (n) {
            memcpy(out, in, n);
        }

        *used = n;
        return n;
    }

    head = 0;

    if (a->rate == 0) {
        head = voice_tts_audio_header(a, in, len);

        if (a->rate == 0) {
            /* all of in is in head, or it is not a file we play */
            *used = len;
            return 0;
        }
    }

    if (a->rate != VOICE_G711_RATE && a->rs == NULL) {
        a->rs = voice_resampler_create(a->rate, VOICE_G711_RATE,
                                       VOICE_RESAMPLE_QUALITY);
        if (a->rs == NULL) {
            a->failed = 1;
            *used = len;
            return 0;
        }
    }

    n = 0;

    /* the audio that came with the header goes first */

    if (a->head_pos < a->head_len) {
        n = voice_tts_audio_pcm(a, a->head + a->head_pos,
                                a->head_len - a->head_pos, &k, out, cap);
        a->head_pos += k;

        if (a->head_pos < a->head_len) {
            *used = head;
            return n;
        }
    }

    if (head == len) {
        *used = len;
        return n;
    }

    n += voice_tts_audio_pcm(a, in + head, len - head, &k, out + n, cap - n);
    *used = head + k;

    return n;
}


/*
 * Reads a WAV file's start into head until its header parses; then the
 * audio in head is from head_pos on.  Returns the bytes taken.
 */

static size_t
voice_tts_audio_header(voice_tts_audio_t *a, const uint8_t *in, size_t len)
{
    size_t       k;
    voice_wav_t  wav;

    k = VOICE_TTS_AUDIO_HEAD - a->head_len;
    k = len < k ? len : k;

    if (k) {
        memcpy(a->head + a->head_len, in, k);
        a->head_len += k;
    }

    if (voice_wav_parse(a->head, a->head_len, &wav) != 0) {
        if (a->head_len == VOICE_TTS_AUDIO_HEAD) {
            a->failed = 1;          /* not WAV: nothing of it is played */
        }

        return k;
    }

    if (wav.format != VOICE_WAV_PCM16 || wav.channels != 1
        || wav.rate < VOICE_TTS_AUDIO_RATE_MIN
        || wav.rate > VOICE_TTS_AUDIO_RATE_MAX)
    {
        a->failed = 1;
        return k;
    }

    /* what follows "data" is played, whatever the chunk's size says */

    a->rate = wav.rate;
    a->head_pos = wav.data_offset;

    return k;
}


/* PCM16LE to μ-law, resampled to 8 kHz when it is at another rate */

static size_t
voice_tts_audio_pcm(voice_tts_audio_t *a, const uint8_t *p, size_t len,
    size_t *used, uint8_t *out, size_t cap)
{
    size_t   n, pos, k, in_n, want, took, got;
    int16_t  in[VOICE_TTS_AUDIO_BLOCK], pcm[VOICE_TTS_AUDIO_BLOCK];

    n = 0;
    pos = 0;

    while (n < cap) {

        /*
         * No more samples than the room left in out needs: what is not
         * converted stays in "p" for the next call.
         */

        want = cap - n;

        if (want < VOICE_TTS_AUDIO_BLOCK && a->rs) {
            want = want * a->rate / VOICE_G711_RATE + 1;
        }

        want = want < VOICE_TTS_AUDIO_BLOCK ? want : VOICE_TTS_AUDIO_BLOCK;

        /* samples may be split across chunks */

        in_n = 0;
        k = pos;

        if (a->has_carry && k < len) {
            in[in_n++] = (int16_t) (a->carry | p[k] << 8);
            k++;
        }

        while (in_n < want && len - k >= 2) {
            in[in_n++] = (int16_t) (p[k] | p[k + 1] << 8);
            k += 2;
        }

        if (in_n == 0) {
            break;
        }

        if (a->rs) {
            got = cap - n;
            got = got < VOICE_TTS_AUDIO_BLOCK ? got : VOICE_TTS_AUDIO_BLOCK;
            got = voice_resample(a->rs, in, in_n, pcm, got, &took);
            voice_ulaw_encode_buf(pcm, got, out + n);

            if (took == 0 && got == 0) {
                took = in_n;        /* cannot happen: never spin on it */
            }

        } else {
            took = in_n;
            got = in_n;
            voice_ulaw_encode_buf(in, in_n, out + n);
        }

        n += got;

        /* the bytes of the samples taken */

        if (took && a->has_carry) {
            a->has_carry = 0;
            pos += took * 2 - 1;

        } else {
            pos += took * 2;
        }
    }

    /* an odd byte at the end: the first half of the next sample */

    if (n < cap && len - pos == 1 && !a->has_carry) {
        a->carry = p[pos];
        a->has_carry = 1;
        pos++;
    }

    *used = pos;

    return n;
}


int
voice_tts_audio_failed(const voice_tts_audio_t *a)
{
    return a->failed;
}


void
voice_tts_audio_free(voice_tts_audio_t *a)
{
    voice_resampler_destroy(a->rs);
    a->rs = NULL;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * TTS audio in every format, cut into pieces at sizes taken from the
 * input and read into a small output: never out of bounds, the promises
 * of voice_tts_audio_convert() kept, and the same bytes as the stream
 * whole.  μ-law comes out as it went in, 8 kHz PCM as G.711 of each
 * sample, and a WAV file built around the input as its data would as
 * PCM, or nothing if we do not play it.
 *
 * Input: byte 0 picks the format (and how a WAV file is built), byte 1
 * the output size (low 2 bits) and how many piece sizes follow (high 4
 * bits), each one byte, a piece of 1 to 256 bytes; the rest is audio.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_g711.h"
#include "voice_tts_audio.h"
#include "voice_wav.h"


#define OUT_MAX  (1 << 20)


static const size_t    caps[] = { 1, 7, 160, 4096 };
static const unsigned  pcm_rates[] = { 8000, 16000, 22050, 24000, 44100 };
static const unsigned  wav_rates[] = {
    999, 1000, 7999, 8000, 11025, 16000, 24000, 44100, 48000, 384000,
    384001
};

static uint8_t  whole[OUT_MAX], split[OUT_MAX], want[OUT_MAX];


static size_t
run(int format, unsigned rate, const uint8_t *in, size_t len,
    const uint8_t *sizes, size_t nsizes, size_t cap, uint8_t *out,
    int *failed)
{
    size_t             pos, k, n, piece, used, total;
    uint8_t            buf[4096];
    voice_tts_audio_t  a;

    if (voice_tts_audio_init(&a, format, rate) != 0) {
        abort();
    }

    total = 0;
    pos = 0;
    k = 0;

    do {
        piece = nsizes ? (size_t) sizes[k++ % nsizes] + 1 : len - pos;
        piece = piece < len - pos ? piece : len - pos;

        for ( ;; ) {
            n = voice_tts_audio_convert(&a, in + pos, piece, &used, buf, cap);

            if (n > cap || used > piece || (n < cap && used != piece)
                || total + n > OUT_MAX)
            {
                abort();
            }

            memcpy(out + total, buf, n);
            total += n;
            pos += used;
            piece -= used;

            if (n < cap) {
                break;
            }
        }

    } while (pos < len);

    *failed = voice_tts_audio_failed(&a);

    if (*failed && total) {
        abort();                    /* unplayable from the start */
    }

    voice_tts_audio_free(&a);

    return total;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int             format, f1, f2, mono;
    size_t          i, n1, n2, nsizes, len, wlen, list, nwant, cap;
    unsigned        rate;
    uint8_t        *file;
    const uint8_t  *sizes, *audio;

    if (size < 2) {
        return 0;
    }

    cap = caps[data[1] & 3];
    nsizes = data[1] >> 4;
    nsizes = nsizes < size - 2 ? nsizes : size - 2;
    sizes = data + 2;
    audio = data + 2 + nsizes;
    len = size - 2 - nsizes;

    /* a WAV file of the input, mono or not, with a chunk before "data" */

    file = NULL;
    wlen = 0;
    list = 0;
    mono = 1;
    rate = 0;

    switch (data[0] % 8) {

    case 0:
        format = VOICE_TTS_AUDIO_ULAW;
        rate = 8000;
        break;

    case 6:
        format = VOICE_TTS_AUDIO_WAV;
        break;

    case 7:
        format = VOICE_TTS_AUDIO_WAV;
        rate = wav_rates[(data[0] >> 3) % 11];
        mono = (data[0] >> 7) == 0 || len % 3 != 0;
        list = len ? audio[0] % 4 * 150 : 0;

        file = malloc(VOICE_WAV_HEADER + 8 + list + len);
        voice_wav_header(file, rate, mono ? 1 : 2, len);
        memmove(file + 36 + 8 + list, file + 36, 8);
        memcpy(file + 36, "LIST", 4);
        file[40] = (uint8_t) list;
        file[41] = (uint8_t) (list >> 8);
        file[42] = 0;
        file[43] = 0;
        memset(file + 44, 'x', list);
        memcpy(file + VOICE_WAV_HEADER + 8 + list, audio, len);
        wlen = VOICE_WAV_HEADER + 8 + list + len;
        break;

    default:
        format = VOICE_TTS_AUDIO_PCM;
        rate = pcm_rates[data[0] % 8 - 1];
    }

    if (file) {
        n1 = run(format, 0, file, wlen, NULL, 0, 4096, whole, &f1);
        n2 = run(format, 0, file, wlen, sizes, nsizes, cap, split, &f2);

    } else {
        n1 = run(format, rate, audio, len, NULL, 0, 4096, whole, &f1);
        n2 = run(format, rate, audio, len, sizes, nsizes, cap, split, &f2);
    }

    if (n1 != n2 || memcmp(whole, split, n1) != 0 || f1 != f2) {
        abort();
    }

    /* what the stream should have been */

    if (format == VOICE_TTS_AUDIO_ULAW) {
        if (n1 != len || memcmp(whole, audio, len) != 0) {
            abort();
        }

    } else if (format == VOICE_TTS_AUDIO_PCM && rate == 8000) {
        for (i = 0; i < len / 2; i++) {
            want[i] = voice_ulaw_encode((int16_t) (audio[2 * i]
                                                   | audio[2 * i + 1] << 8));
        }

        if (n1 != len / 2 || memcmp(whole, want, n1) != 0) {
            abort();
        }

    } else if (file) {

        /* played: mono, a rate we play, and "data" in the first 512 */

        if (mono && rate >= VOICE_TTS_AUDIO_RATE_MIN
            && rate <= VOICE_TTS_AUDIO_RATE_MAX
            && VOICE_WAV_HEADER + 8 + list <= VOICE_TTS_AUDIO_HEAD)
        {
            nwant = run(VOICE_TTS_AUDIO_PCM, rate, audio, len, NULL, 0, 4096,
                        want, &f2);

            if (f1 || n1 != nwant || memcmp(whole, want, n1) != 0) {
                abort();
            }

        } else if (n1 != 0
                   || (wlen >= VOICE_TTS_AUDIO_HEAD && !f1))
        {
            abort();
        }

        free(file);
    }

    return 0;
}

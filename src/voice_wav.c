/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_wav.h"


static uint32_t
voice_le32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static unsigned
voice_le16(const uint8_t *p)
{
    return (unsigned) p[0] | (unsigned) p[1] << 8;
}


int
voice_wav_parse(const uint8_t *buf, size_t len, voice_wav_t *wav)
{
    size_t    pos, size;
    unsigned  tag, bits;
    int       have_fmt;

    if (len < 12 || memcmp(buf, "RIFF", 4) != 0
        || memcmp(buf + 8, "WAVE", 4) != 0)
    {
        return -1;
    }

    memset(wav, 0, sizeof(voice_wav_t));

    have_fmt = 0;
    bits = 0;
    pos = 12;

    while (pos + 8 <= len) {
        size = voice_le32(buf + pos + 4);

        if (memcmp(buf + pos, "fmt ", 4) == 0) {
            if (size < 16 || pos + 8 + 16 > len) {
                return -1;
            }

            tag = voice_le16(buf + pos + 8);
            wav->channels = voice_le16(buf + pos + 10);
            wav->rate = voice_le32(buf + pos + 12);
            bits = voice_le16(buf + pos + 22);

            if (tag == 0xfffe && size >= 40 && pos + 8 + 26 <= len) {
                /* WAVE_FORMAT_EXTENSIBLE: the subformat's first two bytes */
                tag = voice_le16(buf + pos + 8 + 24);
            }

            if (tag == 1 && bits == 16) {
                wav->format = VOICE_WAV_PCM16;

            } else if ((tag == 6 || tag == 7) && bits == 8) {
                wav->format = tag;

            } else {
                return -1;
            }

            if (wav->channels == 0 || wav->channels > 8 || wav->rate == 0
                || wav->rate > 384000)
            {
                return -1;
            }

            have_fmt = 1;

        } else if (memcmp(buf + pos, "data", 4) == 0) {
            if (!have_fmt) {
                return -1;
            }

            wav->data_offset = pos + 8;
            wav->data_len = (size > len - pos - 8) ? len - pos - 8 : size;

            return 0;
        }

        /* chunks are padded to an even size */

        if (size > len - pos - 8) {
            return -1;
        }

        pos += 8 + size + (size & 1);
    }

    return -1;
}


void
voice_wav_header(uint8_t *out, unsigned rate, unsigned channels,
    size_t data_len)
{
    uint32_t  v[6];
    int       i;

    memcpy(out, "RIFF", 4);
    memcpy(out + 8, "WAVEfmt ", 8);
    memcpy(out + 36, "data", 4);

    v[0] = (uint32_t) (36 + data_len);
    v[1] = 16;
    v[2] = rate;
    v[3] = rate * channels * 2;
    v[4] = (uint32_t) data_len;

    for (i = 0; i < 4; i++) {
        out[4 + i] = (uint8_t) (v[0] >> (8 * i));
        out[16 + i] = (uint8_t) (v[1] >> (8 * i));
        out[24 + i] = (uint8_t) (v[2] >> (8 * i));
        out[28 + i] = (uint8_t) (v[3] >> (8 * i));
        out[40 + i] = (uint8_t) (v[4] >> (8 * i));
    }

    out[20] = 1;                            /* PCM */
    out[21] = 0;
    out[22] = (uint8_t) channels;
    out[23] = 0;
    out[32] = (uint8_t) (channels * 2);     /* block align */
    out[33] = 0;
    out[34] = 16;                           /* bits */
    out[35] = 0;
}

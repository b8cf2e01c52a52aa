/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * WAV files as a TTS provider could return them: a header that parses
 * describes a format we play and data inside the buffer; and a header we
 * write, with the input as its data, reads back as written.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_wav.h"


static void
check(const uint8_t *buf, size_t len, const voice_wav_t *wav)
{
    if (wav->format != VOICE_WAV_PCM16 && wav->format != VOICE_WAV_ALAW
        && wav->format != VOICE_WAV_ULAW)
    {
        abort();
    }

    if (wav->channels == 0 || wav->channels > 8 || wav->rate == 0
        || wav->rate > 384000)
    {
        abort();
    }

    /* after "RIFF", "WAVE" and a whole fmt chunk; chunks are even */

    if (wav->data_offset < VOICE_WAV_HEADER || wav->data_offset > len
        || (wav->data_offset & 1)
        || memcmp(buf + wav->data_offset - 8, "data", 4) != 0)
    {
        abort();
    }

    if (wav->data_len > len - wav->data_offset) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t       claimed, want;
    uint8_t     *file;
    unsigned     rate, channels;
    voice_wav_t  wav;

    if (voice_wav_parse(data, size, &wav) == 0) {
        check(data, size, &wav);
    }

    if (size < 4) {
        return 0;
    }

    rate = 1 + ((unsigned) data[0] << 8 | data[1]) * 5;
    channels = 1 + data[2] % 8;
    claimed = data[3] & 1 ? size - 4 : (size_t) data[3] * 2;

    file = malloc(VOICE_WAV_HEADER + size - 4);

    voice_wav_header(file, rate, channels, claimed);
    memcpy(file + VOICE_WAV_HEADER, data + 4, size - 4);

    if (voice_wav_parse(file, VOICE_WAV_HEADER + size - 4, &wav) != 0) {
        abort();
    }

    check(file, VOICE_WAV_HEADER + size - 4, &wav);

    want = claimed < size - 4 ? claimed : size - 4;

    if (wav.format != VOICE_WAV_PCM16 || wav.rate != rate
        || wav.channels != channels || wav.data_offset != VOICE_WAV_HEADER
        || wav.data_len != want)
    {
        abort();
    }

    free(file);

    return 0;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* RIFF/WAVE headers: reading any PCM16 or G.711 file, writing PCM16 */

#ifndef VOICE_WAV_H
#define VOICE_WAV_H

#include <stddef.h>
#include <stdint.h>


#define VOICE_WAV_PCM16      1
#define VOICE_WAV_ALAW       6
#define VOICE_WAV_ULAW       7

#define VOICE_WAV_HEADER     44


typedef struct {
    unsigned  format;           /* VOICE_WAV_PCM16, _ALAW, _ULAW */
    unsigned  rate;
    unsigned  channels;
    size_t    data_offset;
    size_t    data_len;         /* clipped to what the buffer holds */
} voice_wav_t;


/* 0 on success, -1 if this is not a WAV file we can read */
int voice_wav_parse(const uint8_t *buf, size_t len, voice_wav_t *wav);

/* writes the 44-byte header of a PCM16 little-endian file */
void voice_wav_header(uint8_t *out, unsigned rate, unsigned channels,
    size_t data_len);

#endif /* VOICE_WAV_H */

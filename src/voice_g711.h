/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* ITU-T G.711 μ-law and A-law, table-driven */

#ifndef VOICE_G711_H
#define VOICE_G711_H

#include <stddef.h>
#include <stdint.h>


/* a telephone call's audio: one byte a sample, 8000 samples a second */
#define VOICE_G711_RATE            8000
#define VOICE_G711_SAMPLES_PER_MS  8


uint8_t voice_ulaw_encode(int16_t pcm);
int16_t voice_ulaw_decode(uint8_t code);
uint8_t voice_alaw_encode(int16_t pcm);
int16_t voice_alaw_decode(uint8_t code);

void voice_ulaw_decode_buf(const uint8_t *in, size_t n, int16_t *out);
void voice_ulaw_encode_buf(const int16_t *in, size_t n, uint8_t *out);
/*
 * What decoding n codes and encoding them again gives, as one pass: each
 * code itself but 0x7f, negative zero, which comes back as 0xff, zero
 */
void voice_ulaw_reencode_buf(const uint8_t *in, size_t n, uint8_t *out);

void voice_alaw_decode_buf(const uint8_t *in, size_t n, int16_t *out);
void voice_alaw_encode_buf(const int16_t *in, size_t n, uint8_t *out);

#endif /* VOICE_G711_H */

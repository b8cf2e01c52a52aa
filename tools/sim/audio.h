/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* the caller's audio: WAV files, raw μ-law, speech made by espeak-ng */

#ifndef SIM_AUDIO_H
#define SIM_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"


/* every --say spoken into μ-law, and --play or --play-ulaw read */
void sim_audio_load(sim_conf_t *cf);

/*
 * A WAV file (PCM16 or G.711, any rate and channels, mixed to mono and
 * resampled to 8 kHz) or, with raw_ulaw, raw μ-law, as malloc'ed μ-law
 * with room for one more frame.  Failure is fatal.
 */
uint8_t *sim_audio_read(const char *file, int raw_ulaw, size_t *out_len);

#endif /* SIM_AUDIO_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The names of the marks we send Twilio, which it echoes when playback
 * reaches them: "t<turn>-s<sentence>" after each sentence of the agent's
 * reply, "echo-<second>" in echo mode.
 */

#ifndef VOICE_MARK_H
#define VOICE_MARK_H

#include <stddef.h>
#include <stdint.h>


#define VOICE_MARK_MAX  32      /* a name and its NUL */


/*
 * Writes "t<turn>-s<sentence>" and a NUL into out (VOICE_MARK_MAX bytes)
 * and returns its length; 0 (and "") if the numbers are too long for a
 * name, which no call's turns and sentences ever are.
 */
size_t voice_mark_sentence(uint8_t *out, unsigned long turn,
    unsigned long sentence);

/*
 * Reads a name voice_mark_sentence() wrote: 0, or -1 if it is not one of
 * ours (another shape, no digits, a number beyond unsigned long, or
 * VOICE_MARK_MAX characters or more).  Leading zeros are allowed.
 */
int voice_mark_parse_sentence(const char *name, unsigned long *turn,
    unsigned long *sentence);

/* writes "echo-<second>" and a NUL into out and returns its length */
size_t voice_mark_echo(uint8_t *out, unsigned long second);

#endif /* VOICE_MARK_H */

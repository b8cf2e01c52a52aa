/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * What counts as words in an interim transcript, for barge-in: the
 * caller saying "okay" or "uh-huh" over the agent is listening, not
 * interrupting, so such words can be left out of the count.
 *
 * A word is a run of bytes between white space (ASCII: space, tab, CR,
 * LF, VT, FF) with the punctuation at its ends taken off: ASCII
 * punctuation and the common Unicode marks (¡ ¿ « » ‘ ’ “ ” – — … and
 * the CJK and full-width 。、，！？：；．).  A run of punctuation only
 * is no word; punctuation inside one stays ("uh-huh", "don't").
 */

#ifndef VOICE_WORDS_H
#define VOICE_WORDS_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    const uint8_t  *word;
    size_t          len;
} voice_words_t;


/*
 * Backchannels, the words a listener says to show they listen: "okay",
 * "ok", "yeah", "yes", "yep", "yup", "right", "sure", "alright",
 * "uh-huh", "mm-hmm", "mhm", "mm", "hmm", "hm", "uh", "um", "ah", "oh"
 */
extern const voice_words_t  voice_words_backchannel[];
extern const size_t         voice_words_backchannel_n;


/*
 * The words of text that are not in ignore[0..n).  An ignored word is
 * taken off its punctuation the same way, and matches whatever the case
 * of ASCII letters ("Okay," matches "okay"; other letters must match
 * exactly).
 */
size_t voice_words_count(const uint8_t *text, size_t len,
    const voice_words_t *ignore, size_t n);

#endif /* VOICE_WORDS_H */

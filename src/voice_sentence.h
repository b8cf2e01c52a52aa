/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Splits streamed LLM text into sentences for TTS, each handed out the
 * moment it is complete: at . ! ? (and runs of them, with closing quotes)
 * followed by white space, and at newlines; not after abbreviations,
 * initials, or inside numbers.  Long sentences are cut at a clause
 * boundary.  UTF-8 sequences are never split.
 */

#ifndef VOICE_SENTENCE_H
#define VOICE_SENTENCE_H

#include <stddef.h>
#include <stdint.h>


typedef struct {
    uint8_t  *buf;
    size_t    cap;
    size_t    len;
    size_t    max_len;
    size_t    emitted;          /* bytes of buf already handed out */
    size_t    scan;             /* where the search for an end resumes */
} voice_sentence_t;


void voice_sentence_init(voice_sentence_t *s, uint8_t *buf, size_t cap,
    size_t max_len);

/*
 * Appends text; returns how much of it was taken.  When a sentence is
 * complete, *ready is set and *out, *out_len give it (trimmed), valid
 * until the next call; call again with the rest of the input.
 */
size_t voice_sentence_feed(voice_sentence_t *s, const uint8_t *in,
    size_t len, const uint8_t **out, size_t *out_len, int *ready);

/* the text left at the end of the stream, if any; 1 if there was some */
int voice_sentence_flush(voice_sentence_t *s, const uint8_t **out,
    size_t *out_len);

#endif /* VOICE_SENTENCE_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_words.h"


static int voice_words_space(uint8_t c);
static size_t voice_words_mark(const uint8_t *p, size_t len, int end);
static void voice_words_strip(const uint8_t **p, size_t *len);
static int voice_words_same(const uint8_t *a, size_t a_len,
    const uint8_t *b, size_t b_len);


#define voice_words_str(s)  { (const uint8_t *) s, sizeof(s) - 1 }

const voice_words_t  voice_words_backchannel[] = {
    voice_words_str("okay"), voice_words_str("ok"), voice_words_str("yeah"),
    voice_words_str("yes"), voice_words_str("yep"), voice_words_str("yup"),
    voice_words_str("right"), voice_words_str("sure"),
    voice_words_str("alright"), voice_words_str("uh-huh"),
    voice_words_str("mm-hmm"), voice_words_str("mhm"), voice_words_str("mm"),
    voice_words_str("hmm"), voice_words_str("hm"), voice_words_str("uh"),
    voice_words_str("um"), voice_words_str("ah"), voice_words_str("oh")
};

const size_t  voice_words_backchannel_n =
    sizeof(voice_words_backchannel) / sizeof(voice_words_backchannel[0]);


/* the punctuation beyond ASCII that transcripts put around words */

static const char *const  voice_words_marks[] = {
    "\xc2\xa1",         /* ¡ */
    "\xc2\xbf",         /* ¿ */
    "\xc2\xab",         /* « */
    "\xc2\xbb",         /* » */
    "\xe2\x80\x93",     /* – */
    "\xe2\x80\x94",     /* — */
    "\xe2\x80\x98",     /* ‘ */
    "\xe2\x80\x99",     /* ’ */
    "\xe2\x80\x9c",     /* “ */
    "\xe2\x80\x9d",     /* ” */
    "\xe2\x80\xa6",     /* … */
    "\xe3\x80\x81",     /* 、 */
    "\xe3\x80\x82",     /* 。 */
    "\xef\xbc\x81",     /* ！ */
    "\xef\xbc\x8c",     /* ， */
    "\xef\xbc\x8e",     /* ． */
    "\xef\xbc\x9a",     /* ： */
    "\xef\xbc\x9b",     /* ； */
    "\xef\xbc\x9f",     /* ？ */
    NULL
};


size_t
voice_words_count(const uint8_t *text, size_t len,
    const voice_words_t *ignore, size_t n)
{
    size_t          count, i, w_len, i_len;
    const uint8_t  *p, *end, *w, *iw;

    count = 0;
    p = text;
    end = text + len;

    while (p < end) {
        if (voice_words_space(*p)) {
            p++;
            continue;
        }

        for (w = p; p < end && !voice_words_space(*p); p++) {
            /* void */
        }

        w_len = p - w;
        voice_words_strip(&w, &w_len);

        if (w_len == 0) {
            continue;
        }

        for (i = 0; i < n; i++) {
            iw = ignore[i].word;
            i_len = ignore[i].len;

            /* stripping only shortens: too short is no match */

            if (i_len < w_len) {
                continue;
            }

            voice_words_strip(&iw, &i_len);

            if (voice_words_same(w, w_len, iw, i_len)) {
                break;
            }
        }

        if (i == n) {
            count++;
        }
    }

    return count;
}


static int
voice_words_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
           || c == '\f';
}


/* the length of the punctuation at the start (or the end) of p, or 0 */

static size_t
voice_words_mark(const uint8_t *p, size_t len, int end)
{
    size_t   i, k;
    uint8_t  c;

    c = end ? p[len - 1] : p[0];

    if (c < 0x80) {
        return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40)
               || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
    }

    for (i = 0; voice_words_marks[i]; i++) {
        k = strlen(voice_words_marks[i]);

        if (k <= len
            && memcmp(end ? p + len - k : p, voice_words_marks[i], k) == 0)
        {
            return k;
        }
    }

    return 0;
}


static void
voice_words_strip(const uint8_t **p, size_t *len)
{
    size_t  k;

    while (*len && (k = voice_words_mark(*p, *len, 0)) != 0) {
        *p += k;
        *len -= k;
    }

    while (*len && (k = voice_words_mark(*p, *len, 1)) != 0) {
        *len -= k;
    }
}


static int
voice_words_same(const uint8_t *a, size_t a_len, const uint8_t *b,
    size_t b_len)
{
    size_t   i;
    uint8_t  x, y;

    if (a_len != b_len) {
        return 0;
    }

    for (i = 0; i < a_len; i++) {
        x = a[i];
        y = b[i];

        if (x >= 'A' && x <= 'Z') {
            x |= 0x20;
        }

        if (y >= 'A' && y <= 'Z') {
            y |= 0x20;
        }

        if (x != y) {
            return 0;
        }
    }

    return 1;
}

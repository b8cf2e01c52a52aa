/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Counting words on arbitrary bytes: never more words than runs between
 * white space, none once every run is ignored, the same for the text in
 * capitals, and the count of two texts apart is the sum of their counts.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_words.h"


#define RUNS  64


static int
space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
           || c == '\f';
}


/* the runs of text between white space, as words to ignore */

static size_t
runs(const uint8_t *text, size_t len, voice_words_t *run, size_t max)
{
    size_t  i, j, n;

    n = 0;

    for (i = 0; i < len; i = j) {
        for (j = i; j < len && !space(text[j]); j++) {
            /* void */
        }

        if (j == i) {
            j++;
            continue;
        }

        if (n < max) {
            run[n].word = text + i;
            run[n].len = j - i;
        }

        n++;
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          i, n, c, cut;
    uint8_t        *upper, *both;
    voice_words_t   run[RUNS];

    n = runs(data, size, run, RUNS);
    c = voice_words_count(data, size, NULL, 0);

    if (c > n) {
        abort();
    }

    if (n <= RUNS && voice_words_count(data, size, run, n) != 0) {
        abort();
    }

    upper = malloc(size + 1);

    for (i = 0; i < size; i++) {
        upper[i] = data[i] >= 'a' && data[i] <= 'z' ? data[i] - 0x20 : data[i];
    }

    if (voice_words_count(upper, size, voice_words_backchannel,
                          voice_words_backchannel_n)
        != voice_words_count(data, size, voice_words_backchannel,
                             voice_words_backchannel_n))
    {
        abort();
    }

    /* the text cut in two at a point it names, a space put between */

    cut = size ? data[0] % (size + 1) : 0;
    both = malloc(size + 1);
    memcpy(both, data, cut);
    both[cut] = ' ';
    memcpy(both + cut + 1, data + cut, size - cut);

    if (voice_words_count(both, size + 1, voice_words_backchannel,
                          voice_words_backchannel_n)
        != voice_words_count(data, cut, voice_words_backchannel,
                             voice_words_backchannel_n)
           + voice_words_count(data + cut, size - cut,
                               voice_words_backchannel,
                               voice_words_backchannel_n))
    {
        abort();
    }

    free(both);
    free(upper);

    return 0;
}

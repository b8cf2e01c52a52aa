/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Streamed LLM text through the sentence splitter as the agent drives it,
 * in pieces cut at sizes taken from the input.  Every sentence lies in the
 * splitter's buffer, is trimmed and not empty; the sentences are the input
 * in order, with only white space between them left out; and when the
 * input is UTF-8 and a cut can keep sequences whole, so is each sentence.
 *
 * Input: byte 0 is the sentence length limit, byte 1 (low 4 bits) how
 * many piece sizes follow, each byte one piece of 1 to 256 bytes, used in
 * turn; the rest is the text.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_sentence.h"


#define CAP  64


typedef struct {
    const uint8_t     *in;
    size_t             len;
    size_t             pos;         /* how far the sentences matched */
    int                utf8;
    voice_sentence_t   s;
} split_t;


static uint8_t  buf[CAP];


static int
space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/* RFC 3629, written apart from the escaper's on purpose */

static int
utf8_valid(const uint8_t *p, size_t len)
{
    size_t    i, n, k;
    uint32_t  u;

    for (i = 0; i < len; i += n) {
        if (p[i] < 0x80) {
            n = 1;
            continue;
        }

        if ((p[i] & 0xe0) == 0xc0) {
            n = 2;
            u = p[i] & 0x1f;

        } else if ((p[i] & 0xf0) == 0xe0) {
            n = 3;
            u = p[i] & 0x0f;

        } else if ((p[i] & 0xf8) == 0xf0) {
            n = 4;
            u = p[i] & 0x07;

        } else {
            return 0;
        }

        if (len - i < n) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            u = u << 6 | (p[i + k] & 0x3f);
        }

        if ((n == 2 && u < 0x80) || (n == 3 && u < 0x800)
            || (n == 4 && u < 0x10000) || u > 0x10ffff
            || (u >= 0xd800 && u <= 0xdfff))
        {
            return 0;
        }
    }

    return 1;
}


/* the stray end of a terminator run that voice_sentence.c may drop */

static int
closing(uint8_t c)
{
    return c == '.' || c == '!' || c == '?' || c == '"' || c == '\''
           || c == ')' || c == ']';
}


static void
sentence(split_t *sp, const uint8_t *out, size_t len)
{
    size_t  k;

    if (len == 0 || len > CAP || out < buf
        || out + len > buf + sp->s.len)
    {
        abort();
    }

    if (space(out[0]) || space(out[len - 1])) {
        abort();
    }

    /*
     * The next bytes of the input, after white space, and after the rest
     * of a terminator run whose sentence went before the run ended
     */

    while (sp->pos < sp->len && space(sp->in[sp->pos])) {
        sp->pos++;
    }

    for (k = sp->pos;
         k < sp->len && (closing(sp->in[k]) || space(sp->in[k]));
         k++)
    {
        if (len <= sp->len - sp->pos
            && memcmp(out, sp->in + sp->pos, len) == 0)
        {
            break;
        }

        sp->pos = k + 1;
    }

    if (len > sp->len - sp->pos || memcmp(out, sp->in + sp->pos, len) != 0) {
        abort();
    }

    sp->pos += len;

    if (sp->utf8 && !utf8_valid(out, len)) {
        abort();
    }
}


/* the agent's loop: a NULL text is the end of the stream */

static void
feed(split_t *sp, const uint8_t *text, size_t len)
{
    int             ready;
    size_t          used, olen;
    const uint8_t  *out;

    for ( ;; ) {
        used = voice_sentence_feed(&sp->s, text, len, &out, &olen, &ready);

        if (used > len || (!ready && used != len)) {
            abort();
        }

        if (text) {
            text += used;
        }

        len -= used;

        if (ready) {
            sentence(sp, out, olen);
            continue;
        }

        if (len == 0) {
            break;
        }
    }

    if (text == NULL && voice_sentence_flush(&sp->s, &out, &olen)) {
        sentence(sp, out, olen);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          nsizes, pos, k, n;
    split_t         sp;
    const uint8_t  *sizes;

    if (size < 2) {
        return 0;
    }

    nsizes = data[1] & 0x0f;
    nsizes = nsizes < size - 2 ? nsizes : size - 2;
    sizes = data + 2;

    sp.in = data + 2 + nsizes;
    sp.len = size - 2 - nsizes;
    sp.pos = 0;

    /* limits past the buffer too: the splitter clips them */

    voice_sentence_init(&sp.s, buf, CAP, 1 + data[0] % (CAP + 16));

    /* a cut shorter than a sequence has to split it */
    sp.utf8 = sp.s.max_len >= 4 && utf8_valid(sp.in, sp.len);

    pos = 0;
    k = 0;

    while (pos < sp.len) {
        n = nsizes ? (size_t) sizes[k++ % nsizes] + 1 : sp.len - pos;
        n = n < sp.len - pos ? n : sp.len - pos;

        feed(&sp, sp.in + pos, n);
        pos += n;
    }

    feed(&sp, NULL, 0);

    /* nothing but white space left out, and terminators after their end */

    while (sp.pos < sp.len) {
        if (!space(sp.in[sp.pos]) && !closing(sp.in[sp.pos])) {
            abort();
        }

        sp.pos++;
    }

    return 0;
}

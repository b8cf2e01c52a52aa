/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include "voice_sentence.h"


/* never at the end of a sentence: titles and the like */
static const char  *voice_abbrevs[] = {
    "dr", "mr", "mrs", "ms", "prof", "sr", "jr", "st", "vs", "e.g", "i.e",
    "no", "mt", NULL
};

/* at the end of a sentence only when a capital letter follows */
static const char  *voice_abbrevs_end[] = {
    "a.m", "p.m", "etc", "inc", "ltd", "co", NULL
};


static int
voice_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/* what may follow a sentence's last word: terminators, closing quotes */

static int
voice_closing(uint8_t c)
{
    return c == '.' || c == '!' || c == '?' || c == '"' || c == '\''
           || c == ')' || c == ']' || c == 0xe2 || c == 0x80 || c == 0xa6
           || c == 0x9d;
}


/* a stray end of a terminator run, ASCII only */

static int
voice_stray(uint8_t c)
{
    return c == '.' || c == '!' || c == '?' || c == '"' || c == '\''
           || c == ')' || c == ']';
}


static int
voice_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}


/* the word before position "dot" is an abbreviation or an initial */

static int
voice_abbrev_in(const char **list, const uint8_t *buf, size_t b, size_t n)
{
    size_t       i, k;
    const char  *a;

    for (i = 0; list[i]; i++) {
        a = list[i];

        if (strlen(a) != n) {
            continue;
        }

        for (k = 0; k < n && voice_lower(buf[b + k]) == a[k]; k++) {
            /* void */
        }

        if (k == n) {
            return 1;
        }
    }

    return 0;
}


static int
voice_abbrev(const uint8_t *buf, size_t start, size_t dot, size_t len)
{
    size_t  b, n, j;

    b = dot;

    while (b > start && !voice_space(buf[b - 1]) && buf[b - 1] != '('
           && buf[b - 1] != '"')
    {
        b--;
    }

    n = dot - b;

    if (n == 1 && buf[b] >= 'A' && buf[b] <= 'Z') {
        return 1;                               /* "J. Smith" */
    }

    if (voice_abbrev_in(voice_abbrevs, buf, b, n)) {
        return 1;
    }

    if (voice_abbrev_in(voice_abbrevs_end, buf, b, n)) {
        for (j = dot + 1; j < len && voice_space(buf[j]); j++) {
            /* void */
        }

        /* undecided until the next word starts */
        return j == len ? -1 : !(buf[j] >= 'A' && buf[j] <= 'Z');
    }

    return 0;
}


/*
 * A run of terminators [i, j) ends the text so far: can what comes next
 * still make it something else than the end of a sentence?  "3." may be
 * "3.5", "e." may be "e.g.", "Dr." and an initial never end one, "a.m."
 * does when a capital follows, a quote still open closes after it.  Any
 * other word before a period, and "!" or "?", end the sentence now: the
 * next delta of the stream is not waited for.
 */

static int
voice_sentence_final(voice_sentence_t *s, size_t i, size_t j)
{
    size_t   b, quotes;
    uint8_t  c;

    /* only whole "…" and "”" beside ASCII: the run may end mid-sequence */

    for (b = i; b < j; b++) {
        if (s->buf[b] < 0x80) {
            continue;
        }

        if (b + 2 < j && s->buf[b] == 0xe2 && s->buf[b + 1] == 0x80
            && (s->buf[b + 2] == 0xa6 || s->buf[b + 2] == 0x9d))
        {
            b += 2;
            continue;
        }

        return 0;
    }

    quotes = 0;

    for (b = s->emitted; b < j; b++) {
        quotes += (s->buf[b] == '"');
    }

    if (quotes % 2) {
        return 0;
    }

    if (s->buf[i] != '.' || j > i + 1) {
        return 1;
    }

    c = (i > s->emitted) ? s->buf[i - 1] : ' ';

    if (c >= '0' && c <= '9') {
        return 0;
    }

    if (c >= 'a' && c <= 'z' && (i - 1 == s->emitted
                                 || voice_space(s->buf[i - 2])))
    {
        return 0;
    }

    return voice_abbrev(s->buf, s->emitted, i, s->len) == 0;
}


void
voice_sentence_init(voice_sentence_t *s, uint8_t *buf, size_t cap,
    size_t max_len)
{
    s->buf = buf;
    s->cap = cap;
    s->len = 0;
    s->max_len = max_len < cap ? max_len : cap;

    /* room for a whole UTF-8 sequence, so none is ever split */

    if (s->max_len < 4) {
        s->max_len = cap < 4 ? cap : 4;
    }
    s->emitted = 0;
    s->scan = 0;
}


static int
voice_sentence_emit(voice_sentence_t *s, size_t end, const uint8_t **out,
    size_t *out_len)
{
    size_t  b, e, k;

    b = s->emitted;
    e = end;

    while (b < e && voice_space(s->buf[b])) {
        b++;
    }

    /*
     * The rest of a terminator run that came after its sentence was
     * handed out ("What?" then "!"), or its closing quote: not a sentence
     */

    for (k = b; k < e && voice_stray(s->buf[k]); k++) {
        /* void */
    }

    if (k > b && (k == e || voice_space(s->buf[k]))) {
        b = k;

        while (b < e && voice_space(s->buf[b])) {
            b++;
        }
    }

    while (e > b && voice_space(s->buf[e - 1])) {
        e--;
    }

    s->emitted = end;
    s->scan = end;

    if (e == b) {
        return 0;
    }

    *out = s->buf + b;
    *out_len = e - b;

    return 1;
}


/*
 * Waiting for the next character is over once the text would be cut for
 * its length anyway: so a full buffer always yields a sentence.
 */

static int
voice_sentence_full(voice_sentence_t *s)
{
    return s->len - s->emitted >= s->max_len;
}


/*
 * The last position at or before "at" that does not split a UTF-8
 * sequence; bytes at and after "at" need not be there yet.
 */

static size_t
voice_utf8_boundary(const uint8_t *buf, size_t from, size_t at)
{
    size_t   l, n;
    uint8_t  c;

    l = at;

    while (l > from && (buf[l - 1] & 0xc0) == 0x80 && at - l < 3) {
        l--;
    }

    if (l == from) {
        return at;                      /* no lead byte: not UTF-8 */
    }

    c = buf[l - 1];
    n = (c >= 0xf0) ? 4 : (c >= 0xe0) ? 3 : (c >= 0xc0) ? 2 : 1;

    /* the sequence that starts at l - 1 runs past "at": cut before it */

    if (l - 1 + n > at && l - 1 > from) {
        return l - 1;
    }

    return at;
}


/* the end of the first complete sentence in the buffer, or 0 */

static size_t
voice_sentence_find(voice_sentence_t *s)
{
    int       k;
    size_t    i, j, cut;
    uint8_t   c;

    for (i = s->scan; i < s->len; i++) {
        c = s->buf[i];

        if (c == '\n') {
            return i + 1;
        }

        /* CJK full stops and the ellipsis character end at once */

        if ((c == 0xe2 || c == 0xe3 || c == 0xef) && i + 2 >= s->len) {
            if (voice_sentence_full(s)) {
                break;
            }

            s->scan = i;
            return 0;
        }

        if (i + 2 < s->len && s->buf[i] == 0xe3 && s->buf[i + 1] == 0x80
            && s->buf[i + 2] == 0x82)
        {
            return i + 3;
        }

        if (i + 2 < s->len && s->buf[i] == 0xef && s->buf[i + 1] == 0xbc
            && (s->buf[i + 2] == 0x81 || s->buf[i + 2] == 0x9f))
        {
            return i + 3;
        }

        if (c != '.' && c != '!' && c != '?'
            && !(i + 2 < s->len && c == 0xe2 && s->buf[i + 1] == 0x80
                 && s->buf[i + 2] == 0xa6))
        {
            continue;
        }

        /* a run of terminators and closing quotes or brackets */

        j = i;

        while (j < s->len && voice_closing(s->buf[j])) {
            j++;
        }

        if (j == s->len) {
            if (voice_sentence_final(s, i, j)) {
                return j;
            }

            if (voice_sentence_full(s)) {
                break;
            }

            /* wait: the next character decides */
            s->scan = i;
            return 0;
        }

        if (!voice_space(s->buf[j])) {
            i = j - 1;
            continue;
        }

        if (c == '.' && j == i + 1) {
            k = voice_abbrev(s->buf, s->emitted, i, s->len);

            if (k < 0) {
                if (voice_sentence_full(s)) {
                    break;
                }

                s->scan = i;
                return 0;
            }

            if (k) {
                continue;
            }
        }

        return j;
    }

    s->scan = i;

    /* too long: cut at a clause boundary, else a space */

    if (s->len - s->emitted >= s->max_len) {
        cut = 0;

        for (i = s->emitted + s->max_len; i > s->emitted; i--) {
            c = s->buf[i - 1];

            if ((c == ',' || c == ';' || c == ':')
                && i < s->len && voice_space(s->buf[i]))
            {
                return i;
            }

            if (cut == 0 && voice_space(c)) {
                cut = i;
            }
        }

        if (cut) {
            return cut;
        }

        /* one long word: cut on a UTF-8 boundary */

        return voice_utf8_boundary(s->buf, s->emitted,
                                   s->emitted + s->max_len);
    }

    return 0;
}


size_t
voice_sentence_feed(voice_sentence_t *s, const uint8_t *in, size_t len,
    const uint8_t **out, size_t *out_len, int *ready)
{
    size_t  n, end, used;

    *ready = 0;
    used = 0;

    for ( ;; ) {

        /* a complete sentence already in the buffer */

        end = voice_sentence_find(s);

        if (end) {
            if (voice_sentence_emit(s, end, out, out_len)) {
                *ready = 1;
                return used;
            }

            continue;
        }

        if (used == len) {
            return used;
        }

        /* make room: drop what was handed out */

        if (s->emitted) {
            memmove(s->buf, s->buf + s->emitted, s->len - s->emitted);
            s->len -= s->emitted;
            s->scan -= s->emitted;
            s->emitted = 0;
        }

        n = s->cap - s->len;
        n = (len - used < n) ? len - used : n;

        memcpy(s->buf + s->len, in + used, n);
        s->len += n;
        used += n;
    }
}


int
voice_sentence_flush(voice_sentence_t *s, const uint8_t **out,
    size_t *out_len)
{
    return voice_sentence_emit(s, s->len, out, out_len);
}

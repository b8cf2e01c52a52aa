/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The validator against the grammar of RFC 3629, section 4, written out
 * byte range by byte range: every input of one, two and three bytes,
 * every four-byte input from a lead of 0xf0 to 0xf7 (the last byte from a
 * representative set, and all of them when the middle bytes continue),
 * and every code point encoded, whole and cut short.
 */

#include "unit.h"
#include "voice_utf8.h"


/* UTF8-tail = %x80-BF */

static int
ref_tail(const uint8_t *p, size_t len, size_t i)
{
    return i < len && p[i] >= 0x80 && p[i] <= 0xbf;
}


static int
ref_in(const uint8_t *p, size_t len, size_t i, uint8_t lo, uint8_t hi)
{
    return i < len && p[i] >= lo && p[i] <= hi;
}


/* the grammar's UTF8-char at p: its length, or 0 */

static size_t
ref_seq_len(const uint8_t *p, size_t len)
{
    if (len == 0) {
        return 0;
    }

    /* UTF8-1 */

    if (p[0] <= 0x7f) {
        return 1;
    }

    /* UTF8-2 = %xC2-DF UTF8-tail */

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        return ref_tail(p, len, 1) ? 2 : 0;
    }

    /*
     * UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
     *          %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
     */

    if (p[0] == 0xe0) {
        return ref_in(p, len, 1, 0xa0, 0xbf) && ref_tail(p, len, 2) ? 3 : 0;
    }

    if ((p[0] >= 0xe1 && p[0] <= 0xec) || p[0] == 0xee || p[0] == 0xef) {
        return ref_tail(p, len, 1) && ref_tail(p, len, 2) ? 3 : 0;
    }

    if (p[0] == 0xed) {
        return ref_in(p, len, 1, 0x80, 0x9f) && ref_tail(p, len, 2) ? 3 : 0;
    }

    /*
     * UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
     *          %xF4 %x80-8F 2( UTF8-tail )
     */

    if (p[0] == 0xf0) {
        return ref_in(p, len, 1, 0x90, 0xbf) && ref_tail(p, len, 2)
               && ref_tail(p, len, 3) ? 4 : 0;
    }

    if (p[0] >= 0xf1 && p[0] <= 0xf3) {
        return ref_tail(p, len, 1) && ref_tail(p, len, 2)
               && ref_tail(p, len, 3) ? 4 : 0;
    }

    if (p[0] == 0xf4) {
        return ref_in(p, len, 1, 0x80, 0x8f) && ref_tail(p, len, 2)
               && ref_tail(p, len, 3) ? 4 : 0;
    }

    return 0;
}


/* UTF8-octets = *( UTF8-char ) */

static int
ref_valid(const uint8_t *p, size_t len)
{
    size_t  i, n;

    for (i = 0; i < len; i += n) {
        n = ref_seq_len(p + i, len - i);

        if (n == 0) {
            return 0;
        }
    }

    return 1;
}


/* the table of RFC 3629, section 3 */

static size_t
ref_encode(uint32_t u, uint8_t *out)
{
    if (u < 0x80) {
        out[0] = (uint8_t) u;
        return 1;
    }

    if (u < 0x800) {
        out[0] = (uint8_t) (0xc0 | u >> 6);
        out[1] = (uint8_t) (0x80 | (u & 0x3f));
        return 2;
    }

    if (u < 0x10000) {
        out[0] = (uint8_t) (0xe0 | u >> 12);
        out[1] = (uint8_t) (0x80 | (u >> 6 & 0x3f));
        out[2] = (uint8_t) (0x80 | (u & 0x3f));
        return 3;
    }

    out[0] = (uint8_t) (0xf0 | u >> 18);
    out[1] = (uint8_t) (0x80 | (u >> 12 & 0x3f));
    out[2] = (uint8_t) (0x80 | (u >> 6 & 0x3f));
    out[3] = (uint8_t) (0x80 | (u & 0x3f));
    return 4;
}


static unsigned long  mismatches;


/*
 * The validator reads ASCII a word at a time: a sequence, valid or not,
 * at every position in ASCII text, so on each side of and across every
 * word boundary, at every alignment of the text and every length (cut
 * inside the sequence too); and two of them, at every pair of
 * positions.  Returns the number of disagreements with the grammar.
 */

static unsigned long
in_ascii(void)
{
    size_t          i, j, k, pos, pos2, align, len, n;
    unsigned long   bad;
    uint8_t         buf[64 + 8], *t;
    static const char  *seqs[] = {
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xf4\x8f\xbf\xbf", "\x80", "\xbf", "\xc0\x80", "\xc1\xbf",
        "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80", "\xff", "\xe2\x82", "\xc3", "\xf0\x9f\x98",
        NULL
    };

    bad = 0;

    for (i = 0; seqs[i]; i++) {
        n = strlen(seqs[i]);

        for (align = 0; align < 8; align++) {
            t = buf + align;

            for (pos = 0; pos + n <= 40; pos++) {
                memset(t, 'a', 64);
                memcpy(t + pos, seqs[i], n);

                for (len = pos + 1; len <= 48; len++) {
                    bad += voice_utf8_valid(t, len) != ref_valid(t, len);
                }
            }
        }

        for (j = 0; seqs[j]; j++) {
            k = strlen(seqs[j]);

            for (pos = 0; pos + n <= 24; pos++) {
                for (pos2 = pos + n; pos2 + k <= 32; pos2++) {
                    memset(buf, 'a', 64);
                    memcpy(buf + pos, seqs[i], n);
                    memcpy(buf + pos2, seqs[j], k);

                    bad += voice_utf8_valid(buf, 40) != ref_valid(buf, 40);
                }
            }
        }
    }

    return bad;
}


/* both functions agree with the grammar on p[0..len) */

static void
same(const uint8_t *p, size_t len)
{
    if (voice_utf8_valid(p, len) != ref_valid(p, len)
        || voice_utf8_seq_len(p, len) != ref_seq_len(p, len))
    {
        if (mismatches++ < 10) {
            fprintf(stderr, "mismatch on %zu bytes %02x %02x %02x %02x\n",
                    len, len > 0 ? p[0] : 0, len > 1 ? p[1] : 0,
                    len > 2 ? p[2] : 0, len > 3 ? p[3] : 0);
        }
    }
}


int
main(void)
{
    size_t          i, k, n, len, valid;
    uint8_t         b[4], s[64];
    uint32_t        u, a, c, d;
    unsigned long   bad, cut;
    static const uint8_t  last[] = {
        0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2,
        0xdf, 0xe0, 0xef, 0xf0, 0xf4, 0xf5, 0xff
    };
    static const char  mixed[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                                 "\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf"
                                 "\xc2\x80z";

    /* the grammar itself, on its own corner cases */

    CHECK_INT(ref_seq_len((const uint8_t *) "\xed\xa0\x80", 3), 0);
    CHECK_INT(ref_seq_len((const uint8_t *) "\xf4\x8f\xbf\xbf", 4), 4);
    CHECK_INT(ref_seq_len((const uint8_t *) "\xf4\x90\x80\x80", 4), 0);

    /* nothing at all is valid, and has no sequence */

    CHECK_INT(voice_utf8_valid(b, 0), 1);
    CHECK_INT(voice_utf8_seq_len(b, 0), 0);

    /* every input of one, two and three bytes */

    mismatches = 0;

    for (a = 0; a < 256; a++) {
        b[0] = (uint8_t) a;
        same(b, 1);
    }

    CHECK_INT(mismatches, 0);

    for (a = 0; a < 256; a++) {
        for (c = 0; c < 256; c++) {
            b[0] = (uint8_t) a;
            b[1] = (uint8_t) c;
            same(b, 2);
        }
    }

    CHECK_INT(mismatches, 0);

    for (a = 0; a < 256; a++) {
        for (c = 0; c < 256; c++) {
            for (d = 0; d < 256; d++) {
                b[0] = (uint8_t) a;
                b[1] = (uint8_t) c;
                b[2] = (uint8_t) d;
                same(b, 3);
            }
        }
    }

    CHECK_INT(mismatches, 0);

    /* four bytes: every lead 0xf0-0xf7 with every second and third byte */

    for (a = 0xf0; a <= 0xf7; a++) {
        for (c = 0; c < 256; c++) {
            for (d = 0; d < 256; d++) {
                for (i = 0; i < sizeof(last); i++) {
                    b[0] = (uint8_t) a;
                    b[1] = (uint8_t) c;
                    b[2] = (uint8_t) d;
                    b[3] = last[i];
                    same(b, 4);
                }
            }
        }
    }

    CHECK_INT(mismatches, 0);

    /* ... and every continuation byte where the first three continue */

    for (a = 0xf0; a <= 0xf7; a++) {
        for (c = 0x80; c <= 0xbf; c++) {
            for (d = 0x80; d <= 0xbf; d++) {
                for (k = 0; k < 256; k++) {
                    b[0] = (uint8_t) a;
                    b[1] = (uint8_t) c;
                    b[2] = (uint8_t) d;
                    b[3] = (uint8_t) k;
                    same(b, 4);
                }
            }
        }
    }

    CHECK_INT(mismatches, 0);

    /*
     * Every code point encoded: a whole sequence is valid except for the
     * surrogates, and none is valid cut short
     */

    bad = 0;
    cut = 0;

    for (u = 0; u <= 0x10ffff; u++) {
        n = ref_encode(u, b);
        valid = (u < 0xd800 || u > 0xdfff) ? n : 0;

        if (voice_utf8_seq_len(b, n) != valid
            || voice_utf8_valid(b, n) != (valid != 0))
        {
            bad++;
        }

        for (k = 1; k < n; k++) {
            if (voice_utf8_seq_len(b, k) != 0 || voice_utf8_valid(b, k)) {
                cut++;
            }
        }
    }

    CHECK_INT(bad, 0);
    CHECK_INT(cut, 0);

    /* a string of all lengths: whole, cut anywhere, spoiled anywhere */

    len = sizeof(mixed) - 1;
    CHECK_INT(voice_utf8_valid((const uint8_t *) mixed, len), 1);

    bad = 0;

    for (k = 0; k <= len; k++) {
        if (voice_utf8_valid((const uint8_t *) mixed, k)
            != ref_valid((const uint8_t *) mixed, k))
        {
            bad++;
        }

        if (k == len) {
            break;
        }

        memcpy(s, mixed, len);
        s[k] = 0xff;

        if (voice_utf8_valid(s, len)) {
            bad++;
        }
    }

    CHECK_INT(bad, 0);

    CHECK_INT(in_ascii(), 0);

    /* the lengths of a sequence at p ignore what follows it */

    CHECK_INT(voice_utf8_seq_len((const uint8_t *) "\xe2\x82\xac\xff", 4), 3);
    CHECK_INT(voice_utf8_seq_len((const uint8_t *) "ab", 2), 1);
    CHECK_INT(voice_utf8_seq_len((const uint8_t *) "\x80z", 2), 0);

    /*
     * Cutting to fit: every code point between two ASCII bytes, at every
     * limit, keeps whole sequences only and as many bytes as that allows
     */

    bad = 0;

    for (u = 0x80; u <= 0x10ffff; u++) {
        if (u >= 0xd800 && u <= 0xdfff) {
            continue;
        }

        s[0] = 'a';
        n = 1 + ref_encode(u, s + 1);
        s[n++] = 'b';

        for (k = 0; k <= n + 1; k++) {
            if (voice_utf8_cut(s, n, k)
                != (k >= n ? n : k >= n - 1 ? n - 1 : k >= 1 ? 1 : 0))
            {
                bad++;
            }
        }
    }

    CHECK_INT(bad, 0);

    /* what is not UTF-8 is cut where the limit says */

    CHECK_INT(voice_utf8_cut((const uint8_t *) "\x80\x80\x80\x80\x80", 5, 3),
              3);
    CHECK_INT(voice_utf8_cut((const uint8_t *) "\xe2\x82z", 3, 1), 1);
    CHECK_INT(voice_utf8_cut((const uint8_t *) "\xe2\x82\xac", 3, 2), 0);
    CHECK_INT(voice_utf8_cut((const uint8_t *) "", 0, 0), 0);

    UNIT_DONE("utf8");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include "unit.h"
#include "voice_sentence.h"


static int
split_cap(const char *in, size_t step, char out[][256], size_t max_len,
    size_t cap)
{
    int                n, ready;
    size_t             pos, chunk, used, olen;
    uint8_t           *buf;
    const uint8_t     *o;
    voice_sentence_t   s;

    /* exactly cap bytes: a read past them is the sanitizer's to see */
    buf = malloc(cap);
    voice_sentence_init(&s, buf, cap, max_len);

    n = 0;
    pos = 0;

    while (pos < strlen(in)) {
        chunk = strlen(in) - pos < step ? strlen(in) - pos : step;

        while (chunk) {
            used = voice_sentence_feed(&s, (const uint8_t *) in + pos, chunk,
                                       &o, &olen, &ready);
            pos += used;
            chunk -= used;

            if (ready) {
                memcpy(out[n], o, olen);
                out[n++][olen] = '\0';
            }
        }
    }

    for ( ;; ) {
        used = voice_sentence_feed(&s, NULL, 0, &o, &olen, &ready);

        if (!ready) {
            break;
        }

        memcpy(out[n], o, olen);
        out[n++][olen] = '\0';
    }

    if (voice_sentence_flush(&s, &o, &olen)) {
        memcpy(out[n], o, olen);
        out[n++][olen] = '\0';
    }

    free(buf);

    return n;
}


static int
split(const char *in, size_t step, char out[][256], size_t max_len)
{
    return split_cap(in, step, out, max_len, 512);
}


/*
 * The same sentence but for the end of its terminator run: a delta that
 * ends inside "?!" or "..." hands the sentence out at its first mark.
 */

static int
same(const char *a, const char *b, int whole)
{
    size_t  la, lb;

    if (whole) {
        return strcmp(a, b) == 0;
    }

    la = strlen(a);
    lb = strlen(b);

    while (la && strchr(".!?", a[la - 1])) {
        la--;
    }

    while (lb && strchr(".!?", b[lb - 1])) {
        lb--;
    }

    return la == lb && memcmp(a, b, la) == 0;
}


static void
check(const char *in, const char **want, int nwant)
{
    int     i, n;
    size_t  step;
    char    out[32][256];

    for (step = 1; step <= strlen(in); step++) {
        n = split(in, step, out, 200);

        if (n != nwant) {
            UNIT_FAIL("\"%s\" in steps of %zu: %d sentences, want %d", in,
                      step, n, nwant);
            return;
        }

        for (i = 0; i < n; i++) {
            if (!same(out[i], want[i], step == strlen(in))) {
                UNIT_FAIL("\"%s\" step %zu: \"%s\", want \"%s\"", in, step,
                          out[i], want[i]);
                return;
            }
        }
    }

    unit_passed++;
}


#define CASE(in, ...)                                                        \
    do {                                                                     \
        const char  *w_[] = { __VA_ARGS__ };                                 \
        check(in, w_, sizeof(w_) / sizeof(w_[0]));                           \
    } while (0)


/* whether text fed as one delta yields its sentence at once */

static void
at_once(const char *in, int want)
{
    int                ready;
    size_t             olen;
    uint8_t            buf[256];
    const uint8_t     *o;
    voice_sentence_t   s;

    voice_sentence_init(&s, buf, sizeof(buf), 200);
    (void) voice_sentence_feed(&s, (const uint8_t *) in, strlen(in), &o,
                               &olen, &ready);

    if (ready != want) {
        UNIT_FAIL("\"%s\": %s at once", in, ready ? "handed out" : "held");
        return;
    }

    if (ready && (olen != strlen(in) || memcmp(o, in, olen) != 0)) {
        UNIT_FAIL("\"%s\": \"%.*s\" handed out", in, (int) olen, o);
        return;
    }

    unit_passed++;
}


int
main(void)
{
    int     n;
    char    out[32][256];
    char    longs[400];

    CASE("Hello there. How are you?", "Hello there.", "How are you?");
    CASE("Wow! Really?! Yes.", "Wow!", "Really?!", "Yes.");
    CASE("It costs 3.50 dollars. Ok.", "It costs 3.50 dollars.", "Ok.");
    CASE("Ask Dr. Smith today. Bye.", "Ask Dr. Smith today.", "Bye.");
    CASE("Bring fruit, e.g. apples. Done.", "Bring fruit, e.g. apples.",
         "Done.");
    CASE("J. R. R. Tolkien wrote it. Yes.", "J. R. R. Tolkien wrote it.",
         "Yes.");
    CASE("He said \"Hi.\" Then left.", "He said \"Hi.\"", "Then left.");
    CASE("Wait... what? Ok", "Wait...", "what?", "Ok");
    CASE("Line one\nLine two\n\nLine three", "Line one", "Line two",
         "Line three");
    CASE("Open 9 a.m. to 5 p.m. daily. Call us.",
         "Open 9 a.m. to 5 p.m. daily.", "Call us.");
    CASE("Open until 5.30 p.m. Anything else?", "Open until 5.30 p.m.",
         "Anything else?");
    CASE("Apples, pears etc. are fine.", "Apples, pears etc. are fine.");
    CASE("Café crème? Très bon. 😀 Yes!", "Café crème?", "Très bon.",
         "😀 Yes!");
    CASE("你好。今天好吗？", "你好。", "今天好吗？");
    CHECK_INT(split("  ", 1, out, 200), 0);

    /* a delta that ends with a sentence: sent at once when it cannot go on */

    at_once("Hello there.", 1);
    at_once("What?", 1);
    at_once("Really?!", 1);
    at_once("Wait...", 1);
    at_once("He said \"Hi.\"", 1);
    at_once("The U.S.", 1);
    at_once("Très bon.", 1);
    at_once("Well\xe2\x80\xa6", 1);
    at_once("She said \xe2\x80\x9chi.\xe2\x80\x9d", 1);
    at_once("Wow!\xe2\x80", 0);
    at_once("It costs 3.", 0);
    at_once("Ask Dr.", 0);
    at_once("Meet J.", 0);
    at_once("Bring fruit, e.", 0);
    at_once("Open at 9 a.m.", 0);
    at_once("He said \"Hi.", 0);
    at_once("No end", 0);

    /* the rest of a run after its sentence went: no sentence of its own */

    CHECK_INT(split("Really?! Ok.", 8, out, 200), 2);
    CHECK_STR(out[1], "Ok.");
    CHECK_INT(split("Fine?\" Yes", 5, out, 200), 2);
    CHECK_STR(out[1], "Yes");
    CASE("No end", "No end");

    /* a long sentence is cut at a clause boundary */

    memset(longs, 0, sizeof(longs));
    strcpy(longs, "This sentence goes on and on, ");

    while (strlen(longs) < 300) {
        strcat(longs, "and on ");
    }

    strcat(longs, "until it ends.");
    n = split(longs, 7, out, 100);
    CHECK(n >= 3);
    CHECK_STR(out[0], "This sentence goes on and on,");
    CHECK(strlen(out[1]) <= 100);

    /* a word as long as the buffer: cut at its end, nothing read past it */

    memset(longs, 'a', 64);
    longs[64] = '\0';
    n = split_cap(longs, 64, out, 64, 64);
    CHECK_INT(n, 1);
    CHECK_INT(strlen(out[0]), 64);

    /* the cut falls where a UTF-8 sequence has only begun to arrive */

    n = split_cap("abcdefghij\xda\x8dxyz", 11, out, 11, 64);
    CHECK_INT(n, 2);
    CHECK_STR(out[0], "abcdefghij");
    CHECK_STR(out[1], "\xda\x8dxyz");

    /* a full buffer whose end is undecided still yields a sentence */

    memset(longs, 'a', 63);
    strcpy(longs + 63, ".bbbb");
    n = split_cap(longs, strlen(longs), out, 64, 64);
    CHECK(n >= 2);
    CHECK_INT(strlen(out[0]) + strlen(out[1]) + (n > 2 ? strlen(out[2]) : 0),
              68);

    n = split_cap("Dr. Who is here. Ok.", 20, out, 0, 64);
    CHECK(n >= 2);

    UNIT_DONE("sentence");
}

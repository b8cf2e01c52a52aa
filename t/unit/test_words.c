/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Words for barge-in: backchannels in any case and punctuation count
 * for nothing, anything else the caller says counts, in any script; and
 * every short string of spaces, marks and letters counts as a plain
 * model of the rule says.
 */

#include "unit.h"
#include "voice_words.h"


#define IGNORE   voice_words_backchannel, voice_words_backchannel_n


static size_t
count(const char *text, const voice_words_t *ignore, size_t n)
{
    return voice_words_count((const uint8_t *) text, strlen(text), ignore,
                             n);
}


static const struct {
    const char  *text;
    size_t       backchannel;       /* with the backchannels ignored */
    size_t       all;               /* with nothing ignored */
} texts[] = {

    /* listening, not interrupting */
    { "okay", 0, 1 },
    { "Okay.", 0, 1 },
    { "okay okay", 0, 2 },
    { "OKAY,  Okay!  oKaY?", 0, 3 },
    { "uh-huh", 0, 1 },
    { "Uh-huh.", 0, 1 },
    { "mm-hmm, yeah. Right...", 0, 3 },
    { "\"Sure\"", 0, 1 },
    { "(okay)", 0, 1 },
    { "\xe2\x80\x9cYeah\xe2\x80\x9d\xe2\x80\xa6", 0, 1 },

    /* nothing said */
    { "", 0, 0 },
    { "   \t\r\n\v\f ", 0, 0 },
    { "...", 0, 0 },
    { "- ?! , \xe2\x80\x94 \xe2\x80\xa6 \xc2\xbf\xc2\xa1", 0, 0 },

    /* interrupting */
    { "okay wait", 1, 2 },
    { "Wait.", 1, 1 },
    { "no", 1, 1 },
    { "okays", 1, 1 },
    { "uh huh", 1, 2 },
    { "uh-huh-huh", 1, 1 },
    { "okay,wait", 1, 1 },
    { "don't", 1, 1 },
    { "Stop \xe2\x80\x94 wait", 2, 2 },
    { "3 pm", 2, 2 },

    /* other scripts: their words and their punctuation */
    { "caf\xc3\xa9", 1, 1 },
    { "\xc2\xbfQu\xc3\xa9 pasa?", 2, 2 },
    { "\xc2\xab" "bonjour\xc2\xbb", 1, 1 },
    { "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x80\x82", 1, 1 },
    { "\xe3\x81\xaf\xe3\x81\x84\xef\xbc\x81 \xe3\x80\x82", 1, 1 },
    { "\xd0\xb4\xd0\xb0, okay", 1, 2 },
    { "\xf0\x9f\x91\x8d", 1, 1 },

    /* bytes that are not UTF-8 are still something said */
    { "\xff", 1, 1 },
    { "\xe2\x80", 1, 1 }
};


/*
 * The rule, written plainly for ASCII: strip, lowercase, compare with
 * "ok" as the one ignored word
 */

static size_t
model(const char *s, size_t len)
{
    char    w[8];
    size_t  i, j, k, n, words;

    words = 0;

    for (i = 0; i < len; i = j) {
        for (j = i; j < len && s[j] != ' ' && s[j] != '\t'; j++) {
            /* void */
        }

        for (k = i; k < j && strchr(".-,", s[k]); k++) {
            /* void */
        }

        for (n = 0; k < j; k++) {
            w[n++] = (char) (s[k] >= 'A' && s[k] <= 'Z' ? s[k] | 0x20 : s[k]);
        }

        while (n && strchr(".-,", w[n - 1])) {
            n--;
        }

        if (n && !(n == 2 && memcmp(w, "ok", 2) == 0)) {
            words++;
        }

        if (j == i) {
            j++;
        }
    }

    return words;
}


int
main(void)
{
    char                 s[8];
    size_t               i, k, m, n, len, wrong;
    voice_words_t        ok[2];
    static const char    alphabet[] = " \t.-,oOkKa";

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        CHECK_INT(count(texts[i].text, IGNORE), texts[i].backchannel);
        CHECK_INT(count(texts[i].text, NULL, 0), texts[i].all);
    }

    /* an ignored word is stripped and case-folded like the text */

    ok[0].word = (const uint8_t *) "\"Okay,\"";
    ok[0].len = 7;
    ok[1].word = (const uint8_t *) "\xc3\xa9t\xc3\xa9";
    ok[1].len = 5;

    CHECK_INT(count("okay OKAY okay.", ok, 1), 0);
    CHECK_INT(count("okay yeah", ok, 1), 1);
    CHECK_INT(count("\xc3\xa9t\xc3\xa9!", ok, 2), 0);
    CHECK_INT(count("\xc3\x89t\xc3\xa9", ok, 2), 1);

    /* an ignored word of punctuation only ignores nothing */

    ok[0].word = (const uint8_t *) "...";
    ok[0].len = 3;
    CHECK_INT(count("... wait ...", ok, 1), 1);

    /* the backchannel list is what its header says */
    CHECK_INT(voice_words_backchannel_n, 19);
    CHECK_INT(count("ok yeah yes yep yup right sure alright uh-huh mm-hmm "
                    "mhm mm hmm hm uh um ah oh", IGNORE), 0);

    /*
     * every string of up to five from an alphabet of spaces, marks and
     * letters, against the model
     */

    ok[0].word = (const uint8_t *) "OK";
    ok[0].len = 2;
    wrong = 0;

    for (len = 0; len <= 5; len++) {
        for (n = 1, k = 0; k < len; k++) {
            n *= sizeof(alphabet) - 1;
        }

        for (i = 0; i < n; i++) {
            for (k = 0, m = i; k < len; k++, m /= sizeof(alphabet) - 1) {
                s[k] = alphabet[m % (sizeof(alphabet) - 1)];
            }

            if (voice_words_count((const uint8_t *) s, len, ok, 1)
                != model(s, len))
            {
                wrong++;
            }
        }
    }

    CHECK_INT(wrong, 0);

    UNIT_DONE("words");
}

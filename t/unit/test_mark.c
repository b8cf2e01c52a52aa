/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Mark names: what we write is what printf would, reads back as the
 * same numbers for every length of either number, and anything else a
 * name could be is not ours.
 */

#include <limits.h>

#include "unit.h"
#include "voice_mark.h"


/* the smallest and the largest number of each length, up to ULONG_MAX */

static size_t
numbers(unsigned long *v)
{
    size_t         n;
    unsigned long  p;

    n = 0;
    v[n++] = 0;

    for (p = 1; ; p *= 10) {
        v[n++] = p;

        if (p > ULONG_MAX / 10) {
            v[n++] = ULONG_MAX;
            return n;
        }

        v[n++] = p * 10 - 1;
    }
}


int
main(void)
{
    int             rc;
    char            want[64], name[64];
    size_t          i, j, n, len, bad;
    uint8_t         out[VOICE_MARK_MAX];
    unsigned long   v[64], turn, sentence;
    static const char  *not_ours[] = {
        "", "t", "t1", "t1-", "t1-s", "t-s1", "ts1", "t1s1", "x1-s1",
        "T1-s1", "t1-S1", "t1_s1", "t1-s1x", "t1-s1 ", " t1-s1", "t+1-s1",
        "t-1-s1", "t1-s-1", "t1-s+1", "t1--s1", "t1-s1-s2", "t 1-s1",
        "t1-s 1", "t0x1-s1", "echo-3", "t1-s1\n", NULL
    };

    n = numbers(v);

    /* every pair of lengths: as printf writes it, and read back */

    bad = 0;

    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            len = voice_mark_sentence(out, v[i], v[j]);
            snprintf(want, sizeof(want), "t%lu-s%lu", v[i], v[j]);

            if (strlen(want) >= VOICE_MARK_MAX) {
                /* too long for a name: none written */
                if (len != 0 || out[0] != '\0') {
                    bad++;
                }

                continue;
            }

            if (len != strlen(want) || memcmp(out, want, len + 1) != 0) {
                bad++;
                continue;
            }

            turn = sentence = 12345;
            rc = voice_mark_parse_sentence((char *) out, &turn, &sentence);

            if (rc != 0 || turn != v[i] || sentence != v[j]) {
                bad++;
            }
        }
    }

    CHECK_INT(bad, 0);

    /* the turns and sentences of a long call always fit */

    CHECK_INT(voice_mark_sentence(out, 999999, 9999), 13);
    CHECK_STR((char *) out, "t999999-s9999");

    /* the shapes that are not ours, which leave the numbers alone */

    bad = 0;

    for (i = 0; not_ours[i]; i++) {
        turn = sentence = 7;

        if (voice_mark_parse_sentence(not_ours[i], &turn, &sentence) != -1
            || turn != 7 || sentence != 7)
        {
            UNIT_FAIL("\"%s\" read as a mark", not_ours[i]);
            bad++;
        }
    }

    CHECK_INT(bad, 0);

    /* leading zeros are read, as ngx_atoi() read them */

    CHECK_INT(voice_mark_parse_sentence("t007-s00", &turn, &sentence), 0);
    CHECK_INT(turn, 7);
    CHECK_INT(sentence, 0);

    /* ULONG_MAX is read, one more is not, in either place */

    snprintf(name, sizeof(name), "t%lu-s%lu", ULONG_MAX, 1UL);
    CHECK_INT(voice_mark_parse_sentence(name, &turn, &sentence), 0);
    CHECK(turn == ULONG_MAX && sentence == 1);

    snprintf(name, sizeof(name), "t%lu-s1", ULONG_MAX);
    name[strlen(name) - 4]++;                   /* ...5 to ...6 */
    CHECK_INT(voice_mark_parse_sentence(name, &turn, &sentence), -1);

    snprintf(name, sizeof(name), "t1-s%lu", ULONG_MAX);
    name[strlen(name) - 1]++;
    CHECK_INT(voice_mark_parse_sentence(name, &turn, &sentence), -1);

    snprintf(name, sizeof(name), "t1-s%lu0", ULONG_MAX / 10 + 1);
    CHECK_INT(voice_mark_parse_sentence(name, &turn, &sentence), -1);

    /* 31 characters are read, 32 are not, whatever follows */

    memset(name, '0', sizeof(name));
    memcpy(name, "t1-s", 4);
    name[VOICE_MARK_MAX - 1] = '\0';
    CHECK_INT(voice_mark_parse_sentence(name, &turn, &sentence), 0);
    CHECK_INT(sentence, 0);
    name[VOICE_MARK_MAX - 1] = '0';
    name[VOICE_MARK_MAX] = '\0';
    CHECK_INT(voice_mark_parse_sentence(name, &turn, &sentence), -1);

    /* echo marks */

    CHECK_INT(voice_mark_echo(out, 0), 6);
    CHECK_STR((char *) out, "echo-0");
    CHECK_INT(voice_mark_echo(out, 42), 7);
    CHECK_STR((char *) out, "echo-42");
    snprintf(want, sizeof(want), "echo-%lu", ULONG_MAX);
    CHECK_INT(voice_mark_echo(out, ULONG_MAX), strlen(want));
    CHECK_STR((char *) out, want);

    /* and echo marks are not sentences */

    CHECK_INT(voice_mark_parse_sentence((char *) out, &turn, &sentence), -1);

    UNIT_DONE("mark");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Mark names from arbitrary bytes, as Twilio could echo them: a name is
 * read as ours exactly when it has our shape and its numbers fit, as
 * strtoul() reads them; and any two numbers written read back the same.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voice_mark.h"


/* "t" digits "-s" digits, shorter than VOICE_MARK_MAX, numbers that fit */

static int
ours(const char *name, unsigned long *turn, unsigned long *sentence)
{
    char  *end;

    if (strlen(name) >= VOICE_MARK_MAX || name[0] != 't'
        || name[1] < '0' || name[1] > '9')
    {
        return 0;
    }

    errno = 0;
    *turn = strtoul(name + 1, &end, 10);

    if (errno || end[0] != '-' || end[1] != 's' || end[2] < '0'
        || end[2] > '9')
    {
        return 0;
    }

    *sentence = strtoul(end + 2, &end, 10);

    return errno == 0 && *end == '\0';
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc, want;
    char           name[256], printed[64];
    size_t         n, len;
    uint8_t        out[VOICE_MARK_MAX];
    unsigned long  turn, sentence, t, s;

    /* the input as a name, cut at its first NUL as a C string would be */

    n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
    memcpy(name, data, n);
    name[n] = '\0';

    turn = sentence = 0;
    rc = voice_mark_parse_sentence(name, &turn, &sentence);
    want = ours(name, &t, &s);

    if ((rc == 0) != want || (want && (turn != t || sentence != s))) {
        abort();
    }

    /* the input's first bytes as two numbers, written and read back */

    t = 0;
    s = 0;

    for (n = 0; n < size && n < 2 * sizeof(unsigned long); n++) {
        if (n < sizeof(unsigned long)) {
            t = t << 8 | data[n];

        } else {
            s = s << 8 | data[n];
        }
    }

    /* small numbers, the ones real calls have, more often than not */

    if (size && (data[0] & 1)) {
        t %= 100000;
        s %= 1000;
    }

    len = voice_mark_sentence(out, t, s);
    snprintf(printed, sizeof(printed), "t%lu-s%lu", t, s);

    if (strlen(printed) >= VOICE_MARK_MAX) {
        if (len != 0 || out[0] != '\0') {
            abort();
        }

    } else if (len != strlen(printed) || strcmp((char *) out, printed) != 0
               || voice_mark_parse_sentence((char *) out, &turn, &sentence)
                  != 0
               || turn != t || sentence != s)
    {
        abort();
    }

    len = voice_mark_echo(out, t);
    snprintf(printed, sizeof(printed), "echo-%lu", t);

    if (len != strlen(printed) || strcmp((char *) out, printed) != 0) {
        abort();
    }

    return 0;
}

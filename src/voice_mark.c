/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <limits.h>
#include <string.h>

#include "voice_mark.h"


/* room for the digits of any unsigned long */
#define VOICE_MARK_DIGITS  (sizeof(unsigned long) * 3)


/* writes v in decimal, backwards from end; returns where it starts */

static uint8_t *
voice_mark_digits(uint8_t *end, unsigned long v)
{
    do {
        *--end = (uint8_t) ('0' + v % 10);
        v /= 10;
    } while (v);

    return end;
}


size_t
voice_mark_sentence(uint8_t *out, unsigned long turn,
    unsigned long sentence)
{
    size_t    tn, sn;
    uint8_t  *t, *s, tbuf[VOICE_MARK_DIGITS], sbuf[VOICE_MARK_DIGITS];

    t = voice_mark_digits(tbuf + VOICE_MARK_DIGITS, turn);
    s = voice_mark_digits(sbuf + VOICE_MARK_DIGITS, sentence);
    tn = tbuf + VOICE_MARK_DIGITS - t;
    sn = sbuf + VOICE_MARK_DIGITS - s;

    if (1 + tn + 2 + sn >= VOICE_MARK_MAX) {
        out[0] = '\0';
        return 0;
    }

    out[0] = 't';
    memcpy(out + 1, t, tn);
    out[1 + tn] = '-';
    out[2 + tn] = 's';
    memcpy(out + 3 + tn, s, sn);
    out[3 + tn + sn] = '\0';

    return 3 + tn + sn;
}


/* one or more digits at *p, within end; no more than an unsigned long */

static int
voice_mark_number(const char **p, const char *end, unsigned long *v)
{
    unsigned long  d;
    const char    *s;

    *v = 0;

    for (s = *p; s < end && *s >= '0' && *s <= '9'; s++) {
        d = (unsigned long) (*s - '0');

        if (*v > (ULONG_MAX - d) / 10) {
            return -1;
        }

        *v = *v * 10 + d;
    }

    if (s == *p) {
        return -1;
    }

    *p = s;

    return 0;
}


int
voice_mark_parse_sentence(const char *name, unsigned long *turn,
    unsigned long *sentence)
{
    size_t          len;
    const char     *p, *end;
    unsigned long   t, s;

    /* none of ours is this long: read no further */

    for (len = 0; len < VOICE_MARK_MAX && name[len]; len++) {
        /* void */
    }

    if (len == VOICE_MARK_MAX) {
        return -1;
    }

    p = name;
    end = name + len;

    if (p == end || *p++ != 't') {
        return -1;
    }

    if (voice_mark_number(&p, end, &t) != 0) {
        return -1;
    }

    if (end - p < 2 || p[0] != '-' || p[1] != 's') {
        return -1;
    }

    p += 2;

    if (voice_mark_number(&p, end, &s) != 0 || p != end) {
        return -1;
    }

    *turn = t;
    *sentence = s;

    return 0;
}


size_t
voice_mark_echo(uint8_t *out, unsigned long second)
{
    size_t    n;
    uint8_t  *s, buf[VOICE_MARK_DIGITS];

    s = voice_mark_digits(buf + VOICE_MARK_DIGITS, second);
    n = buf + VOICE_MARK_DIGITS - s;

    memcpy(out, "echo-", 5);
    memcpy(out + 5, s, n);
    out[5 + n] = '\0';

    return 5 + n;
}

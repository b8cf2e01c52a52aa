/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The playout clock: a lead of audio at once, then as fast as it plays;
 * a gap counted once and playback going on after it; marks that come
 * back late moving the clock, early ones not; and the heard part of a
 * sentence's text, cut at the word nearest to the point heard.
 */

#include "unit.h"
#include "voice_playout.h"


#define T  1000000                      /* any start time, in ms */


static void
test_pace(void)
{
    voice_playout_t  p;

    voice_playout_init(&p, 500);

    /* nothing sent: a whole lead may go, nothing was heard */

    CHECK_INT(voice_playout_room(&p, T), 4000);
    CHECK_INT(voice_playout_wait(&p, T, 160), 0);
    CHECK_INT(voice_playout_played(&p, T), 0);
    CHECK_INT(voice_playout_left(&p, T), 0);

    /* the lead at once: then nothing until the first frame has played */

    voice_playout_sent(&p, T, 4000);
    CHECK_INT(voice_playout_room(&p, T), 0);
    CHECK_INT(voice_playout_wait(&p, T, 160), 20);
    CHECK_INT(voice_playout_room(&p, T + 19), 152);
    CHECK_INT(voice_playout_room(&p, T + 20), 160);
    CHECK_INT(voice_playout_played(&p, T + 20), 160);

    /* a frame each 20 ms keeps the lead; a late one finds more room */

    voice_playout_sent(&p, T + 20, 160);
    CHECK_INT(voice_playout_room(&p, T + 20), 0);
    CHECK_INT(voice_playout_room(&p, T + 100), 640);
    CHECK_INT(voice_playout_wait(&p, T + 100, 160), 0);
    CHECK_INT(voice_playout_wait(&p, T + 100, 800), 20);

    /* what is left to play: 4160 samples sent, 800 played by T + 100 */

    CHECK_INT(voice_playout_left(&p, T + 100), 420);
    CHECK_INT(voice_playout_left(&p, T + 519), 1);
    CHECK_INT(voice_playout_left(&p, T + 520), 0);
    CHECK_INT(voice_playout_left(&p, T + 10000), 0);

    /* what was sent is all that can have played */

    CHECK_INT(voice_playout_played(&p, T + 10000), 4160);
    CHECK_INT(p.underruns, 0);
}


static void
test_underrun(void)
{
    voice_playout_t  p;

    voice_playout_init(&p, 500);

    voice_playout_sent(&p, T, 1600);

    /* the end of what was sent plays at T + 200: sending then is no gap */

    voice_playout_sent(&p, T + 200, 160);
    CHECK_INT(p.underruns, 0);

    /* all 1760 samples played by T + 220; audio at T + 300: a gap */

    voice_playout_sent(&p, T + 300, 160);
    CHECK_INT(p.underruns, 1);

    /* playback went on at T + 300 with sample 1760 */

    CHECK_INT(voice_playout_played(&p, T + 300), 1760);
    CHECK_INT(voice_playout_played(&p, T + 310), 1840);
    CHECK_INT(voice_playout_room(&p, T + 300), 4000 - 160);

    /* less than a millisecond left is none */

    voice_playout_sent(&p, T + 300, 4);
    CHECK_INT(voice_playout_left(&p, T + 320), 0);
    CHECK_INT(p.underruns, 1);

    /* after a gap a whole lead may go again */

    CHECK_INT(voice_playout_room(&p, T + 5000), 4000);

    /* a restart is a new clock; the count stays */

    voice_playout_restart(&p);
    CHECK_INT(voice_playout_played(&p, T + 6000), 0);
    voice_playout_sent(&p, T + 6000, 160);
    CHECK_INT(p.underruns, 1);
    CHECK_INT(voice_playout_played(&p, T + 6010), 80);

    voice_playout_init(&p, 500);
    CHECK_INT(p.underruns, 0);
}


static void
test_marks(void)
{
    voice_playout_t  p;

    voice_playout_init(&p, 500);

    /* a mark before anything was sent is not of this clock */

    voice_playout_mark(&p, T, 0);
    CHECK_INT(p.started, 0);

    voice_playout_sent(&p, T, 4000);

    /*
     * The mark after sample 1600 should be back at T + 200; at T + 300
     * it says playback is 100 ms behind the clock.
     */

    voice_playout_mark(&p, T + 300, 1600);
    CHECK_INT(voice_playout_played(&p, T + 300), 1600);
    CHECK_INT(voice_playout_played(&p, T + 400), 2400);
    CHECK_INT(voice_playout_room(&p, T + 300), 1600);

    /* a mark back early (a peer that plays at once) moves nothing */

    voice_playout_mark(&p, T + 400, 3200);
    CHECK_INT(voice_playout_played(&p, T + 400), 3200);
    CHECK_INT(voice_playout_played(&p, T + 450), 3200);
    CHECK_INT(voice_playout_played(&p, T + 500), 3200);
    CHECK_INT(voice_playout_played(&p, T + 510), 3280);
    CHECK_INT(voice_playout_room(&p, T + 400), 2400);

    /* nor does a mark for more than was sent */

    voice_playout_mark(&p, T + 5000, 4001);
    CHECK_INT(voice_playout_played(&p, T + 450), 3200);
}


static size_t
cut(const char *text, uint64_t heard, uint64_t total)
{
    return voice_playout_cut((const uint8_t *) text, strlen(text), heard,
                             total);
}


static void
test_cut(void)
{
    const char  *s, *u;

    /* 30 characters; the words end at 4, 7, 11, 16, 22, 26, 30 */

    s = "Sure we are open every day now";

    CHECK_INT(cut(s, 0, 30), 0);
    CHECK_INT(cut(s, 1, 30), 0);
    CHECK_INT(cut(s, 2, 30), 0);
    CHECK_INT(cut(s, 3, 30), 4);
    CHECK_INT(cut(s, 15, 30), 16);
    CHECK_INT(cut(s, 1, 2), 16);
    CHECK_INT(cut(s, 29, 30), 30);
    CHECK_INT(cut(s, 30, 30), 30);
    CHECK_INT(cut(s, 31, 30), 30);

    /* halfway between two word ends: the shorter */

    CHECK_INT(cut(s, 11, 60), 4);
    CHECK_INT(cut(s, 19, 30), 16);
    CHECK_INT(cut(s, 18, 30), 16);
    CHECK_INT(cut(s, 20, 30), 22);

    /* the share is of characters, whatever the samples' unit */

    CHECK_INT(cut(s, 15 * 160, 30 * 160), 16);
    CHECK_INT(cut(s, 7999, 24000), 11);

    /* punctuation stays with its word, runs of space are one */

    CHECK_INT(cut("Yes, sure.  Fine.", 6, 17), 4);
    CHECK_INT(cut("Yes, sure.  Fine.", 9, 17), 10);
    CHECK_INT(cut("Yes, sure.  Fine.", 11, 17), 10);
    CHECK_INT(cut("Yes, sure.  Fine.", 15, 17), 17);

    /* one word: all or nothing */

    CHECK_INT(cut("Hello", 2, 5), 0);
    CHECK_INT(cut("Hello", 3, 5), 5);

    /* characters, not bytes: "é" is two bytes, one character */

    u = "\xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9";
    CHECK_INT(cut(u, 4, 11), 5);
    CHECK_INT(cut(u, 8, 11), 11);
    CHECK_INT(cut(u, 10, 11), strlen(u));

    /* nothing to cut */

    CHECK_INT(cut("", 1, 2), 0);
    CHECK_INT(cut("   ", 1, 2), 0);
    CHECK_INT(cut(s, 0, 0), 30);
}


int
main(void)
{
    test_pace();
    test_underrun();
    test_marks();
    test_cut();

    UNIT_DONE("playout");
}

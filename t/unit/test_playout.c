/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The playout clock: a lead of audio at once, then as fast as it plays;
 * a gap counted once and playback going on after it; marks that come
 * back late moving the clock, early ones not.
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


int
main(void)
{
    test_pace();
    test_underrun();
    test_marks();

    UNIT_DONE("playout");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include "unit.h"
#include "voice_wav.h"


int
main(void)
{
    size_t       len, cut, bad;
    uint8_t      buf[256];
    voice_wav_t  w;

    /* our header reads back */

    voice_wav_header(buf, 8000, 1, 100);
    CHECK_INT(voice_wav_parse(buf, VOICE_WAV_HEADER + 100, &w), 0);
    CHECK_INT(w.format, VOICE_WAV_PCM16);
    CHECK_INT(w.rate, 8000);
    CHECK_INT(w.channels, 1);
    CHECK_INT(w.data_offset, 44);
    CHECK_INT(w.data_len, 100);
    CHECK_MEM(buf + 28, 4, "\x80\x3e\x00\x00", 4);     /* byte rate 16000 */

    /* a LIST chunk of odd size before "data" is skipped, with padding */

    voice_wav_header(buf, 22050, 2, 8);
    memmove(buf + 36 + 12, buf + 36, 8);
    memcpy(buf + 36, "LIST\x03\x00\x00\x00xyz\x00", 12);
    len = 36 + 12 + 8 + 8;
    CHECK_INT(voice_wav_parse(buf, len, &w), 0);
    CHECK_INT(w.rate, 22050);
    CHECK_INT(w.channels, 2);
    CHECK_INT(w.data_offset, 56);
    CHECK_INT(w.data_len, 8);

    /* every truncation fails or stays inside the buffer */

    bad = 0;

    for (cut = 0; cut < len; cut++) {
        if (voice_wav_parse(buf, cut, &w) == 0
            && w.data_offset + w.data_len > cut)
        {
            bad++;
        }
    }

    CHECK_INT(bad, 0);

    /* not WAV, or a format we do not read */

    CHECK_INT(voice_wav_parse((const uint8_t *) "RIFX....WAVE", 12, &w), -1);
    voice_wav_header(buf, 8000, 1, 0);
    buf[34] = 24;
    CHECK_INT(voice_wav_parse(buf, 44, &w), -1);

    UNIT_DONE("wav");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * G.711 against a plain transcription of the ITU-T algorithm: every code
 * decoded, every 16-bit sample encoded, for both laws.
 */

#include "unit.h"
#include "voice_g711.h"


static const int  ref_uend[8] = {
    0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff
};

static const int  ref_aend[8] = {
    0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff
};


static int
ref_search(int v, const int *end)
{
    int  i;

    for (i = 0; i < 8; i++) {
        if (v <= end[i]) {
            return i;
        }
    }

    return 8;
}


static int
ref_ulaw_decode(int u)
{
    int  t;

    u = ~u & 0xff;
    t = ((u & 0x0f) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;

    return (u & 0x80) ? 0x84 - t : t - 0x84;
}


static int
ref_ulaw_encode(int pcm)
{
    int  mask, seg;

    pcm >>= 2;

    if (pcm < 0) {
        pcm = -pcm;
        mask = 0x7f;

    } else {
        mask = 0xff;
    }

    if (pcm > 8159) {
        pcm = 8159;
    }

    pcm += 0x21;
    seg = ref_search(pcm, ref_uend);

    if (seg >= 8) {
        return 0x7f ^ mask;
    }

    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0f)) ^ mask;
}


static int
ref_alaw_decode(int a)
{
    int  t, seg;

    a ^= 0x55;
    t = (a & 0x0f) << 4;
    seg = (a & 0x70) >> 4;

    switch (seg) {
    case 0:
        t += 8;
        break;
    case 1:
        t += 0x108;
        break;
    default:
        t += 0x108;
        t <<= seg - 1;
    }

    return (a & 0x80) ? t : -t;
}


static int
ref_alaw_encode(int pcm)
{
    int  mask, seg, aval;

    pcm >>= 3;

    if (pcm >= 0) {
        mask = 0xd5;

    } else {
        mask = 0x55;
        pcm = -pcm - 1;
    }

    seg = ref_search(pcm, ref_aend);

    if (seg >= 8) {
        return 0x7f ^ mask;
    }

    aval = seg << 4;
    aval |= (seg < 2) ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f;

    return aval ^ mask;
}


int
main(void)
{
    int       c, pcm, bad;
    int16_t   lin[256], lin2[256];
    uint8_t   codes[256], codes2[256];
    int16_t   all[65536];
    uint8_t   enc[65536];

    /* all 256 codes of each law */

    bad = 0;

    for (c = 0; c < 256; c++) {
        bad += voice_ulaw_decode((uint8_t) c) != ref_ulaw_decode(c);
        bad += voice_alaw_decode((uint8_t) c) != ref_alaw_decode(c);
    }

    CHECK_INT(bad, 0);

    /* all 65536 samples */

    bad = 0;

    for (pcm = -32768; pcm <= 32767; pcm++) {
        bad += voice_ulaw_encode((int16_t) pcm) != ref_ulaw_encode(pcm);
        bad += voice_alaw_encode((int16_t) pcm) != ref_alaw_encode(pcm);
    }

    CHECK_INT(bad, 0);

    /* a decoded code encodes back to itself (μ-law: 0x7f is also zero) */

    bad = 0;

    for (c = 0; c < 256; c++) {
        if (c != 0x7f) {
            bad += voice_ulaw_encode(voice_ulaw_decode((uint8_t) c)) != c;
        }

        bad += voice_alaw_encode(voice_alaw_decode((uint8_t) c)) != c;
    }

    CHECK_INT(bad, 0);
    CHECK_INT(voice_ulaw_encode(voice_ulaw_decode(0x7f)), 0xff);

    /* known values */

    CHECK_INT(voice_ulaw_encode(0), 0xff);
    CHECK_INT(voice_ulaw_decode(0xff), 0);
    CHECK_INT(voice_ulaw_decode(0x00), -32124);
    CHECK_INT(voice_ulaw_decode(0x80), 32124);
    CHECK_INT(voice_ulaw_encode(32767), 0x80);
    CHECK_INT(voice_ulaw_encode(-32768), 0x00);
    CHECK_INT(voice_alaw_encode(0), 0xd5);
    CHECK_INT(voice_alaw_decode(0xd5), 8);
    CHECK_INT(voice_alaw_decode(0x55), -8);
    CHECK_INT(voice_alaw_decode(0xaa), 32256);
    CHECK_INT(voice_alaw_encode(-32768), 0x2a);

    /* buffer versions equal the scalar ones */

    for (c = 0; c < 256; c++) {
        codes[c] = (uint8_t) c;
    }

    voice_ulaw_decode_buf(codes, 256, lin);
    voice_alaw_decode_buf(codes, 256, lin2);

    bad = 0;

    for (c = 0; c < 256; c++) {
        bad += lin[c] != voice_ulaw_decode((uint8_t) c);
        bad += lin2[c] != voice_alaw_decode((uint8_t) c);
    }

    CHECK_INT(bad, 0);

    for (pcm = 0; pcm < 65536; pcm++) {
        all[pcm] = (int16_t) (pcm - 32768);
    }

    voice_ulaw_encode_buf(all, 65536, enc);

    bad = 0;

    for (pcm = 0; pcm < 65536; pcm++) {
        bad += enc[pcm] != voice_ulaw_encode(all[pcm]);
    }

    voice_alaw_encode_buf(all, 65536, enc);

    for (pcm = 0; pcm < 65536; pcm++) {
        bad += enc[pcm] != voice_alaw_encode(all[pcm]);
    }

    CHECK_INT(bad, 0);

    voice_ulaw_encode_buf(lin, 256, codes2);
    CHECK_INT(codes2[0x12], 0x12);

    /* re-encoding is decoding and encoding, for every code, at any start */

    bad = 0;

    for (c = 0; c < 256; c++) {
        voice_ulaw_reencode_buf(codes + c, 256 - c, codes2);

        for (pcm = c; pcm < 256; pcm++) {
            bad += codes2[pcm - c]
                   != voice_ulaw_encode(voice_ulaw_decode((uint8_t) pcm));
        }
    }

    CHECK_INT(bad, 0);

    UNIT_DONE("g711");
}

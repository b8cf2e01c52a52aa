/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * TTS audio to μ-law 8 kHz, for every format the TTS location may
 * return: the stream whole gives what a plain reference gives (the bytes
 * themselves, G.711 sample by sample, one resampler run over all of it),
 * a 1 kHz tone stays 1 kHz at its level and the length is right; and the
 * stream cut anywhere (every 2-way cut, byte by byte, a few 3- to 5-way
 * cuts), read into outputs of 1, 7, 160 and 4096 bytes, gives the same
 * bytes.  WAV files we cannot play give nothing and say so.
 */

#include <math.h>

#include "unit.h"
#include "voice_g711.h"
#include "voice_resample.h"
#include "voice_tts_audio.h"
#include "voice_wav.h"


#define OUT_MAX    65536
#define IN_MAX     32768
#define CUTS_MAX   4

#define PCM_LEN    1201             /* odd: the stream ends half a sample */
#define WAV_DATA   1001


static const size_t  caps[] = { 1, 7, 160, 4096 };

static unsigned long  contract;     /* broken promises of convert() */
static uint32_t       seed = 1;


static uint32_t
rnd(void)
{
    seed = seed * 1103515245 + 12345;

    return seed >> 8;
}


typedef struct {
    const char     *name;
    int             format;
    unsigned        rate;
    const uint8_t  *in;
    size_t          len;

    /* the stream whole */
    uint8_t        *ref;
    size_t          ref_len;
    int             ref_failed;
} stream_t;


/*
 * Feeds the stream cut at cuts[0..ncuts) (ascending), as a caller does:
 * each piece until the output is not full.  Returns the output's length.
 */

static size_t
run(const stream_t *st, const size_t *cuts, size_t ncuts, size_t cap,
    uint8_t *out, int *failed)
{
    size_t             i, from, to, n, used, total;
    uint8_t            buf[4096];
    voice_tts_audio_t  a;

    *failed = -1;

    if (voice_tts_audio_init(&a, st->format, st->rate) != 0) {
        contract++;
        return 0;
    }

    total = 0;
    from = 0;

    for (i = 0; i <= ncuts; i++) {
        to = (i < ncuts) ? cuts[i] : st->len;

        for ( ;; ) {
            n = voice_tts_audio_convert(&a, st->in + from, to - from, &used,
                                        buf, cap);

            if (n > cap || used > to - from || (n < cap && used != to - from)
                || total + n > OUT_MAX)
            {
                contract++;
                voice_tts_audio_free(&a);
                return total;
            }

            memcpy(out + total, buf, n);
            total += n;
            from += used;

            if (n < cap) {
                break;
            }
        }
    }

    *failed = voice_tts_audio_failed(&a);

    voice_tts_audio_free(&a);
    voice_tts_audio_free(&a);           /* safe twice */

    return total;
}


/* the stream whole, read into outputs of 4096 bytes */

static size_t
whole(stream_t *st, const char *name, int format, unsigned rate,
    const uint8_t *in, size_t len)
{
    static uint8_t  ref[OUT_MAX];

    st->name = name;
    st->format = format;
    st->rate = rate;
    st->in = in;
    st->len = len;
    st->ref = ref;
    st->ref_len = run(st, NULL, 0, 4096, ref, &st->ref_failed);

    return st->ref_len;
}


/* 1 if the stream cut so gives other bytes than whole, said once */

static unsigned long
differs(const stream_t *st, const size_t *cuts, size_t ncuts, size_t cap,
    unsigned long bad)
{
    int             failed;
    size_t          n;
    static uint8_t  out[OUT_MAX];

    n = run(st, cuts, ncuts, cap, out, &failed);

    if (n == st->ref_len && memcmp(out, st->ref, n) == 0
        && failed == st->ref_failed)
    {
        return 0;
    }

    if (bad == 0) {
        UNIT_FAIL("%s: %zu cuts, the first at %zu, into outputs of %zu: "
                  "%zu bytes, want %zu", st->name, ncuts,
                  ncuts ? cuts[0] : 0, cap, n, st->ref_len);
    }

    return 1;
}


static void
sort(size_t *v, size_t n)
{
    size_t  i, j, t;

    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
            t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    }
}


/* the stream cut every way gives what it gives whole */

static void
check_cuts(const stream_t *st)
{
    size_t          c, i, k, s, cuts[CUTS_MAX];
    unsigned long   bad;
    static size_t   bytes[IN_MAX];

    for (i = 0; i + 1 < st->len; i++) {
        bytes[i] = i + 1;
    }

    bad = 0;

    for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {

        /* every 2-way cut, empty pieces at either end too */

        for (s = 0; s <= st->len; s++) {
            bad += differs(st, &s, 1, caps[c], bad);
        }

        /* byte by byte */

        bad += differs(st, bytes, st->len ? st->len - 1 : 0, caps[c], bad);

        /* 3- to 5-way cuts */

        for (i = 0; i < 8; i++) {
            k = 2 + rnd() % 3;

            for (s = 0; s < k; s++) {
                cuts[s] = rnd() % (st->len + 1);
            }

            sort(cuts, k);

            bad += differs(st, cuts, k, caps[c], bad);
        }
    }

    CHECK_INT(bad, 0);
}


/* a 1 kHz tone with a little noise, as PCM16LE */

static size_t
tone(uint8_t *out, size_t samples, unsigned rate, double amp, int noise)
{
    size_t   i;
    int16_t  v;

    for (i = 0; i < samples; i++) {
        v = (int16_t) (amp * sin(2 * 3.14159265358979 * 1000 * i / rate)
                       + (noise ? (int) (rnd() % 201) - 100 : 0));
        out[2 * i] = (uint8_t) ((uint16_t) v & 0xff);
        out[2 * i + 1] = (uint8_t) ((uint16_t) v >> 8);
    }

    return 2 * samples;
}


/* the plain pipeline: every sample at once through one resampler */

static size_t
reference(const uint8_t *pcm, size_t len, unsigned rate, uint8_t *out)
{
    size_t              i, n, used;
    static int16_t      in[IN_MAX], mid[OUT_MAX];
    voice_resampler_t  *rs;

    n = len / 2;

    for (i = 0; i < n; i++) {
        in[i] = (int16_t) (pcm[2 * i] | pcm[2 * i + 1] << 8);
    }

    if (rate == VOICE_G711_RATE) {
        for (i = 0; i < n; i++) {
            out[i] = voice_ulaw_encode(in[i]);
        }

        return n;
    }

    rs = voice_resampler_create(rate, VOICE_G711_RATE,
                                VOICE_RESAMPLE_QUALITY);
    n = voice_resample(rs, in, n, mid, OUT_MAX, &used);
    voice_resampler_destroy(rs);

    voice_ulaw_encode_buf(mid, n, out);

    return n;
}


/* a noisy tone and half a sample, and what it should become */

static size_t
odd_tone(uint8_t *pcm, size_t samples, unsigned rate, uint8_t *ref,
    size_t *ref_len)
{
    size_t  len;

    len = tone(pcm, samples, rate, 12000, 1);
    pcm[len++] = 0x55;

    *ref_len = reference(pcm, len, rate, ref);

    return len;
}


/* a WAV file: header, optionally a LIST chunk of odd size, then data */

static size_t
wav(uint8_t *out, unsigned rate, unsigned channels, const uint8_t *data,
    size_t len, int list)
{
    size_t  h;

    voice_wav_header(out, rate, channels, len);
    h = VOICE_WAV_HEADER;

    if (list) {
        memmove(out + 36 + 12, out + 36, 8);
        memcpy(out + 36, "LIST\x03\x00\x00\x00xyz\x00", 12);
        h += 12;
    }

    memcpy(out + h, data, len);

    return h + len;
}


/* a long tone through the stream: its length, pitch and level */

static void
check_tone(int format, unsigned rate)
{
    size_t          i, n, len, in_n, cross, from, to;
    double          sum, db, hz, want;
    int16_t         v;
    stream_t        st;
    static uint8_t  pcm[2 * 24000], in[2 * 24000 + 64];

    in_n = rate / 2;                            /* half a second */
    len = tone(pcm, in_n, rate, 10000, 0);

    if (format == VOICE_TTS_AUDIO_WAV) {
        len = wav(in, rate, 1, pcm, len, 0);

    } else {
        memcpy(in, pcm, len);
    }

    n = whole(&st, "tone", format, rate, in, len);

    want = (double) in_n * VOICE_G711_RATE / rate;

    if (fabs(n - want) > want / 100) {
        UNIT_FAIL("%u Hz: %zu samples out, want %.0f", rate, n, want);

    } else {
        unit_passed++;
    }

    /* past the filter's delay at both ends */

    from = n / 8;
    to = n - n / 8;
    cross = 0;
    sum = 0;

    for (i = from; i < to; i++) {
        v = voice_ulaw_decode(st.ref[i]);

        if ((voice_ulaw_decode(st.ref[i - 1]) < 0) != (v < 0)) {
            cross++;
        }

        sum += (double) v * v;
    }

    hz = cross / 2.0 / ((double) (to - from) / VOICE_G711_RATE);
    db = 20 * log10(sqrt(sum / (to - from)) / (10000 / sqrt(2)));

    if (fabs(hz - 1000) > 10 || fabs(db) > 0.5) {
        UNIT_FAIL("%u Hz: the tone came out at %.1f Hz, %.2f dB", rate, hz,
                  db);

    } else {
        unit_passed++;
    }

    CHECK_INT(st.ref_failed, 0);
}


/* a file we do not play: nothing of it, cut anyhow, and it says so */

static void
check_unplayable(const char *name, const uint8_t *in, size_t len)
{
    stream_t  st;

    CHECK_INT(whole(&st, name, VOICE_TTS_AUDIO_WAV, 0, in, len), 0);
    CHECK_INT(st.ref_failed, 1);
    check_cuts(&st);
}


/* the stream whole is what the plain pipeline makes, cut anyhow too */

static void
check_stream(const char *name, int format, unsigned rate, const uint8_t *in,
    size_t len, const uint8_t *want, size_t want_len)
{
    stream_t  st;

    whole(&st, name, format, rate, in, len);
    CHECK_MEM(st.ref, st.ref_len, want, want_len);
    CHECK_INT(st.ref_failed, 0);
    check_cuts(&st);
}


int
main(void)
{
    size_t              i, len, n, ref_len, wlen;
    unsigned            rate;
    stream_t            st;
    voice_tts_audio_t   a;
    static char         name[64];
    static uint8_t      pcm[IN_MAX], in[IN_MAX], out[OUT_MAX], ref[OUT_MAX];
    static const unsigned  pcm_rates[] = { 8000, 16000, 22050, 24000, 44100 };
    static const unsigned  wav_rates[] = { 8000, 16000, 24000 };

    /* formats and rates */

    CHECK_INT(voice_tts_audio_init(&a, VOICE_TTS_AUDIO_ULAW, 8000), 0);
    voice_tts_audio_free(&a);
    CHECK_INT(voice_tts_audio_init(&a, VOICE_TTS_AUDIO_ULAW, 16000), -1);
    voice_tts_audio_free(&a);
    CHECK_INT(voice_tts_audio_init(&a, VOICE_TTS_AUDIO_PCM, 0), -1);
    voice_tts_audio_free(&a);
    CHECK_INT(voice_tts_audio_init(&a, VOICE_TTS_AUDIO_PCM, 999), -1);
    CHECK_INT(voice_tts_audio_init(&a, VOICE_TTS_AUDIO_PCM, 384001), -1);
    CHECK_INT(voice_tts_audio_init(&a, VOICE_TTS_AUDIO_PCM, 384000), 0);
    voice_tts_audio_free(&a);
    CHECK_INT(voice_tts_audio_init(&a, VOICE_TTS_AUDIO_WAV, 0), 0);
    CHECK_INT(voice_tts_audio_failed(&a), 0);
    voice_tts_audio_free(&a);
    CHECK_INT(voice_tts_audio_init(&a, 3, 8000), -1);
    CHECK(voice_tts_audio_failed(&a));
    voice_tts_audio_free(&a);

    /* μ-law passes through */

    for (i = 0; i < PCM_LEN; i++) {
        in[i] = (uint8_t) rnd();
    }

    check_stream("ulaw", VOICE_TTS_AUDIO_ULAW, 8000, in, PCM_LEN, in,
                 PCM_LEN);

    /* PCM at every rate, ending with half a sample */

    for (i = 0; i < sizeof(pcm_rates) / sizeof(pcm_rates[0]); i++) {
        rate = pcm_rates[i];
        len = odd_tone(pcm, PCM_LEN / 2, rate, ref, &ref_len);

        snprintf(name, sizeof(name), "pcm %u", rate);
        check_stream(name, VOICE_TTS_AUDIO_PCM, rate, pcm, len, ref,
                     ref_len);
    }

    /* WAV: its data as PCM, with and without a chunk before "data" */

    for (i = 0; i < sizeof(wav_rates) / sizeof(wav_rates[0]); i++) {
        rate = wav_rates[i];
        len = odd_tone(pcm, WAV_DATA / 2, rate, ref, &ref_len);

        wlen = wav(in, rate, 1, pcm, len, 0);
        snprintf(name, sizeof(name), "wav %u", rate);
        check_stream(name, VOICE_TTS_AUDIO_WAV, 0, in, wlen, ref, ref_len);

        wlen = wav(in, rate, 1, pcm, len, 1);
        snprintf(name, sizeof(name), "wav %u with LIST", rate);
        check_stream(name, VOICE_TTS_AUDIO_WAV, 0, in, wlen, ref, ref_len);

        /* a streamed file's sizes say nothing: all that follows plays */

        wlen = wav(in, rate, 1, pcm, len, 0);
        voice_wav_header(in, rate, 1, 0xffffffff - 36);
        whole(&st, "streamed wav", VOICE_TTS_AUDIO_WAV, 0, in, wlen);
        CHECK_MEM(st.ref, st.ref_len, ref, ref_len);
    }

    /* a short file: header and all its audio in one chunk */

    len = tone(pcm, 100, 16000, 12000, 1);
    ref_len = reference(pcm, len, 16000, ref);
    wlen = wav(in, 16000, 1, pcm, len, 0);
    check_stream("short wav", VOICE_TTS_AUDIO_WAV, 0, in, wlen, ref, ref_len);

    /* a tone keeps its pitch and level, and the length is right */

    for (i = 0; i < sizeof(pcm_rates) / sizeof(pcm_rates[0]); i++) {
        check_tone(VOICE_TTS_AUDIO_PCM, pcm_rates[i]);
    }

    for (i = 0; i < sizeof(wav_rates) / sizeof(wav_rates[0]); i++) {
        check_tone(VOICE_TTS_AUDIO_WAV, wav_rates[i]);
    }

    /* WAV files we do not play */

    len = tone(pcm, 300, 16000, 12000, 1);

    wlen = wav(in, 16000, 2, pcm, len, 0);
    check_unplayable("stereo", in, wlen);

    wlen = wav(in, 16000, 1, pcm, len, 0);
    in[34] = 8;
    check_unplayable("8-bit PCM", in, wlen);

    wlen = wav(in, 8000, 1, pcm, len, 0);
    in[20] = 7;
    in[34] = 8;
    check_unplayable("mu-law", in, wlen);

    wlen = wav(in, 999, 1, pcm, len, 0);
    check_unplayable("999 Hz", in, wlen);

    for (i = 0; i < 600; i++) {
        in[i] = (uint8_t) rnd();
    }

    check_unplayable("not WAV", in, 600);

    /* the audio must start within the first 512 bytes */

    wlen = wav(in, 8000, 1, pcm, len, 0);
    memmove(in + 36 + 8 + 500, in + 36, wlen - 36);
    memcpy(in + 36, "LIST\xf4\x01\x00\x00", 8);
    memset(in + 44, 0, 500);
    check_unplayable("data after 512 bytes", in, wlen + 508);

    /* not WAV, but not 512 bytes yet either: undecided */

    CHECK_INT(whole(&st, "short", VOICE_TTS_AUDIO_WAV, 0, in + 1,
                    VOICE_TTS_AUDIO_HEAD - 1), 0);
    CHECK_INT(st.ref_failed, 0);

    /* once failed, all is taken and nothing more comes out */

    voice_tts_audio_init(&a, VOICE_TTS_AUDIO_WAV, 0);
    n = voice_tts_audio_convert(&a, in + 1, 600, &i, out, 4096);
    CHECK(n == 0 && i == 600 && voice_tts_audio_failed(&a));
    n = voice_tts_audio_convert(&a, pcm, 300, &i, out, 4096);
    CHECK(n == 0 && i == 300);
    voice_tts_audio_free(&a);

    CHECK_INT(contract, 0);

    UNIT_DONE("tts_audio");
}

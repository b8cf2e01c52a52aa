/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "voice_g711.h"
#include "voice_resample.h"
#include "voice_wav.h"

#include "audio.h"
#include "call.h"
#include "util.h"


static void sim_audio_say(sim_conf_say_t *say);
static void sim_audio_trim(sim_conf_say_t *say);
static int16_t *sim_audio_mono(const uint8_t *buf, const voice_wav_t *wav,
    size_t *frames);
static int16_t *sim_audio_to_8k(int16_t *pcm, unsigned rate,
    size_t *frames);


void
sim_audio_load(sim_conf_t *cf)
{
    int  i;

    for (i = 0; i < cf->nsays; i++) {
        sim_audio_say(&cf->says[i]);
    }

    if (cf->play) {
        cf->audio = sim_audio_read(cf->play, 0, &cf->audio_len);

    } else if (cf->play_ulaw) {
        cf->audio = sim_audio_read(cf->play_ulaw, 1, &cf->audio_len);
    }
}


/* --say: espeak-ng speaks the text into a WAV file, read back as μ-law */

static void
sim_audio_say(sim_conf_say_t *say)
{
    int          fd, status;
    pid_t        pid;
    const char  *tmp;
    char         path[512];

    tmp = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/voice-sim-XXXXXX",
             tmp ? tmp : "/tmp");

    fd = mkstemp(path);
    if (fd < 0) {
        sim_util_die("mkstemp %s: %s", path, strerror(errno));
    }

    close(fd);

    pid = fork();

    if (pid == 0) {
        execlp("espeak-ng", "espeak-ng", "-s", "155", "-w", path, say->text,
               (char *) NULL);
        _exit(127);
    }

    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)
        || WEXITSTATUS(status) != 0)
    {
        unlink(path);
        sim_util_die("--say needs espeak-ng (apt-get install espeak-ng)");
    }

    say->audio = sim_audio_read(path, 0, &say->len);
    unlink(path);

    sim_audio_trim(say);
}


/* the speech alone: the turn's timings start where the voice stops */

static void
sim_audio_trim(sim_conf_say_t *say)
{
    size_t  start, end;

    for (start = 0; start < say->len; start++) {
        if (abs(voice_ulaw_decode(say->audio[start])) > 300) {
            break;
        }
    }

    for (end = say->len; end > start; end--) {
        if (abs(voice_ulaw_decode(say->audio[end - 1])) > 300) {
            break;
        }
    }

    memmove(say->audio, say->audio + start, end - start);
    say->len = end - start;

    if (say->len == 0) {
        sim_util_die("espeak-ng said nothing for \"%s\"", say->text);
    }
}


uint8_t *
sim_audio_read(const char *file, int raw_ulaw, size_t *out_len)
{
    FILE         *f;
    size_t        len, frames;
    uint8_t      *buf, *ulaw;
    int16_t      *pcm;
    struct stat   st;
    voice_wav_t   wav;

    f = fopen(file, "rb");
    if (f == NULL || fstat(fileno(f), &st) < 0) {
        sim_util_die("cannot open %s", file);
    }

    len = st.st_size;
    buf = malloc(len + 1);

    if (buf == NULL || fread(buf, 1, len, f) != len) {
        sim_util_die("cannot read %s", file);
    }

    fclose(f);

    if (raw_ulaw) {
        *out_len = len;
        return buf;
    }

    if (voice_wav_parse(buf, len, &wav) != 0) {
        sim_util_die("%s: not a PCM16 or G.711 WAV file", file);
    }

    pcm = sim_audio_mono(buf, &wav, &frames);
    free(buf);

    if (wav.rate != 8000) {
        pcm = sim_audio_to_8k(pcm, wav.rate, &frames);
    }

    ulaw = malloc(frames + SIM_CALL_FRAME);
    if (ulaw == NULL) {
        sim_util_die("out of memory");
    }

    voice_ulaw_encode_buf(pcm, frames, ulaw);
    *out_len = frames;

    free(pcm);

    return ulaw;
}


/* the channels mixed to one, as PCM16 */

static int16_t *
sim_audio_mono(const uint8_t *buf, const voice_wav_t *wav, size_t *frames)
{
    long            sum;
    size_t          i, k, n;
    int16_t        *pcm;
    unsigned        ch;
    const uint8_t  *s;

    n = wav->data_len / (wav->format == VOICE_WAV_PCM16 ? 2 : 1)
        / wav->channels;

    pcm = malloc((n + 1) * sizeof(int16_t));
    if (pcm == NULL) {
        sim_util_die("out of memory");
    }

    s = buf + wav->data_offset;

    for (i = 0; i < n; i++) {
        sum = 0;

        for (ch = 0; ch < wav->channels; ch++) {
            k = i * wav->channels + ch;

            if (wav->format == VOICE_WAV_PCM16) {
                sum += (int16_t) (s[2 * k] | s[2 * k + 1] << 8);

            } else if (wav->format == VOICE_WAV_ULAW) {
                sum += voice_ulaw_decode(s[k]);

            } else {
                sum += voice_alaw_decode(s[k]);
            }
        }

        pcm[i] = (int16_t) (sum / (long) wav->channels);
    }

    *frames = n;

    return pcm;
}


/* frees pcm and returns it at 8 kHz */

static int16_t *
sim_audio_to_8k(int16_t *pcm, unsigned rate, size_t *frames)
{
    size_t              n, used;
    int16_t            *out;
    voice_resampler_t  *rs;

    rs = voice_resampler_create(rate, 8000, VOICE_RESAMPLE_QUALITY);
    if (rs == NULL) {
        sim_util_die("cannot resample from %u Hz", rate);
    }

    n = voice_resample_out_max(*frames, rate, 8000);

    out = malloc(n * sizeof(int16_t));
    if (out == NULL) {
        sim_util_die("out of memory");
    }

    n = voice_resample(rs, pcm, *frames, out, n, &used);
    voice_resampler_destroy(rs);
    free(pcm);

    *frames = n;

    return out;
}

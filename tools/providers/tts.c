/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <espeak-ng/speak_lib.h>
#include <yajl/yajl_tree.h>

#include "voice_g711.h"
#include "voice_resample.h"
#include "voice_wav.h"

#include "json.h"
#include "tts.h"


#define VP_TTS_BUF_MS       40
#define VP_TTS_TEXT_MAX     (16 * 1024)
#define VP_TTS_VOICE        "en-us"

#define VP_TTS_PCM          0
#define VP_TTS_ULAW         1
#define VP_TTS_ALAW         2


typedef struct {
    vp_http_conn_t          *c;
    voice_resampler_t  *rs;
    unsigned            rate;
    int                 encoding;
    const char         *type;
    int                 wav;            /* a WAV header before the audio */
    int16_t            *pcm;
    size_t              pcm_size;
    uint8_t            *out;
    size_t              out_size;
} vp_tts_t;


static int vp_tts_format(vp_tts_t *t, const char *format, int openai);
static void vp_tts_voice(const char *name);
static int vp_tts_callback(short *wav, int numsamples,
    espeak_EVENT *events);
static int vp_tts_audio(vp_tts_t *t, const int16_t *in, size_t n);


static int        vp_tts_rate;              /* espeak-ng's output */
static char       vp_tts_voice_name[64];    /* the voice set now */

/*
 * espeak-ng's synthesis callback carries no pointer of ours; one
 * synthesis at a time runs in a process, so a static says whose it is.
 */
static vp_tts_t  *vp_tts_current;


int
vp_tts_init(void)
{
    /* synchronous: no thread of espeak-ng's own, so fork() is safe */

    vp_tts_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, VP_TTS_BUF_MS,
                                    NULL, espeakINITIALIZE_DONT_EXIT);
    if (vp_tts_rate <= 0) {
        fprintf(stderr, "voice-providers: espeak-ng failed to initialize "
                "(is espeak-ng-data installed?)\n");
        return -1;
    }

    espeak_SetSynthCallback(vp_tts_callback);
    vp_tts_voice(VP_TTS_VOICE);

    return 0;
}


void
vp_tts_handle(vp_http_conn_t *c, const char *voice, int openai)
{
    int          rc;
    char         format[32];
    double       speed;
    yajl_val     root, v;
    vp_tts_t     t;
    const char  *text, *s;

    static const char  *path_speed[] = { "speed", NULL };
    static const char  *path_vspeed[] = { "voice_settings", "speed", NULL };
    static int16_t      zeros[256];

    memset(&t, 0, sizeof(vp_tts_t));
    t.c = c;

    if (openai) {
        format[0] = '\0';

    } else if (c->query == NULL
               || vp_http_query_arg(c->query, "output_format", format,
                               sizeof(format)) < 0)
    {
        /* the real API's default is mp3_44100_128; ours is the phone's */
        strcpy(format, "ulaw_8000");
    }

    root = vp_json_body(c);
    if (root == NULL) {
        return;
    }

    if (openai) {
        s = vp_json_str(root, "response_format");
        snprintf(format, sizeof(format), "%s", s ? s : "pcm");
        voice = vp_json_str(root, "voice");
    }

    if (vp_tts_format(&t, format, openai) != 0) {
        vp_http_error(c, 400, openai ? "response_format: pcm or wav"
                 : "output_format: ulaw_8000, alaw_8000, pcm_8000, "
                   "pcm_16000, pcm_22050, pcm_24000, pcm_44100, pcm_48000");
        yajl_tree_free(root);
        return;
    }

    text = vp_json_str(root, openai ? "input" : "text");

    if (text == NULL || text[strspn(text, " \t\r\n")] == '\0') {
        vp_http_error(c, 400, openai ? "\"input\" must be a non-empty string"
                                : "\"text\" must be a non-empty string");
        yajl_tree_free(root);
        return;
    }

    if (strlen(text) > VP_TTS_TEXT_MAX) {
        vp_http_error(c, 400, "text too long");
        yajl_tree_free(root);
        return;
    }

    vp_http_note(c, "text", text, strlen(text));
    vp_http_notef(c, "format=%s", format);

    v = yajl_tree_get(root, openai ? path_speed : path_vspeed,
                      yajl_t_number);
    speed = YAJL_IS_DOUBLE(v) ? YAJL_GET_DOUBLE(v)
            : YAJL_IS_INTEGER(v) ? (double) YAJL_GET_INTEGER(v) : 1.0;

    if (speed < 0.25 || speed > 4.0) {
        speed = 1.0;
    }

    vp_tts_voice(voice ? voice : VP_TTS_VOICE);
    espeak_SetParameter(espeakRATE, (int) (espeakRATE_NORMAL * speed), 0);

    if (t.rate != (unsigned) vp_tts_rate) {
        t.rs = voice_resampler_create(vp_tts_rate, t.rate,
                                      VOICE_RESAMPLE_QUALITY);
        if (t.rs == NULL) {
            vp_http_error(c, 500, "out of memory");
            yajl_tree_free(root);
            return;
        }
    }

    vp_tts_current = &t;
    rc = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                      espeakCHARS_UTF8, NULL, NULL);
    vp_tts_current = NULL;

    yajl_tree_free(root);

    if (c->headers_sent && !c->failed && t.rs) {
        (void) vp_tts_audio(&t, zeros, sizeof(zeros) / sizeof(zeros[0]));
    }

    voice_resampler_destroy(t.rs);
    free(t.pcm);
    free(t.out);

    if (c->headers_sent) {
        if (c->first) {
            vp_http_notef(c, "first_audio=%.0f ms", c->first - c->start);
        }

        vp_http_stream_end(c);
        return;
    }

    if (rc != EE_OK) {
        vp_http_error(c, 500, "synthesis failed");
        return;
    }

    /* nothing to say, e.g. only punctuation */
    vp_http_respond(c, 200, t.type, "", 0);
}


static int
vp_tts_format(vp_tts_t *t, const char *format, int openai)
{
    long   rate;
    char  *end;

    t->type = "audio/pcm";
    t->encoding = VP_TTS_PCM;

    if (openai) {
        t->rate = 24000;

        if (strcmp(format, "wav") == 0) {
            t->wav = 1;
            t->type = "audio/wav";
            return 0;
        }

        return strcmp(format, "pcm") == 0 ? 0 : -1;
    }

    if (strcmp(format, "ulaw_8000") == 0) {
        t->rate = 8000;
        t->encoding = VP_TTS_ULAW;
        t->type = "audio/basic";
        return 0;
    }

    if (strcmp(format, "alaw_8000") == 0) {
        t->rate = 8000;
        t->encoding = VP_TTS_ALAW;
        t->type = "audio/x-alaw-basic";
        return 0;
    }

    if (strncmp(format, "pcm_", 4) != 0) {
        return -1;
    }

    rate = strtol(format + 4, &end, 10);

    if (*end != '\0' || (rate != 8000 && rate != 16000 && rate != 22050
                         && rate != 24000 && rate != 44100 && rate != 48000))
    {
        return -1;
    }

    t->rate = (unsigned) rate;

    return 0;
}


/* an espeak-ng voice by name ("en-us", "en-gb+f3"); else the default */

static void
vp_tts_voice(const char *name)
{
    if (strlen(name) >= sizeof(vp_tts_voice_name)
        || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-_")
           != strlen(name))
    {
        name = VP_TTS_VOICE;
    }

    if (strcmp(name, vp_tts_voice_name) == 0) {
        return;
    }

    if (espeak_SetVoiceByName(name) != EE_OK) {
        name = VP_TTS_VOICE;

        if (strcmp(name, vp_tts_voice_name) == 0) {
            return;
        }

        (void) espeak_SetVoiceByName(name);
    }

    snprintf(vp_tts_voice_name, sizeof(vp_tts_voice_name), "%s", name);
}


static int
vp_tts_callback(short *wav, int numsamples, espeak_EVENT *events)
{
    vp_tts_t  *t;

    (void) events;

    t = vp_tts_current;

    if (t == NULL || t->c->failed) {
        return 1;
    }

    if (wav == NULL || numsamples <= 0) {
        return 0;
    }

    return vp_tts_audio(t, wav, numsamples) == 0 ? 0 : 1;
}


/* converts and sends one buffer of espeak-ng's audio */

static int
vp_tts_audio(vp_tts_t *t, const int16_t *in, size_t n)
{
    size_t          m, k, pos, used, cap, need, i, off;
    uint8_t        *o;
    const int16_t  *pcm;

    if (t->rs) {
        cap = voice_resample_out_max(n, vp_tts_rate, t->rate) + 16;

        if (cap > t->pcm_size) {
            free(t->pcm);
            t->pcm = malloc(cap * sizeof(int16_t));
            if (t->pcm == NULL) {
                t->pcm_size = 0;
                return -1;
            }

            t->pcm_size = cap;
        }

        m = 0;

        for (pos = 0; pos < n; pos += used) {
            k = voice_resample(t->rs, in + pos, n - pos, t->pcm + m,
                               cap - m, &used);
            m += k;

            if (used == 0 && k == 0) {
                break;
            }
        }

        pcm = t->pcm;

    } else {
        pcm = in;
        m = n;
    }

    off = (t->wav && !t->c->headers_sent) ? VOICE_WAV_HEADER : 0;
    need = off + m * 2;

    if (need > t->out_size) {
        free(t->out);
        t->out = malloc(need);
        if (t->out == NULL) {
            t->out_size = 0;
            return -1;
        }

        t->out_size = need;
    }

    if (off) {
        /* the length is not known yet: the largest, as streams do */
        voice_wav_header(t->out, t->rate, 1, 0xffffffff - 36);
    }

    o = t->out + off;

    switch (t->encoding) {
    case VP_TTS_ULAW:
        voice_ulaw_encode_buf(pcm, m, o);
        break;

    case VP_TTS_ALAW:
        voice_alaw_encode_buf(pcm, m, o);
        break;

    default:
        for (i = 0; i < m; i++) {
            o[2 * i] = (uint8_t) (pcm[i] & 0xff);
            o[2 * i + 1] = (uint8_t) ((uint16_t) pcm[i] >> 8);
        }

        m *= 2;
    }

    if (!t->c->headers_sent
        && vp_http_stream_start(t->c, t->type, "X-Accel-Buffering: no\r\n")
           != 0)
    {
        return -1;
    }

    return vp_http_stream_write(t->c, t->out, off + m);
}


void
vp_tts_free(void)
{
    espeak_Terminate();
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Recognition, measured on espeak-ng's en-us voice at 175 words a minute
 * (8 FAQ questions, 37 words: "what are your opening hours", "where are
 * you located", "how much does it cost", "thank you goodbye", ...; 8
 * other questions of the shop worded differently, 54 words; 4 outside
 * it, 23 words), word error rate:
 *
 *                              16 kHz   8 kHz   8 kHz mu-law
 *   general model alone          92%     95%     81%    FAQ questions
 *   + noise floor                27%     57%     43%    FAQ questions
 *                                31%     50%     48%    other wording
 *   + FAQ grammar (default)       0%      0%      0%    FAQ questions
 *                                24%     35%     30%    other wording
 *                                48%     43%     52%    outside the FAQ
 *
 * (The FAQ questions are sentences of the grammar, the other wordings
 * mostly are not.)
 * The noise floor is what makes pocketsphinx usable here (see
 * vp_stt_noise_floor()); the grammar then makes the shop's questions exact
 * and fast: 80 ms for a 2 s question, where the general model takes
 * 0.7 s.  Wideband audio does better than the phone band with the
 * general model, but a call only ever has 8 kHz: upsampling it in the
 * module would add nothing that the resampling here (the same libspeexdsp
 * filter) does not, so the module sends 8 kHz as it is.
 */

#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/jsgf.h>

#include "voice_g711.h"
#include "voice_json.h"
#include "voice_resample.h"
#include "voice_wav.h"

#include "clock.h"
#include "conf.h"
#include "multipart.h"
#include "stt.h"


#define VP_STT_RATE         16000           /* the en-us acoustic model's */
#define VP_STT_SECONDS_MAX  120
#define VP_STT_NOISE        328             /* uniform: -45 dBFS rms */
#define VP_STT_NOISE_SEED   12345
#define VP_STT_FAQ_MIN      -42.0           /* grammar score per frame */


struct vp_stt_utt_s {
    voice_resampler_t  *rs;                 /* none at the model's rate */
    unsigned            rate;
    int                 live;               /* the decoder's utterance */
    uint32_t            noise;              /* the noise floor's state */
    int16_t            *pcm;                /* what the model hears */
    size_t              n;
    size_t              cap;
};


static int vp_stt_grammar(void);
static int16_t *vp_stt_samples(const uint8_t *file, const voice_wav_t *wav,
    size_t *n);
static int vp_stt_utt_put(vp_stt_utt_t *u, const int16_t *in, size_t n);
static int vp_stt_utt_reserve(vp_stt_utt_t *u, size_t n);
static void vp_stt_noise_floor(int16_t *pcm, size_t n, uint32_t *state);
static void vp_stt_transcribe(const int16_t *pcm, size_t n,
    vp_stt_result_t *r);
static double vp_stt_decode(const char *search, const int16_t *pcm,
    size_t n, vp_stt_result_t *r);
static void vp_stt_result(const char *hyp, int32 prob, vp_stt_result_t *r);


static cmd_ln_t      *vp_stt_config;
static ps_decoder_t  *vp_stt_ps;
static char           vp_stt_lm_search[64];
static cmn_type_t     vp_stt_cmn;           /* the model's, "batch" */
static int32          vp_stt_frate;


/*
 * What callers of the shop ask, as a JSGF grammar over the model's
 * dictionary (every word must be in it).
 */

static const char  vp_stt_jsgf[] =
    "#JSGF V1.0;\n"
    "grammar shop;\n"
    "public <utt> = [<greet>] [<lead>] <ask> [<tail>] | <greet> [<tail>]"
    " | <tail>;\n"
    "<greet> = hello | hi | hey | hello there | hi there | good morning"
    " | good afternoon | good evening | yes | okay;\n"
    "<lead> = i would like to know | i would like to check"
    " | i would like to ask | can you tell me | could you tell me"
    " | i want to know | i have a question | please tell me;\n"
    "<tail> = please | thank you | thanks | goodbye | bye"
    " | thank you goodbye | thanks bye | that is all;\n"
    "<ask> = <hours> | <where> | <price> | <delivery> | <return>"
    " | <human> | <order>;\n"
    "<hours> = what are your opening hours | what are your hours"
    " | [what are] the opening hours [of the store | of the shop]"
    " | your opening hours | when are you open | when do you open"
    " | when do you close | what time do you open | what time do you close"
    " | are you open [today | tomorrow | on sunday | on saturday"
    " | at the weekend];\n"
    "<where> = where are you [located] | where is the (shop | store)"
    " | what is your address | how do i find you | how do i get there"
    " | is there parking;\n"
    "<price> = how much does it cost | how much is it | how much are they"
    " | what are your prices | what does it cost | is it expensive;\n"
    "<delivery> = do you deliver [to my address]"
    " | how long does delivery take | how much is delivery"
    " | can you send it to me | do you ship;\n"
    "<return> = i would like to return an item | i want to return an item"
    " | can i return it | can i get a refund | i want a refund"
    " | i want my money back | it is broken;\n"
    "<human> = can i talk to a human | can i talk to someone"
    " | can i speak to a person | i want to speak to a person"
    " | i want to talk to a human | let me speak to an agent"
    " | a real person;\n"
    "<order> = (where is | can you look up | can you check) my order"
    " [number <digit>+] | my order number is <digit>+;\n"
    "<digit> = zero | oh | one | two | three | four | five | six | seven"
    " | eight | nine;\n";


int
vp_stt_init(void)
{
    char               hmm[4096], lm[4096], dict[4096];
    ps_search_iter_t  *it;

    if ((size_t) snprintf(hmm, sizeof(hmm), "%s/en-us", vp_conf.model_dir)
            >= sizeof(hmm)
        || (size_t) snprintf(lm, sizeof(lm), "%s/en-us.lm.bin",
                             vp_conf.model_dir) >= sizeof(lm)
        || (size_t) snprintf(dict, sizeof(dict), "%s/cmudict-en-us.dict",
                             vp_conf.model_dir) >= sizeof(dict))
    {
        fprintf(stderr, "voice-providers: model path too long\n");
        return -1;
    }

    if (access(hmm, R_OK) != 0 || access(lm, R_OK) != 0
        || access(dict, R_OK) != 0)
    {
        fprintf(stderr, "voice-providers: no pocketsphinx model in %s "
                "(en-us/, en-us.lm.bin, cmudict-en-us.dict): install "
                "pocketsphinx-en-us or pass --model-dir\n",
                vp_conf.model_dir);
        return -1;
    }

    /* pocketsphinx logs every setting and every utterance otherwise */
    err_set_logfp(NULL);

    /* a narrower search than the default: a third faster, as accurate */

    vp_stt_config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm,
                               "-lm", lm, "-dict", dict,
                               "-maxhmmpf", "3000", "-maxwpf", "10",
                               "-logfn", "/dev/null", NULL);
    if (vp_stt_config == NULL) {
        fprintf(stderr, "voice-providers: pocketsphinx configuration "
                "failed\n");
        return -1;
    }

    vp_stt_ps = ps_init(vp_stt_config);
    if (vp_stt_ps == NULL) {
        fprintf(stderr, "voice-providers: pocketsphinx failed to load "
                "the model in %s\n", vp_conf.model_dir);
        cmd_ln_free_r(vp_stt_config);
        return -1;
    }

    /* the language model's search, the only one yet (ps_get_search leaks) */

    it = ps_search_iter(vp_stt_ps);
    if (it == NULL) {
        fprintf(stderr, "voice-providers: pocketsphinx has no search\n");
        return -1;
    }

    snprintf(vp_stt_lm_search, sizeof(vp_stt_lm_search), "%s",
             ps_search_iter_val(it));
    ps_search_iter_free(it);

    vp_stt_cmn = ps_get_feat(vp_stt_ps)->cmn;
    vp_stt_frate = cmd_ln_int32_r(vp_stt_config, "-frate");

    if (vp_conf.grammar && vp_stt_grammar() != 0) {
        fprintf(stderr, "voice-providers: the FAQ grammar does not "
                "compile with this dictionary\n");
        return -1;
    }

    return 0;
}


/* ps_set_jsgf_string(), but without leaking the parsed grammar */

static int
vp_stt_grammar(void)
{
    int           rc;
    jsgf_t       *jsgf;
    jsgf_rule_t  *rule;
    fsg_model_t  *fsg;

    jsgf = jsgf_parse_string(vp_stt_jsgf, NULL);
    if (jsgf == NULL) {
        return -1;
    }

    rc = -1;
    rule = jsgf_get_public_rule(jsgf);

    if (rule) {
        fsg = jsgf_build_fsg(jsgf, rule, ps_get_logmath(vp_stt_ps),
                             cmd_ln_float32_r(vp_stt_config, "-lw"));
        if (fsg) {
            /* the search keeps its own reference */
            rc = ps_set_fsg(vp_stt_ps, "faq", fsg) == 0 ? 0 : -1;
            fsg_model_free(fsg);
        }
    }

    jsgf_grammar_free(jsgf);

    return rc;
}


void
vp_stt_handle(vp_http_conn_t *c)
{
    int               nparts;
    char              boundary[80], *body;
    size_t            n, k;
    int16_t          *pcm;
    double            t0, t1;
    const char       *hyp, *format;
    voice_wav_t       wav;
    vp_stt_utt_t     *u;
    vp_stt_result_t   r;
    const vp_multipart_part_t  *file, *part;
    vp_multipart_part_t         parts[VP_MULTIPART_PARTS_MAX];

    if (c->content_type == NULL
        || strncasecmp(c->content_type, "multipart/form-data", 19) != 0)
    {
        vp_http_error(c, 400, "expected a multipart/form-data body");
        return;
    }

    if (vp_http_param(c->content_type, "boundary", boundary, sizeof(boundary))
        <= 0)
    {
        vp_http_error(c, 400, "no multipart boundary in Content-Type");
        return;
    }

    if (vp_multipart_parse(c->body, c->body_len, boundary, parts, &nparts)
        != 0)
    {
        vp_http_error(c, 400, "malformed multipart/form-data body");
        return;
    }

    file = vp_multipart_find(parts, nparts, "file");
    if (file == NULL) {
        vp_http_error(c, 400, "no \"file\" part in the form");
        return;
    }

    format = "json";
    part = vp_multipart_find(parts, nparts, "response_format");

    if (part) {
        if (part->len == 4 && memcmp(part->data, "text", 4) == 0) {
            format = "text";

        } else if (!(part->len == 4 && memcmp(part->data, "json", 4) == 0)
                   && !(part->len == 12
                        && memcmp(part->data, "verbose_json", 12) == 0))
        {
            vp_http_error(c, 400,
                          "response_format: json, verbose_json or text");
            return;
        }
    }

    part = vp_multipart_find(parts, nparts, "language");
    if (part) {
        vp_http_note(c, "language", (const char *) part->data, part->len);
    }

    if (voice_wav_parse(file->data, file->len, &wav) != 0) {
        vp_http_error(c, 400, "the file is not a PCM16 or G.711 WAV file");
        return;
    }

    if (wav.rate < 4000 || wav.rate > 192000) {
        vp_http_error(c, 400, "sample rate out of 4000..192000 Hz");
        return;
    }

    n = wav.data_len / (wav.channels * (wav.format == VOICE_WAV_PCM16
                                        ? 2 : 1));

    if (n / wav.rate > VP_STT_SECONDS_MAX) {
        vp_http_error(c, 400, "audio longer than 120 seconds");
        return;
    }

    t0 = vp_clock_now_ms();

    pcm = vp_stt_samples(file->data, &wav, &n);
    if (pcm == NULL) {
        vp_http_error(c, 500, "out of memory");
        return;
    }

    u = vp_stt_utt_open(wav.rate, 0);

    if (u == NULL || vp_stt_utt_add(u, pcm, n) != 0) {
        free(pcm);
        vp_stt_utt_free(u);
        vp_http_error(c, 500, "out of memory");
        return;
    }

    free(pcm);
    vp_stt_utt_close(u, &r);
    vp_stt_utt_free(u);

    t1 = vp_clock_now_ms();
    hyp = r.text;

    vp_http_notef(c, "audio=%zu ms rate=%u decode=%.0f ms search=%s faq=%.1f",
             (size_t) ((uint64_t) n * 1000 / wav.rate), wav.rate, t1 - t0,
             r.search, r.faq);
    vp_http_note(c, "text", hyp, strlen(hyp));

    n = strlen(hyp);

    if (strcmp(format, "text") == 0) {
        body = malloc(n + 1);
        if (body == NULL) {
            vp_http_error(c, 500, "out of memory");
            return;
        }

        memcpy(body, hyp, n);
        body[n] = '\n';
        vp_http_respond(c, 200, "text/plain; charset=utf-8", body, n + 1);
        free(body);
        return;
    }

    k = voice_json_escape(NULL, (const uint8_t *) hyp, n);

    body = malloc(k + 16);
    if (body == NULL) {
        vp_http_error(c, 500, "out of memory");
        return;
    }

    memcpy(body, "{\"text\":\"", 9);
    voice_json_escape((uint8_t *) body + 9, (const uint8_t *) hyp, n);
    memcpy(body + 9 + k, "\"}\n", 3);

    vp_http_respond(c, 200, "application/json", body, k + 12);
    free(body);
}


/* the first channel as PCM16, malloc'ed */

static int16_t *
vp_stt_samples(const uint8_t *file, const voice_wav_t *wav, size_t *n)
{
    size_t          i, frame, frames;
    int16_t        *out;
    const uint8_t  *p;

    frame = wav->channels * (wav->format == VOICE_WAV_PCM16 ? 2 : 1);
    frames = wav->data_len / frame;

    out = malloc((frames + 1) * sizeof(int16_t));
    if (out == NULL) {
        return NULL;
    }

    p = file + wav->data_offset;

    for (i = 0; i < frames; i++, p += frame) {
        switch (wav->format) {
        case VOICE_WAV_ULAW:
            out[i] = voice_ulaw_decode(p[0]);
            break;

        case VOICE_WAV_ALAW:
            out[i] = voice_alaw_decode(p[0]);
            break;

        default:
            out[i] = (int16_t) (p[0] | p[1] << 8);
        }
    }

    *n = frames;

    return out;
}


vp_stt_utt_t *
vp_stt_utt_open(unsigned rate, int live)
{
    const char    *search;
    vp_stt_utt_t  *u;

    u = calloc(1, sizeof(vp_stt_utt_t));
    if (u == NULL) {
        return NULL;
    }

    u->rate = rate;
    u->noise = VP_STT_NOISE_SEED;

    if (rate != VP_STT_RATE) {
        u->rs = voice_resampler_create(rate, VP_STT_RATE,
                                       VOICE_RESAMPLE_QUALITY);
        if (u->rs == NULL) {
            free(u);
            return NULL;
        }
    }

    if (live) {
        search = vp_conf.grammar ? "faq" : vp_stt_lm_search;

        if (ps_set_search(vp_stt_ps, search) != 0
            || ps_start_stream(vp_stt_ps) != 0
            || ps_start_utt(vp_stt_ps) != 0)
        {
            vp_stt_utt_free(u);
            return NULL;
        }

        u->live = 1;
    }

    return u;
}


int
vp_stt_utt_add(vp_stt_utt_t *u, const int16_t *pcm, size_t n)
{
    size_t  out;

    out = u->rs ? voice_resample_out_max(n, u->rate, VP_STT_RATE) : n;

    /* the batch endpoint takes up to VP_STT_SECONDS_MAX and a fraction */
    if (u->n + out > (size_t) (VP_STT_SECONDS_MAX + 1) * VP_STT_RATE) {
        return -1;
    }

    return vp_stt_utt_put(u, pcm, n);
}


/* n samples to the model's rate and its noise floor, and to the decoder */

static int
vp_stt_utt_put(vp_stt_utt_t *u, const int16_t *in, size_t n)
{
    size_t  from, pos, used, k;

    from = u->n;

    if (u->rs == NULL) {
        if (vp_stt_utt_reserve(u, n) != 0) {
            return -1;
        }

        memcpy(u->pcm + u->n, in, n * sizeof(int16_t));
        u->n += n;

    } else {
        for (pos = 0; pos < n; pos += used) {
            if (vp_stt_utt_reserve(u, voice_resample_out_max(n - pos,
                                          u->rate, VP_STT_RATE) + 16)
                != 0)
            {
                return -1;
            }

            k = voice_resample(u->rs, in + pos, n - pos, u->pcm + u->n,
                               u->cap - u->n, &used);
            u->n += k;

            if (used == 0 && k == 0) {
                break;
            }
        }
    }

    vp_stt_noise_floor(u->pcm + from, u->n - from, &u->noise);

    if (u->live && u->n > from) {
        (void) ps_process_raw(vp_stt_ps, u->pcm + from, u->n - from, FALSE,
                              FALSE);
    }

    return 0;
}


static int
vp_stt_utt_reserve(vp_stt_utt_t *u, size_t n)
{
    size_t    cap;
    int16_t  *p;

    if (u->n + n <= u->cap) {
        return 0;
    }

    cap = u->cap ? u->cap : VP_STT_RATE;

    while (cap < u->n + n) {
        cap *= 2;
    }

    p = realloc(u->pcm, cap * sizeof(int16_t));
    if (p == NULL) {
        return -1;
    }

    u->pcm = p;
    u->cap = cap;

    return 0;
}


void
vp_stt_utt_partial(vp_stt_utt_t *u, vp_stt_result_t *r)
{
    int32        score;
    const char  *hyp;

    memset(r, 0, sizeof(vp_stt_result_t));
    r->search = vp_conf.grammar ? "faq" : "lm";

    if (!u->live) {
        return;
    }

    score = 0;
    hyp = ps_get_hyp(vp_stt_ps, &score);

    vp_stt_result(hyp, 0, r);
}


void
vp_stt_utt_close(vp_stt_utt_t *u, vp_stt_result_t *r)
{
    size_t          pad, chunk;
    static int16_t  zeros[1024];

    /* the resampler's tail, flushed with 20 ms of zeros */

    if (u->rs) {
        for (pad = u->rate / 50; pad > 0; pad -= chunk) {
            chunk = pad < 1024 ? pad : 1024;

            if (vp_stt_utt_put(u, zeros, chunk) != 0) {
                break;
            }
        }
    }

    if (u->live) {
        (void) ps_end_utt(vp_stt_ps);
        u->live = 0;
    }

    vp_stt_transcribe(u->pcm, u->n, r);
}


void
vp_stt_utt_free(vp_stt_utt_t *u)
{
    if (u == NULL) {
        return;
    }

    if (u->live) {
        (void) ps_end_utt(vp_stt_ps);
    }

    if (u->rs) {
        voice_resampler_destroy(u->rs);
    }

    free(u->pcm);
    free(u);
}


/*
 * A noise floor at about -45 dBFS.  The acoustic model never heard
 * digital silence, nor an empty band above 4 kHz: synthesized speech and
 * audio from the phone's 8 kHz are both far better recognized with it.
 * The noise starts over with each utterance, so the same audio gets the
 * same transcript.
 */

static void
vp_stt_noise_floor(int16_t *pcm, size_t n, uint32_t *state)
{
    size_t    i;
    int32_t   v;
    uint32_t  r;

    r = *state;

    for (i = 0; i < n; i++) {
        r = r * 1664525 + 1013904223;
        v = pcm[i] + (int32_t) (r >> 16) % (2 * VP_STT_NOISE + 1)
            - VP_STT_NOISE;
        pcm[i] = (int16_t) (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }

    *state = r;
}


/*
 * The shop's questions first: a sentence grammar is what recognizes them
 * well.  What it cannot parse, or parses only with a poor score (words
 * outside it forced onto its sentences), goes to the general language
 * model.
 */

static void
vp_stt_transcribe(const int16_t *pcm, size_t n, vp_stt_result_t *r)
{
    double  faq;

    /*
     * Decoding in blocks, as a live utterance does, switches sphinxbase
     * to a running cepstral mean for good; the model's batch mean, over
     * the whole utterance, is what the batch endpoint's transcripts come
     * from.
     */
    ps_get_feat(vp_stt_ps)->cmn = vp_stt_cmn;

    faq = 0;

    if (vp_conf.grammar) {
        faq = vp_stt_decode("faq", pcm, n, r);

        if (r->text[0] != '\0' && faq >= VP_STT_FAQ_MIN) {
            r->search = "faq";
            r->faq = faq;
            return;
        }
    }

    (void) vp_stt_decode(vp_stt_lm_search, pcm, n, r);
    r->search = "lm";
    r->faq = faq;
}


/* one utterance with the named search: its score a frame */

static double
vp_stt_decode(const char *search, const int16_t *pcm, size_t n,
    vp_stt_result_t *r)
{
    int          frames;
    int32        total;
    const char  *hyp;

    memset(r, 0, sizeof(vp_stt_result_t));

    /*
     * A stream of its own: the front end's noise estimate starts over and
     * the words' frames count from the utterance's start.
     */

    if (ps_set_search(vp_stt_ps, search) != 0
        || ps_start_stream(vp_stt_ps) != 0
        || ps_start_utt(vp_stt_ps) != 0)
    {
        return 0;
    }

    (void) ps_process_raw(vp_stt_ps, pcm, n, FALSE, TRUE);
    (void) ps_end_utt(vp_stt_ps);

    total = 0;
    hyp = ps_get_hyp(vp_stt_ps, &total);
    frames = ps_get_n_frames(vp_stt_ps);

    vp_stt_result(hyp, ps_get_prob(vp_stt_ps), r);

    return frames > 0 ? (double) total / frames : 0;
}


/*
 * The decoder's hypothesis and its words, fillers left out.  The
 * confidences are posteriors where the search computes them (the
 * language model's lattice, at the end of an utterance), else 1; the
 * transcript's is its words' mean.
 */

static void
vp_stt_result(const char *hyp, int32 prob, vp_stt_result_t *r)
{
    int             sf, ef;
    int32           ascr, lscr, lback;
    size_t          n;
    double          sum;
    ps_seg_t       *seg;
    logmath_t      *lmath;
    const char     *w;
    vp_stt_word_t  *word;

    if (hyp == NULL) {
        return;
    }

    snprintf(r->text, sizeof(r->text), "%s", hyp);

    lmath = ps_get_logmath(vp_stt_ps);
    sum = 0;

    for (seg = ps_seg_iter(vp_stt_ps); seg; seg = ps_seg_next(seg)) {
        w = ps_seg_word(seg);

        /* <s>, <sil>, [NOISE], ++NOISE++; (NULL): the grammar's own */
        if (w[0] == '<' || w[0] == '[' || w[0] == '+' || w[0] == '(') {
            continue;
        }

        if (r->nwords == VP_STT_WORDS_MAX) {
            ps_seg_free(seg);
            break;
        }

        word = &r->words[r->nwords++];

        /* "read(2)": the dictionary's second pronunciation of "read" */
        n = strcspn(w, "(");
        if (n >= sizeof(word->text)) {
            n = sizeof(word->text) - 1;
        }

        memcpy(word->text, w, n);
        word->text[n] = '\0';

        ps_seg_frames(seg, &sf, &ef);
        word->start = (double) sf / vp_stt_frate;
        word->end = (double) (ef + 1) / vp_stt_frate;
        word->confidence = logmath_exp(lmath,
                                       ps_seg_prob(seg, &ascr, &lscr, &lback));
        sum += word->confidence;
    }

    r->confidence = r->nwords ? sum / r->nwords : logmath_exp(lmath, prob);
}


void
vp_stt_free(void)
{
    ps_free(vp_stt_ps);
    cmd_ln_free_r(vp_stt_config);
}

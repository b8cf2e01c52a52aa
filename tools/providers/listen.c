/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Deepgram's live transcription ("Live Audio", GET /v1/listen over a
 * WebSocket), as its public documentation describes it, with
 * pocketsphinx decoding as the audio arrives.  The subset a phone agent
 * uses:
 *
 *   query     encoding=mulaw and sample_rate=8000 (required: raw audio
 *             only), channels=1, interim_results, endpointing (ms of
 *             silence, default 10, at least 100 here; "false" or 0: off),
 *             utterance_end_ms (needs interim_results=true), vad_events.
 *             Other parameters (model, language, punctuate, ...) are
 *             taken and ignored.  Other values of these are refused with
 *             400, a dg-error header and a JSON body, as Deepgram refuses
 *             a handshake it will not serve.
 *   in        binary frames of mu-law audio, of any size; text frames
 *             {"type":"KeepAlive"}, {"type":"Finalize"} (the utterance so
 *             far becomes a final result with from_finalize true, if any
 *             audio came since the last final) and {"type":"CloseStream"}
 *             (the last final result, Metadata, close 1000).  An empty
 *             binary frame is Deepgram's former CloseStream.
 *   out       Results (channel_index, start and duration of the audio
 *             since the last final result, is_final, speech_final,
 *             from_finalize, the transcript with its confidence and
 *             words, metadata), SpeechStarted, UtteranceEnd, Metadata.
 *   timeout   close 1011 "NET-0001" after 10 s (--listen-idle) with
 *             neither audio nor a text message, as Deepgram closes.
 *
 * Speech is found by the module's endpointer (voice_vad.c) on 20 ms
 * frames: it opens an utterance 400 ms before the speech it detects,
 * sends SpeechStarted, and with endpointing ends the utterance after that
 * much silence with speech_final true; an utterance is also cut after
 * 30 s, as Deepgram finalizes long speech on its own.  Interim results
 * are the live decoder's hypothesis, at most every 250 ms of audio and
 * only when it changed.  A final result is the whole utterance decoded
 * again as the batch endpoint decodes it (stt.c), so that the same audio
 * gets the same transcript from both.  UtteranceEnd comes after
 * utterance_end_ms of audio past the end of the last word recognized.
 * Confidences are pocketsphinx's word posteriors where its search has
 * them (the language model's, in a final result), else 1; a transcript's
 * is its words' mean.  Times are the audio's: a client that sends faster
 * than real time gets its results as fast.
 *
 * Sources, on developers.deepgram.com: reference/speech-to-text/
 * listen-streaming; docs/interim-results, endpointing, utterance-end,
 * speech-started, finalize, close-stream, audio-keep-alive,
 * stt-troubleshooting-websocket-data-and-net-errors; changelog/2022/11/8
 * (dg-request-id, dg-error).
 */

#define _GNU_SOURCE

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include "voice_g711.h"
#include "voice_json.h"
#include "voice_vad.h"
#include "voice_ws.h"

#include "clock.h"
#include "conf.h"
#include "json.h"
#include "listen.h"
#include "stt.h"
#include "ws.h"


#define VP_LISTEN_RATE         VOICE_G711_RATE
#define VP_LISTEN_FRAME        VOICE_VAD_FRAME          /* 20 ms */
#define VP_LISTEN_RING         VP_LISTEN_RATE           /* 1 s of audio */
#define VP_LISTEN_PREROLL      (400 * VOICE_G711_SAMPLES_PER_MS)
#define VP_LISTEN_INTERIM      (250 * VOICE_G711_SAMPLES_PER_MS)
#define VP_LISTEN_MIN_SPEECH   100                      /* ms */
#define VP_LISTEN_MAX_UTT      30000                    /* ms */
#define VP_LISTEN_ENDPOINTING  10                       /* ms, Deepgram's */
#define VP_LISTEN_GAP          100          /* ms: the shortest endpointing */
#define VP_LISTEN_MSG_MAX      (32 * 1024)

#define VP_LISTEN_MODEL        "\"name\":\"pocketsphinx-en-us\"," \
                               "\"version\":\"5prealpha\"," \
                               "\"arch\":\"pocketsphinx\""
/* Deepgram names its models by UUID: this one is ours, fixed */
#define VP_LISTEN_MODEL_UUID   "6b28e919-8427-4f32-9847-492e2efd7daf"


typedef struct {
    /* the query */
    int                 interim;
    unsigned            endpointing;        /* ms; 0: off */
    unsigned            utterance_end;      /* ms; 0: off */
    int                 vad_events;

    vp_http_conn_t     *http;
    vp_ws_t             ws;
    char                request_id[40];
    char                created[32];
    EVP_MD_CTX         *sha256;             /* of the audio, for Metadata */

    voice_vad_conf_t    vad_conf;
    voice_vad_t         vad;

    /* the audio; times are samples since the stream began */
    uint64_t            samples;
    uint64_t            cursor;             /* the last final's end */
    int16_t             frame[VP_LISTEN_FRAME];
    size_t              nframe;
    int16_t             ring[VP_LISTEN_RING];
    size_t              ring_len;

    vp_stt_utt_t       *utt;
    uint64_t            utt_start;
    uint64_t            interim_at;
    char                interim_text[VP_STT_TEXT_MAX];

    double              last_word_end;      /* seconds */
    int                 words_pending;      /* since the last UtteranceEnd */
    double              utterance_end_at;   /* when it was sent */

    unsigned            interims;
    unsigned            finals;

    char                out[VP_LISTEN_MSG_MAX];
    size_t              out_len;
    int                 out_overflow;
} vp_listen_t;


static int vp_listen_query(vp_listen_t *s, const char *query,
    const char **err);
static int vp_listen_bool(const char *query, const char *key, int *v);
static void vp_listen_refuse(vp_http_conn_t *c, const char *id,
    const char *msg);
static void vp_listen_run(vp_listen_t *s);
static int vp_listen_control(vp_listen_t *s, const uint8_t *data,
    size_t len);
static void vp_listen_close_stream(vp_listen_t *s);
static void vp_listen_audio(vp_listen_t *s, const uint8_t *ulaw,
    size_t len);
static void vp_listen_frame(vp_listen_t *s);
static void vp_listen_open(vp_listen_t *s, uint64_t onset);
static void vp_listen_flush(vp_listen_t *s);
static void vp_listen_interim(vp_listen_t *s);
static void vp_listen_final(vp_listen_t *s, int speech_final,
    int from_finalize);
static void vp_listen_words_seen(vp_listen_t *s, const vp_stt_result_t *r);
static void vp_listen_results(vp_listen_t *s, const vp_stt_result_t *r,
    int is_final, int speech_final, int from_finalize);
static void vp_listen_metadata(vp_listen_t *s);
static void vp_listen_send(vp_listen_t *s);
static void vp_listen_put(vp_listen_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void vp_listen_put_json(vp_listen_t *s, const char *text);
static void vp_listen_vad_reset(vp_listen_t *s);
static double vp_listen_seconds(uint64_t samples);
static void vp_listen_uuid(char *out);
static void vp_listen_now(char *out, size_t cap);
static void vp_listen_free(vp_listen_t *s);


void
vp_listen_handle(vp_http_conn_t *c)
{
    char          headers[128];
    const char   *err;
    vp_listen_t  *s;

    if (vp_ws_handshake_valid(c) != 0) {
        return;
    }

    s = calloc(1, sizeof(vp_listen_t));
    if (s == NULL) {
        vp_http_error(c, 500, "out of memory");
        return;
    }

    s->http = c;
    vp_listen_uuid(s->request_id);
    vp_listen_now(s->created, sizeof(s->created));

    if (vp_listen_query(s, c->query ? c->query : "", &err) != 0) {
        vp_listen_refuse(c, s->request_id, err);
        free(s);
        return;
    }

    s->sha256 = EVP_MD_CTX_new();

    if (s->sha256 == NULL
        || EVP_DigestInit_ex(s->sha256, EVP_sha256(), NULL) != 1)
    {
        EVP_MD_CTX_free(s->sha256);
        free(s);
        vp_http_error(c, 500, "out of memory");
        return;
    }

    /*
     * An energy endpointer takes the closure before a stop consonant for
     * silence, where Deepgram's VAD hears speech going on (measured on
     * espeak-ng: 10 ms cuts each of the demo's questions in two to four,
     * 60 ms none of them), so shorter endpointing waits VP_LISTEN_GAP.
     */

    s->vad_conf.silence_ms = s->endpointing == 0 ? (unsigned) -1
                             : s->endpointing < VP_LISTEN_GAP ? VP_LISTEN_GAP
                             : s->endpointing;
    s->vad_conf.min_speech_ms = VP_LISTEN_MIN_SPEECH;
    s->vad_conf.barge_in_ms = VP_LISTEN_MIN_SPEECH;
    s->vad_conf.max_utterance_ms = VP_LISTEN_MAX_UTT;
    s->vad_conf.threshold_db = 10;
    s->vad_conf.speaking_margin_db = 0;
    s->vad_conf.min_level_db = -50;
    voice_vad_init(&s->vad, &s->vad_conf);

    snprintf(headers, sizeof(headers), "dg-request-id: %s\r\n",
             s->request_id);

    if (vp_ws_accept(&s->ws, c, headers) != 0) {
        EVP_MD_CTX_free(s->sha256);
        free(s);
        return;
    }

    vp_listen_run(s);

    vp_http_notef(c, "request_id=%s audio=%.2f s interims=%u finals=%u",
                  s->request_id, vp_listen_seconds(s->samples), s->interims,
                  s->finals);

    vp_ws_free(&s->ws);
    vp_listen_free(s);
}


/* the query's parameters into s: 0, or -1 with the reason */

static int
vp_listen_query(vp_listen_t *s, const char *query, const char **err)
{
    char         val[32], *end;
    long         n;
    static char  msg[96];

    if (vp_http_query_arg(query, "encoding", val, sizeof(val)) < 0) {
        *err = "encoding=mulaw and sample_rate=8000 are required: only "
               "raw mu-law audio is decoded here";
        return -1;
    }

    if (strcmp(val, "mulaw") != 0) {
        snprintf(msg, sizeof(msg), "encoding \"%s\" is not supported here: "
                 "only mulaw", val);
        *err = msg;
        return -1;
    }

    if (vp_http_query_arg(query, "sample_rate", val, sizeof(val)) < 0
        || strcmp(val, "8000") != 0)
    {
        *err = "sample_rate must be 8000 with encoding=mulaw";
        return -1;
    }

    if (vp_http_query_arg(query, "channels", val, sizeof(val)) >= 0
        && strcmp(val, "1") != 0)
    {
        *err = "channels must be 1";
        return -1;
    }

    if (vp_listen_bool(query, "interim_results", &s->interim) != 0
        || vp_listen_bool(query, "vad_events", &s->vad_events) != 0)
    {
        *err = "interim_results and vad_events are true or false";
        return -1;
    }

    s->endpointing = VP_LISTEN_ENDPOINTING;

    if (vp_http_query_arg(query, "endpointing", val, sizeof(val)) >= 0
        && strcmp(val, "true") != 0)
    {
        n = 0;

        if (strcmp(val, "false") != 0) {
            n = strtol(val, &end, 10);

            if (end == val || *end != '\0' || n < 0 || n > 60000) {
                *err = "endpointing is a number of milliseconds or false";
                return -1;
            }
        }

        /* 0 ms of silence would end every utterance at once: off too */
        s->endpointing = (unsigned) n;
    }

    if (vp_http_query_arg(query, "utterance_end_ms", val, sizeof(val)) >= 0) {
        n = strtol(val, &end, 10);

        if (end == val || *end != '\0' || n <= 0 || n > 60000) {
            *err = "utterance_end_ms is a number of milliseconds";
            return -1;
        }

        if (!s->interim) {
            *err = "utterance_end_ms needs interim_results=true";
            return -1;
        }

        s->utterance_end = (unsigned) n;
    }

    return 0;
}


/* key=true or key=false; absent is false.  0, or -1 for another value */

static int
vp_listen_bool(const char *query, const char *key, int *v)
{
    char  val[8];

    *v = 0;

    if (vp_http_query_arg(query, key, val, sizeof(val)) < 0) {
        return 0;
    }

    if (strcmp(val, "true") == 0) {
        *v = 1;
        return 0;
    }

    return strcmp(val, "false") == 0 ? 0 : -1;
}


/* Deepgram's answer to a handshake it will not serve */

static void
vp_listen_refuse(vp_http_conn_t *c, const char *id, const char *msg)
{
    char    headers[512], body[1536], text[6 * 160 + 1];
    size_t  n;

    /* escaped, a character may take 6 bytes */
    n = strlen(msg);
    if (n > 160) {
        n = 160;
    }

    text[voice_json_escape((uint8_t *) text, (const uint8_t *) msg, n)] =
        '\0';

    snprintf(headers, sizeof(headers), "dg-request-id: %s\r\n"
             "dg-error: %s\r\n", id, msg);
    n = snprintf(body, sizeof(body), "{\"err_code\":\"Bad Request\","
                 "\"err_msg\":\"%s\",\"request_id\":\"%s\"}\n", text, id);

    vp_http_note(c, "error", msg, strlen(msg));
    vp_http_respond_headers(c, 400, "application/json", headers, body, n);
}


static void
vp_listen_run(vp_listen_t *s)
{
    int               rc;
    double            last, left;
    voice_ws_event_t  ev;

    last = vp_clock_now_ms();

    while (!s->http->failed) {
        left = last + vp_conf.listen_idle - vp_clock_now_ms();
        rc = vp_ws_read(&s->ws, left > 0 ? (int) left : 0, &ev);

        switch (rc) {

        case VOICE_WS_MESSAGE:
            last = vp_clock_now_ms();

            if (ev.opcode == VOICE_WS_TEXT) {
                if (vp_listen_control(s, ev.data, ev.len) != 0) {
                    return;
                }

                break;
            }

            if (ev.len == 0) {
                /* an empty byte: how Deepgram's clients closed before */
                vp_listen_close_stream(s);
                return;
            }

            vp_listen_audio(s, ev.data, ev.len);
            break;

        case VP_WS_TIMEOUT:
            vp_http_note(s->http, "closed", "NET-0001", 8);
            vp_ws_close(&s->ws, VOICE_WS_CLOSE_INTERNAL_ERROR, "NET-0001");
            return;

        case VOICE_WS_CLOSE:
            vp_http_notef(s->http, "client_close=%u", ev.close_code);
            return;

        case VOICE_WS_ERROR:
            vp_http_notef(s->http, "ws_error=%u", ev.close_code);
            return;

        default:
            /* VP_WS_GONE */
            s->http->failed = 1;
            return;
        }
    }
}


/* a text message: 1 once the stream is closed, else 0 */

static int
vp_listen_control(vp_listen_t *s, const uint8_t *data, size_t len)
{
    yajl_val     root;
    const char  *type, *err;

    root = vp_json_parse(data, len, &err);
    type = root ? vp_json_str(root, "type") : NULL;

    if (type == NULL) {
        vp_http_note(s->http, "ignored", (const char *) data, len);
        yajl_tree_free(root);
        return 0;
    }

    if (strcmp(type, "KeepAlive") == 0) {
        /* its arrival was all it had to say */

    } else if (strcmp(type, "Finalize") == 0) {
        vp_listen_flush(s);

        if (s->utt || s->samples > s->cursor) {
            vp_listen_final(s, 0, 1);
        }

    } else if (strcmp(type, "CloseStream") == 0) {
        yajl_tree_free(root);
        vp_listen_close_stream(s);
        return 1;

    } else {
        vp_http_note(s->http, "ignored", type, strlen(type));
    }

    yajl_tree_free(root);

    return 0;
}


/* the last final result, the summary, the close */

static void
vp_listen_close_stream(vp_listen_t *s)
{
    vp_listen_flush(s);

    if (s->utt || s->samples > s->cursor) {
        vp_listen_final(s, 0, 0);
    }

    vp_listen_metadata(s);
    vp_ws_close(&s->ws, VOICE_WS_CLOSE_NORMAL, "");
}


/* μ-law into 20 ms frames; the rest of a frame waits for more */

static void
vp_listen_audio(vp_listen_t *s, const uint8_t *ulaw, size_t len)
{
    size_t  n;

    (void) EVP_DigestUpdate(s->sha256, ulaw, len);

    while (len > 0 && !s->http->failed) {
        n = VP_LISTEN_FRAME - s->nframe;
        n = len < n ? len : n;

        voice_ulaw_decode_buf(ulaw, n, s->frame + s->nframe);
        s->nframe += n;
        ulaw += n;
        len -= n;

        if (s->nframe == VP_LISTEN_FRAME) {
            vp_listen_frame(s);
            s->nframe = 0;
        }
    }
}


static void
vp_listen_frame(vp_listen_t *s)
{
    int       ev;
    uint64_t  onset;

    if (s->ring_len == VP_LISTEN_RING) {
        memmove(s->ring, s->ring + VP_LISTEN_FRAME,
                (VP_LISTEN_RING - VP_LISTEN_FRAME) * sizeof(int16_t));
        s->ring_len -= VP_LISTEN_FRAME;
    }

    memcpy(s->ring + s->ring_len, s->frame, sizeof(s->frame));
    s->ring_len += VP_LISTEN_FRAME;
    s->samples += VP_LISTEN_FRAME;

    ev = voice_vad_frame(&s->vad, s->frame);

    if (ev == VOICE_VAD_SPEECH_START) {
        onset = s->samples
                - (uint64_t) s->vad.utterance_ms * VOICE_G711_SAMPLES_PER_MS;

        if (s->vad_events) {
            vp_listen_put(s, "{\"type\":\"SpeechStarted\",\"channel\":[0,1],"
                          "\"timestamp\":%.3f}", vp_listen_seconds(onset));
            vp_listen_send(s);
        }

        if (s->utt == NULL) {
            vp_listen_open(s, onset);
        }

    } else if (s->utt
               && vp_stt_utt_add(s->utt, s->frame, VP_LISTEN_FRAME) != 0)
    {
        /* the decoder's limit: what there is becomes final */
        vp_listen_final(s, 0, 0);
    }

    if (ev == VOICE_VAD_UTTERANCE_END && s->utt) {
        vp_listen_final(s, !s->vad.ended_by_limit, 0);
    }

    if (s->utt && s->interim
        && s->samples - s->interim_at >= VP_LISTEN_INTERIM)
    {
        vp_listen_interim(s);
    }

    if (s->words_pending && s->utterance_end
        && vp_listen_seconds(s->samples) - s->last_word_end
           >= s->utterance_end / 1000.0)
    {
        s->words_pending = 0;
        s->utterance_end_at = vp_listen_seconds(s->samples);

        vp_listen_put(s, "{\"type\":\"UtteranceEnd\",\"channel\":[0,1],"
                      "\"last_word_end\":%.3f}", s->last_word_end);
        vp_listen_send(s);
    }
}


/* an utterance from a little before the speech, of the audio kept */

static void
vp_listen_open(vp_listen_t *s, uint64_t onset)
{
    uint64_t  start, oldest;

    start = onset > VP_LISTEN_PREROLL ? onset - VP_LISTEN_PREROLL : 0;
    oldest = s->samples - s->ring_len;

    if (start < oldest) {
        start = oldest;
    }

    if (start < s->cursor) {
        start = s->cursor;
    }

    s->utt = vp_stt_utt_open(VP_LISTEN_RATE, s->interim);
    if (s->utt == NULL) {
        vp_http_note(s->http, "error", "out of memory", 13);
        return;
    }

    s->utt_start = start;
    s->interim_at = s->samples;
    s->interim_text[0] = '\0';

    (void) vp_stt_utt_add(s->utt, s->ring + (start - oldest),
                          (size_t) (s->samples - start));
}


/* the samples of a frame not yet full, for a result asked for now */

static void
vp_listen_flush(vp_listen_t *s)
{
    if (s->nframe == 0) {
        return;
    }

    if (s->utt) {
        (void) vp_stt_utt_add(s->utt, s->frame, s->nframe);
    }

    s->samples += s->nframe;
    s->nframe = 0;
}


static void
vp_listen_interim(vp_listen_t *s)
{
    vp_stt_result_t  r;

    s->interim_at = s->samples;

    vp_stt_utt_partial(s->utt, &r);
    vp_listen_words_seen(s, &r);

    if (r.text[0] == '\0' || strcmp(r.text, s->interim_text) == 0) {
        return;
    }

    memcpy(s->interim_text, r.text, sizeof(r.text));

    vp_listen_results(s, &r, 0, 0, 0);
    s->interims++;
}


static void
vp_listen_final(vp_listen_t *s, int speech_final, int from_finalize)
{
    vp_stt_result_t  r;

    if (s->utt) {
        vp_stt_utt_close(s->utt, &r);
        vp_stt_utt_free(s->utt);
        s->utt = NULL;

    } else {
        memset(&r, 0, sizeof(vp_stt_result_t));
    }

    vp_listen_words_seen(s, &r);
    vp_listen_results(s, &r, 1, speech_final, from_finalize);

    vp_http_note(s->http, "final", r.text, strlen(r.text));
    s->finals++;

    s->cursor = s->samples;
    s->interim_text[0] = '\0';

    /* speech that goes on is the next utterance's, and announced again */
    vp_listen_vad_reset(s);
}


/* the end of the last word a result has, towards UtteranceEnd */

static void
vp_listen_words_seen(vp_listen_t *s, const vp_stt_result_t *r)
{
    double  end;

    if (r->nwords == 0) {
        return;
    }

    end = vp_listen_seconds(s->utt_start) + r->words[r->nwords - 1].end;

    /* the final result of words an UtteranceEnd followed is no news */
    if (end <= s->utterance_end_at) {
        return;
    }

    if (end > s->last_word_end || !s->words_pending) {
        s->last_word_end = end;
    }

    s->words_pending = 1;
}


static void
vp_listen_results(vp_listen_t *s, const vp_stt_result_t *r, int is_final,
    int speech_final, int from_finalize)
{
    double                offset;
    unsigned              i;
    const vp_stt_word_t  *w;

    offset = vp_listen_seconds(s->utt_start);

    vp_listen_put(s, "{\"type\":\"Results\",\"channel_index\":[0,1],"
                  "\"duration\":%.3f,\"start\":%.3f,\"is_final\":%s,"
                  "\"speech_final\":%s,\"channel\":{\"alternatives\":"
                  "[{\"transcript\":\"",
                  vp_listen_seconds(s->samples - s->cursor),
                  vp_listen_seconds(s->cursor), is_final ? "true" : "false",
                  speech_final ? "true" : "false");
    vp_listen_put_json(s, r->text);
    vp_listen_put(s, "\",\"confidence\":%.3f,\"words\":[",
                  r->text[0] ? r->confidence : 0.0);

    for (i = 0; i < r->nwords; i++) {
        w = &r->words[i];

        vp_listen_put(s, "%s{\"word\":\"", i ? "," : "");
        vp_listen_put_json(s, w->text);
        vp_listen_put(s, "\",\"start\":%.3f,\"end\":%.3f,"
                      "\"confidence\":%.3f}", offset + w->start,
                      offset + w->end, w->confidence);
    }

    vp_listen_put(s, "]}]},\"metadata\":{\"request_id\":\"%s\","
                  "\"model_info\":{" VP_LISTEN_MODEL "},"
                  "\"model_uuid\":\"" VP_LISTEN_MODEL_UUID "\"},"
                  "\"from_finalize\":%s}", s->request_id,
                  from_finalize ? "true" : "false");

    vp_listen_send(s);
}


/* the summary CloseStream ends with */

static void
vp_listen_metadata(vp_listen_t *s)
{
    unsigned       i, n;
    unsigned char  digest[EVP_MAX_MD_SIZE];
    char           hex[2 * EVP_MAX_MD_SIZE + 1];

    n = 0;
    (void) EVP_DigestFinal_ex(s->sha256, digest, &n);

    for (i = 0; i < n; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }

    hex[2 * n] = '\0';

    vp_listen_put(s, "{\"type\":\"Metadata\",\"transaction_key\":"
                  "\"deprecated\",\"request_id\":\"%s\",\"sha256\":\"%s\","
                  "\"created\":\"%s\",\"duration\":%.3f,\"channels\":%d,"
                  "\"models\":[\"" VP_LISTEN_MODEL_UUID "\"],"
                  "\"model_info\":{\"" VP_LISTEN_MODEL_UUID "\":{"
                  VP_LISTEN_MODEL "}}}", s->request_id, hex, s->created,
                  vp_listen_seconds(s->samples), s->samples ? 1 : 0);
    vp_listen_send(s);
}


/* the message built in s->out, as a text frame */

static void
vp_listen_send(vp_listen_t *s)
{
    if (s->out_overflow) {
        vp_http_note(s->http, "error", "a message did not fit", 21);

    } else {
        (void) vp_ws_send(&s->ws, VOICE_WS_TEXT, s->out, s->out_len);
    }

    s->out_len = 0;
    s->out_overflow = 0;
}


static void
vp_listen_put(vp_listen_t *s, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  ap;

    room = sizeof(s->out) - s->out_len;

    va_start(ap, fmt);
    n = vsnprintf(s->out + s->out_len, room, fmt, ap);
    va_end(ap);

    if (n < 0 || (size_t) n >= room) {
        s->out_overflow = 1;
        return;
    }

    s->out_len += n;
}


static void
vp_listen_put_json(vp_listen_t *s, const char *text)
{
    size_t  len, n;

    len = strlen(text);
    n = voice_json_escape(NULL, (const uint8_t *) text, len);

    if (n >= sizeof(s->out) - s->out_len) {
        s->out_overflow = 1;
        return;
    }

    s->out_len += voice_json_escape((uint8_t *) s->out + s->out_len,
                                    (const uint8_t *) text, len);
}


/* the endpointer starts over, its noise floor kept */

static void
vp_listen_vad_reset(vp_listen_t *s)
{
    double  floor_db;

    floor_db = s->vad.floor_db;
    voice_vad_init(&s->vad, &s->vad_conf);
    s->vad.floor_db = floor_db;
}


static double
vp_listen_seconds(uint64_t samples)
{
    return (double) samples / VP_LISTEN_RATE;
}


/* a random (version 4) UUID, as Deepgram's request ids are */

static void
vp_listen_uuid(char *out)
{
    uint8_t  b[16];

    if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b)) {
        memset(b, 0, sizeof(b));
    }

    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;

    sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
            "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
            b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
            b[15]);
}


/* "2024-08-29T22:37:55.202Z" */

static void
vp_listen_now(char *out, size_t cap)
{
    size_t           n;
    struct tm        tm;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);

    n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}


static void
vp_listen_free(vp_listen_t *s)
{
    vp_stt_utt_free(s->utt);
    EVP_MD_CTX_free(s->sha256);
    free(s);
}

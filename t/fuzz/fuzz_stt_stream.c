/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The streaming STT dialects on arbitrary bytes, Deepgram's messages and
 * OpenAI realtime's events: the code is one of the reader's, the text
 * never goes past its buffer, is UTF-8, is there only for codes that
 * have text, and a small buffer gets what a large one gets, cut on a
 * character boundary.  The input as a transcript, escaped into a
 * message, comes back as it was; as audio, its append decodes back; as
 * a model, the session update parses back with it.
 */

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include "voice_deepgram.h"
#include "voice_json.h"
#include "voice_realtime.h"
#include "voice_utf8.h"


#define SMALL  7
#define LARGE  4096


typedef int (*reader_pt)(const uint8_t *json, size_t len, uint8_t *text,
    size_t cap, size_t *text_len);


static uint8_t                  small[SMALL];
static uint8_t                  large[LARGE];
static voice_deepgram_result_t  result;
static int                      compare;    /* with the last result */


static int
deepgram(const uint8_t *json, size_t len, uint8_t *text, size_t cap,
    size_t *text_len)
{
    int                      rc;
    voice_deepgram_result_t  res;

    memset(&res, 0, sizeof(res));

    rc = voice_deepgram_parse(json, len, &res, text, cap, text_len, NULL);

    /* the flags and times do not depend on the buffer */

    if (compare && memcmp(&res, &result, sizeof(res)) != 0) {
        abort();
    }

    result = res;

    return rc;
}


static int
realtime(const uint8_t *json, size_t len, uint8_t *text, size_t cap,
    size_t *text_len)
{
    return voice_realtime_parse(json, len, text, cap, text_len, NULL);
}


static void
read_message(reader_pt read, const uint8_t *data, size_t size, int last)
{
    int     rc1, rc2;
    size_t  n1, n2;

    compare = 0;
    rc1 = read(data, size, small, SMALL, &n1);
    compare = 1;
    rc2 = read(data, size, large, LARGE, &n2);
    compare = 0;

    if (rc1 != rc2 || rc1 < -1 || rc1 > last || n1 > SMALL || n2 > LARGE
        || n1 != voice_utf8_cut(large, n2, SMALL)
        || memcmp(small, large, n1) != 0 || !voice_utf8_valid(large, n2))
    {
        abort();
    }

    if (n2 && rc2 != VOICE_DEEPGRAM_RESULTS && rc2 != VOICE_DEEPGRAM_ERROR
        && read == deepgram)
    {
        abort();
    }

    if (n2 && rc2 != VOICE_REALTIME_DELTA && rc2 != VOICE_REALTIME_COMPLETED
        && rc2 != VOICE_REALTIME_ERROR && read == realtime)
    {
        abort();
    }
}


/* the input, valid UTF-8, escaped between head and tail, reads back */

static void
round_trip(reader_pt read, const char *head, const char *tail, int code,
    const uint8_t *data, size_t size)
{
    size_t    len, n;
    uint8_t  *json;

    json = malloc(strlen(head) + voice_json_escape(NULL, data, size)
                  + strlen(tail));

    len = strlen(head);
    memcpy(json, head, len);
    len += voice_json_escape(json + len, data, size);
    memcpy(json + len, tail, strlen(tail));
    len += strlen(tail);

    if (read(json, len, large, LARGE, &n) != code
        || n != voice_utf8_cut(data, size, LARGE)
        || memcmp(large, data, n) != 0)
    {
        abort();
    }

    free(json);
}


static void
append(const uint8_t *data, size_t size)
{
    size_t    len, b64;
    uint8_t  *out, *back;

    len = voice_realtime_append(NULL, data, size);
    b64 = (size + 2) / 3 * 4;
    out = malloc(len);
    back = malloc(b64 / 4 * 3 + 1);

    if (voice_realtime_append(out, data, size) != len
        || EVP_DecodeBlock(back, out + len - 2 - b64, (int) b64)
           != (int) (b64 / 4 * 3)
        || memcmp(back, data, size) != 0)
    {
        abort();
    }

    free(back);
    free(out);
}


static void
session(const uint8_t *data, size_t size)
{
    char        *model, *json, err[128];
    size_t       len;
    yajl_val     tree, v;
    const char  *path[] = { "session", "audio", "input", "transcription",
                            "model", NULL };

    if (memchr(data, '\0', size) != NULL) {
        return;
    }

    model = malloc(size + 1);
    memcpy(model, data, size);
    model[size] = '\0';

    len = voice_realtime_session(NULL, model, model);
    json = malloc(len + 1);

    if (voice_realtime_session((uint8_t *) json, model, model) != len) {
        abort();
    }

    json[len] = '\0';

    tree = yajl_tree_parse(json, err, sizeof(err));
    v = yajl_tree_get(tree, path, yajl_t_string);

    if (v == NULL || strcmp(YAJL_GET_STRING(v), model) != 0) {
        abort();
    }

    yajl_tree_free(tree);
    free(json);
    free(model);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_message(deepgram, data, size, VOICE_DEEPGRAM_ERROR);
    read_message(realtime, data, size, VOICE_REALTIME_ERROR);

    append(data, size);

    if (!voice_utf8_valid(data, size)) {
        return 0;
    }

    round_trip(deepgram, "{\"channel\":{\"alternatives\":[{\"transcript\":\"",
               "\"}]},\"type\":\"Results\"}", VOICE_DEEPGRAM_RESULTS, data,
               size);
    round_trip(realtime, "{\"type\":\"conversation.item.input_audio_"
               "transcription.delta\",\"delta\":\"", "\"}",
               VOICE_REALTIME_DELTA, data, size);
    round_trip(realtime, "{\"transcript\":\"", "\",\"type\":\"conversation."
               "item.input_audio_transcription.completed\"}",
               VOICE_REALTIME_COMPLETED, data, size);
    round_trip(realtime, "{\"type\":\"error\",\"error\":{\"message\":\"",
               "\"}}", VOICE_REALTIME_ERROR, data, size);

    session(data, size);

    return 0;
}

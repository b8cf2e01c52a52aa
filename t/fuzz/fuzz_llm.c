/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The provider formats on arbitrary bytes: a transcription reply and an
 * LLM delta never write past the text buffer, and a small buffer gets a
 * prefix of what a large one gets.  The request bodies with the input as
 * text are exactly as long as their size query said, parse back as JSON,
 * and carry the text as its own escaping would.
 */

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "voice_json.h"
#include "voice_llm.h"
#include "voice_stt.h"
#include "voice_tts.h"


#define SMALL  16
#define LARGE  4096


typedef int (*reader_pt)(const uint8_t *data, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, const yajl_alloc_funcs *af);


static uint8_t  small[SMALL];
static uint8_t  large[LARGE];


static int
space_only(const uint8_t *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\n' && p[i] != '\t' && p[i] != '\r') {
            return 0;
        }
    }

    return 1;
}


/* a transcription has no end of stream */

static int
code(int rc, int stt)
{
    if (stt) {
        return rc == VOICE_STT_NONE || rc == VOICE_STT_TEXT
               || rc == VOICE_STT_ERROR || rc == VOICE_STT_INVALID;
    }

    return rc >= VOICE_LLM_NONE && rc <= VOICE_LLM_INVALID;
}


static void
read_reply(reader_pt read, const uint8_t *data, size_t size, int stt)
{
    int     rc1, rc2;
    size_t  n1, n2;

    rc1 = read(data, size, small, SMALL, &n1, NULL);
    rc2 = read(data, size, large, LARGE, &n2, NULL);

    if (!code(rc1, stt) || !code(rc2, stt) || n1 > SMALL || n2 > LARGE) {
        abort();
    }

    /* the same strings, cut at the smaller buffer */

    if (n1 != (n2 < SMALL ? n2 : SMALL) || memcmp(small, large, n1) != 0) {
        abort();
    }

    if (rc2 == (stt ? VOICE_STT_TEXT : VOICE_LLM_TEXT)
        && (n2 == 0 || (stt && space_only(large, n2))))
    {
        abort();
    }

    /* only a transcription looks at what the text is */

    if (!stt && rc1 != rc2) {
        abort();
    }
}


static yajl_val
parse_back(const uint8_t *json, size_t len)
{
    char      *s, err[128];
    yajl_val   v;

    s = malloc(len + 1);
    memcpy(s, json, len);
    s[len] = '\0';

    v = yajl_tree_parse(s, err, sizeof(err));

    free(s);

    if (!YAJL_IS_OBJECT(v)) {
        abort();
    }

    return v;
}


/*
 * A string of the body carries the text if escaping both gives the same
 * bytes: invalid UTF-8 reads back as U+FFFD, which escapes to itself.
 * Tree strings end at a NUL, so texts with one are not compared.
 */

static void
same_text(yajl_val v, const uint8_t *text, size_t len)
{
    size_t       a, b;
    uint8_t     *ea, *eb;
    const char  *s;

    s = YAJL_GET_STRING(v);

    if (s == NULL) {
        abort();
    }

    if (memchr(text, '\0', len) != NULL) {
        return;
    }

    a = voice_json_escape(NULL, (const uint8_t *) s, strlen(s));
    b = voice_json_escape(NULL, text, len);

    if (a != b) {
        abort();
    }

    ea = malloc(a + 1);
    eb = malloc(b + 1);

    if (voice_json_escape(ea, (const uint8_t *) s, strlen(s)) != a
        || voice_json_escape(eb, text, len) != b
        || memcmp(ea, eb, a) != 0)
    {
        abort();
    }

    free(ea);
    free(eb);
}


static yajl_val
key(yajl_val obj, const char *name, yajl_type type)
{
    yajl_val     v;
    const char  *path[2];

    path[0] = name;
    path[1] = NULL;

    v = yajl_tree_get(obj, path, type);

    if (v == NULL) {
        abort();
    }

    return v;
}


static void
build_llm(const uint8_t *data, size_t size)
{
    size_t               i, n, len;
    uint8_t             *out;
    yajl_val             tree, msgs, m;
    const char          *model;
    voice_llm_message_t  msg[3];

    model = "gpt-4o-mini";

    memset(msg, 0, sizeof(msg));

    msg[0].role = "system";
    msg[0].content = (const uint8_t *) "Be brief.";
    msg[0].content_len = 9;
    msg[1].role = "user";
    msg[1].content = data;
    msg[1].content_len = size;
    msg[2].role = "assistant";
    msg[2].content = data + size / 2;
    msg[2].content_len = size - size / 2;

    n = size % 4;

    len = voice_llm_request_size(model, strlen(model), msg, n, NULL, 0,
                                 NULL);
    out = malloc(len);

    if (voice_llm_request(out, model, strlen(model), msg, n, NULL, 0, NULL)
        != len)
    {
        abort();
    }

    tree = parse_back(out, len);

    same_text(key(tree, "model", yajl_t_string), (const uint8_t *) model,
              strlen(model));

    if (!YAJL_IS_TRUE(key(tree, "stream", yajl_t_true))) {
        abort();
    }

    msgs = key(tree, "messages", yajl_t_array);

    if (YAJL_GET_ARRAY(msgs)->len != n) {
        abort();
    }

    for (i = 0; i < n; i++) {
        m = YAJL_GET_ARRAY(msgs)->values[i];

        if (!YAJL_IS_OBJECT(m)
            || strcmp(YAJL_GET_STRING(key(m, "role", yajl_t_string)),
                      msg[i].role) != 0)
        {
            abort();
        }

        same_text(key(m, "content", yajl_t_string), msg[i].content,
                  msg[i].content_len);
    }

    yajl_tree_free(tree);
    free(out);
}


static void
build_tts(const uint8_t *data, size_t size)
{
    size_t       len;
    uint8_t     *out;
    yajl_val     tree;
    const char  *model, *models[3];

    models[0] = NULL;
    models[1] = "";
    models[2] = "eleven_flash_v2_5";
    model = models[size % 3];

    len = voice_tts_elevenlabs(NULL, data, size, model);
    out = malloc(len);

    if (voice_tts_elevenlabs(out, data, size, model) != len) {
        abort();
    }

    tree = parse_back(out, len);

    same_text(key(tree, "text", yajl_t_string), data, size);

    if (model && model[0]) {
        same_text(key(tree, "model_id", yajl_t_string),
                  (const uint8_t *) model, strlen(model));
    }

    yajl_tree_free(tree);
    free(out);

    len = voice_tts_openai(NULL, data, size, "tts-1", "alloy");
    out = malloc(len);

    if (voice_tts_openai(out, data, size, "tts-1", "alloy") != len) {
        abort();
    }

    tree = parse_back(out, len);

    same_text(key(tree, "model", yajl_t_string), (const uint8_t *) "tts-1",
              5);
    same_text(key(tree, "input", yajl_t_string), data, size);
    same_text(key(tree, "voice", yajl_t_string), (const uint8_t *) "alloy",
              5);
    same_text(key(tree, "response_format", yajl_t_string),
              (const uint8_t *) "pcm", 3);

    yajl_tree_free(tree);
    free(out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_reply(voice_stt_reply, data, size, 1);
    read_reply(voice_llm_delta, data, size, 0);

    build_llm(data, size);
    build_tts(data, size);

    return 0;
}

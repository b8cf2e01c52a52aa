/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * JSON both ways: escaping always makes a valid string, the reply
 * reader finds the string at its path, or the error's message, and
 * nothing else, and the walk says where each scalar sits.
 */

#include "unit.h"
#include "voice_json.h"


static const char *const  top[] = { "text", NULL };
static const char *const  deep[] = {
    "a", VOICE_JSON_FIRST, "b", NULL
};


/* reads into text as a C string; nothing past cap is touched */

static int
reply(const char *json, const char *const *path, char *text, size_t cap)
{
    int     rc;
    size_t  n;

    memset(text, '#', cap + 1);

    rc = voice_json_reply((const uint8_t *) json, strlen(json), path,
                          (uint8_t *) text, cap, &n, NULL);

    if (n > cap || text[cap] != '#') {
        UNIT_FAIL("\"%s\": %zu bytes read into %zu", json, n, cap);
    }

    text[n] = '\0';

    return rc;
}


/*
 * The walk: each scalar in order, as "<type><depth><at path p>" into the
 * log, p being the first path of the list that names where it sits
 */

static const char *const  walk_a0[] = { "a", VOICE_JSON_FIRST, NULL };
static const char *const  walk_a0b[] = {
    "a", VOICE_JSON_FIRST, "b", NULL
};
static const char *const  walk_k[] = {
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", NULL
};
static const char *const *const  walk_paths[] = {
    top, walk_a0, walk_a0b, walk_k, NULL
};


static void
walk_log(void *ctx, const voice_json_walk_t *w, int type, const uint8_t *s,
    size_t len)
{
    int    i;
    char  *log = ctx;

    (void) s;
    (void) len;

    for (i = 0; walk_paths[i]; i++) {
        if (voice_json_walk_at(w, walk_paths[i])) {
            break;
        }
    }

    sprintf(log + strlen(log), "%d%d%c%c ", type, w->depth,
            walk_paths[i] ? '0' + i : '-',
            voice_json_walk_top(w, "text") ? 't' : '-');
}


static void
test_walk(void)
{
    char               log[256];
    voice_json_walk_t  w;
    static const char  doc[] =
        "{\"text\":null,\"a\":[{\"b\":1},true],\"a\":[7],"
        "\"x\":{\"text\":\"s\"},"
        "\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":2,"
        "\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":3,"
        "\"b\":[[\"n\"],\"o\"],\"text\":false}";

    log[0] = '\0';
    CHECK_INT(voice_json_walk((const uint8_t *) doc, sizeof(doc) - 1,
                              walk_log, log, &w, NULL), 1);
    CHECK_STR(log, "010t 232- 12-- 221- 32-- 213- 21-- 33-- 32-- "
                   "110t ");
    CHECK_INT(w.top, VOICE_JSON_WALK_OBJECT);
    CHECK_INT(w.depth, 0);

    /* a scalar alone, an array, and what is not JSON */

    log[0] = '\0';
    CHECK_INT(voice_json_walk((const uint8_t *) "\"s\"", 3, walk_log, log,
                              &w, NULL), 1);
    CHECK_STR(log, "30-- ");
    CHECK_INT(w.top, VOICE_JSON_WALK_SCALAR);
    CHECK_INT(voice_json_walk((const uint8_t *) "[1]", 3, walk_log, log, &w,
                              NULL), 1);
    CHECK_INT(w.top, VOICE_JSON_WALK_ARRAY);
    CHECK_INT(voice_json_walk((const uint8_t *) "{\"a\":", 5, walk_log, log,
                              &w, NULL), 0);
    CHECK_INT(voice_json_walk((const uint8_t *) "[[[[[[[1]]]]]]]", 15,
                              walk_log, log, &w, NULL), 1);
    CHECK_INT(voice_json_walk((const uint8_t *) "[[[[[[[[1]]]]]]]]", 17,
                              walk_log, log, &w, NULL), 0);
}


int
main(void)
{
    char     text[256];
    size_t   n;
    uint8_t  out[64];

    /* escaping: quotes, controls, UTF-8 kept, bytes that are not: U+FFFD */

    n = voice_json_escape(out, (const uint8_t *) "\"\\\n\x01\xc3\xa9\xc3", 7);
    CHECK_MEM(out, n, "\\\"\\\\\\n\\u0001\xc3\xa9\xef\xbf\xbd", 17);
    CHECK_INT(voice_json_escape(NULL, (const uint8_t *) "\"\\\n\x01\xc3\xa9"
                                "\xc3", 7), 17);

    /* voice_json_put writes at an offset, or counts */

    memcpy(out, "ab", 2);
    n = voice_json_put(out, 2, (const uint8_t *) "\"", 1);
    CHECK_MEM(out, 2 + n, "ab\\\"", 4);
    CHECK_INT(voice_json_put(NULL, 100, (const uint8_t *) "\"", 1), 2);

    /* the string at the path, at that depth only */

    CHECK_INT(reply("{\"x\":{\"text\":\"no\"},\"text\":\"yes\"}", top, text,
                    255), VOICE_JSON_TEXT);
    CHECK_STR(text, "yes");
    CHECK_INT(reply("{\"a\":[{\"b\":\"first\"},{\"b\":\"second\"}]}", deep,
                    text, 255), VOICE_JSON_TEXT);
    CHECK_STR(text, "first");
    CHECK_INT(reply("{\"a\":[[],{\"b\":\"second\"}]}", deep, text, 255),
              VOICE_JSON_NONE);
    CHECK_INT(reply("{\"a\":{\"b\":\"an object\"}}", deep, text, 255),
              VOICE_JSON_NONE);
    CHECK_INT(reply("{\"a\":[{\"[0]\":{\"b\":\"no\"}}]}", deep, text, 255),
              VOICE_JSON_NONE);

    /* not a string, an empty one, none */

    CHECK_INT(reply("{\"text\":5}", top, text, 255), VOICE_JSON_NONE);
    CHECK_INT(reply("{\"text\":\"\"}", top, text, 255), VOICE_JSON_NONE);
    CHECK_INT(reply("[\"text\"]", top, text, 255), VOICE_JSON_NONE);

    /* found twice: joined; cut at the buffer */

    CHECK_INT(reply("{\"text\":\"ab\",\"text\":\"cd\"}", top, text, 255),
              VOICE_JSON_TEXT);
    CHECK_STR(text, "abcd");
    CHECK_INT(reply("{\"text\":\"ab\",\"text\":\"cd\"}", top, text, 3),
              VOICE_JSON_TEXT);
    CHECK_STR(text, "abc");
    CHECK_INT(reply("{\"text\":\"ab\"}", top, text, 0), VOICE_JSON_NONE);

    /* the error's message replaces what was found before it */

    CHECK_INT(reply("{\"text\":\"ab\",\"error\":{\"message\":\"bad\"}}", top,
                    text, 255), VOICE_JSON_ERROR);
    CHECK_STR(text, "bad");
    CHECK_INT(reply("{\"error\":\"bad\"}", top, text, 255), VOICE_JSON_NONE);
    CHECK_INT(reply("{\"x\":{\"error\":{\"message\":\"bad\"}}}", top, text,
                    255), VOICE_JSON_NONE);

    /* seven levels deep is read, eight is not */

    CHECK_INT(reply("{\"text\":\"a\",\"x\":[[[[[[1]]]]]]}", top, text, 255),
              VOICE_JSON_TEXT);
    CHECK_INT(reply("{\"text\":\"a\",\"x\":[[[[[[[1]]]]]]]}", top, text,
                    255), VOICE_JSON_INVALID);

    /* not JSON, or not all of it */

    CHECK_INT(reply("", top, text, 255), VOICE_JSON_INVALID);
    CHECK_INT(reply("{\"text\":\"a\"} x", top, text, 255),
              VOICE_JSON_INVALID);
    CHECK_INT(reply("{\"text\":\"a\"", top, text, 255), VOICE_JSON_INVALID);

    /* strings yajl lets through that are not UTF-8 (RFC 3629) */

    CHECK_INT(reply("{\"text\":\"\xc1\x89\"}", top, text, 255),
              VOICE_JSON_INVALID);
    CHECK_INT(reply("{\"text\":\"\xed\xbf\xbf\"}", top, text, 255),
              VOICE_JSON_INVALID);
    CHECK_INT(reply("{\"t\xc0\x80\":1,\"text\":\"a\"}", top, text, 255),
              VOICE_JSON_INVALID);

    test_walk();

    UNIT_DONE("json");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Function calling on arbitrary bytes.  A tools file taken is offered as
 * valid JSON, its names where they belong; the input as a stream of
 * deltas (events split at newlines) puts calls together within their
 * caps, and writes them back as a JSON array of as many calls; arguments
 * read as an object or for a member never overrun.
 */

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "voice_llm.h"
#include "voice_tools.h"


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

    if (!YAJL_IS_ARRAY(v)) {
        abort();
    }

    return v;
}


static void
check_file(const uint8_t *data, size_t size)
{
    size_t               len, i;
    uint8_t             *out;
    yajl_val             v;
    voice_tools_file_t   tf;
    voice_tools_name_t   dest[1] = { { (const uint8_t *) "desk", 4 } };

    if (voice_tools_check(data, size, &tf, NULL) != 0) {
        if (tf.error[0] == '\0') {
            abort();
        }

        return;
    }

    if (tf.start > tf.end || tf.end > size || tf.n > VOICE_TOOLS_MAX) {
        abort();
    }

    for (i = 0; i < tf.n; i++) {
        len = strlen(tf.names[i]);

        if (len == 0 || len > VOICE_TOOL_NAME_MAX
            || !voice_tools_declared(&tf, (const uint8_t *) tf.names[i], len))
        {
            abort();
        }
    }

    len = voice_tools_offer(NULL, data, &tf, 1, dest, 1);
    out = malloc(len);

    if (voice_tools_offer(out, data, &tf, 1, dest, 1) != len) {
        abort();
    }

    v = parse_back(out, len);

    if (YAJL_GET_ARRAY(v)->len != tf.n + 2) {
        abort();
    }

    yajl_tree_free(v);
    free(out);
}


static void
check_stream(const uint8_t *data, size_t size)
{
    int                  finish;
    size_t               i, n, len, tlen;
    uint8_t             *out, text[64], value[16];
    yajl_val             v;
    const uint8_t       *p, *nl, *end;
    voice_tool_calls_t   tc;

    voice_tool_calls_init(&tc, NULL);

    end = data + size;

    for (p = data; p < end; p = nl + 1) {
        nl = memchr(p, '\n', end - p);

        if (nl == NULL) {
            nl = end;
        }

        (void) voice_llm_delta_calls(p, nl - p, text, sizeof(text), &tlen,
                                     &tc, &finish, NULL);

        if (tlen > sizeof(text) || finish < VOICE_LLM_FINISH_NONE
            || finish > VOICE_LLM_FINISH_OTHER || tc.n > VOICE_TOOL_CALLS_MAX)
        {
            abort();
        }
    }

    n = voice_tool_calls_end(&tc);

    for (i = 0; i < n; i++) {
        if (tc.calls[i].id_len == 0 || tc.calls[i].id_len > VOICE_TOOL_ID_MAX
            || tc.calls[i].name_len > VOICE_TOOL_NAME_MAX
            || tc.calls[i].args_len > VOICE_TOOL_ARGS_MAX)
        {
            abort();
        }

        (void) voice_tools_object(tc.calls[i].args, tc.calls[i].args_len,
                                  NULL);
        (void) voice_tools_member(tc.calls[i].args, tc.calls[i].args_len,
                                  "destination", value, sizeof(value), &len,
                                  NULL);

        if (len > sizeof(value)) {
            abort();
        }
    }

    len = voice_tool_calls_json(NULL, &tc);
    out = malloc(len);

    if (voice_tool_calls_json(out, &tc) != len) {
        abort();
    }

    v = parse_back(out, len);

    if (YAJL_GET_ARRAY(v)->len != n) {
        abort();
    }

    yajl_tree_free(v);
    free(out);

    voice_tool_calls_reset(&tc);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t   len;
    uint8_t  value[16];

    check_file(data, size);
    check_stream(data, size);

    (void) voice_tools_object(data, size, NULL);

    if (voice_tools_member(data, size, "destination", value, sizeof(value),
                           &len, NULL)
        && len > sizeof(value))
    {
        abort();
    }

    return 0;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Function calling: a tools file is taken or refused with a message
 * that says why; what the model is offered is valid JSON with the
 * built-ins after the file's functions; streamed calls are put back
 * together as OpenAI's client does, and written back exactly.
 */

#include <yajl/yajl_tree.h>

#include "unit.h"
#include "voice_tools.h"


static voice_tools_file_t  tf;


static int
check(const char *json)
{
    return voice_tools_check((const uint8_t *) json, strlen(json), &tf,
                             NULL);
}


static int
refused(const char *json, const char *error)
{
    if (check(json) != -1) {
        return 0;
    }

    if (strcmp(tf.error, error) != 0) {
        fprintf(stderr, "error \"%s\", want \"%s\"\n", tf.error, error);
        return 0;
    }

    return 1;
}


/* the offer parses back, and has the names it should, in order */

static int
offered(const char *file, int end_call, const voice_tools_name_t *dest,
    size_t n, const char *names)
{
    char          buf[4096], err[128], got[256];
    size_t        i, len, k;
    yajl_val      v, name;
    const char   *path[] = { "function", "name", NULL };
    const uint8_t  *data;

    data = (const uint8_t *) file;

    if (file && check(file) != 0) {
        return 0;
    }

    len = voice_tools_offer(NULL, data, &tf, end_call, dest, n);

    if (len >= sizeof(buf)
        || voice_tools_offer((uint8_t *) buf, data, &tf, end_call, dest, n)
           != len)
    {
        return 0;
    }

    buf[len] = '\0';

    v = yajl_tree_parse(buf, err, sizeof(err));
    if (!YAJL_IS_ARRAY(v)) {
        fprintf(stderr, "not an array: %s\n", buf);
        return 0;
    }

    k = 0;
    got[0] = '\0';

    for (i = 0; i < YAJL_GET_ARRAY(v)->len; i++) {
        name = yajl_tree_get(YAJL_GET_ARRAY(v)->values[i], path,
                             yajl_t_string);

        k += snprintf(got + k, sizeof(got) - k, "%s%s", i ? " " : "",
                      name ? YAJL_GET_STRING(name) : "?");
    }

    yajl_tree_free(v);

    if (strcmp(got, names) != 0) {
        fprintf(stderr, "offered \"%s\", want \"%s\"\n", got, names);
        return 0;
    }

    return 1;
}


static int
member(const char *json, uint8_t *value, size_t *n)
{
    return voice_tools_member((const uint8_t *) json, strlen(json),
                              "destination", value, 8, n, NULL);
}


static void
add(voice_tool_calls_t *tc, size_t index, int field, const char *s)
{
    voice_tool_calls_add(tc, index, field, (const uint8_t *) s, strlen(s));
}


int
main(void)
{
    char                 out[1024], err[128];
    size_t               n, len;
    uint8_t              value[8];
    yajl_val             v;
    voice_tool_calls_t   tc;
    voice_tools_name_t   dest[2] = {
        { (const uint8_t *) "sales", 5 },
        { (const uint8_t *) "front \"desk\"", 12 }
    };

    /* a file as OpenAI's documentation writes one */

    CHECK_INT(check(" [\n  {\"type\": \"function\", \"function\": {\n"
                    "    \"name\": \"check_order\",\n"
                    "    \"description\": \"Looks up an order.\",\n"
                    "    \"parameters\": {\"type\": \"object\", \"properties\":"
                    " {\"order\": {\"type\": \"string\"}}, \"required\": "
                    "[\"order\"]}}},\n"
                    "  {\"function\": {\"name\": \"book-slot_2\"}, "
                    "\"type\": \"function\"}\n] \n"), 0);
    CHECK_INT(tf.n, 2);
    CHECK_STR(tf.names[0], "check_order");
    CHECK_STR(tf.names[1], "book-slot_2");
    CHECK(voice_tools_declared(&tf, (const uint8_t *) "check_order", 11));
    CHECK(!voice_tools_declared(&tf, (const uint8_t *) "check_orde", 10));
    CHECK(!voice_tools_declared(&tf, (const uint8_t *) "end_call", 8));

    CHECK_INT(check("[]"), 0);
    CHECK_INT(tf.n, 0);

    /* refused, and why */

    CHECK(refused("", "is not valid JSON"));
    CHECK(refused("[{\"type\":\"function\"", "is not valid JSON"));
    CHECK(refused("[] []", "is not valid JSON"));
    CHECK(refused("{\"tools\":[]}", "is not a JSON array"));
    CHECK(refused("[{\"type\":\"function\",\"function\":{\"name\":\"a\"}},3]",
                  "tool 2 is not an object"));
    CHECK(refused("[{\"function\":{\"name\":\"a\"}}]",
                  "tool 1 has no \"type\": \"function\""));
    CHECK(refused("[{\"type\":\"code\",\"function\":{\"name\":\"a\"}}]",
                  "tool 1 has a \"type\" other than \"function\""));
    CHECK(refused("[{\"type\":\"function\"}]",
                  "tool 1 has no \"function\" with a \"name\""));
    CHECK(refused("[{\"type\":\"function\",\"function\":{\"description\":"
                  "\"x\"}}]", "tool 1 has no \"function\" with a \"name\""));
    CHECK(refused("[{\"type\":\"function\",\"function\":[]}]",
                  "tool 1 has a \"function\" that is not an object"));
    CHECK(refused("[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]",
                  "tool 1 has a name that is not 1 to 64 of a-z, A-Z, 0-9, "
                  "_ and -"));
    CHECK(refused("[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]",
                  "tool 1 has a name that is not 1 to 64 of a-z, A-Z, 0-9, "
                  "_ and -"));
    CHECK(refused("[{\"type\":\"function\",\"function\":{\"name\":7}}]",
                  "tool 1 has a name that is not 1 to 64 of a-z, A-Z, 0-9, "
                  "_ and -"));
    CHECK(refused("[{\"type\":\"function\",\"function\":{\"name\":\"a\","
                  "\"parameters\":\"none\"}}]",
                  "tool 1 has \"parameters\" that are not an object"));
    CHECK(refused("[{\"type\":\"function\",\"function\":{\"name\":\"a\"}},"
                  "{\"type\":\"function\",\"function\":{\"name\":\"a\"}}]",
                  "tool 2 has a name an earlier tool has"));
    CHECK(refused("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]"
                  "]]]]]]]]]]]]", "tool 1 is not an object"));
    CHECK(refused("[{\"type\":\"function\",\"function\":{\"name\":\"a\","
                  "\"parameters\":{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                  "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}}]",
                  "tool 1 is nested more than 32 deep"));

    /* what the model is offered */

    CHECK(offered("[{\"type\":\"function\",\"function\":{\"name\":\"a\"}},"
                  "{\"type\":\"function\",\"function\":{\"name\":\"b\"}}]", 1,
                  dest, 2, "a b end_call transfer_call"));
    CHECK(offered("[ ]", 0, dest, 1, "transfer_call"));
    CHECK(offered(NULL, 1, NULL, 0, "end_call"));
    CHECK(offered(NULL, 0, NULL, 0, ""));

    len = voice_tools_offer((uint8_t *) out, NULL, &tf, 0, dest, 2);
    out[len] = '\0';
    CHECK(strstr(out, "\"enum\":[\"sales\",\"front \\\"desk\\\"\"]") != NULL);

    /* arguments */

    CHECK(voice_tools_object((const uint8_t *) "{\"a\":[{}]}", 10, NULL));
    CHECK(!voice_tools_object((const uint8_t *) "[1]", 3, NULL));
    CHECK(!voice_tools_object((const uint8_t *) "{\"a\":", 5, NULL));
    CHECK(!voice_tools_object((const uint8_t *) "", 0, NULL));

    CHECK(member("{\"n\":{\"destination\":\"x\"},\"destination\":\"sales\"}",
                 value, &n));
    CHECK_MEM(value, n, "sales", 5);
    CHECK(member("{\"destination\":\"a long name\"}", value, &n));
    CHECK_MEM(value, n, "a long n", 8);
    CHECK(!member("{\"destination\":5}", value, &n));
    CHECK(!member("[\"destination\"]", value, &n));
    CHECK(!member("{\"destination\":", value, &n));

    /* calls put back together */

    voice_tool_calls_init(&tc, NULL);

    add(&tc, 0, VOICE_TOOL_ID, "call_1");
    add(&tc, 0, VOICE_TOOL_NAME, "check_order");
    add(&tc, 0, VOICE_TOOL_ARGS, "");
    add(&tc, 0, VOICE_TOOL_ARGS, "{\"order\":");
    add(&tc, 2, VOICE_TOOL_NAME, "wea");
    add(&tc, 2, VOICE_TOOL_NAME, "ther");
    add(&tc, 0, VOICE_TOOL_ID, "call_1");
    add(&tc, 0, VOICE_TOOL_NAME, "check_order");
    add(&tc, 0, VOICE_TOOL_ARGS, "\"7\\n\"}");
    add(&tc, 2, VOICE_TOOL_ARGS, "{}");

    CHECK_INT(tc.n, 3);
    CHECK_INT(voice_tool_calls_end(&tc), 2);
    CHECK_MEM(tc.calls[0].name, tc.calls[0].name_len, "check_order", 11);
    CHECK_MEM(tc.calls[1].name, tc.calls[1].name_len, "weather", 7);
    CHECK_MEM(tc.calls[1].id, tc.calls[1].id_len, "call_2", 6);

    len = voice_tool_calls_json(NULL, &tc);
    CHECK(len < sizeof(out));
    CHECK_INT(voice_tool_calls_json((uint8_t *) out, &tc), len);
    out[len] = '\0';
    CHECK_STR(out, "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{"
                   "\"name\":\"check_order\",\"arguments\":\"{\\\"order\\\":"
                   "\\\"7\\\\n\\\"}\"}},{\"id\":\"call_2\",\"type\":"
                   "\"function\",\"function\":{\"name\":\"weather\","
                   "\"arguments\":\"{}\"}}]");

    v = yajl_tree_parse(out, err, sizeof(err));
    CHECK(YAJL_IS_ARRAY(v));
    yajl_tree_free(v);

    /* caps: a field too long is marked, a call past the max dropped */

    voice_tool_calls_reset(&tc);
    CHECK_INT(tc.n, 0);

    for (n = 0; n < VOICE_TOOL_ARGS_MAX / 4; n++) {
        add(&tc, 0, VOICE_TOOL_ARGS, "[1,]");
    }

    CHECK(!tc.calls[0].cut);
    add(&tc, 0, VOICE_TOOL_ARGS, "x");
    CHECK(tc.calls[0].cut);
    CHECK_INT(tc.calls[0].args_len, VOICE_TOOL_ARGS_MAX);

    add(&tc, 1, VOICE_TOOL_ID, "0123456789012345678901234567890123456789"
                               "01234567890123456789012345");
    CHECK(tc.calls[1].cut);

    add(&tc, VOICE_TOOL_CALLS_MAX, VOICE_TOOL_NAME, "x");
    CHECK(tc.dropped);
    CHECK_INT(tc.n, 2);

    voice_tool_calls_reset(&tc);

    /* nothing at all */

    CHECK_INT(voice_tool_calls_end(&tc), 0);
    CHECK_INT(voice_tool_calls_json((uint8_t *) out, &tc), 2);

    UNIT_DONE("tools");
}

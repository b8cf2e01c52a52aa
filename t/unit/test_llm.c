/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The chat completions wire format: the request exact and valid JSON
 * whatever the text, and the streamed deltas as OpenAI sends them.
 */

#include <yajl/yajl_tree.h>

#include "unit.h"
#include "voice_llm.h"


static int
delta(const char *json, char *text)
{
    int     rc;
    size_t  n;

    rc = voice_llm_delta((const uint8_t *) json, strlen(json),
                         (uint8_t *) text, 255, &n, NULL);
    text[n] = '\0';

    return rc;
}


int
main(void)
{
    char                 text[256], err[128];
    size_t               n, len;
    uint8_t              out[1024];
    yajl_val             v, msgs;
    const char          *path[] = { "messages", NULL };
    voice_llm_message_t  m[3] = {
        { "system", (const uint8_t *) "Be \"brief\".\n", 12 },
        { "assistant", (const uint8_t *) "caf\xc3\xa9 \xf0\x9f\x98\x80", 10 },
        { "user", (const uint8_t *) "bad \xff byte\\", 11 }
    };

    /* the request: exact, and it parses back */

    len = voice_llm_request_size("gpt-4o-mini", 11, m, 3);
    n = voice_llm_request(out, "gpt-4o-mini", 11, m, 3);
    CHECK_INT(n, len);
    out[n] = '\0';
    CHECK_STR((char *) out,
              "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":["
              "{\"role\":\"system\",\"content\":\"Be \\\"brief\\\".\\n\"},"
              "{\"role\":\"assistant\",\"content\":\"caf\xc3\xa9 "
              "\xf0\x9f\x98\x80\"},"
              "{\"role\":\"user\",\"content\":\"bad \xef\xbf\xbd "
              "byte\\\\\"}]}");

    v = yajl_tree_parse((char *) out, err, sizeof(err));
    msgs = yajl_tree_get(v, path, yajl_t_array);
    CHECK(msgs != NULL && YAJL_GET_ARRAY(msgs)->len == 3);
    yajl_tree_free(v);

    /* no messages at all */

    n = voice_llm_request(out, "m", 1, m, 0);
    CHECK_MEM(out, n, "{\"model\":\"m\",\"stream\":true,\"messages\":[]}",
              strlen("{\"model\":\"m\",\"stream\":true,\"messages\":[]}"));
    CHECK_INT(voice_llm_request_size("m", 1, m, 0), n);

    /* streamed deltas as OpenAI sends them */

    CHECK_INT(delta("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\","
                    "\"choices\":[{\"index\":0,\"delta\":{\"role\":"
                    "\"assistant\",\"content\":\"\"},\"logprobs\":null,"
                    "\"finish_reason\":null}]}", text), VOICE_LLM_NONE);
    CHECK_INT(delta("{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
                    "\"Hello\\n\\u00e9\"},\"finish_reason\":null}]}", text),
              VOICE_LLM_TEXT);
    CHECK_STR(text, "Hello\n\xc3\xa9");
    CHECK_INT(delta("{\"choices\":[{\"index\":0,\"delta\":{},"
                    "\"finish_reason\":\"stop\"}]}", text), VOICE_LLM_NONE);
    CHECK_INT(delta("[DONE]", text), VOICE_LLM_DONE);
    CHECK_INT(delta("[DONE] \n", text), VOICE_LLM_DONE);
    CHECK_INT(delta("{\"choices\":[{\"delta\":{\"content\":\"a\"}},"
                    "{\"delta\":{\"content\":\"b\"}}]}", text),
              VOICE_LLM_TEXT);
    CHECK_STR(text, "a");
    CHECK_INT(delta("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"x\":"
                    "{\"content\":\"no\"}}]}}]}", text), VOICE_LLM_NONE);

    /* the first choice is the first element, whatever comes before it */

    CHECK_INT(delta("{\"choices\":[1,{\"delta\":{\"content\":\"no\"}}]}",
                    text), VOICE_LLM_NONE);
    CHECK_INT(delta("{\"choices\":{\"delta\":{\"content\":\"no\"}}}", text),
              VOICE_LLM_NONE);

    /* the provider's error, and what is not JSON */

    CHECK_INT(delta("{\"error\":{\"message\":\"Rate limit\",\"type\":"
                    "\"x\"}}", text), VOICE_LLM_ERROR);
    CHECK_STR(text, "Rate limit");
    CHECK_INT(delta("{\"choices\":[", text), VOICE_LLM_INVALID);
    CHECK_INT(delta("nonsense", text), VOICE_LLM_INVALID);

    UNIT_DONE("llm");
}

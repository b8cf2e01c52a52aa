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


static int
call_delta(voice_tool_calls_t *tc, const char *json, char *text, int *finish)
{
    int     rc;
    size_t  n;

    rc = voice_llm_delta_calls((const uint8_t *) json, strlen(json),
                               (uint8_t *) text, 255, &n, tc, finish, NULL);
    text[n] = '\0';

    return rc;
}


int
main(void)
{
    int                  finish;
    voice_tool_calls_t   tc;
    char                 text[256], err[128];
    size_t               n, len;
    uint8_t              out[1024];
    yajl_val             v, msgs;
    const char          *path[] = { "messages", NULL };
    voice_llm_message_t  m[3] = {
        { "system", (const uint8_t *) "Be \"brief\".\n", 12, NULL, 0, NULL, 0 },
        { "assistant", (const uint8_t *) "caf\xc3\xa9 \xf0\x9f\x98\x80", 10,
          NULL, 0, NULL, 0 },
        { "user", (const uint8_t *) "bad \xff byte\\", 11, NULL, 0, NULL, 0 }
    };
    voice_llm_message_t  t[4] = {
        { "user", (const uint8_t *) "Order 7?", 8, NULL, 0, NULL, 0 },
        { "assistant", NULL, 0, (const uint8_t *) "[{\"id\":\"c1\"}]", 13,
          NULL, 0 },
        { "tool", (const uint8_t *) "{\"ok\":1}", 8, NULL, 0,
          (const uint8_t *) "c\"1", 3 },
        { "assistant", (const uint8_t *) "Let me see.", 11,
          (const uint8_t *) "[]", 2, NULL, 0 }
    };

    /* the request: exact, and it parses back */

    len = voice_llm_request_size("gpt-4o-mini", 11, m, 3, NULL, 0, NULL);
    n = voice_llm_request(out, "gpt-4o-mini", 11, m, 3, NULL, 0, NULL);
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

    n = voice_llm_request(out, "m", 1, m, 0, NULL, 0, NULL);
    CHECK_MEM(out, n, "{\"model\":\"m\",\"stream\":true,\"messages\":[]}",
              strlen("{\"model\":\"m\",\"stream\":true,\"messages\":[]}"));
    CHECK_INT(voice_llm_request_size("m", 1, m, 0, NULL, 0, NULL), n);

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

    /* a tool exchange, and the functions offered */

    len = voice_llm_request_size("m", 1, t, 4, (const uint8_t *) "[{}]", 4,
                                 "none");
    n = voice_llm_request(out, "m", 1, t, 4, (const uint8_t *) "[{}]", 4,
                          "none");
    CHECK_INT(n, len);
    out[n] = '\0';
    CHECK_STR((char *) out,
              "{\"model\":\"m\",\"stream\":true,\"messages\":["
              "{\"role\":\"user\",\"content\":\"Order 7?\"},"
              "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
              "[{\"id\":\"c1\"}]},"
              "{\"role\":\"tool\",\"tool_call_id\":\"c\\\"1\","
              "\"content\":\"{\\\"ok\\\":1}\"},"
              "{\"role\":\"assistant\",\"content\":\"Let me see.\","
              "\"tool_calls\":[]}],"
              "\"tools\":[{}],\"tool_choice\":\"none\"}");

    v = yajl_tree_parse((char *) out, err, sizeof(err));
    CHECK(v != NULL);
    yajl_tree_free(v);

    n = voice_llm_request(out, "m", 1, t, 1, (const uint8_t *) "[]", 2,
                          NULL);
    CHECK_MEM(out, n, "{\"model\":\"m\",\"stream\":true,\"messages\":["
              "{\"role\":\"user\",\"content\":\"Order 7?\"}],"
              "\"tools\":[]}",
              strlen("{\"model\":\"m\",\"stream\":true,\"messages\":["
                     "{\"role\":\"user\",\"content\":\"Order 7?\"}],"
                     "\"tools\":[]}"));

    /*
     * Tool calls as OpenAI streams them: the first fragment of a call
     * has its index, id and name, the arguments come in pieces; a second
     * call follows the first; then finish_reason "tool_calls"
     */

    voice_tool_calls_init(&tc, NULL);

    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"index\":0,\"delta\":{"
              "\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
              "\"index\":0,\"id\":\"call_A\",\"type\":\"function\","
              "\"function\":{\"name\":\"check_order\",\"arguments\":\"\"}}],"
              "\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}",
              text, &finish), VOICE_LLM_NONE);
    CHECK_INT(finish, VOICE_LLM_FINISH_NONE);
    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"index\":0,\"delta\":{"
              "\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
              "\"{\\\"ord\"}}]},\"finish_reason\":null}]}", text, &finish),
              VOICE_LLM_NONE);
    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"index\":0,\"delta\":{"
              "\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
              "\"er\\\":\\\"7\\\"}\"}}]},\"finish_reason\":null}]}", text,
              &finish), VOICE_LLM_NONE);

    /* the index after the fragment, and text in the same event */

    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"delta\":{\"content\":"
              "\"Hm.\",\"tool_calls\":[{\"function\":{\"name\":\"weather\","
              "\"arguments\":\"{}\"},\"id\":\"call_B\",\"index\":1}]}}]}",
              text, &finish), VOICE_LLM_TEXT);
    CHECK_STR(text, "Hm.");
    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"index\":0,\"delta\":{},"
              "\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]}", text,
              &finish), VOICE_LLM_NONE);
    CHECK_INT(finish, VOICE_LLM_FINISH_TOOL_CALLS);
    CHECK_INT(call_delta(&tc, "[DONE]", text, &finish), VOICE_LLM_DONE);

    CHECK_INT(voice_tool_calls_end(&tc), 2);
    CHECK_MEM(tc.calls[0].id, tc.calls[0].id_len, "call_A", 6);
    CHECK_MEM(tc.calls[0].name, tc.calls[0].name_len, "check_order", 11);
    CHECK_MEM(tc.calls[0].args, tc.calls[0].args_len,
              "{\"order\":\"7\"}", 13);
    CHECK_MEM(tc.calls[1].id, tc.calls[1].id_len, "call_B", 6);
    CHECK_MEM(tc.calls[1].args, tc.calls[1].args_len, "{}", 2);

    /* a broken event adds nothing; other finish reasons */

    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"delta\":{\"tool_calls\":[{"
              "\"index\":0,\"function\":{\"arguments\":\"x\"}}]}}", text,
              &finish), VOICE_LLM_INVALID);
    CHECK_INT(tc.calls[0].args_len, 13);
    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"delta\":{},"
              "\"finish_reason\":\"length\"}]}", text, &finish),
              VOICE_LLM_NONE);
    CHECK_INT(finish, VOICE_LLM_FINISH_OTHER);
    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"delta\":{},"
              "\"finish_reason\":\"stop\"}]}", text, &finish),
              VOICE_LLM_NONE);
    CHECK_INT(finish, VOICE_LLM_FINISH_STOP);

    /* calls of another choice, and past the most a reply may have */

    voice_tool_calls_reset(&tc);

    CHECK_INT(call_delta(&tc, "{\"choices\":[1,{\"delta\":{\"tool_calls\":"
              "[{\"index\":0,\"id\":\"x\"}]}}]}", text, &finish),
              VOICE_LLM_NONE);
    CHECK_INT(tc.n, 0);
    CHECK_INT(call_delta(&tc, "{\"choices\":[{\"delta\":{\"tool_calls\":"
              "[{\"index\":8,\"id\":\"x\"}]}}]}", text, &finish),
              VOICE_LLM_NONE);
    CHECK_INT(tc.n, 0);
    CHECK(tc.dropped);

    voice_tool_calls_reset(&tc);

    UNIT_DONE("llm");
}

/*
 * Copyright (C) ngx_http_voice_module authors
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
              "{\"role\":\"user\",\"content\":\"bad \xef\xbf\xbd byte\\\\\"}]}");

    v = yajl_tree_parse((char *) out, err, sizeof(err));
    msgs = yajl_tree_get(v, path, yajl_t_array);
    CHECK(msgs != NULL && YAJL_GET_ARRAY(msgs)->len == 3);
    yajl_tree_free(v);

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
    CHECK_INT(delta("{\"choices\":[{\"delta\":{\"content\":\"a\"}},"
                    "{\"delta\":{\"content\":\"b\"}}]}", text),
              VOICE_LLM_TEXT);
    CHECK_STR(text, "a");
    CHECK_INT(delta("{\"choices\":[{\"delta\":{\"tool_calls\":[{\"x\":"
                    "{\"content\":\"no\"}}]}}]}", text), VOICE_LLM_NONE);
    CHECK_INT(delta("{\"error\":{\"message\":\"Rate limit\",\"type\":"
                    "\"x\"}}", text), VOICE_LLM_ERROR);
    CHECK_STR(text, "Rate limit");
    CHECK_INT(delta("{\"choices\":[", text), VOICE_LLM_INVALID);
    CHECK_INT(delta("nonsense", text), VOICE_LLM_INVALID);

    /* transcription replies */

    CHECK_INT(voice_stt_reply((const uint8_t *) "{\"text\":\"Hi there.\","
                              "\"x\":{\"text\":\"no\"}}", 38,
                              (uint8_t *) text, 255, &n, NULL),
              VOICE_LLM_TEXT);
    CHECK_MEM(text, n, "Hi there.", 9);
    CHECK_INT(voice_stt_reply((const uint8_t *) "{\"text\":\" \\n \"}", 15,
                              (uint8_t *) text, 255, &n, NULL),
              VOICE_LLM_NONE);
    CHECK_INT(voice_stt_reply((const uint8_t *) "{}", 2, (uint8_t *) text,
                              255, &n, NULL), VOICE_LLM_NONE);
    CHECK_INT(voice_stt_reply((const uint8_t *) "<html>", 6,
                              (uint8_t *) text, 255, &n, NULL),
              VOICE_LLM_INVALID);

    /* multipart and TTS bodies */

    n = voice_stt_multipart(out, "BOUND", (const uint8_t *) "HDR", 3,
                            (const uint8_t *) "PCM", 3, "whisper-1", "en");
    CHECK_INT(n, voice_stt_multipart(NULL, "BOUND", (const uint8_t *) "HDR",
                                     3, (const uint8_t *) "PCM", 3,
                                     "whisper-1", "en"));
    CHECK_MEM(out, n,
              "--BOUND\r\nContent-Disposition: form-data; name=\"file\"; "
              "filename=\"utterance.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
              "HDRPCM\r\n--BOUND\r\nContent-Disposition: form-data; "
              "name=\"model\"\r\n\r\nwhisper-1\r\n--BOUND\r\n"
              "Content-Disposition: form-data; name=\"language\"\r\n\r\nen"
              "\r\n--BOUND\r\nContent-Disposition: form-data; "
              "name=\"response_format\"\r\n\r\njson\r\n--BOUND--\r\n",
              strlen("--BOUND\r\nContent-Disposition: form-data; name=\"file\"; "
              "filename=\"utterance.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
              "HDRPCM\r\n--BOUND\r\nContent-Disposition: form-data; "
              "name=\"model\"\r\n\r\nwhisper-1\r\n--BOUND\r\n"
              "Content-Disposition: form-data; name=\"language\"\r\n\r\nen"
              "\r\n--BOUND\r\nContent-Disposition: form-data; "
              "name=\"response_format\"\r\n\r\njson\r\n--BOUND--\r\n"));

    n = voice_tts_elevenlabs(out, (const uint8_t *) "Say \"hi\"", 8,
                             "eleven_flash_v2_5");
    CHECK_MEM(out, n, "{\"text\":\"Say \\\"hi\\\"\",\"model_id\":"
              "\"eleven_flash_v2_5\"}", 52);
    n = voice_tts_elevenlabs(out, (const uint8_t *) "x", 1, "");
    CHECK_MEM(out, n, "{\"text\":\"x\"}", 12);
    n = voice_tts_openai(out, (const uint8_t *) "x", 1, "tts-1", "alloy");
    CHECK_MEM(out, n, "{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":"
              "\"alloy\",\"response_format\":\"pcm\"}", 69);

    UNIT_DONE("llm");
}

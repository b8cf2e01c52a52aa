/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* The TTS request bodies of both dialects, byte for byte */

#include "unit.h"
#include "voice_tts.h"


#define CHECK_BODY(out, n, want)  CHECK_MEM(out, n, want, strlen(want))


int
main(void)
{
    size_t   n;
    uint8_t  out[256];

    /* ElevenLabs: the text escaped, the model when there is one */

    n = voice_tts_elevenlabs(out, (const uint8_t *) "Say \"hi\"", 8,
                             "eleven_flash_v2_5");
    CHECK_BODY(out, n, "{\"text\":\"Say \\\"hi\\\"\",\"model_id\":"
               "\"eleven_flash_v2_5\"}");
    CHECK_INT(voice_tts_elevenlabs(NULL, (const uint8_t *) "Say \"hi\"", 8,
                                   "eleven_flash_v2_5"), 52);
    n = voice_tts_elevenlabs(out, (const uint8_t *) "x", 1, "");
    CHECK_BODY(out, n, "{\"text\":\"x\"}");
    n = voice_tts_elevenlabs(out, (const uint8_t *) "x", 1, NULL);
    CHECK_BODY(out, n, "{\"text\":\"x\"}");

    /* OpenAI speech: raw PCM back */

    n = voice_tts_openai(out, (const uint8_t *) "x", 1, "tts-1", "alloy");
    CHECK_BODY(out, n, "{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":"
               "\"alloy\",\"response_format\":\"pcm\"}");
    CHECK_INT(voice_tts_openai(NULL, (const uint8_t *) "x", 1, "tts-1",
                               "alloy"), 69);

    /* text that is not UTF-8 still makes a JSON body */

    n = voice_tts_openai(out, (const uint8_t *) "a\xff\n", 3, "m\"",
                         "v\\");
    CHECK_BODY(out, n, "{\"model\":\"m\\\"\",\"input\":\"a\xef\xbf\xbd\\n\","
               "\"voice\":\"v\\\\\",\"response_format\":\"pcm\"}");

    UNIT_DONE("tts");
}

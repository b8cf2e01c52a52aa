/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The transcription wire format: the multipart request byte for byte,
 * and the reply's text, with silence and errors told apart.
 */

#include "unit.h"
#include "voice_stt.h"


/* replies, and what the agent gets from them */

static const struct {
    const char  *json;
    size_t       cap;
    int          rc;
    const char  *text;
} replies[] = {

    /* the top-level "text" only, cut at the buffer */
    { "{\"text\":\"Hi there.\",\"x\":{\"text\":\"no\"}}", 255,
      VOICE_STT_TEXT, "Hi there." },
    { "{\"text\":\"Hi there.\"}", 2, VOICE_STT_TEXT, "Hi" },

    /* nothing said: white space, an empty text, or none at all */
    { "{\"text\":\" \\n\\t\\r \"}", 255, VOICE_STT_NONE, " \n\t\r " },
    { "{\"text\":\"\"}", 255, VOICE_STT_NONE, "" },
    { "{}", 255, VOICE_STT_NONE, "" },

    /* the provider's error, and what is not JSON */
    { "{\"error\":{\"message\":\"Invalid file format.\","
      "\"type\":\"invalid_request_error\"}}", 255, VOICE_STT_ERROR,
      "Invalid file format." },
    { "<html>", 255, VOICE_STT_INVALID, "" },
    { "{\"text\":\"cut", 255, VOICE_STT_INVALID, "" }
};


int
main(void)
{
    char            text[256];
    size_t          i, n;
    uint8_t         out[1024];
    static const char  body[] =
        "--BOUND\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"utterance.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
        "HDRPCM\r\n--BOUND\r\nContent-Disposition: form-data; "
        "name=\"model\"\r\n\r\nwhisper-1\r\n--BOUND\r\n"
        "Content-Disposition: form-data; name=\"language\"\r\n\r\nen"
        "\r\n--BOUND\r\nContent-Disposition: form-data; "
        "name=\"response_format\"\r\n\r\njson\r\n--BOUND--\r\n";
    static const char  no_language[] =
        "--B\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"utterance.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
        "\r\n--B\r\nContent-Disposition: form-data; "
        "name=\"model\"\r\n\r\nm\r\n--B\r\nContent-Disposition: form-data; "
        "name=\"response_format\"\r\n\r\njson\r\n--B--\r\n";

    for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        CHECK_INT(voice_stt_reply((const uint8_t *) replies[i].json,
                                  strlen(replies[i].json), (uint8_t *) text,
                                  replies[i].cap, &n, NULL),
                  replies[i].rc);
        CHECK_MEM(text, n, replies[i].text, strlen(replies[i].text));
    }

    /* the codes are the ones the agent has always compared against */

    CHECK_INT(VOICE_STT_NONE, 0);
    CHECK_INT(VOICE_STT_TEXT, 1);
    CHECK_INT(VOICE_STT_ERROR, 3);
    CHECK_INT(VOICE_STT_INVALID, 4);

    /* multipart: exact, and its size query agrees */

    n = voice_stt_multipart(out, "BOUND", (const uint8_t *) "HDR", 3,
                            (const uint8_t *) "PCM", 3, "whisper-1", "en");
    CHECK_INT(n, voice_stt_multipart(NULL, "BOUND", (const uint8_t *) "HDR",
                                     3, (const uint8_t *) "PCM", 3,
                                     "whisper-1", "en"));
    CHECK_MEM(out, n, body, sizeof(body) - 1);

    /* no language: no field; an empty file is still a file */

    n = voice_stt_multipart(out, "B", NULL, 0, NULL, 0, "m", "");
    CHECK_MEM(out, n, no_language, sizeof(no_language) - 1);
    CHECK_INT(voice_stt_multipart(NULL, "B", NULL, 0, NULL, 0, "m", NULL), n);

    UNIT_DONE("stt");
}

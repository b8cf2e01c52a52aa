/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include "voice_buf.h"
#include "voice_stt.h"


static const char *const  voice_stt_text_path[] = { "text", NULL };


size_t
voice_stt_multipart(uint8_t *out, const char *boundary,
    const uint8_t *wav_header, size_t header_len, const uint8_t *pcm,
    size_t pcm_len, const char *model, const char *language)
{
    size_t  n;

    n = voice_buf_str(out, 0, "--");
    n += voice_buf_str(out, n, boundary);
    n += voice_buf_str(out, n, "\r\nContent-Disposition: form-data; "
                       "name=\"file\"; filename=\"utterance.wav\"\r\n"
                       "Content-Type: audio/wav\r\n\r\n");
    n += voice_buf_mem(out, n, wav_header, header_len);
    n += voice_buf_mem(out, n, pcm, pcm_len);

    n += voice_buf_str(out, n, "\r\n--");
    n += voice_buf_str(out, n, boundary);
    n += voice_buf_str(out, n, "\r\nContent-Disposition: form-data; "
                       "name=\"model\"\r\n\r\n");
    n += voice_buf_str(out, n, model);

    if (language && language[0]) {
        n += voice_buf_str(out, n, "\r\n--");
        n += voice_buf_str(out, n, boundary);
        n += voice_buf_str(out, n, "\r\nContent-Disposition: form-data; "
                           "name=\"language\"\r\n\r\n");
        n += voice_buf_str(out, n, language);
    }

    n += voice_buf_str(out, n, "\r\n--");
    n += voice_buf_str(out, n, boundary);
    n += voice_buf_str(out, n, "\r\nContent-Disposition: form-data; "
                       "name=\"response_format\"\r\n\r\njson\r\n--");
    n += voice_buf_str(out, n, boundary);
    n += voice_buf_str(out, n, "--\r\n");

    return n;
}


int
voice_stt_reply(const uint8_t *data, size_t len, uint8_t *text, size_t cap,
    size_t *text_len, const yajl_alloc_funcs *af)
{
    int     rc;
    size_t  i;

    rc = voice_json_reply(data, len, voice_stt_text_path, text, cap,
                          text_len, af);

    if (rc != VOICE_STT_TEXT) {
        return rc;
    }

    for (i = 0; i < *text_len; i++) {
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t'
            && text[i] != '\r')
        {
            return VOICE_STT_TEXT;
        }
    }

    return VOICE_STT_NONE;
}

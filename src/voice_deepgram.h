/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Deepgram's live transcription over a WebSocket
 * (wss://api.deepgram.com/v1/listen?encoding=mulaw&sample_rate=8000
 * &interim_results=true...), as its documentation describes it
 * (developers.deepgram.com/docs/: interim-results, finalize, keep-alive,
 * close-stream, utterance-end, speech-started,
 * stt-troubleshooting-websocket-data-and-net-errors).
 *
 * Client to server: the caller's μ-law as binary frames, and these text
 * frames:
 *
 *   {"type":"KeepAlive"}     at least every 10 s without audio, or the
 *                            server closes with NET-0001; no answer
 *   {"type":"Finalize"}      flush: the audio so far comes back final,
 *                            the last result with "from_finalize": true
 *   {"type":"CloseStream"}   flush, a Metadata message, then the close
 *
 * Server to client, text frames, keys in any order:
 *
 *   {"type":"Results", "channel_index":[0,1], "start":0.0,
 *    "duration":1.04, "is_final":true, "speech_final":true,
 *    "from_finalize":false,
 *    "channel":{"alternatives":[{"transcript":"Hello.",
 *                                "confidence":0.99, "words":[...]}]},
 *    "metadata":{...}}
 *   {"type":"UtteranceEnd", "channel":[0,1], "last_word_end":2.39}
 *                            (with utterance_end_ms=...)
 *   {"type":"SpeechStarted", "channel":[0], "timestamp":9.54}
 *                            (with vad_events=true)
 *   {"type":"Metadata", "request_id":"...", "duration":..., ...}
 *   {"type":"Error", "description":"...", "message":"...",
 *    "variant":"..."}
 *   {"err_code":"...", "err_msg":"...", "request_id":"..."}
 *                            (Deepgram's HTTP error body, no "type")
 *
 * Most failures come as a close frame instead (1008 DATA-0000 for audio
 * it cannot decode, 1011 NET-0000/NET-0001), which voice_ws.c reads.
 */

#ifndef VOICE_DEEPGRAM_H
#define VOICE_DEEPGRAM_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>


#define VOICE_DEEPGRAM_KEEPALIVE    "{\"type\":\"KeepAlive\"}"
#define VOICE_DEEPGRAM_FINALIZE     "{\"type\":\"Finalize\"}"
#define VOICE_DEEPGRAM_CLOSESTREAM  "{\"type\":\"CloseStream\"}"

/* what voice_deepgram_parse() returns */
#define VOICE_DEEPGRAM_INVALID        -1  /* not JSON, not an object */
#define VOICE_DEEPGRAM_OTHER           0  /* Metadata, unknown types */
#define VOICE_DEEPGRAM_RESULTS         1
#define VOICE_DEEPGRAM_UTTERANCE_END   2
#define VOICE_DEEPGRAM_SPEECH_STARTED  3
#define VOICE_DEEPGRAM_ERROR           4


typedef struct {
    int     is_final;
    int     speech_final;
    int     from_finalize;
    double  start;          /* UtteranceEnd: last_word_end; */
                            /* SpeechStarted: timestamp, in seconds */
    double  duration;
} voice_deepgram_result_t;


/*
 * One text message from the server.  *res is always set (zero where the
 * message says nothing).  RESULTS: the transcript of
 * channel.alternatives[0] in text (at most cap bytes, the rest dropped,
 * never cutting a UTF-8 sequence; it may be empty).  ERROR: the first
 * of err_msg, description and message the message has, in text the same
 * way.  Other codes leave text empty.
 */
int voice_deepgram_parse(const uint8_t *json, size_t len,
    voice_deepgram_result_t *res, uint8_t *text, size_t cap,
    size_t *text_len, const yajl_alloc_funcs *af);

#endif /* VOICE_DEEPGRAM_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * OpenAI's realtime transcription over a WebSocket
 * (wss://api.openai.com/v1/realtime?intent=transcription, with
 * "Authorization: Bearer <key>" and no model in the URL), as the
 * Realtime API documents it (developers.openai.com/api/docs/guides/
 * realtime-transcription; api/reference/resources/realtime/
 * client-events and server-events).
 *
 * The session is set with "session.update" and a session of type
 * "transcription".  The beta API's "transcription_session.update" with
 * "input_audio_format": "g711_ulaw" is what older guides show; the
 * current API refuses it, and names μ-law "audio/pcmu" (8 kHz):
 *
 *   {"type":"session.update","session":{"type":"transcription",
 *    "audio":{"input":{"format":{"type":"audio/pcmu"},
 *    "transcription":{"model":"gpt-4o-transcribe","language":"en"},
 *    "turn_detection":null}}}}
 *
 * With turn_detection null the server never commits audio itself: the
 * module decides the turns, appending the caller's audio and committing
 * each utterance (or clearing what it does not want transcribed):
 *
 *   {"type":"input_audio_buffer.append","audio":"<base64 μ-law>"}
 *   {"type":"input_audio_buffer.commit"}
 *   {"type":"input_audio_buffer.clear"}
 *
 * Server to client, keys in any order, the ones read here:
 *
 *   {"type":"conversation.item.input_audio_transcription.delta",
 *    "item_id":"...", "content_index":0, "delta":"Hel"}
 *   {"type":"conversation.item.input_audio_transcription.completed",
 *    "item_id":"...", "content_index":0, "transcript":"Hello.",
 *    "usage":{...}}
 *   {"type":"conversation.item.input_audio_transcription.failed",
 *    "item_id":"...", "error":{"type":"...", "message":"..."}}
 *   {"type":"input_audio_buffer.speech_started", "audio_start_ms":...}
 *   {"type":"input_audio_buffer.speech_stopped", "audio_end_ms":...}
 *                            (both with server VAD only)
 *   {"type":"error", "error":{"type":"invalid_request_error",
 *    "code":"...", "message":"...", "param":null}}
 *
 * and session.created, session.updated, input_audio_buffer.committed,
 * conversation.item.added and the rest as OTHER.
 */

#ifndef VOICE_REALTIME_H
#define VOICE_REALTIME_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>


#define VOICE_REALTIME_COMMIT  "{\"type\":\"input_audio_buffer.commit\"}"
#define VOICE_REALTIME_CLEAR   "{\"type\":\"input_audio_buffer.clear\"}"

/* what voice_realtime_parse() returns */
#define VOICE_REALTIME_INVALID        -1  /* not JSON, not an object */
#define VOICE_REALTIME_OTHER           0
#define VOICE_REALTIME_DELTA           1  /* text: the delta */
#define VOICE_REALTIME_COMPLETED       2  /* text: the transcript */
#define VOICE_REALTIME_SPEECH_STARTED  3
#define VOICE_REALTIME_SPEECH_STOPPED  4
#define VOICE_REALTIME_ERROR           5  /* text: error.message, of an */
                                          /* error or a failed transcription */


/*
 * The session.update above: the model, the language (NULL or "": none,
 * the model detects it), μ-law in, no turn detection.  With out NULL,
 * returns the exact length only.
 */
size_t voice_realtime_session(uint8_t *out, const char *model,
    const char *language);

/* the append message with n bytes of μ-law; out NULL: the exact length */
size_t voice_realtime_append(uint8_t *out, const uint8_t *ulaw, size_t n);

/*
 * One text message from the server: its code, and its text copied into
 * text (at most cap bytes, the rest dropped, never cutting a UTF-8
 * sequence); *text_len is 0 for codes without text.
 */
int voice_realtime_parse(const uint8_t *json, size_t len, uint8_t *text,
    size_t cap, size_t *text_len, const yajl_alloc_funcs *af);

#endif /* VOICE_REALTIME_H */

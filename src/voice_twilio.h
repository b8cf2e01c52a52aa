/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Twilio Media Streams messages: a streaming parser for what Twilio sends
 * (and, for the simulator, what the module sends), and builders for both
 * directions.  Media payloads stay base64 text here: nginx and the
 * simulator each decode with their own base64.
 */

#ifndef VOICE_TWILIO_H
#define VOICE_TWILIO_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>


#define VOICE_TWILIO_OK           0
#define VOICE_TWILIO_ERROR       -1

#define VOICE_TWILIO_UNKNOWN      0
#define VOICE_TWILIO_CONNECTED    1
#define VOICE_TWILIO_START        2
#define VOICE_TWILIO_MEDIA        3
#define VOICE_TWILIO_DTMF         4
#define VOICE_TWILIO_MARK         5
#define VOICE_TWILIO_STOP         6
#define VOICE_TWILIO_CLEAR        7

#define VOICE_TWILIO_SID_MAX      64
#define VOICE_TWILIO_PARAMS_MAX   16
#define VOICE_TWILIO_NAME_MAX     128
#define VOICE_TWILIO_VALUE_MAX    256
#define VOICE_TWILIO_PAYLOAD_MAX  16384     /* base64 characters */
#define VOICE_TWILIO_DEPTH_MAX    32

/*
 * The most μ-law bytes a media payload the parser hands out can decode
 * to: base64 carries 3 bytes in every 4 characters.
 */
#define VOICE_TWILIO_MEDIA_MAX    ((VOICE_TWILIO_PAYLOAD_MAX / 4) * 3)


typedef struct {
    char                name[VOICE_TWILIO_NAME_MAX + 1];
    char                value[VOICE_TWILIO_VALUE_MAX + 1];
} voice_twilio_param_t;


typedef struct {
    int                 event;
    unsigned long       sequence;

    char                stream_sid[VOICE_TWILIO_SID_MAX + 1];
    char                call_sid[VOICE_TWILIO_SID_MAX + 1];
    char                account_sid[VOICE_TWILIO_SID_MAX + 1];

    /* start */
    char                encoding[VOICE_TWILIO_SID_MAX + 1];
    unsigned long       sample_rate;
    unsigned long       channels;
    unsigned            nparams;

    /* media */
    int                 track_outbound;
    unsigned long       chunk;
    unsigned long       timestamp;
    const char         *payload;        /* in the input, or the parser */
    size_t              payload_len;

    /* dtmf, mark */
    char                digit[8];
    char                mark_name[VOICE_TWILIO_NAME_MAX + 1];

    /* start's, last: 6 KB that a media message does not touch */
    voice_twilio_param_t  params[VOICE_TWILIO_PARAMS_MAX];
} voice_twilio_msg_t;


typedef struct {
    yajl_handle         handle;
    yajl_alloc_funcs    alloc;
    int                 have_alloc;

    voice_twilio_msg_t *msg;
    int                 depth;
    int                 path[VOICE_TWILIO_DEPTH_MAX];
    int                 complete;
    size_t              end;            /* where the object ended */

    char                event_name[32];
    const char         *error;

    const uint8_t      *in;             /* the message being parsed */
    size_t              in_len;

    /* media messages in Twilio's own shape are read without yajl */
    unsigned long       fast;           /* how many were */
    unsigned            slow_only;      /* all to yajl: tests compare */

    char                payload[VOICE_TWILIO_PAYLOAD_MAX];
} voice_twilio_parser_t;


/* af NULL: yajl's malloc */
int voice_twilio_parser_init(voice_twilio_parser_t *p,
    const yajl_alloc_funcs *af);
void voice_twilio_parser_free(voice_twilio_parser_t *p);

/*
 * Parses one message, which must be exactly one JSON object.  On error
 * p->error says why; the parser is ready for the next message either way.
 * m->payload points into json where the payload stands there unescaped,
 * as it does in every media message, and into the parser otherwise: it
 * is valid until the next parse, and as long as json is.
 */
int voice_twilio_parse(voice_twilio_parser_t *p, const uint8_t *json,
    size_t len, voice_twilio_msg_t *m);


/*
 * module -> Twilio; each returns the bytes written, or 0 if cap is short;
 * the _size functions give the exact length.  sid is the stream SID as it
 * stands between quotes in JSON, escaped by the caller (voice_json_escape,
 * once for the call); b64 is base64 text, which needs no escaping: both
 * are copied as they are.  A mark's name is escaped.
 */

size_t voice_twilio_media_size(size_t sid_len, size_t b64_len);
size_t voice_twilio_media(uint8_t *out, size_t cap, const char *sid,
    size_t sid_len, const uint8_t *b64, size_t b64_len);
/* the same around a payload that the caller writes in place */
size_t voice_twilio_media_head(uint8_t *out, size_t cap, const char *sid,
    size_t sid_len);
size_t voice_twilio_media_tail(uint8_t *out, size_t cap);
size_t voice_twilio_mark_size(size_t sid_len, const uint8_t *name,
    size_t name_len);
size_t voice_twilio_mark(uint8_t *out, size_t cap, const char *sid,
    size_t sid_len, const uint8_t *name, size_t name_len);
size_t voice_twilio_clear_size(size_t sid_len);
size_t voice_twilio_clear(uint8_t *out, size_t cap, const char *sid,
    size_t sid_len);


/* Twilio -> module, for the simulator; same return convention */

size_t voice_twilio_build_connected(uint8_t *out, size_t cap);
size_t voice_twilio_build_start(uint8_t *out, size_t cap,
    const char *stream_sid, const char *call_sid, const char *account_sid,
    const voice_twilio_param_t *params, unsigned nparams);
size_t voice_twilio_build_media(uint8_t *out, size_t cap,
    const char *stream_sid, unsigned long seq, unsigned long chunk,
    unsigned long timestamp, const uint8_t *b64, size_t b64_len);
size_t voice_twilio_build_mark(uint8_t *out, size_t cap,
    const char *stream_sid, unsigned long seq, const char *name);
size_t voice_twilio_build_dtmf(uint8_t *out, size_t cap,
    const char *stream_sid, unsigned long seq, char digit);
size_t voice_twilio_build_stop(uint8_t *out, size_t cap,
    const char *stream_sid, const char *call_sid, const char *account_sid,
    unsigned long seq);

#endif /* VOICE_TWILIO_H */

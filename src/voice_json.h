/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * JSON as the providers speak it: text escaped into the bodies we send,
 * one string read out of the replies they send back, and a walk over
 * their event messages.
 */

#ifndef VOICE_JSON_H
#define VOICE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>


/*
 * What voice_json_reply() returns; the providers' readers return these
 * under their own names (VOICE_LLM_DONE takes the 2 left out here).
 */
#define VOICE_JSON_NONE      0      /* no string at the path, or only "" */
#define VOICE_JSON_TEXT      1
#define VOICE_JSON_ERROR     3      /* the provider's error object */
#define VOICE_JSON_INVALID   4      /* not JSON, or nested too deep */

/* a path element: the first element of an array */
#define VOICE_JSON_FIRST     "[0]"

/* the walk: documents nested this deep are invalid */
#define VOICE_JSON_WALK_DEPTH    8

/* longer keys are walked past, but sit at no path */
#define VOICE_JSON_WALK_KEY      32

/* what a scalar is; s is its text ("true", "-1.5e3", a string unescaped) */
#define VOICE_JSON_WALK_NULL     0
#define VOICE_JSON_WALK_BOOL     1
#define VOICE_JSON_WALK_NUMBER   2
#define VOICE_JSON_WALK_STRING   3

/* what the document is, when the walk is over */
#define VOICE_JSON_WALK_SCALAR   0
#define VOICE_JSON_WALK_OBJECT   1
#define VOICE_JSON_WALK_ARRAY    2

/* what voice_json_event() returns besides an event's own code */
#define VOICE_JSON_EVENT_INVALID -1     /* not JSON, not an object */
#define VOICE_JSON_EVENT_OTHER    0     /* a type not in the table, none */

/* the most events in a table, and text paths of an event */
#define VOICE_JSON_EVENT_MAX     32
#define VOICE_JSON_EVENT_TEXTS   4


typedef struct {
    int       depth;                /* 1: a member of the top value */
    int       top;                  /* VOICE_JSON_WALK_OBJECT, ... */

    /* per level: an object's current key, or an array's current index */
    uint8_t   array[VOICE_JSON_WALK_DEPTH];
    int       index[VOICE_JSON_WALK_DEPTH];
    size_t    key_len[VOICE_JSON_WALK_DEPTH];
    char      key[VOICE_JSON_WALK_DEPTH][VOICE_JSON_WALK_KEY];
} voice_json_walk_t;


typedef void (*voice_json_walk_pt)(void *ctx, const voice_json_walk_t *w,
    int type, const uint8_t *s, size_t len);


/* what voice_json_reply() reads with: path, text and cap set, the rest 0 */
typedef struct {
    const char *const  *path;
    int                 error;
    int                 found;
    uint8_t            *text;
    size_t              cap;
    size_t              len;
} voice_json_reader_t;


/*
 * An event message of a provider: its top-level "type" (NULL: a message
 * with no "type" but a string at one of the text paths), the code it is
 * read as, and where its text is, best first, NULL after the last.
 */
typedef struct {
    const char          *type;
    int                  code;
    const char *const   *text[VOICE_JSON_EVENT_TEXTS];
} voice_json_event_t;

/*
 * Escapes text for the inside of a JSON string: quote, backslash and
 * control characters; valid UTF-8 passes through, invalid bytes become
 * U+FFFD so the output is always valid JSON.  With out NULL, returns the
 * length only.
 */
size_t voice_json_escape(uint8_t *out, const uint8_t *in, size_t len);

/* voice_json_escape() at out + at, for the two-pass writers of voice_buf.h */
size_t voice_json_put(uint8_t *out, size_t at, const uint8_t *in,
    size_t len);

/*
 * Reads a provider's reply: the string found at "path" (object keys from
 * the top, NULL-terminated; VOICE_JSON_FIRST steps into an array), or the
 * message of an error object {"error": {"message": ...}}, copied into
 * text (at most cap bytes, the rest dropped).  Strings found are joined;
 * an error message starts the text over.  Documents nested deeper than 7
 * are invalid.
 */
int voice_json_reply(const uint8_t *data, size_t len,
    const char *const *path, uint8_t *text, size_t cap, size_t *text_len,
    const yajl_alloc_funcs *af);

/*
 * voice_json_reply() in two parts, for a walk that reads more besides:
 * the scalar callback (ctx a voice_json_reader_t), and the code when the
 * walk is over (ok: it was whole)
 */
void voice_json_reader_scalar(void *ctx, const voice_json_walk_t *w,
    int type, const uint8_t *s, size_t len);
int voice_json_reader_result(const voice_json_reader_t *r, int ok);

/*
 * A walk for the readers of providers' event messages, which pick a few
 * fields out of objects whose keys come in any order: calls scalar for
 * each scalar of the document in order, w saying where it sits.
 * Returns 1 if all of data is one JSON value whose strings and keys are
 * UTF-8 (RFC 3629, as voice_utf8_valid() reads it), 0 if not (the walk
 * stops there).
 */
int voice_json_walk(const uint8_t *data, size_t len,
    voice_json_walk_pt scalar, void *ctx, voice_json_walk_t *w,
    const yajl_alloc_funcs *af);

/*
 * 1 if the scalar being reported sits at path: object keys from the
 * top, NULL-terminated, VOICE_JSON_FIRST ("[0]") for an array's first
 * element
 */
int voice_json_walk_at(const voice_json_walk_t *w, const char *const *path);

/* 1 if the scalar being reported is the member "name" of the top object */
int voice_json_walk_top(const voice_json_walk_t *w, const char *name);

/*
 * Reads an event message by a table of n events (at most
 * VOICE_JSON_EVENT_MAX): returns the code of the event its "type" names
 * and copies the event's text, the string at the first of its text
 * paths the message has, into text (at most cap bytes, never cutting a
 * UTF-8 sequence); *text_len is 0 for anything else.  Each scalar goes
 * to scalar(ctx) too when set.  Keys come in any order, so a message
 * whose text comes before its "type" is walked twice, and scalar sees
 * its scalars twice.
 */
int voice_json_event(const uint8_t *data, size_t len,
    const voice_json_event_t *events, size_t n, voice_json_walk_pt scalar,
    void *ctx, uint8_t *text, size_t cap, size_t *text_len,
    const yajl_alloc_funcs *af);

#endif /* VOICE_JSON_H */

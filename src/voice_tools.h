/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Function calling as OpenAI's chat completions speak it: the operator's
 * tools file checked, the built-in functions (end_call, transfer_call)
 * added to what the model is offered, and the calls of a streamed reply
 * put back together from the fragments its events carry.
 */

#ifndef VOICE_TOOLS_H
#define VOICE_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_common.h>


#define VOICE_TOOLS_MAX         64      /* functions in a tools file */
#define VOICE_TOOLS_DEPTH       32      /* nesting of a tools file */
#define VOICE_TOOL_NAME_MAX     64      /* OpenAI's limit for a name */
#define VOICE_TOOL_ID_MAX       64      /* OpenAI's ids have 30 or so */
#define VOICE_TOOL_CALLS_MAX    8       /* calls in one reply */
#define VOICE_TOOL_ARGS_MAX     8192    /* arguments of one call */

/* the built-in functions */
#define VOICE_TOOL_END_CALL       "end_call"
#define VOICE_TOOL_TRANSFER_CALL  "transfer_call"

/* what a fragment of a streamed call is */
#define VOICE_TOOL_ID           0
#define VOICE_TOOL_NAME         1
#define VOICE_TOOL_ARGS         2


typedef struct {
    size_t              n;
    char                names[VOICE_TOOLS_MAX][VOICE_TOOL_NAME_MAX + 1];

    /* the array's elements, data[start, end): what is offered verbatim */
    size_t              start;
    size_t              end;

    char                error[160];
} voice_tools_file_t;


/* a name for the enum of transfer_call's destination */
typedef struct {
    const uint8_t      *name;
    size_t              len;
} voice_tools_name_t;


typedef struct {
    uint8_t             id[VOICE_TOOL_ID_MAX];
    size_t              id_len;
    uint8_t             name[VOICE_TOOL_NAME_MAX];
    size_t              name_len;
    uint8_t            *args;                   /* af's */
    size_t              args_len;
    size_t              args_size;
    unsigned            cut;        /* a fragment past a field's cap */
} voice_tool_call_t;


typedef struct {
    voice_tool_call_t        calls[VOICE_TOOL_CALLS_MAX];
    size_t                   n;
    unsigned                 dropped;   /* fragments of calls past the max */
    unsigned                 nomem;
    const yajl_alloc_funcs  *af;        /* NULL: malloc */
} voice_tool_calls_t;


/*
 * Checks a tools file: a JSON array of {"type": "function", "function":
 * {"name", "description"?, "parameters"?}} with names of [A-Za-z0-9_-],
 * none twice.  Returns 0 with the names in tf, or -1 with tf->error.
 */
int voice_tools_check(const uint8_t *data, size_t len, voice_tools_file_t *tf,
    const yajl_alloc_funcs *af);

/* 1 if the name is one OpenAI takes for a function: [a-zA-Z0-9_-]{1,64} */
int voice_tools_name_valid(const uint8_t *name, size_t len);

/* 1 if the name is a function of the file */
int voice_tools_declared(const voice_tools_file_t *tf, const uint8_t *name,
    size_t len);

/*
 * The "tools" array offered to the model: the file's functions (data as
 * checked, or NULL), end_call when asked for, transfer_call with its
 * destination an enum of the n names when there are any.  With out NULL,
 * returns the length only.
 */
size_t voice_tools_offer(uint8_t *out, const uint8_t *data,
    const voice_tools_file_t *tf, int end_call,
    const voice_tools_name_t *dest, size_t n);

/* 1 if data is one JSON object (nested at most VOICE_TOOLS_DEPTH deep) */
int voice_tools_object(const uint8_t *data, size_t len,
    const yajl_alloc_funcs *af);

/*
 * The string member "key" of a JSON object, copied into out (at most
 * cap bytes); 1 if there is one.
 */
int voice_tools_member(const uint8_t *data, size_t len, const char *key,
    uint8_t *out, size_t cap, size_t *out_len, const yajl_alloc_funcs *af);


void voice_tool_calls_init(voice_tool_calls_t *tc,
    const yajl_alloc_funcs *af);

/*
 * A fragment of call "index" as a delta carries it: an id, a name or a
 * piece of the arguments, appended as OpenAI's own client does.  An id
 * or a name repeated whole, as some compatible servers send them with
 * every fragment, is taken once.
 */
void voice_tool_calls_add(voice_tool_calls_t *tc, size_t index, int field,
    const uint8_t *s, size_t len);

/*
 * The reply is over: calls never named go (an index skipped), and a call
 * without an id gets "call_<n>".  Returns how many calls there are.
 */
size_t voice_tool_calls_end(voice_tool_calls_t *tc);

/* frees the arguments; the calls are empty again */
void voice_tool_calls_reset(voice_tool_calls_t *tc);

/*
 * The calls as the assistant message's "tool_calls" array; with out NULL,
 * returns the length only.
 */
size_t voice_tool_calls_json(uint8_t *out, const voice_tool_calls_t *tc);

#endif /* VOICE_TOOLS_H */

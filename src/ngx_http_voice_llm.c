/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The conversation with the model.  The history is bounded by
 * voice_llm_max_history (the oldest message goes first) and its texts
 * are malloc'd, so a long call holds only that much.  Each turn is one
 * streamed chat completion: SSE events (voice_sse.c) carry deltas
 * (voice_llm.c) whose text is handed on at once, up to
 * voice_llm_max_reply bytes: a model that does not stop is stopped.
 *
 * When the completion ends with calls of functions, the turn goes on in
 * rounds: what was said before the calls is spoken while they run, the
 * history gets the assistant's message with its calls and a "tool"
 * message for each (a placeholder until the result is in), the calls run
 * at once as subrequests (ngx_http_voice_tool.c), and once every result
 * is in, a completion more is asked for with them; at most
 * voice_llm_max_tool_rounds of them a turn.  A turn dropped (the caller
 * spoke) leaves its calls running: they fill the history when they end.
 *
 * The built-ins are answered here: end_call, and transfer_call, whose
 * update of the call through Twilio waits until the hand-off has been
 * heard (ngx_http_voice_llm_hand_off()).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_llm.h"
#include "ngx_http_voice_mem.h"
#include "voice_json.h"
#include "voice_llm.h"


/* a function's call running, and the round it answers */

typedef struct {
    ngx_queue_t                  queue;
    ngx_http_voice_llm_t        *llm;
    ngx_uint_t                   round;
    ngx_http_voice_tool_req_t    tr;
    u_char                       id[VOICE_TOOL_ID_MAX];
    size_t                       id_len;
} ngx_http_voice_llm_run_t;


static ngx_int_t ngx_http_voice_llm_request(ngx_http_voice_llm_t *llm);
static ngx_int_t ngx_http_voice_llm_history_put(ngx_http_voice_llm_t *llm,
    const char *role, const u_char *text, size_t len, const u_char *extra,
    size_t extra_len);
static void ngx_http_voice_llm_history_result(ngx_http_voice_llm_t *llm,
    u_char *id, size_t id_len, u_char *text, size_t len);
static void ngx_http_voice_llm_data(ngx_http_voice_provider_req_t *pr,
    u_char *p, size_t n);
static void ngx_http_voice_llm_done(ngx_http_voice_provider_req_t *pr);
static void ngx_http_voice_llm_stop(ngx_event_t *ev);
static void ngx_http_voice_llm_round(ngx_http_voice_llm_t *llm);
static void ngx_http_voice_llm_dispatch(ngx_http_voice_llm_t *llm,
    voice_tool_call_t *c);
static ngx_uint_t ngx_http_voice_llm_transfer(ngx_http_voice_llm_t *llm,
    voice_tool_call_t *c);
static void ngx_http_voice_llm_refuse(ngx_http_voice_llm_t *llm,
    voice_tool_call_t *c, const char *why);
static void ngx_http_voice_llm_ran(ngx_http_voice_tool_req_t *tr);
static void ngx_http_voice_llm_round_done(ngx_http_voice_llm_t *llm);
static void ngx_http_voice_llm_transferred(ngx_http_voice_tool_req_t *tr);


/* what a call's "tool" message says until its result is in */
static u_char  ngx_http_voice_llm_pending[] =
    "{\"status\":\"no result yet: the caller spoke before it came\"}";

static u_char  ngx_http_voice_llm_ending[] =
    "{\"status\":\"the call ends once your words have been heard\"}";

static u_char  ngx_http_voice_llm_moving[] =
    "{\"status\":\"the transfer starts once your words have been heard\"}";

static u_char  ngx_http_voice_llm_unmade[] =
    "{\"error\":\"the transfer could not be made\"}";


ngx_int_t
ngx_http_voice_llm_init(ngx_http_voice_llm_t *llm,
    ngx_http_voice_llm_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_llm_text_pt on_text, ngx_http_voice_llm_done_pt on_done,
    ngx_http_voice_llm_action_pt on_action, void *data)
{
    size_t  len;

    llm->history = ngx_pcalloc(st->request->pool, (conf->max_history + 1)
                                       * sizeof(ngx_http_voice_llm_message_t));
    if (llm->history == NULL) {
        return NGX_ERROR;
    }

    /* the start message, which names the account, is there now only */

    len = ngx_strlen(st->tmsg.account_sid);

    llm->account_sid.data = ngx_pnalloc(st->request->pool, len + 1);
    if (llm->account_sid.data == NULL) {
        return NGX_ERROR;
    }

    llm->account_sid.len = len;
    ngx_memcpy(llm->account_sid.data, st->tmsg.account_sid, len);

    llm->conf = conf;
    llm->stream = st;
    llm->on_text = on_text;
    llm->on_done = on_done;
    llm->on_action = on_action;
    llm->data = data;

    llm->stop.handler = ngx_http_voice_llm_stop;
    llm->stop.data = llm;
    llm->stop.log = st->connection->log;

    voice_tool_calls_init(&llm->calls, &ngx_http_voice_mem_yajl);
    ngx_queue_init(&llm->runs);

    return NGX_OK;
}


void
ngx_http_voice_llm_history_add(ngx_http_voice_llm_t *llm, const char *role,
    const u_char *text, size_t len)
{
    (void) ngx_http_voice_llm_history_put(llm, role, text, len, NULL, 0);
}


static ngx_int_t
ngx_http_voice_llm_history_put(ngx_http_voice_llm_t *llm, const char *role,
    const u_char *text, size_t len, const u_char *extra, size_t extra_len)
{
    u_char                        *copy;
    ngx_uint_t                     max;
    ngx_http_voice_llm_message_t  *h;

    max = llm->conf->max_history;
    h = llm->history;

    copy = ngx_http_voice_mem_alloc(NULL, len + extra_len + 1);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    if (len) {
        ngx_memcpy(copy, text, len);
    }

    if (extra_len) {
        ngx_memcpy(copy + len, extra, extra_len);
    }

    if (llm->nhistory == max) {
        ngx_http_voice_mem_free(NULL, h[0].text);
        ngx_memmove(&h[0], &h[1],
                    (max - 1) * sizeof(ngx_http_voice_llm_message_t));
        llm->nhistory--;
    }

    h[llm->nhistory].role = role;
    h[llm->nhistory].text = copy;
    h[llm->nhistory].len = len;
    h[llm->nhistory].extra = extra_len ? copy + len : NULL;
    h[llm->nhistory].extra_len = extra_len;
    llm->nhistory++;

    return NGX_OK;
}


/* a call's result in place of its placeholder, if it is still kept */

static void
ngx_http_voice_llm_history_result(ngx_http_voice_llm_t *llm, u_char *id,
    size_t id_len, u_char *text, size_t len)
{
    u_char                        *copy;
    ngx_uint_t                     i;
    ngx_http_voice_llm_message_t  *m;

    for (i = llm->nhistory; i-- > 0; ) {
        m = &llm->history[i];

        if (ngx_strcmp(m->role, "tool") != 0 || m->extra_len != id_len
            || ngx_memcmp(m->extra, id, id_len) != 0)
        {
            continue;
        }

        copy = ngx_http_voice_mem_alloc(NULL, len + id_len + 1);
        if (copy == NULL) {
            return;
        }

        ngx_memcpy(copy, text, len);
        ngx_memcpy(copy + len, id, id_len);

        ngx_http_voice_mem_free(NULL, m->text);

        m->text = copy;
        m->len = len;
        m->extra = copy + len;

        return;
    }
}


void
ngx_http_voice_llm_history_pop(ngx_http_voice_llm_t *llm)
{
    ngx_uint_t  i;

    for (i = llm->nhistory; i-- > 0; ) {
        if (ngx_strcmp(llm->history[i].role, "user") != 0) {
            continue;
        }

        while (llm->nhistory > i) {
            llm->nhistory--;
            ngx_http_voice_mem_free(NULL, llm->history[llm->nhistory].text);
            llm->history[llm->nhistory].text = NULL;
        }

        return;
    }
}


ngx_int_t
ngx_http_voice_llm_start(ngx_http_voice_llm_t *llm, ngx_uint_t held)
{
    /* one completion per call at a time: a new turn replaces the last */

    ngx_http_voice_llm_cancel(llm);

    llm->held = held;
    llm->rounds = 0;
    llm->first = 0;
    llm->first_ms = 0;

    return ngx_http_voice_llm_request(llm);
}


static ngx_int_t
ngx_http_voice_llm_request(ngx_http_voice_llm_t *llm)
{
    size_t                         len;
    u_char                        *body;
    ngx_str_t                     *offer;
    ngx_uint_t                     i, n, calls;
    const char                    *choice;
    voice_llm_message_t           *msgs;
    ngx_http_voice_llm_conf_t     *conf;
    ngx_http_voice_llm_message_t  *h;

    conf = llm->conf;
    offer = &conf->tool.offer;

    msgs = ngx_http_voice_mem_alloc(NULL, (llm->nhistory + 1)
                                          * sizeof(voice_llm_message_t));
    if (msgs == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(msgs, (llm->nhistory + 1) * sizeof(voice_llm_message_t));

    n = 0;

    if (conf->system_prompt.len) {
        msgs[n].role = "system";
        msgs[n].content = conf->system_prompt.data;
        msgs[n].content_len = conf->system_prompt.len;
        n++;
    }

    /*
     * A "tool" message must follow its assistant's calls: one whose
     * calls the bound of the history took is left out.
     */

    calls = 0;

    for (i = 0; i < llm->nhistory; i++) {
        h = &llm->history[i];

        if (ngx_strcmp(h->role, "tool") == 0) {
            if (!calls) {
                continue;
            }

            msgs[n].tool_call_id = h->extra;
            msgs[n].tool_call_id_len = h->extra_len;

        } else if (h->extra) {
            msgs[n].tool_calls = h->extra;
            msgs[n].tool_calls_len = h->extra_len;
        }

        calls = (h->extra != NULL);

        msgs[n].role = h->role;
        msgs[n].content = (h->len || msgs[n].tool_calls == NULL) ? h->text
                                                                 : NULL;
        msgs[n].content_len = h->len;
        n++;
    }

    /* the last round: the model is to answer in words */

    choice = (llm->rounds >= conf->tool.max_rounds) ? "none" : NULL;

    len = voice_llm_request_size((char *) conf->model.data, conf->model.len,
                                 msgs, n, offer->len ? offer->data : NULL,
                                 offer->len, choice);

    body = ngx_http_voice_mem_alloc(NULL, len);
    if (body == NULL) {
        ngx_http_voice_mem_free(NULL, msgs);
        return NGX_ERROR;
    }

    (void) voice_llm_request(body, (char *) conf->model.data, conf->model.len,
                             msgs, n, offer->len ? offer->data : NULL,
                             offer->len, choice);

    ngx_http_voice_mem_free(NULL, msgs);

    voice_sse_init(&llm->sse, llm->sse_buf, sizeof(llm->sse_buf));

    llm->saw_done = 0;
    llm->failed = 0;
    llm->said = 0;
    llm->reply_len = 0;

    llm->pr = ngx_http_voice_provider_request(llm->stream, &conf->uri, "llm",
                                              "application/json", body, len);
    if (llm->pr == NULL) {
        return NGX_ERROR;
    }

    llm->pr->on_data = ngx_http_voice_llm_data;
    llm->pr->on_done = ngx_http_voice_llm_done;
    llm->pr->data = llm;
    llm->pr->streamed = 1;

    return NGX_OK;
}


/* the speculative turn is the caller's now: its calls may run */

void
ngx_http_voice_llm_release(ngx_http_voice_llm_t *llm)
{
    llm->held = 0;

    if (llm->waiting) {
        llm->waiting = 0;
        ngx_http_voice_llm_round(llm);
    }
}


void
ngx_http_voice_llm_cancel(ngx_http_voice_llm_t *llm)
{
    ngx_http_voice_provider_cancel(llm->pr);
    llm->pr = NULL;

    if (llm->stop.posted) {
        ngx_delete_posted_event(&llm->stop);
    }

    voice_tool_calls_reset(&llm->calls);

    llm->round = 0;
    llm->pending = 0;
    llm->held = 0;
    llm->waiting = 0;
}


void
ngx_http_voice_llm_cleanup(ngx_http_voice_llm_t *llm)
{
    ngx_uint_t                 i;
    ngx_queue_t               *q;
    ngx_http_voice_llm_run_t  *run;

    if (llm->stop.posted) {
        ngx_delete_posted_event(&llm->stop);
    }

    for (i = 0; i < llm->nhistory; i++) {
        ngx_http_voice_mem_free(NULL, llm->history[i].text);
    }

    llm->nhistory = 0;

    while (!ngx_queue_empty(&llm->runs)) {
        q = ngx_queue_head(&llm->runs);
        ngx_queue_remove(q);

        run = ngx_queue_data(q, ngx_http_voice_llm_run_t, queue);
        ngx_http_voice_tool_free(&run->tr);
        ngx_http_voice_mem_free(NULL, run);
    }

    ngx_http_voice_tool_free(&llm->twilio);
    voice_tool_calls_reset(&llm->calls);
}


static void
ngx_http_voice_llm_data(ngx_http_voice_provider_req_t *pr, u_char *p, size_t n)
{
    int                    rc, finish;
    size_t                 used, dlen, tlen;
    ngx_log_t             *log;
    const uint8_t         *data;
    voice_tool_calls_t    *calls;
    ngx_http_voice_llm_t  *llm = pr->data;
    u_char                 text[NGX_HTTP_VOICE_LLM_TEXT_MAX];

    /* an error body says nothing the status does not */

    if (llm->pr != pr || pr->status != NGX_HTTP_OK) {
        return;
    }

    log = llm->stream->connection->log;
    calls = llm->conf->tool.offer.len ? &llm->calls : NULL;

    while (n && llm->pr == pr && !llm->stop.posted) {
        rc = voice_sse_feed(&llm->sse, p, n, &used, &data, &dlen);
        p += used;
        n -= used;

        if (rc != VOICE_SSE_EVENT) {
            continue;
        }

        rc = voice_llm_delta_calls(data, dlen, text, sizeof(text), &tlen,
                                   calls, &finish, NULL);

        switch (rc) {

        case VOICE_LLM_TEXT:
            if (!llm->first) {
                llm->first = 1;
                llm->first_ms = ngx_current_msec - pr->started;
            }

            if (llm->reply_len + tlen > llm->conf->max_reply) {
                ngx_log_error(NGX_LOG_INFO, log, 0,
                              "voice: llm reply longer than "
                              "voice_llm_max_reply (%uz bytes), the rest "
                              "dropped", llm->conf->max_reply);

                /* not from inside the upstream's own frames */

                ngx_post_event(&llm->stop, &ngx_posted_events);
                break;
            }

            llm->reply_len += tlen;
            llm->said = 1;
            llm->on_text(llm->data, text, tlen);
            break;

        case VOICE_LLM_DONE:
            /* the end comes with the request's: the tail is flushed then */
            llm->saw_done = 1;
            break;

        case VOICE_LLM_ERROR:
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "voice: llm provider \"%V\" error: \"%*s\"",
                          &llm->conf->uri, tlen, text);
            llm->failed = 1;
            break;

        case VOICE_LLM_INVALID:
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "voice: llm provider \"%V\" sent an invalid event",
                          &llm->conf->uri);
            llm->failed = 1;
            break;
        }
    }
}


static void
ngx_http_voice_llm_done(ngx_http_voice_provider_req_t *pr)
{
    ngx_log_t             *log;
    ngx_http_voice_llm_t  *llm = pr->data;

    if (llm->pr != pr || llm->stop.posted) {
        return;
    }

    llm->pr = NULL;
    log = llm->stream->connection->log;

    if (pr->ok && !llm->failed && llm->saw_done) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "voice: llm done in %M ms",
                       ngx_current_msec - pr->started);

        if (voice_tool_calls_end(&llm->calls) == 0) {
            llm->on_done(llm->data, 1);
            return;
        }

        if (llm->held) {
            llm->waiting = 1;
            return;
        }

        ngx_http_voice_llm_round(llm);
        return;
    }

    voice_tool_calls_reset(&llm->calls);

    if (pr->ok && !llm->failed) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: llm provider \"%V\" stream ended without "
                      "[DONE], rest of the turn dropped", &llm->conf->uri);

    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: llm provider \"%V\" failed with status "
                      "%ui%s, turn dropped%V", &llm->conf->uri, pr->status,
                      pr->ok ? " (error event)"
                             : ngx_http_voice_provider_cut_short(pr),
                      ngx_http_voice_provider_error_body(pr));
    }

    llm->on_done(llm->data, 0);
}


/* the completion called functions: they run, all at once */

static void
ngx_http_voice_llm_round(ngx_http_voice_llm_t *llm)
{
    size_t               len;
    u_char              *json;
    ngx_log_t           *log;
    ngx_uint_t           i;
    voice_tool_calls_t  *tc;

    log = llm->stream->connection->log;
    tc = &llm->calls;

    if (tc->dropped) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: llm provider \"%V\" called more than %d "
                      "functions in one reply, the rest dropped",
                      &llm->conf->uri, VOICE_TOOL_CALLS_MAX);
    }

    if (llm->rounds >= llm->conf->tool.max_rounds) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: llm provider \"%V\" called functions past "
                      "\"voice_llm_max_tool_rounds\" (%ui), turn ends",
                      &llm->conf->uri, llm->conf->tool.max_rounds);
        voice_tool_calls_reset(tc);
        llm->on_done(llm->data, 0);
        return;
    }

    llm->rounds++;
    llm->round = ++llm->serial;
    llm->pending = 0;
    llm->closing = 0;
    llm->ncalls = tc->n;

    /* what was said before the calls is heard while they run */

    if (llm->said) {
        llm->on_text(llm->data, (u_char *) "\n", 1);
    }

    len = voice_tool_calls_json(NULL, tc);

    json = ngx_http_voice_mem_alloc(NULL, len);
    if (json == NULL) {
        voice_tool_calls_reset(tc);
        llm->on_done(llm->data, 0);
        return;
    }

    (void) voice_tool_calls_json(json, tc);

    (void) ngx_http_voice_llm_history_put(llm, "assistant", NULL, 0, json,
                                          len);
    ngx_http_voice_mem_free(NULL, json);

    for (i = 0; i < tc->n; i++) {
        (void) ngx_http_voice_llm_history_put(llm, "tool",
                                   ngx_http_voice_llm_pending,
                                   sizeof(ngx_http_voice_llm_pending) - 1,
                                   tc->calls[i].id, tc->calls[i].id_len);
    }

    for (i = 0; i < tc->n && llm->round; i++) {
        ngx_http_voice_llm_dispatch(llm, &tc->calls[i]);
    }

    voice_tool_calls_reset(tc);

    if (llm->round && llm->pending == 0) {
        ngx_http_voice_llm_round_done(llm);
    }
}


/*
 * One call: a built-in, a function of the tools file with its location,
 * or one the configuration never offered, which gets an error and no
 * request.  The arguments come from the model: they go to the location
 * only as one JSON object.
 */

static void
ngx_http_voice_llm_dispatch(ngx_http_voice_llm_t *llm, voice_tool_call_t *c)
{
    ngx_log_t                   *log;
    ngx_http_voice_tool_t       *tool;
    ngx_http_voice_llm_run_t    *run;
    ngx_http_voice_tool_conf_t  *tcf;

    log = llm->stream->connection->log;
    tcf = &llm->conf->tool;

    /* a name the model wrote reaches the log only if it is one */

    if (!voice_tools_name_valid(c->name, c->name_len)) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "voice: the model called a function with an invalid "
                      "name");
        ngx_http_voice_llm_refuse(llm, c, "there is no such function");
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "voice: the model calls \"%*s\" (%uz bytes of arguments)",
                  c->name_len, c->name, c->args_len);

    if (c->cut) {
        ngx_http_voice_llm_refuse(llm, c, "the call was longer than this "
                                          "phone line takes");
        return;
    }

    if (tcf->end_call && c->name_len == sizeof(VOICE_TOOL_END_CALL) - 1
        && ngx_strncmp(c->name, VOICE_TOOL_END_CALL, c->name_len) == 0)
    {
        llm->closing++;
        ngx_http_voice_llm_history_result(llm, c->id, c->id_len,
                                   ngx_http_voice_llm_ending,
                                   sizeof(ngx_http_voice_llm_ending) - 1);
        llm->on_action(llm->data, NGX_HTTP_VOICE_LLM_END);
        return;
    }

    if (tcf->transfers
        && c->name_len == sizeof(VOICE_TOOL_TRANSFER_CALL) - 1
        && ngx_strncmp(c->name, VOICE_TOOL_TRANSFER_CALL, c->name_len) == 0)
    {
        if (ngx_http_voice_llm_transfer(llm, c)) {
            llm->closing++;
            llm->on_action(llm->data, NGX_HTTP_VOICE_LLM_END);
        }

        return;
    }

    tool = ngx_http_voice_tool_find(tcf, c->name, c->name_len);

    if (tool == NULL) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "voice: the model called \"%*s\", which is not "
                      "declared", c->name_len, c->name);
        ngx_http_voice_llm_refuse(llm, c, "there is no such function");
        return;
    }

    if (c->args_len && !voice_tools_object(c->args, c->args_len, NULL)) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "voice: the model called \"%V\" with arguments that "
                      "are not a JSON object", &tool->name);
        ngx_http_voice_llm_refuse(llm, c, "the arguments are not a JSON "
                                          "object");
        return;
    }

    run = ngx_http_voice_mem_alloc(NULL, sizeof(ngx_http_voice_llm_run_t));
    if (run == NULL) {
        ngx_http_voice_llm_refuse(llm, c, "the tool could not be called");
        return;
    }

    run->llm = llm;
    run->round = llm->round;
    run->id_len = c->id_len;
    ngx_memcpy(run->id, c->id, c->id_len);

    if (ngx_http_voice_tool_call(&run->tr, llm->stream, tool, c->id,
                                 c->id_len, c->args, c->args_len)
        != NGX_OK)
    {
        ngx_http_voice_tool_free(&run->tr);
        ngx_http_voice_mem_free(NULL, run);
        ngx_http_voice_llm_refuse(llm, c, "the tool could not be called");
        return;
    }

    run->tr.on_done = ngx_http_voice_llm_ran;
    run->tr.data = run;

    ngx_queue_insert_tail(&llm->runs, &run->queue);
    llm->pending++;
}


/*
 * transfer_call: the destination must be one of voice_transfer's names,
 * as the enum offered says, so a number the model made up is never
 * dialled.  Returns 1 if the transfer is to be made.
 */

static ngx_uint_t
ngx_http_voice_llm_transfer(ngx_http_voice_llm_t *llm, voice_tool_call_t *c)
{
    size_t                  len;
    u_char                  name[VOICE_TOOL_NAME_MAX + 1];
    ngx_http_voice_tool_t  *to;

    to = NULL;

    /* one byte more than a name may have: a longer one is none of them */

    if (voice_tools_member(c->args, c->args_len, "destination", name,
                           sizeof(name), &len, NULL)
        && len <= VOICE_TOOL_NAME_MAX)
    {
        to = ngx_http_voice_tool_destination(&llm->conf->tool, name, len);
    }

    if (to == NULL) {
        ngx_log_error(NGX_LOG_INFO, llm->stream->connection->log, 0,
                      "voice: the model asked for a transfer to a "
                      "destination not declared, refused");
        ngx_http_voice_llm_refuse(llm, c, "that destination is not one of "
                                          "the enum: no transfer");
        return 0;
    }

    if (llm->transfer) {
        ngx_http_voice_llm_refuse(llm, c, "a transfer is under way already");
        return 0;
    }

    llm->transfer = to;
    llm->transfer_id_len = c->id_len;
    ngx_memcpy(llm->transfer_id, c->id, c->id_len);

    ngx_http_voice_llm_history_result(llm, c->id, c->id_len,
                                      ngx_http_voice_llm_moving,
                                      sizeof(ngx_http_voice_llm_moving) - 1);
    return 1;
}


/* the call gets an error as its result, for the model to act on */

static void
ngx_http_voice_llm_refuse(ngx_http_voice_llm_t *llm, voice_tool_call_t *c,
    const char *why)
{
    u_char  *p, text[128];

    p = ngx_snprintf(text, sizeof(text), "{\"error\":\"%s\"}", why);

    ngx_http_voice_llm_history_result(llm, c->id, c->id_len, text,
                                      p - text);
}


static void
ngx_http_voice_llm_ran(ngx_http_voice_tool_req_t *tr)
{
    size_t                     len;
    u_char                    *text;
    ngx_uint_t                 round;
    ngx_http_voice_llm_t      *llm;
    ngx_http_voice_llm_run_t  *run = tr->data;

    llm = run->llm;
    round = run->round;

    text = ngx_http_voice_tool_result(tr, &len);

    if (text) {
        ngx_http_voice_llm_history_result(llm, run->id, run->id_len, text,
                                          len);
        ngx_http_voice_mem_free(NULL, text);
    }

    ngx_queue_remove(&run->queue);
    ngx_http_voice_tool_free(&run->tr);
    ngx_http_voice_mem_free(NULL, run);

    if (round == llm->round && --llm->pending == 0) {
        ngx_http_voice_llm_round_done(llm);
    }
}


/*
 * Every result of the round is in: the model answers with them.  A
 * goodbye or a hand-off said with the built-ins' calls needs nothing
 * more.
 */

static void
ngx_http_voice_llm_round_done(ngx_http_voice_llm_t *llm)
{
    llm->round = 0;

    if (llm->closing && llm->closing == llm->ncalls && llm->said) {
        llm->on_done(llm->data, 1);
        return;
    }

    if (ngx_http_voice_llm_request(llm) != NGX_OK) {
        llm->on_done(llm->data, 0);
    }
}


ngx_int_t
ngx_http_voice_llm_hand_off(ngx_http_voice_llm_t *llm)
{
    if (llm->transfer == NULL) {
        return NGX_DECLINED;
    }

    if (llm->transferring) {
        return NGX_AGAIN;
    }

    if (ngx_http_voice_tool_transfer(&llm->twilio, llm->stream,
                                     &llm->conf->tool, &llm->account_sid,
                                     llm->transfer)
        != NGX_OK)
    {
        llm->transfer = NULL;
        ngx_http_voice_llm_history_result(llm, llm->transfer_id,
                                   llm->transfer_id_len,
                                   ngx_http_voice_llm_unmade,
                                   sizeof(ngx_http_voice_llm_unmade) - 1);
        llm->on_action(llm->data, NGX_HTTP_VOICE_LLM_RESUME);
        return NGX_AGAIN;
    }

    llm->twilio.on_done = ngx_http_voice_llm_transferred;
    llm->twilio.data = llm;
    llm->transferring = 1;

    return NGX_AGAIN;
}


/* Twilio answered: the call moved, or the model tells the caller */

static void
ngx_http_voice_llm_transferred(ngx_http_voice_tool_req_t *tr)
{
    size_t                 len;
    u_char                *text;
    ngx_http_voice_llm_t  *llm = tr->data;

    llm->transferring = 0;
    llm->transfer = NULL;

    if (tr->ok) {
        ngx_http_voice_tool_free(tr);
        llm->on_action(llm->data, NGX_HTTP_VOICE_LLM_TRANSFERRED);
        return;
    }

    text = ngx_http_voice_tool_result(tr, &len);

    if (text) {
        ngx_http_voice_llm_history_result(llm, llm->transfer_id,
                                          llm->transfer_id_len, text, len);
        ngx_http_voice_mem_free(NULL, text);
    }

    ngx_http_voice_tool_free(tr);

    llm->on_action(llm->data, NGX_HTTP_VOICE_LLM_RESUME);
}


/*
 * The reply reached voice_llm_max_reply: the request goes, and the reply
 * ends as a failed one does, the sentences said and the unfinished one
 * dropped.
 */

static void
ngx_http_voice_llm_stop(ngx_event_t *ev)
{
    ngx_http_voice_llm_t  *llm = ev->data;

    ngx_connection_t  *c;

    c = llm->stream->connection;

    ngx_http_voice_llm_cancel(llm);
    llm->on_done(llm->data, 0);

    ngx_http_run_posted_requests(c);
}

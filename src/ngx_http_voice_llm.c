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
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_llm.h"
#include "ngx_http_voice_mem.h"
#include "voice_llm.h"


static void ngx_http_voice_llm_data(ngx_http_voice_provider_req_t *pr,
    u_char *p, size_t n);
static void ngx_http_voice_llm_done(ngx_http_voice_provider_req_t *pr);
static void ngx_http_voice_llm_stop(ngx_event_t *ev);


ngx_int_t
ngx_http_voice_llm_init(ngx_http_voice_llm_t *llm,
    ngx_http_voice_llm_conf_t *conf, ngx_http_voice_stream_t *st,
    ngx_http_voice_llm_text_pt on_text, ngx_http_voice_llm_done_pt on_done,
    void *data)
{
    llm->history = ngx_pcalloc(st->request->pool, (conf->max_history + 1)
                                       * sizeof(ngx_http_voice_llm_message_t));
    if (llm->history == NULL) {
        return NGX_ERROR;
    }

    llm->conf = conf;
    llm->stream = st;
    llm->on_text = on_text;
    llm->on_done = on_done;
    llm->data = data;

    llm->stop.handler = ngx_http_voice_llm_stop;
    llm->stop.data = llm;
    llm->stop.log = st->connection->log;

    return NGX_OK;
}


void
ngx_http_voice_llm_history_add(ngx_http_voice_llm_t *llm, const char *role,
    const u_char *text, size_t len)
{
    u_char                        *copy;
    ngx_uint_t                     max;
    ngx_http_voice_llm_message_t  *h;

    max = llm->conf->max_history;
    h = llm->history;

    if (max == 0) {
        return;
    }

    copy = ngx_http_voice_mem_alloc(NULL, len ? len : 1);
    if (copy == NULL) {
        return;
    }

    ngx_memcpy(copy, text, len);

    if (llm->nhistory == max) {
        ngx_http_voice_mem_free(NULL, h[0].text);
        ngx_memmove(&h[0], &h[1],
                    (max - 1) * sizeof(ngx_http_voice_llm_message_t));
        llm->nhistory--;
    }

    h[llm->nhistory].role = role;
    h[llm->nhistory].text = copy;
    h[llm->nhistory].len = len;
    llm->nhistory++;
}


void
ngx_http_voice_llm_history_pop(ngx_http_voice_llm_t *llm)
{
    if (llm->nhistory) {
        llm->nhistory--;
        ngx_http_voice_mem_free(NULL, llm->history[llm->nhistory].text);
        llm->history[llm->nhistory].text = NULL;
    }
}


ngx_int_t
ngx_http_voice_llm_start(ngx_http_voice_llm_t *llm)
{
    size_t                      len;
    u_char                     *body;
    ngx_uint_t                  i, n;
    voice_llm_message_t        *msgs;
    ngx_http_voice_llm_conf_t  *conf;

    conf = llm->conf;

    /* one completion per call at a time: a new turn replaces the last */

    ngx_http_voice_llm_cancel(llm);

    msgs = ngx_http_voice_mem_alloc(NULL, (llm->nhistory + 1)
                                          * sizeof(voice_llm_message_t));
    if (msgs == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    if (conf->system_prompt.len) {
        msgs[n].role = "system";
        msgs[n].content = conf->system_prompt.data;
        msgs[n].content_len = conf->system_prompt.len;
        n++;
    }

    for (i = 0; i < llm->nhistory; i++) {
        msgs[n].role = llm->history[i].role;
        msgs[n].content = llm->history[i].text;
        msgs[n].content_len = llm->history[i].len;
        n++;
    }

    len = voice_llm_request_size((char *) conf->model.data, conf->model.len,
                                 msgs, n);

    body = ngx_http_voice_mem_alloc(NULL, len);
    if (body == NULL) {
        ngx_http_voice_mem_free(NULL, msgs);
        return NGX_ERROR;
    }

    (void) voice_llm_request(body, (char *) conf->model.data, conf->model.len,
                             msgs, n);

    ngx_http_voice_mem_free(NULL, msgs);

    voice_sse_init(&llm->sse, llm->sse_buf, sizeof(llm->sse_buf));

    llm->saw_done = 0;
    llm->failed = 0;
    llm->first = 0;
    llm->first_ms = 0;
    llm->reply_len = 0;

    llm->pr = ngx_http_voice_provider_request(llm->stream, &conf->uri, "llm",
                                              "application/json", body, len);
    if (llm->pr == NULL) {
        return NGX_ERROR;
    }

    llm->pr->on_data = ngx_http_voice_llm_data;
    llm->pr->on_done = ngx_http_voice_llm_done;
    llm->pr->data = llm;

    return NGX_OK;
}


void
ngx_http_voice_llm_cancel(ngx_http_voice_llm_t *llm)
{
    ngx_http_voice_provider_cancel(llm->pr);
    llm->pr = NULL;

    if (llm->stop.posted) {
        ngx_delete_posted_event(&llm->stop);
    }
}


void
ngx_http_voice_llm_cleanup(ngx_http_voice_llm_t *llm)
{
    ngx_uint_t  i;

    if (llm->stop.posted) {
        ngx_delete_posted_event(&llm->stop);
    }

    for (i = 0; i < llm->nhistory; i++) {
        ngx_http_voice_mem_free(NULL, llm->history[i].text);
    }

    llm->nhistory = 0;
}


static void
ngx_http_voice_llm_data(ngx_http_voice_provider_req_t *pr, u_char *p, size_t n)
{
    int                    rc;
    size_t                 used, dlen, tlen;
    ngx_log_t             *log;
    const uint8_t         *data;
    ngx_http_voice_llm_t  *llm = pr->data;
    u_char                 text[NGX_HTTP_VOICE_LLM_TEXT_MAX];

    /* an error body says nothing the status does not */

    if (llm->pr != pr || pr->status != NGX_HTTP_OK) {
        return;
    }

    log = llm->stream->connection->log;

    while (n && llm->pr == pr && !llm->stop.posted) {
        rc = voice_sse_feed(&llm->sse, p, n, &used, &data, &dlen);
        p += used;
        n -= used;

        if (rc != VOICE_SSE_EVENT) {
            continue;
        }

        rc = voice_llm_delta(data, dlen, text, sizeof(text), &tlen, NULL);

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

        llm->on_done(llm->data, 1);
        return;
    }

    if (pr->ok && !llm->failed) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: llm provider \"%V\" stream ended without "
                      "[DONE], rest of the turn dropped", &llm->conf->uri);

    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: llm provider \"%V\" failed with status "
                      "%ui%s, turn dropped", &llm->conf->uri, pr->status,
                      pr->ok ? " (error event)"
                             : ngx_http_voice_provider_cut_short(pr));
    }

    llm->on_done(llm->data, 0);
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

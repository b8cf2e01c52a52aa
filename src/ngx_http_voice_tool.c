/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * Each function the model may call is an nginx location, so that the
 * operator implements it with anything nginx can reach.  A call is a
 * background POST of its arguments, its answer read whole up to
 * NGX_HTTP_VOICE_TOOL_RESULT_MAX; whatever goes wrong (a status other
 * than 2xx, the location's own timeout, an answer too long) becomes an
 * answer too, one that says the tool failed, so that the model can tell
 * the caller.  The transfer is the same request to the location of
 * voice_twilio_api, the update of the live call that Twilio's REST API
 * takes.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_tool.h"
#include "voice_json.h"
#include "voice_twiml.h"


static ngx_int_t ngx_http_voice_tool_start(ngx_http_voice_tool_req_t *tr,
    ngx_http_voice_stream_t *st, const char *content_type, u_char *body,
    size_t len);
static void ngx_http_voice_tool_data(ngx_http_voice_provider_req_t *pr,
    u_char *p, size_t n);
static void ngx_http_voice_tool_done(ngx_http_voice_provider_req_t *pr);
static ngx_int_t ngx_http_voice_tool_read(ngx_conf_t *cf, ngx_str_t *name,
    u_char **data, size_t *len);
static ngx_http_voice_tool_t *ngx_http_voice_tool_named(ngx_array_t *a,
    u_char *name, size_t len);
static char *ngx_http_voice_tool_add(ngx_conf_t *cf, ngx_array_t **a,
    ngx_str_t *value);
static char *ngx_http_voice_tool_offer(ngx_conf_t *cf,
    ngx_http_voice_tool_conf_t *conf);


ngx_int_t
ngx_http_voice_tool_call(ngx_http_voice_tool_req_t *tr,
    ngx_http_voice_stream_t *st, ngx_http_voice_tool_t *tool, u_char *id,
    size_t id_len, u_char *args, size_t args_len)
{
    u_char     *body;
    ngx_str_t   call_id;

    ngx_memzero(tr, sizeof(ngx_http_voice_tool_req_t));
    tr->what = "tool";
    tr->name = tool->name;
    tr->uri = tool->to;

    /* no arguments at all: a function that takes none */

    if (args_len == 0) {
        args = (u_char *) "{}";
        args_len = 2;
    }

    body = ngx_http_voice_mem_alloc(NULL, args_len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(body, args, args_len);

    if (ngx_http_voice_tool_start(tr, st, "application/json", body, args_len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    call_id.data = id;
    call_id.len = id_len;

    if (ngx_http_voice_provider_header(tr->pr, "X-Voice-Call-Sid",
                                       &st->call_sid)
        != NGX_OK
        || ngx_http_voice_provider_header(tr->pr, "X-Voice-Stream-Sid",
                                          &st->stream_sid)
           != NGX_OK
        || ngx_http_voice_provider_header(tr->pr, "X-Voice-Tool-Call-Id",
                                          &call_id)
           != NGX_OK
        || ngx_http_voice_provider_header(tr->pr, "X-Voice-Tool-Name",
                                          &tool->name)
           != NGX_OK)
    {
        /* it runs, and is dropped; the call is told it failed */
        ngx_http_voice_provider_cancel(tr->pr);
        tr->pr = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The body is form-encoded TwiML, the way Twilio's REST API takes it;
 * the sids go into the path, escaped, though Twilio's are letters and
 * digits only.
 */

ngx_int_t
ngx_http_voice_tool_transfer(ngx_http_voice_tool_req_t *tr,
    ngx_http_voice_stream_t *st, ngx_http_voice_tool_conf_t *conf,
    ngx_str_t *account_sid, ngx_http_voice_tool_t *to)
{
    size_t      n, len;
    u_char     *twiml, *body, *p;
    ngx_log_t  *log;

    static const char  accounts[] = "/2010-04-01/Accounts/";
    static const char  calls[] = "/Calls/";
    static const char  json[] = ".json";
    static const char  field[] = "Twiml=";

    log = st->connection->log;

    ngx_memzero(tr, sizeof(ngx_http_voice_tool_req_t));
    tr->what = "transfer";
    tr->name = to->name;

    if (account_sid->len == 0 || st->call_sid.len == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: transfer to \"%V\" impossible: the stream's "
                      "start named no account or call", &to->name);
        return NGX_ERROR;
    }

    n = conf->twilio_api.len + sizeof(accounts) - 1 + sizeof(calls) - 1
        + sizeof(json) - 1
        + account_sid->len + 2 * ngx_escape_uri(NULL, account_sid->data,
                                                account_sid->len,
                                                NGX_ESCAPE_URI_COMPONENT)
        + st->call_sid.len + 2 * ngx_escape_uri(NULL, st->call_sid.data,
                                                st->call_sid.len,
                                                NGX_ESCAPE_URI_COMPONENT);

    tr->uri.data = ngx_pnalloc(st->request->pool, n);
    if (tr->uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(tr->uri.data, conf->twilio_api.data, conf->twilio_api.len);
    p = ngx_cpymem(p, accounts, sizeof(accounts) - 1);
    p = (u_char *) ngx_escape_uri(p, account_sid->data, account_sid->len,
                                  NGX_ESCAPE_URI_COMPONENT);
    p = ngx_cpymem(p, calls, sizeof(calls) - 1);
    p = (u_char *) ngx_escape_uri(p, st->call_sid.data, st->call_sid.len,
                                  NGX_ESCAPE_URI_COMPONENT);
    p = ngx_cpymem(p, json, sizeof(json) - 1);
    tr->uri.len = p - tr->uri.data;

    len = voice_twiml_dial(NULL, to->to.data, to->to.len);

    twiml = ngx_http_voice_mem_alloc(NULL, len);
    if (twiml == NULL) {
        return NGX_ERROR;
    }

    (void) voice_twiml_dial(twiml, to->to.data, to->to.len);

    n = sizeof(field) - 1 + len
        + 2 * ngx_escape_uri(NULL, twiml, len, NGX_ESCAPE_URI_COMPONENT);

    body = ngx_http_voice_mem_alloc(NULL, n);

    if (body) {
        p = ngx_cpymem(body, field, sizeof(field) - 1);
        (void) ngx_escape_uri(p, twiml, len, NGX_ESCAPE_URI_COMPONENT);
    }

    ngx_http_voice_mem_free(NULL, twiml);

    if (body == NULL) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "voice: transferring the call to \"%V\"", &to->name);

    return ngx_http_voice_tool_start(tr, st,
                                     "application/x-www-form-urlencoded",
                                     body, n);
}


static ngx_int_t
ngx_http_voice_tool_start(ngx_http_voice_tool_req_t *tr,
    ngx_http_voice_stream_t *st, const char *content_type, u_char *body,
    size_t len)
{
    tr->stream = st;

    tr->pr = ngx_http_voice_provider_request(st, &tr->uri, tr->what,
                                             content_type, body, len);
    if (tr->pr == NULL) {
        return NGX_ERROR;
    }

    tr->pr->on_data = ngx_http_voice_tool_data;
    tr->pr->on_done = ngx_http_voice_tool_done;
    tr->pr->data = tr;

    return NGX_OK;
}


/* the answer, whole and bounded; an error body says nothing we use */

static void
ngx_http_voice_tool_data(ngx_http_voice_provider_req_t *pr, u_char *p,
    size_t n)
{
    ngx_http_voice_tool_req_t  *tr = pr->data;

    if (tr->pr != pr || tr->too_long || pr->status < 200
        || pr->status >= 300)
    {
        return;
    }

    if (tr->len + n > NGX_HTTP_VOICE_TOOL_RESULT_MAX) {
        tr->too_long = 1;
        return;
    }

    if (tr->answer == NULL) {
        tr->answer = ngx_http_voice_mem_alloc(NULL,
                                              NGX_HTTP_VOICE_TOOL_RESULT_MAX);
        if (tr->answer == NULL) {
            tr->too_long = 1;
            return;
        }
    }

    ngx_memcpy(tr->answer + tr->len, p, n);
    tr->len += n;
}


static void
ngx_http_voice_tool_done(ngx_http_voice_provider_req_t *pr)
{
    ngx_log_t                  *log;
    ngx_http_voice_tool_req_t  *tr = pr->data;

    if (tr->pr != pr) {
        return;
    }

    /* the request's owner may free tr now: nothing of it is used after */

    tr->pr = NULL;
    pr->on_data = NULL;
    tr->status = pr->status;
    tr->ok = pr->ok && !tr->too_long;

    log = tr->stream->connection->log;

    if (tr->ok) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "voice: %s \"%V\" answered %uz bytes in %M ms",
                      tr->what, &tr->name, tr->len,
                      ngx_current_msec - pr->started);

    } else if (tr->too_long) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: %s \"%V\" at \"%V\" answered more than %d "
                      "bytes", tr->what, &tr->name, &tr->uri,
                      NGX_HTTP_VOICE_TOOL_RESULT_MAX);

    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voice: %s \"%V\" at \"%V\" failed with status %ui%s",
                      tr->what, &tr->name, &tr->uri, pr->status,
                      ngx_http_voice_provider_cut_short(pr));
    }

    tr->on_done(tr);
}


u_char *
ngx_http_voice_tool_result(ngx_http_voice_tool_req_t *tr, size_t *len)
{
    u_char  *text, *p;

    text = ngx_http_voice_mem_alloc(NULL, ngx_max(tr->len, 128));
    if (text == NULL) {
        return NULL;
    }

    if (tr->ok && tr->len) {
        *len = tr->len;
        ngx_memcpy(text, tr->answer, tr->len);
        return text;
    }

    if (tr->ok) {
        p = ngx_cpymem(text, "{\"status\":\"done\"}", 17);

    } else if (tr->too_long) {
        p = ngx_sprintf(text, "{\"error\":\"the %s failed: its answer was "
                              "longer than %d bytes\"}",
                        tr->what, NGX_HTTP_VOICE_TOOL_RESULT_MAX);

    } else if (tr->status == NGX_HTTP_GATEWAY_TIME_OUT) {
        p = ngx_sprintf(text, "{\"error\":\"the %s failed: no answer in "
                              "time\"}", tr->what);

    } else {
        p = ngx_sprintf(text, "{\"error\":\"the %s failed with status "
                              "%ui\"}", tr->what, tr->status);
    }

    *len = p - text;

    return text;
}


void
ngx_http_voice_tool_cancel(ngx_http_voice_tool_req_t *tr)
{
    ngx_http_voice_provider_cancel(tr->pr);
    tr->pr = NULL;

    ngx_http_voice_tool_free(tr);
}


void
ngx_http_voice_tool_free(ngx_http_voice_tool_req_t *tr)
{
    if (tr->answer) {
        ngx_http_voice_mem_free(NULL, tr->answer);
        tr->answer = NULL;
    }

    tr->len = 0;
}


ngx_http_voice_tool_t *
ngx_http_voice_tool_find(ngx_http_voice_tool_conf_t *conf, u_char *name,
    size_t len)
{
    if (conf->functions == NULL
        || !voice_tools_declared(conf->functions, name, len))
    {
        return NULL;
    }

    return ngx_http_voice_tool_named(conf->tools, name, len);
}


ngx_http_voice_tool_t *
ngx_http_voice_tool_destination(ngx_http_voice_tool_conf_t *conf,
    u_char *name, size_t len)
{
    return ngx_http_voice_tool_named(conf->transfers, name, len);
}


static ngx_http_voice_tool_t *
ngx_http_voice_tool_named(ngx_array_t *a, u_char *name, size_t len)
{
    ngx_uint_t              i;
    ngx_http_voice_tool_t  *t;

    if (a == NULL || a == NGX_CONF_UNSET_PTR) {
        return NULL;
    }

    t = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (t[i].name.len == len && ngx_strncmp(t[i].name.data, name, len) == 0)
        {
            return &t[i];
        }
    }

    return NULL;
}


char *
ngx_http_voice_tool_set_tools(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voice_tool_conf_t  *tcf = (void *) ((char *) conf + cmd->offset);

    size_t       len;
    u_char      *data;
    ngx_str_t   *value, name;

    if (tcf->functions) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_voice_tool_read(cf, &name, &data, &len) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    tcf->functions = ngx_palloc(cf->pool, sizeof(voice_tools_file_t));
    if (tcf->functions == NULL) {
        return NGX_CONF_ERROR;
    }

    if (voice_tools_check(data, len, tcf->functions, NULL) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "tools file \"%V\" %s",
                           &name, tcf->functions->error);
        return NGX_CONF_ERROR;
    }

    tcf->file = name;
    tcf->data = data;

    return NGX_CONF_OK;
}


/* a small file whole, at configuration time */

static ngx_int_t
ngx_http_voice_tool_read(ngx_conf_t *cf, ngx_str_t *name, u_char **data,
    size_t *len)
{
    off_t            size;
    ssize_t          n;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = *name;
    file.log = cf->log;

    file.fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", name->data);
        return NGX_ERROR;
    }

    *data = NULL;
    size = 0;

    if (ngx_fd_info(file.fd, &fi) != NGX_FILE_ERROR) {
        size = ngx_file_size(&fi);

        if (size > 0 && size <= NGX_HTTP_VOICE_TOOLS_FILE_MAX) {
            *data = ngx_pnalloc(cf->pool, size);
        }
    }

    n = *data ? ngx_read_file(&file, *data, size, 0) : NGX_ERROR;

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", name->data);
    }

    if (n != size || size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tools file \"%s\" cannot be read, or is empty or "
                           "more than %d bytes", name->data,
                           NGX_HTTP_VOICE_TOOLS_FILE_MAX);
        return NGX_ERROR;
    }

    *len = size;

    return NGX_OK;
}


char *
ngx_http_voice_tool_set_tool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voice_tool_conf_t  *tcf = (void *) ((char *) conf + cmd->offset);

    ngx_str_t  *value;

    value = cf->args->elts;

    if (value[2].len == 0 || value[2].data[0] != '/') {
        return "needs a location's URI, starting with \"/\"";
    }

    return ngx_http_voice_tool_add(cf, &tcf->tools, value);
}


char *
ngx_http_voice_tool_set_transfer(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_voice_tool_conf_t  *tcf = (void *) ((char *) conf + cmd->offset);

    ngx_str_t  *value;

    value = cf->args->elts;

    if (value[2].len == 0) {
        return "needs a destination";
    }

    return ngx_http_voice_tool_add(cf, &tcf->transfers, value);
}


/* a name and where it leads, to one of the lists */

static char *
ngx_http_voice_tool_add(ngx_conf_t *cf, ngx_array_t **a, ngx_str_t *value)
{
    ngx_http_voice_tool_t  *t;

    if (value[1].len == 0 || value[1].len > VOICE_TOOL_NAME_MAX) {
        return "needs a name of 1 to 64 bytes";
    }

    if (ngx_http_voice_tool_named(*a, value[1].data, value[1].len)) {
        return "gives a name twice";
    }

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, sizeof(ngx_http_voice_tool_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    t = ngx_array_push(*a);
    if (t == NULL) {
        return NGX_CONF_ERROR;
    }

    t->name = value[1];
    t->to = value[2];

    return NGX_CONF_OK;
}


void
ngx_http_voice_tool_init_conf(ngx_http_voice_tool_conf_t *conf)
{
    conf->tools = NGX_CONF_UNSET_PTR;
    conf->transfers = NGX_CONF_UNSET_PTR;
    conf->end_call = NGX_CONF_UNSET;
    conf->max_rounds = NGX_CONF_UNSET_UINT;
}


void
ngx_http_voice_tool_merge_conf(ngx_http_voice_tool_conf_t *conf,
    ngx_http_voice_tool_conf_t *prev)
{
    if (conf->functions == NULL) {
        conf->functions = prev->functions;
        conf->data = prev->data;
        conf->file = prev->file;
    }

    ngx_conf_merge_ptr_value(conf->tools, prev->tools, NULL);
    ngx_conf_merge_value(conf->end_call, prev->end_call, 0);
    ngx_conf_merge_ptr_value(conf->transfers, prev->transfers, NULL);
    ngx_conf_merge_str_value(conf->twilio_api, prev->twilio_api, "");
    ngx_conf_merge_uint_value(conf->max_rounds, prev->max_rounds, 3);

    /* the API's path is appended */

    while (conf->twilio_api.len
           && conf->twilio_api.data[conf->twilio_api.len - 1] == '/')
    {
        conf->twilio_api.len--;
    }
}


/*
 * Checked where a call runs, not at every level: voice_tools and the
 * voice_tool lines may sit at different ones.
 */

char *
ngx_http_voice_tool_check_conf(ngx_conf_t *cf,
    ngx_http_voice_tool_conf_t *conf)
{
    size_t               i;
    voice_tools_file_t  *tf;

    tf = conf->functions;

    for (i = 0; tf && i < tf->n; i++) {
        if (conf->end_call && ngx_strcmp(tf->names[i], VOICE_TOOL_END_CALL)
                              == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "tools file \"%V\" declares \"%s\", the "
                               "function of \"voice_end_call\"", &conf->file,
                               tf->names[i]);
            return NGX_CONF_ERROR;
        }

        if (conf->transfers
            && ngx_strcmp(tf->names[i], VOICE_TOOL_TRANSFER_CALL) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "tools file \"%V\" declares \"%s\", the "
                               "function of \"voice_transfer\"", &conf->file,
                               tf->names[i]);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_voice_tool_find(conf, (u_char *) tf->names[i],
                                     ngx_strlen(tf->names[i]))
            == NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "tools file \"%V\" declares \"%s\", which has "
                               "no \"voice_tool\" location", &conf->file,
                               tf->names[i]);
            return NGX_CONF_ERROR;
        }
    }

    if (conf->transfers && conf->twilio_api.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_transfer\" requires \"voice_twilio_api\"");
        return NGX_CONF_ERROR;
    }

    if (conf->max_rounds < 1 || conf->max_rounds > 16) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_llm_max_tool_rounds\" must be 1 to 16");
        return NGX_CONF_ERROR;
    }

    return ngx_http_voice_tool_offer(cf, conf);
}


static char *
ngx_http_voice_tool_offer(ngx_conf_t *cf, ngx_http_voice_tool_conf_t *conf)
{
    ngx_uint_t              i, n;
    voice_tools_name_t     *dest;
    ngx_http_voice_tool_t  *t;

    n = conf->transfers ? conf->transfers->nelts : 0;

    if ((conf->functions == NULL || conf->functions->n == 0)
        && !conf->end_call && n == 0)
    {
        ngx_str_null(&conf->offer);
        return NGX_CONF_OK;
    }

    dest = ngx_palloc(cf->temp_pool, (n + 1) * sizeof(voice_tools_name_t));
    if (dest == NULL) {
        return NGX_CONF_ERROR;
    }

    t = n ? conf->transfers->elts : NULL;

    for (i = 0; i < n; i++) {
        dest[i].name = t[i].name.data;
        dest[i].len = t[i].name.len;
    }

    conf->offer.len = voice_tools_offer(NULL, conf->data, conf->functions,
                                        conf->end_call, dest, n);

    conf->offer.data = ngx_pnalloc(cf->pool, conf->offer.len);
    if (conf->offer.data == NULL) {
        return NGX_CONF_ERROR;
    }

    (void) voice_tools_offer(conf->offer.data, conf->data, conf->functions,
                             conf->end_call, dest, n);

    return NGX_CONF_OK;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "sign.h"
#include "util.h"
#include "webhook.h"


#define SIM_WEBHOOK_PARAMS  7


static char *sim_webhook_form(CURL *curl,
    const voice_form_param_t *params, size_t n);
static size_t sim_webhook_body(char *ptr, size_t size, size_t n,
    void *data);
static void sim_webhook_twiml(const char *body, sim_stream_t *stream);
static char *sim_webhook_attr(const char *tag, const char *name, char *out,
    size_t cap);
static void sim_webhook_unescape(char *s);


void
sim_webhook_run(const sim_conf_t *cf, sim_stream_t *stream)
{
    long                status;
    char                sig[SIM_SIGN_LEN], call_sid[40], *body, *form;
    char                h[128];
    CURL               *curl;
    size_t              i;
    voice_form_param_t  params[SIM_WEBHOOK_PARAMS];
    struct curl_slist  *hdrs;

    static const char  *names[SIM_WEBHOOK_PARAMS] = {
        "AccountSid", "ApiVersion", "CallSid", "CallStatus", "Direction",
        "From", "To"
    };
    const char         *values[SIM_WEBHOOK_PARAMS] = {
        "AC00000000000000000000000000000000", "2010-04-01", call_sid,
        "ringing", "inbound", "+15550001111", "+15550002222"
    };

    snprintf(call_sid, sizeof(call_sid), "CA%016lx%016lx",
             (unsigned long) random(), (unsigned long) time(NULL));
    snprintf(stream->call_sid, sizeof(stream->call_sid), "%s", call_sid);

    for (i = 0; i < SIM_WEBHOOK_PARAMS; i++) {
        params[i].name = (uint8_t *) names[i];
        params[i].name_len = strlen(names[i]);
        params[i].value = (uint8_t *) values[i];
        params[i].value_len = strlen(values[i]);
    }

    curl = curl_easy_init();
    if (curl == NULL) {
        sim_util_die("cannot start libcurl");
    }

    form = sim_webhook_form(curl, params, SIM_WEBHOOK_PARAMS);
    body = NULL;
    hdrs = NULL;

    if (cf->token) {
        sim_sign(cf->token, cf->url, params, SIM_WEBHOOK_PARAMS, sig);
        snprintf(h, sizeof(h), "X-Twilio-Signature: %s", sig);
        hdrs = curl_slist_append(hdrs, h);
    }

    curl_easy_setopt(curl, CURLOPT_URL, cf->url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sim_webhook_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);

    if (cf->insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    if (curl_easy_perform(curl) != CURLE_OK) {
        sim_util_die("webhook %s failed", cf->url);
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

    if (status != 200 || body == NULL) {
        sim_util_die("webhook %s answered %ld", cf->url, status);
    }

    if (!cf->json) {
        printf("webhook: %s -> %ld\n  %s\n", cf->url, status, body);
    }

    sim_webhook_twiml(body, stream);

    free(body);
    free(form);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
}


/* application/x-www-form-urlencoded, in the order given */

static char *
sim_webhook_form(CURL *curl, const voice_form_param_t *params, size_t n)
{
    char    *form, *pair, *k, *v;
    size_t   i;

    form = NULL;

    for (i = 0; i < n; i++) {
        k = curl_easy_escape(curl, (const char *) params[i].name,
                             (int) params[i].name_len);
        v = curl_easy_escape(curl, (const char *) params[i].value,
                             (int) params[i].value_len);
        pair = NULL;

        if (k == NULL || v == NULL
            || asprintf(&pair, "%s%s%s=%s", form ? form : "",
                        form ? "&" : "", k, v) < 0)
        {
            sim_util_die("out of memory");
        }

        free(form);
        form = pair;
        curl_free(k);
        curl_free(v);
    }

    return form;
}


static size_t
sim_webhook_body(char *ptr, size_t size, size_t n, void *data)
{
    char    **body = data;
    size_t    old;

    old = *body ? strlen(*body) : 0;

    *body = realloc(*body, old + size * n + 1);
    if (*body == NULL) {
        sim_util_die("out of memory");
    }

    memcpy(*body + old, ptr, size * n);
    (*body)[old + size * n] = '\0';

    return size * n;
}


static void
sim_webhook_twiml(const char *body, sim_stream_t *stream)
{
    const char            *p;
    voice_twilio_param_t  *param;

    p = strstr(body, "<Stream");

    if (p == NULL
        || sim_webhook_attr(p, "url", stream->url, sizeof(stream->url))
           == NULL)
    {
        sim_util_die("no <Stream url> in the TwiML");
    }

    for (p = strstr(p, "<Parameter");
         p && stream->nparams < VOICE_TWILIO_PARAMS_MAX;
         p = strstr(p + 1, "<Parameter"))
    {
        param = &stream->params[stream->nparams];

        if (sim_webhook_attr(p, "name", param->name, sizeof(param->name))
            && sim_webhook_attr(p, "value", param->value,
                                sizeof(param->value)))
        {
            stream->nparams++;
        }
    }
}


static char *
sim_webhook_attr(const char *tag, const char *name, char *out, size_t cap)
{
    char         pat[64];
    size_t       n;
    const char  *p, *e;

    snprintf(pat, sizeof(pat), "%s=\"", name);

    p = strstr(tag, pat);
    if (p == NULL) {
        return NULL;
    }

    p += strlen(pat);
    e = strchr(p, '"');

    if (e == NULL || (size_t) (e - p) >= cap) {
        return NULL;
    }

    n = e - p;
    memcpy(out, p, n);
    out[n] = '\0';
    sim_webhook_unescape(out);

    return out;
}


static void
sim_webhook_unescape(char *s)
{
    size_t   i, n;
    char    *r, *w;
    long     c;

    static const struct {
        const char  *entity;
        char         c;
    } entities[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
        { "&quot;", '"' }, { "&apos;", '\'' }
    };

    for (r = w = s; *r; ) {
        if (*r != '&') {
            *w++ = *r++;
            continue;
        }

        for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
            n = strlen(entities[i].entity);

            if (strncmp(r, entities[i].entity, n) == 0) {
                break;
            }
        }

        if (i < sizeof(entities) / sizeof(entities[0])) {
            *w++ = entities[i].c;
            r += n;

        } else if (r[1] == '#') {
            c = strtol(r + 2, &r, 10);
            *w++ = (char) c;

            if (*r == ';') {
                r++;
            }

        } else {
            *w++ = *r++;
        }
    }

    *w = '\0';
}

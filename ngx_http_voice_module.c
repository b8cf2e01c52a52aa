/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The module's configuration: directive table, conf create/merge and the
 * content handlers the directives install.  The parts live in src/.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_voice_module.h"


static void *ngx_http_voice_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_voice_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_voice_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static char *ngx_http_voice_twiml(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_voice_stream_parameter(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_voice_media_stream(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static ngx_int_t ngx_http_voice_add_variables(ngx_conf_t *cf);
static void ngx_http_voice_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_voice_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_voice_variable_uint(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_voice_variable_duration(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static char *ngx_http_voice_tts_format(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_enum_t  ngx_http_voice_dialects[] = {
    { ngx_string("elevenlabs"), NGX_HTTP_VOICE_ELEVENLABS },
    { ngx_string("openai"), NGX_HTTP_VOICE_OPENAI },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_voice_modes[] = {
    { ngx_string("agent"), NGX_HTTP_VOICE_AGENT },
    { ngx_string("echo"), NGX_HTTP_VOICE_ECHO },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_voice_commands[] = {

    { ngx_string("voice_twiml"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_voice_twiml,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voice_stream_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stream_url),
      NULL },

    { ngx_string("voice_stream_parameter"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_voice_stream_parameter,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voice_twilio_auth_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, auth_token),
      NULL },

    { ngx_string("voice_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, public_url),
      NULL },

    { ngx_string("voice_max_form_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, max_form_size),
      NULL },

    { ngx_string("voice_media_stream"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_voice_media_stream,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voice_max_message"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, max_message),
      NULL },

    { ngx_string("voice_max_pending"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, max_pending),
      NULL },

    { ngx_string("voice_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, idle_timeout),
      NULL },

    { ngx_string("voice_stt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stt),
      NULL },

    { ngx_string("voice_llm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, llm),
      NULL },

    { ngx_string("voice_tts"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, tts),
      NULL },

    { ngx_string("voice_stt_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stt_model),
      NULL },

    { ngx_string("voice_stt_language"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stt_language),
      NULL },

    { ngx_string("voice_llm_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, llm_model),
      NULL },

    { ngx_string("voice_system_prompt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, system_prompt),
      NULL },

    { ngx_string("voice_llm_max_history"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, llm_max_history),
      NULL },

    { ngx_string("voice_tts_dialect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, tts_dialect),
      &ngx_http_voice_dialects },

    { ngx_string("voice_tts_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, tts_model),
      NULL },

    { ngx_string("voice_tts_voice"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, tts_voice),
      NULL },

    { ngx_string("voice_tts_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_voice_tts_format,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, tts_format),
      NULL },

    { ngx_string("voice_greeting"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, greeting),
      NULL },

    { ngx_string("voice_vad_silence"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, vad_silence),
      NULL },

    { ngx_string("voice_vad_min_speech"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, vad_min_speech),
      NULL },

    { ngx_string("voice_barge_in"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, barge_in),
      NULL },

    { ngx_string("voice_max_utterance"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, max_utterance),
      NULL },

      ngx_null_command
};


static ngx_http_variable_t  ngx_http_voice_vars[] = {

    { ngx_string("voice_call_sid"), NULL, ngx_http_voice_variable_str,
      offsetof(ngx_http_voice_call_t, call_sid), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voice_stream_sid"), NULL, ngx_http_voice_variable_str,
      offsetof(ngx_http_voice_call_t, stream_sid), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_call_duration"), NULL,
      ngx_http_voice_variable_duration, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voice_frames_in"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_call_t, frames_in), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_frames_out"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_call_t, frames_out), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_media_in"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_call_t, media_in), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_media_out"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_call_t, media_out), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_close_code"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_call_t, close_code), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

      ngx_http_null_variable
};


static ngx_http_module_t  ngx_http_voice_module_ctx = {
    ngx_http_voice_add_variables,          /* preconfiguration */
    ngx_http_voice_provider_init,          /* postconfiguration */

    ngx_http_voice_create_main_conf,       /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_voice_create_loc_conf,        /* create location configuration */
    ngx_http_voice_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_voice_module = {
    NGX_MODULE_V1,
    &ngx_http_voice_module_ctx,            /* module context */
    ngx_http_voice_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_voice_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * What the module allocates outside request pools (per-call output queue,
 * yajl parsers) goes through these, so a worker can tell at exit whether
 * any of it outlived its call.
 */

ngx_uint_t  ngx_http_voice_live_allocs;
ngx_uint_t  ngx_http_voice_live_calls;


void *
ngx_http_voice_malloc(void *ctx, size_t size)
{
    void  *p;

    p = malloc(size);

    if (p) {
        ngx_http_voice_live_allocs++;
    }

    return p;
}


void *
ngx_http_voice_realloc(void *ctx, void *ptr, size_t size)
{
    void  *p;

    p = realloc(ptr, size);

    if (p && ptr == NULL) {
        ngx_http_voice_live_allocs++;
    }

    return p;
}


void
ngx_http_voice_free(void *ctx, void *ptr)
{
    if (ptr) {
        ngx_http_voice_live_allocs--;
        free(ptr);
    }
}


static void
ngx_http_voice_exit_process(ngx_cycle_t *cycle)
{
    if (ngx_http_voice_live_calls == 0 && ngx_http_voice_live_allocs != 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "voice: %ui allocations outlived their calls",
                      ngx_http_voice_live_allocs);
    }
}


static void *
ngx_http_voice_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_voice_main_conf_t  *vmcf;

    vmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_voice_main_conf_t));
    if (vmcf == NULL) {
        return NULL;
    }

    return vmcf;
}


static void *
ngx_http_voice_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_voice_loc_conf_t  *vlcf;

    vlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_voice_loc_conf_t));
    if (vlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     vlcf->auth_token = { 0, NULL };
     *     vlcf->handler_location = NULL;
     *     vlcf->twiml = 0;
     */

    vlcf->stream_url = NGX_CONF_UNSET_PTR;
    vlcf->stream_params = NGX_CONF_UNSET_PTR;
    vlcf->public_url = NGX_CONF_UNSET_PTR;
    vlcf->max_form_size = NGX_CONF_UNSET_SIZE;
    vlcf->mode = NGX_CONF_UNSET_UINT;
    vlcf->max_message = NGX_CONF_UNSET_SIZE;
    vlcf->max_pending = NGX_CONF_UNSET_SIZE;
    vlcf->idle_timeout = NGX_CONF_UNSET_MSEC;
    vlcf->llm_max_history = NGX_CONF_UNSET_UINT;
    vlcf->tts_dialect = NGX_CONF_UNSET_UINT;
    vlcf->tts_format = NGX_CONF_UNSET_UINT;
    vlcf->tts_rate = NGX_CONF_UNSET_UINT;
    vlcf->vad_silence = NGX_CONF_UNSET_MSEC;
    vlcf->vad_min_speech = NGX_CONF_UNSET_MSEC;
    vlcf->barge_in = NGX_CONF_UNSET;
    vlcf->max_utterance = NGX_CONF_UNSET_MSEC;

    return vlcf;
}


static char *
ngx_http_voice_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_voice_loc_conf_t  *prev = parent;
    ngx_http_voice_loc_conf_t  *conf = child;

    ngx_http_voice_main_conf_t  *vmcf;

    ngx_conf_merge_ptr_value(conf->stream_url, prev->stream_url, NULL);
    ngx_conf_merge_ptr_value(conf->stream_params, prev->stream_params, NULL);
    ngx_conf_merge_str_value(conf->auth_token, prev->auth_token, "");
    ngx_conf_merge_ptr_value(conf->public_url, prev->public_url, NULL);
    ngx_conf_merge_size_value(conf->max_form_size, prev->max_form_size,
                              64 * 1024);

    ngx_conf_merge_uint_value(conf->mode, prev->mode, NGX_HTTP_VOICE_AGENT);
    ngx_conf_merge_size_value(conf->max_message, prev->max_message,
                              64 * 1024);
    ngx_conf_merge_size_value(conf->max_pending, prev->max_pending,
                              1024 * 1024);
    ngx_conf_merge_msec_value(conf->idle_timeout, prev->idle_timeout, 30000);

    ngx_conf_merge_str_value(conf->stt, prev->stt, "");
    ngx_conf_merge_str_value(conf->llm, prev->llm, "");
    ngx_conf_merge_str_value(conf->tts, prev->tts, "");
    ngx_conf_merge_str_value(conf->stt_model, prev->stt_model, "whisper-1");
    ngx_conf_merge_str_value(conf->stt_language, prev->stt_language, "");
    ngx_conf_merge_str_value(conf->llm_model, prev->llm_model,
                             "gpt-4o-mini");
    ngx_conf_merge_str_value(conf->system_prompt, prev->system_prompt,
                             "You are a helpful assistant on a phone call. "
                             "Answer in one or two short spoken sentences.");
    ngx_conf_merge_uint_value(conf->llm_max_history, prev->llm_max_history,
                              20);
    ngx_conf_merge_uint_value(conf->tts_dialect, prev->tts_dialect,
                              NGX_HTTP_VOICE_ELEVENLABS);
    ngx_conf_merge_str_value(conf->tts_model, prev->tts_model, "");
    ngx_conf_merge_str_value(conf->tts_voice, prev->tts_voice, "alloy");
    ngx_conf_merge_uint_value(conf->tts_format, prev->tts_format,
                              NGX_HTTP_VOICE_TTS_ULAW);
    ngx_conf_merge_uint_value(conf->tts_rate, prev->tts_rate, 8000);
    ngx_conf_merge_str_value(conf->greeting, prev->greeting, "");
    ngx_conf_merge_msec_value(conf->vad_silence, prev->vad_silence, 500);
    ngx_conf_merge_msec_value(conf->vad_min_speech, prev->vad_min_speech,
                              200);
    ngx_conf_merge_value(conf->barge_in, prev->barge_in, 1);
    ngx_conf_merge_msec_value(conf->max_utterance, prev->max_utterance,
                              30000);

    if (conf->max_message < 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_max_message\" must be at least 1k");
        return NGX_CONF_ERROR;
    }

    if (conf->max_pending < 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_max_pending\" must be at least 4k");
        return NGX_CONF_ERROR;
    }

    /* the history holds the caller's words of the turn too */

    if (conf->llm_max_history < 1 || conf->llm_max_history > 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_llm_max_history\" must be 1 to 1000");
        return NGX_CONF_ERROR;
    }

    /* the pre-roll holds 300 ms before the onset is confirmed */

    if (conf->vad_min_speech < 20 || conf->vad_min_speech > 300) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_vad_min_speech\" must be 20ms to 300ms");
        return NGX_CONF_ERROR;
    }

    if (conf->vad_silence < 100) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_vad_silence\" must be at least 100ms");
        return NGX_CONF_ERROR;
    }

    if (conf->handler_location == NULL) {
        return NGX_CONF_OK;
    }

    if (conf->twiml && conf->stream_url == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_twiml\" in location \"%V\" requires "
                           "\"voice_stream_url\"", conf->handler_location);
        return NGX_CONF_ERROR;
    }

    if (!conf->twiml && conf->mode == NGX_HTTP_VOICE_AGENT
        && (conf->stt.len == 0 || conf->llm.len == 0 || conf->tts.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_media_stream agent\" in location \"%V\" "
                           "requires \"voice_stt\", \"voice_llm\" and "
                           "\"voice_tts\"", conf->handler_location);
        return NGX_CONF_ERROR;
    }

    if (conf->auth_token.len == 0) {
        vmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_voice_module);

        if (!vmcf->warned_no_token) {
            vmcf->warned_no_token = 1;
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "no \"voice_twilio_auth_token\" for location "
                               "\"%V\": requests from Twilio are not "
                               "validated", conf->handler_location);
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voice_set_handler(ngx_conf_t *cf, ngx_http_voice_loc_conf_t *vlcf,
    ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t  *clcf;

    if (vlcf->handler_location) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = handler;
    vlcf->handler_location = &clcf->name;

    return NGX_CONF_OK;
}


static char *
ngx_http_voice_twiml(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    char  *rv;

    rv = ngx_http_voice_set_handler(cf, vlcf, ngx_http_voice_twiml_handler);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    vlcf->twiml = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_voice_stream_parameter(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    ngx_str_t                         *value;
    ngx_http_voice_param_conf_t       *param;
    ngx_http_compile_complex_value_t   ccv;

    if (vlcf->stream_params == NGX_CONF_UNSET_PTR) {
        vlcf->stream_params = ngx_array_create(cf->pool, 4,
                                         sizeof(ngx_http_voice_param_conf_t));
        if (vlcf->stream_params == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    param = ngx_array_push(vlcf->stream_params);
    if (param == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty parameter name";
    }

    param->name = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &param->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voice_media_stream(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    char        *rv;
    ngx_str_t   *value;
    ngx_uint_t   i;

    rv = ngx_http_voice_set_handler(cf, vlcf,
                                    ngx_http_voice_media_stream_handler);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (cf->args->nelts == 1) {
        vlcf->mode = NGX_HTTP_VOICE_AGENT;
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    for (i = 0; ngx_http_voice_modes[i].name.len; i++) {
        if (ngx_strcmp(value[1].data, ngx_http_voice_modes[i].name.data)
            == 0)
        {
            vlcf->mode = ngx_http_voice_modes[i].value;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid mode \"%V\", it must be \"agent\" or "
                       "\"echo\"", &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_voice_tts_format(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    ngx_int_t   rate;
    ngx_str_t  *value;

    if (vlcf->tts_format != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "ulaw_8000") == 0) {
        vlcf->tts_format = NGX_HTTP_VOICE_TTS_ULAW;
        vlcf->tts_rate = 8000;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "wav") == 0) {
        vlcf->tts_format = NGX_HTTP_VOICE_TTS_WAV;
        vlcf->tts_rate = 0;
        return NGX_CONF_OK;
    }

    if (value[1].len > 4 && ngx_strncmp(value[1].data, "pcm_", 4) == 0) {
        rate = ngx_atoi(value[1].data + 4, value[1].len - 4);

        if (rate == 8000 || rate == 16000 || rate == 22050 || rate == 24000
            || rate == 44100)
        {
            vlcf->tts_format = NGX_HTTP_VOICE_TTS_PCM;
            vlcf->tts_rate = rate;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid format \"%V\", it must be \"ulaw_8000\", "
                       "\"pcm_8000\", \"pcm_16000\", \"pcm_22050\", "
                       "\"pcm_24000\", \"pcm_44100\" or \"wav\"",
                       &value[1]);

    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_voice_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_voice_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_voice_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t              *s;
    ngx_http_voice_call_t  *call;

    call = ngx_http_get_module_ctx(r->main, ngx_http_voice_module);

    if (call == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) call + data);

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_voice_variable_uint(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    ngx_http_voice_call_t  *call;

    call = ngx_http_get_module_ctx(r->main, ngx_http_voice_module);

    if (call == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%ui", *(ngx_uint_t *) ((char *) call + data))
             - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


/* seconds since the handshake, with milliseconds, as $request_time */

static ngx_int_t
ngx_http_voice_variable_duration(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    ngx_msec_int_t          ms;
    ngx_http_voice_call_t  *call;

    call = ngx_http_get_module_ctx(r->main, ngx_http_voice_module);

    if (call == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ms = (ngx_msec_int_t) (ngx_current_msec - call->start);
    ms = ngx_max(ms, 0);

    v->len = ngx_sprintf(p, "%T.%03M", (time_t) ms / 1000, ms % 1000) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}

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

      ngx_null_command
};


static ngx_http_module_t  ngx_http_voice_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

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
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


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

    if (conf->handler_location == NULL) {
        return NGX_CONF_OK;
    }

    if (conf->twiml && conf->stream_url == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_twiml\" in location \"%V\" requires "
                           "\"voice_stream_url\"", conf->handler_location);
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

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

#include "ngx_http_voice_agent.h"
#include "ngx_http_voice_echo.h"
#include "ngx_http_voice_mem.h"
#include "ngx_http_voice_metrics.h"
#include "ngx_http_voice_module.h"
#include "ngx_http_voice_provider.h"
#include "ngx_http_voice_signature.h"
#include "ngx_http_voice_stream.h"
#include "ngx_http_voice_webhook.h"
#include "voice_g711.h"
#include "voice_token.h"


/*
 * Each part's configuration is its own struct, embedded here, as the
 * proxy module embeds its upstream's; a part is handed its own.
 */

typedef struct {
    ngx_http_voice_signature_conf_t  signature;
    ngx_http_voice_webhook_conf_t    webhook;
    ngx_http_voice_stream_conf_t     stream;
    ngx_http_voice_agent_conf_t      agent;

    ngx_uint_t                       mode;      /* in ngx_http_voice_modes */

    /* the location that declared a content handler, for messages */
    ngx_str_t                       *handler_location;
    ngx_uint_t                       twiml;     /* unsigned:1 */
} ngx_http_voice_loc_conf_t;


typedef struct {
    ngx_flag_t                       warned_no_token;
} ngx_http_voice_main_conf_t;


/*
 * The call modes of voice_media_stream: a mode's table, where its
 * configuration sits in ours (NGX_CONF_UNSET_SIZE: it has none), and
 * what it requires of it.
 */

typedef struct {
    const ngx_http_voice_mode_t     *mode;
    size_t                           conf;
    char                          *(*check)(ngx_conf_t *cf,
                                            ngx_http_voice_loc_conf_t *conf);
} ngx_http_voice_mode_entry_t;


static ngx_int_t ngx_http_voice_twiml_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_voice_media_stream_handler(ngx_http_request_t *r);
static char *ngx_http_voice_agent_check(ngx_conf_t *cf,
    ngx_http_voice_loc_conf_t *conf);
static char *ngx_http_voice_token_check(ngx_conf_t *cf,
    ngx_http_voice_loc_conf_t *conf);

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
static ngx_int_t ngx_http_voice_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_voice_variable_uint(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_voice_variable_duration(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static char *ngx_http_voice_apology_audio(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_voice_tts_format(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_voice_stt_stream(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_voice_stt_stream_header(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_voice_barge_in_ignore(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_voice_barge_in_echo_margin(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_voice_merge_stt_stream(ngx_conf_t *cf,
    ngx_http_voice_agent_conf_t *conf, ngx_http_voice_agent_conf_t *prev);


static ngx_conf_enum_t  ngx_http_voice_stt_dialects[] = {
    { ngx_string("deepgram"), NGX_HTTP_VOICE_STT_STREAM_DEEPGRAM },
    { ngx_string("openai"), NGX_HTTP_VOICE_STT_STREAM_OPENAI },
    { ngx_null_string, 0 }
};


/* a lone backchannel is not an interruption */

static u_char  *ngx_http_voice_backchannels[] = {
    (u_char *) "okay", (u_char *) "yeah", (u_char *) "uh-huh",
    (u_char *) "mhm", (u_char *) "right", NULL
};


static ngx_conf_enum_t  ngx_http_voice_dialects[] = {
    { ngx_string("elevenlabs"), NGX_HTTP_VOICE_REPLY_ELEVENLABS },
    { ngx_string("openai"), NGX_HTTP_VOICE_REPLY_OPENAI },
    { ngx_null_string, 0 }
};


/* the first is the default */

static ngx_http_voice_mode_entry_t  ngx_http_voice_modes[] = {
    { &ngx_http_voice_agent_mode, offsetof(ngx_http_voice_loc_conf_t, agent),
      ngx_http_voice_agent_check },
    { &ngx_http_voice_echo_mode, NGX_CONF_UNSET_SIZE, NULL },
    { NULL, 0, NULL }
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
      offsetof(ngx_http_voice_loc_conf_t, webhook.stream_url),
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
      offsetof(ngx_http_voice_loc_conf_t, signature.auth_token),
      NULL },

    { ngx_string("voice_twilio_account_sid"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, signature.account_sid),
      NULL },

    { ngx_string("voice_stream_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, signature.stream_token),
      NULL },

    { ngx_string("voice_stream_token_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, signature.token_lifetime),
      NULL },

    { ngx_string("voice_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, signature.public_url),
      NULL },

    { ngx_string("voice_max_form_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, webhook.max_form_size),
      NULL },

    { ngx_string("voice_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_voice_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
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
      offsetof(ngx_http_voice_loc_conf_t, stream.max_message),
      NULL },

    { ngx_string("voice_max_pending"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stream.max_pending),
      NULL },

    { ngx_string("voice_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stream.idle_timeout),
      NULL },

    { ngx_string("voice_events"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stream.events.uri),
      NULL },

    { ngx_string("voice_events_queue"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stream.events.queue),
      NULL },

    { ngx_string("voice_events_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stream.events.timeout),
      NULL },

    { ngx_string("voice_stt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.stt.uri),
      NULL },

    { ngx_string("voice_stt_stream"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_voice_stt_stream,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voice_stt_stream_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_voice_stt_stream_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voice_stt_stream_dialect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.stt_stream.dialect),
      &ngx_http_voice_stt_dialects },

    { ngx_string("voice_stt_stream_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.stt_stream.timeout),
      NULL },

    { ngx_string("voice_upstream_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t,
               agent.stt_stream.upstream.connect_timeout),
      NULL },

    { ngx_string("voice_upstream_read_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t,
               agent.stt_stream.upstream.read_timeout),
      NULL },

#if (NGX_HTTP_SSL)

    { ngx_string("voice_upstream_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t,
               agent.stt_stream.upstream.ssl_verify),
      NULL },

    { ngx_string("voice_upstream_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t,
               agent.stt_stream.upstream.ssl_trusted_certificate),
      NULL },

#endif

    { ngx_string("voice_llm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.uri),
      NULL },

    { ngx_string("voice_tts"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.tts.uri),
      NULL },

    { ngx_string("voice_stt_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.stt.model),
      NULL },

    { ngx_string("voice_stt_language"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.stt.language),
      NULL },

    { ngx_string("voice_llm_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.model),
      NULL },

    { ngx_string("voice_system_prompt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.system_prompt),
      NULL },

    { ngx_string("voice_llm_max_history"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.max_history),
      NULL },

    { ngx_string("voice_tools"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_voice_tool_set_tools,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.tool),
      NULL },

    { ngx_string("voice_tool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_voice_tool_set_tool,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.tool),
      NULL },

    { ngx_string("voice_llm_max_tool_rounds"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.tool.max_rounds),
      NULL },

    { ngx_string("voice_end_call"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.tool.end_call),
      NULL },

    { ngx_string("voice_transfer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_voice_tool_set_transfer,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.tool),
      NULL },

    { ngx_string("voice_twilio_api"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.tool.twilio_api),
      NULL },

    { ngx_string("voice_llm_max_reply"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.llm.max_reply),
      NULL },

    { ngx_string("voice_tts_dialect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.tts.dialect),
      &ngx_http_voice_dialects },

    { ngx_string("voice_tts_model"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.tts.model),
      NULL },

    { ngx_string("voice_tts_voice"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.tts.voice),
      NULL },

    { ngx_string("voice_tts_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_voice_tts_format,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.tts.format),
      NULL },

    { ngx_string("voice_playout_lead"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.tts.lead),
      NULL },

    { ngx_string("voice_greeting"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.greeting),
      NULL },

    { ngx_string("voice_apology"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.apology),
      NULL },

    { ngx_string("voice_apology_audio"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_voice_apology_audio,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voice_max_call_duration"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.max_call_duration),
      NULL },

    { ngx_string("voice_goodbye"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.goodbye),
      NULL },

    { ngx_string("voice_vad_silence"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.vad_silence),
      NULL },

    { ngx_string("voice_vad_min_speech"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.vad_min_speech),
      NULL },

    { ngx_string("voice_barge_in"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.barge_in),
      NULL },

    { ngx_string("voice_barge_in_min_speech"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.barge_in_min_speech),
      NULL },

    { ngx_string("voice_greeting_interruptible"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.greeting_interruptible),
      NULL },

    { ngx_string("voice_barge_in_min_words"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.barge_in_words),
      NULL },

    { ngx_string("voice_barge_in_ignore"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_voice_barge_in_ignore,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voice_barge_in_resume"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.barge_in_resume),
      NULL },

    { ngx_string("voice_barge_in_echo_margin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_voice_barge_in_echo_margin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voice_barge_in_echo_delay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.echo_delay),
      NULL },

    { ngx_string("voice_speculative"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.speculative),
      NULL },

    { ngx_string("voice_speculative_silence"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.speculative_silence),
      NULL },

    { ngx_string("voice_max_utterance"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.max_utterance),
      NULL },

    { ngx_string("voice_dtmf_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, agent.dtmf_timeout),
      NULL },

    { ngx_string("voice_log_transcripts"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voice_loc_conf_t, stream.log_transcripts),
      NULL },

      ngx_null_command
};


static ngx_http_variable_t  ngx_http_voice_vars[] = {

    { ngx_string("voice_call_sid"), NULL, ngx_http_voice_variable_str,
      offsetof(ngx_http_voice_stream_t, call_sid), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_stream_sid"), NULL, ngx_http_voice_variable_str,
      offsetof(ngx_http_voice_stream_t, stream_sid), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_call_duration"), NULL,
      ngx_http_voice_variable_duration, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voice_frames_in"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, frames_in), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_frames_out"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, frames_out), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_media_in"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, media_in), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_media_out"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, media_out), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_close_code"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, close_code), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_peer_close_code"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, peer_close_code),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voice_marks_in"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, marks_in), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_marks_out"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, marks_out), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_turns"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, turns), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voice_barge_ins"), NULL, ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, barge_ins), NGX_HTTP_VAR_NOCACHEABLE,
      0 },

    { ngx_string("voice_provider_failures"), NULL,
      ngx_http_voice_variable_uint,
      offsetof(ngx_http_voice_stream_t, provider_failures),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_module_t  ngx_http_voice_module_ctx = {
    ngx_http_voice_add_variables,          /* preconfiguration */
    ngx_http_voice_init,                   /* postconfiguration */

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
    ngx_http_voice_metrics_init_process,   /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_voice_exit_process,           /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* the provider filters and the metrics zone */

static ngx_int_t
ngx_http_voice_init(ngx_conf_t *cf)
{
    if (ngx_http_voice_provider_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_voice_metrics_init(cf);
}


static ngx_int_t
ngx_http_voice_twiml_handler(ngx_http_request_t *r)
{
    ngx_http_voice_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voice_module);

    return ngx_http_voice_webhook_handler(r, &vlcf->webhook,
                                          &vlcf->signature);
}


static ngx_int_t
ngx_http_voice_media_stream_handler(ngx_http_request_t *r)
{
    ngx_http_voice_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voice_module);

    return ngx_http_voice_stream_handler(r, &vlcf->stream, &vlcf->signature);
}


static void
ngx_http_voice_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_voice_mem_check(cycle->log, ngx_http_voice_stream_live);
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
     *     vlcf->signature.auth_token = { 0, NULL };
     *     vlcf->signature.account_sid = { 0, NULL };
     *     vlcf->stream.mode = NULL;
     *     vlcf->stream.mode_conf = NULL;
     *     vlcf->handler_location = NULL;
     *     vlcf->twiml = 0;
     */

    vlcf->signature.public_url = NGX_CONF_UNSET_PTR;
    vlcf->signature.stream_token = NGX_CONF_UNSET;
    vlcf->signature.token_lifetime = NGX_CONF_UNSET;

    vlcf->webhook.stream_url = NGX_CONF_UNSET_PTR;
    vlcf->webhook.params = NGX_CONF_UNSET_PTR;
    vlcf->webhook.max_form_size = NGX_CONF_UNSET_SIZE;

    vlcf->stream.max_message = NGX_CONF_UNSET_SIZE;
    vlcf->stream.max_pending = NGX_CONF_UNSET_SIZE;
    vlcf->stream.idle_timeout = NGX_CONF_UNSET_MSEC;
    vlcf->stream.events.queue = NGX_CONF_UNSET_UINT;
    vlcf->stream.events.timeout = NGX_CONF_UNSET_MSEC;
    vlcf->mode = NGX_CONF_UNSET_UINT;

    vlcf->agent.llm.max_history = NGX_CONF_UNSET_UINT;
    ngx_http_voice_tool_init_conf(&vlcf->agent.llm.tool);
    vlcf->agent.llm.max_reply = NGX_CONF_UNSET_SIZE;
    vlcf->agent.tts.dialect = NGX_CONF_UNSET_UINT;
    vlcf->agent.tts.format = NGX_CONF_UNSET_UINT;
    vlcf->agent.tts.rate = NGX_CONF_UNSET_UINT;
    vlcf->agent.tts.lead = NGX_CONF_UNSET_MSEC;
    vlcf->agent.vad_silence = NGX_CONF_UNSET_MSEC;
    vlcf->agent.vad_min_speech = NGX_CONF_UNSET_MSEC;
    vlcf->agent.barge_in = NGX_CONF_UNSET;
    vlcf->agent.barge_in_words = NGX_CONF_UNSET_UINT;
    vlcf->agent.barge_in_resume = NGX_CONF_UNSET;
    vlcf->agent.speculative = NGX_CONF_UNSET;
    vlcf->agent.speculative_silence = NGX_CONF_UNSET_MSEC;
    vlcf->agent.barge_in_ignore = NGX_CONF_UNSET_PTR;
    vlcf->agent.echo_margin = NGX_CONF_UNSET;
    vlcf->agent.echo_delay = NGX_CONF_UNSET_MSEC;

    vlcf->agent.stt_stream.dialect = NGX_CONF_UNSET_UINT;
    vlcf->agent.stt_stream.timeout = NGX_CONF_UNSET_MSEC;
    vlcf->agent.stt_stream.upstream.headers = NGX_CONF_UNSET_PTR;
    vlcf->agent.stt_stream.upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    vlcf->agent.stt_stream.upstream.read_timeout = NGX_CONF_UNSET_MSEC;
#if (NGX_HTTP_SSL)
    vlcf->agent.stt_stream.upstream.ssl_verify = NGX_CONF_UNSET;
#endif
    vlcf->agent.max_utterance = NGX_CONF_UNSET_MSEC;
    vlcf->agent.dtmf_timeout = NGX_CONF_UNSET_MSEC;
    vlcf->agent.barge_in_min_speech = NGX_CONF_UNSET_MSEC;
    vlcf->agent.greeting_interruptible = NGX_CONF_UNSET;
    vlcf->agent.max_call_duration = NGX_CONF_UNSET_MSEC;
    vlcf->stream.log_transcripts = NGX_CONF_UNSET;

    return vlcf;
}


static char *
ngx_http_voice_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_voice_loc_conf_t  *prev = parent;
    ngx_http_voice_loc_conf_t  *conf = child;

    char                         *rv;
    ngx_http_voice_main_conf_t   *vmcf;
    ngx_http_voice_mode_entry_t  *me;
    ngx_http_voice_agent_conf_t  *ag, *pag;

    ngx_conf_merge_str_value(conf->signature.auth_token,
                             prev->signature.auth_token, "");
    ngx_conf_merge_ptr_value(conf->signature.public_url,
                             prev->signature.public_url, NULL);
    ngx_conf_merge_str_value(conf->signature.account_sid,
                             prev->signature.account_sid, "");

    /* unset stays unset: on wherever an auth token is set */
    ngx_conf_merge_value(conf->signature.stream_token,
                         prev->signature.stream_token, NGX_CONF_UNSET);
    ngx_conf_merge_sec_value(conf->signature.token_lifetime,
                             prev->signature.token_lifetime, 60);

    ngx_conf_merge_ptr_value(conf->webhook.stream_url,
                             prev->webhook.stream_url, NULL);
    ngx_conf_merge_ptr_value(conf->webhook.params, prev->webhook.params,
                             NULL);
    ngx_conf_merge_size_value(conf->webhook.max_form_size,
                              prev->webhook.max_form_size, 64 * 1024);

    ngx_conf_merge_uint_value(conf->mode, prev->mode, 0);
    ngx_conf_merge_size_value(conf->stream.max_message,
                              prev->stream.max_message, 64 * 1024);
    ngx_conf_merge_size_value(conf->stream.max_pending,
                              prev->stream.max_pending, 1024 * 1024);
    ngx_conf_merge_value(conf->stream.log_transcripts,
                         prev->stream.log_transcripts, 0);
    ngx_conf_merge_msec_value(conf->stream.idle_timeout,
                              prev->stream.idle_timeout, 30000);

    ngx_conf_merge_str_value(conf->stream.events.uri,
                             prev->stream.events.uri, "");

    if (conf->stream.events.uri.len == 3
        && ngx_strncmp(conf->stream.events.uri.data, "off", 3) == 0)
    {
        conf->stream.events.uri.len = 0;
    }
    ngx_conf_merge_uint_value(conf->stream.events.queue,
                              prev->stream.events.queue, 64);
    ngx_conf_merge_msec_value(conf->stream.events.timeout,
                              prev->stream.events.timeout, 10000);

    if (conf->stream.events.uri.len
        && conf->stream.events.uri.data[0] != '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_events\" must be a location's URI "
                           "(\"/...\") or \"off\", not \"%V\"",
                           &conf->stream.events.uri);
        return NGX_CONF_ERROR;
    }

    if (conf->stream.events.queue == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_events_queue\" must be at least 1");
        return NGX_CONF_ERROR;
    }

    ag = &conf->agent;
    pag = &prev->agent;

    ngx_conf_merge_str_value(ag->stt.uri, pag->stt.uri, "");
    ngx_conf_merge_str_value(ag->stt.model, pag->stt.model, "whisper-1");
    ngx_conf_merge_str_value(ag->stt.language, pag->stt.language, "");

    ngx_conf_merge_str_value(ag->llm.uri, pag->llm.uri, "");
    ngx_conf_merge_str_value(ag->llm.model, pag->llm.model, "gpt-4o-mini");
    ngx_conf_merge_str_value(ag->llm.system_prompt, pag->llm.system_prompt,
                             "You are a helpful assistant on a phone call. "
                             "Answer in one or two short spoken sentences.");
    ngx_conf_merge_uint_value(ag->llm.max_history, pag->llm.max_history, 20);
    ngx_http_voice_tool_merge_conf(&ag->llm.tool, &pag->llm.tool);
    ngx_conf_merge_size_value(ag->llm.max_reply, pag->llm.max_reply, 2000);

    ngx_conf_merge_str_value(ag->tts.uri, pag->tts.uri, "");
    ngx_conf_merge_uint_value(ag->tts.dialect, pag->tts.dialect,
                              NGX_HTTP_VOICE_REPLY_ELEVENLABS);
    ngx_conf_merge_str_value(ag->tts.model, pag->tts.model, "");
    ngx_conf_merge_str_value(ag->tts.voice, pag->tts.voice, "alloy");
    ngx_conf_merge_uint_value(ag->tts.format, pag->tts.format,
                              VOICE_TTS_AUDIO_ULAW);
    ngx_conf_merge_uint_value(ag->tts.rate, pag->tts.rate, VOICE_G711_RATE);
    ngx_conf_merge_msec_value(ag->tts.lead, pag->tts.lead, 500);

    ngx_conf_merge_str_value(ag->greeting, pag->greeting, "");
    ngx_conf_merge_str_value(ag->apology, pag->apology,
                             "Sorry, I am having trouble right now. "
                             "Could you say that again?");
    ngx_conf_merge_str_value(ag->tts.apology_audio, pag->tts.apology_audio,
                             "");
    ngx_conf_merge_msec_value(ag->max_call_duration, pag->max_call_duration,
                              0);
    ngx_conf_merge_str_value(ag->goodbye, pag->goodbye,
                             "We have reached the time limit for this call. "
                             "Goodbye!");

    if (ag->apology.len == 3 && ngx_strncmp(ag->apology.data, "off", 3) == 0)
    {
        ag->apology.len = 0;
    }
    ngx_conf_merge_msec_value(ag->vad_silence, pag->vad_silence, 500);
    ngx_conf_merge_msec_value(ag->vad_min_speech, pag->vad_min_speech, 200);
    ngx_conf_merge_value(ag->barge_in, pag->barge_in, 1);
    ngx_conf_merge_msec_value(ag->barge_in_min_speech,
                              pag->barge_in_min_speech, 200);
    ngx_conf_merge_value(ag->greeting_interruptible,
                         pag->greeting_interruptible, 1);
    ngx_conf_merge_uint_value(ag->barge_in_words, pag->barge_in_words, 1);
    ngx_conf_merge_value(ag->barge_in_resume, pag->barge_in_resume, 1);
    ngx_conf_merge_value(ag->echo_margin, pag->echo_margin,
                         NGX_HTTP_VOICE_AGENT_ECHO_MARGIN);
    ngx_conf_merge_msec_value(ag->echo_delay, pag->echo_delay,
                              NGX_HTTP_VOICE_AGENT_ECHO_DELAY_MS);
    ngx_conf_merge_value(ag->speculative, pag->speculative, 0);
    ngx_conf_merge_msec_value(ag->speculative_silence,
                              pag->speculative_silence, 200);

    rv = ngx_http_voice_merge_stt_stream(cf, ag, pag);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    ngx_conf_merge_msec_value(ag->max_utterance, pag->max_utterance, 30000);
    ngx_conf_merge_msec_value(ag->dtmf_timeout, pag->dtmf_timeout, 1000);

    if (conf->stream.max_message < 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_max_message\" must be at least 1k");
        return NGX_CONF_ERROR;
    }

    if (conf->stream.max_pending < 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_max_pending\" must be at least 4k");
        return NGX_CONF_ERROR;
    }

    if (ag->llm.max_reply == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_llm_max_reply\" must be more than 0");
        return NGX_CONF_ERROR;
    }

    /* a lead shorter than one media message would never send one */

    if (ag->tts.lead < 20) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_playout_lead\" must be at least 20ms");
        return NGX_CONF_ERROR;
    }

    /* the history holds the caller's words of the turn too */

    if (ag->llm.max_history < 1 || ag->llm.max_history > 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_llm_max_history\" must be 1 to 1000");
        return NGX_CONF_ERROR;
    }

    /* the pre-roll holds what came before the onset was confirmed */

    if (ag->vad_min_speech < 20
        || ag->vad_min_speech > NGX_HTTP_VOICE_AGENT_PREROLL_MS)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_vad_min_speech\" must be 20ms to %dms",
                           NGX_HTTP_VOICE_AGENT_PREROLL_MS);
        return NGX_CONF_ERROR;
    }

    if (ag->barge_in_min_speech < 20
        || ag->barge_in_min_speech > NGX_HTTP_VOICE_AGENT_PREROLL_MS)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_barge_in_min_speech\" must be 20ms to "
                           "%dms", NGX_HTTP_VOICE_AGENT_PREROLL_MS);
        return NGX_CONF_ERROR;
    }

    /* the echo detector tells delays apart up to that */

    if (ag->echo_delay < 20 || ag->echo_delay > VOICE_ECHO_MAX_DELAY_MS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_barge_in_echo_delay\" must be 20ms to "
                           "%dms", VOICE_ECHO_MAX_DELAY_MS);
        return NGX_CONF_ERROR;
    }

    if (ag->vad_silence < 100) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_vad_silence\" must be at least 100ms");
        return NGX_CONF_ERROR;
    }

    if (ag->speculative && (ag->speculative_silence < 20
                            || ag->speculative_silence >= ag->vad_silence))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_speculative_silence\" must be at least "
                           "20ms and less than \"voice_vad_silence\" (%M)",
                           ag->vad_silence);
        return NGX_CONF_ERROR;
    }

    if (conf->signature.token_lifetime < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_stream_token_lifetime\" must be at "
                           "least 1s");
        return NGX_CONF_ERROR;
    }

    me = &ngx_http_voice_modes[conf->mode];

    conf->stream.mode = me->mode;
    conf->stream.mode_conf = (me->conf == NGX_CONF_UNSET_SIZE)
                             ? NULL : (char *) conf + me->conf;
    conf->stream.signature = &conf->signature;

    if (conf->handler_location == NULL) {
        return NGX_CONF_OK;
    }

    if (conf->twiml && conf->webhook.stream_url == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_twiml\" in location \"%V\" requires "
                           "\"voice_stream_url\"", conf->handler_location);
        return NGX_CONF_ERROR;
    }

    if (!conf->twiml && me->check) {
        rv = me->check(cf, conf);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    rv = ngx_http_voice_token_check(cf, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (conf->signature.auth_token.len == 0) {
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


/*
 * voice_stream_token needs the auth token it signs with, and the name
 * of its <Parameter> is its own.
 */

static char *
ngx_http_voice_token_check(ngx_conf_t *cf, ngx_http_voice_loc_conf_t *conf)
{
    ngx_uint_t                       i;
    ngx_http_voice_webhook_param_t  *param;

    if (conf->signature.auth_token.len == 0) {

        if (conf->signature.stream_token == 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"voice_stream_token on\" in location "
                               "\"%V\" requires \"voice_twilio_auth_token\"",
                               conf->handler_location);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (!conf->twiml || conf->signature.stream_token == 0
        || conf->webhook.params == NULL)
    {
        return NGX_CONF_OK;
    }

    param = conf->webhook.params->elts;

    for (i = 0; i < conf->webhook.params->nelts; i++) {
        if (param[i].name.len == sizeof(VOICE_TOKEN_NAME) - 1
            && ngx_strncmp(param[i].name.data, VOICE_TOKEN_NAME,
                           sizeof(VOICE_TOKEN_NAME) - 1)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"voice_stream_parameter " VOICE_TOKEN_NAME
                               "\" in location \"%V\" is the one "
                               "\"voice_stream_token\" adds",
                               conf->handler_location);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voice_agent_check(ngx_conf_t *cf, ngx_http_voice_loc_conf_t *conf)
{
    if ((conf->agent.stt.uri.len == 0
         && conf->agent.stt_stream.upstream.url.len == 0)
        || conf->agent.llm.uri.len == 0 || conf->agent.tts.uri.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"voice_media_stream agent\" in location \"%V\" "
                           "requires \"voice_stt\" (or \"voice_stt_stream\"), "
                           "\"voice_llm\" and \"voice_tts\"",
                           conf->handler_location);
        return NGX_CONF_ERROR;
    }

    return ngx_http_voice_tool_check_conf(cf, &conf->agent.llm.tool);
}


/* the streaming recognizer: a URL, inherited whole, and its client */

static char *
ngx_http_voice_merge_stt_stream(ngx_conf_t *cf,
    ngx_http_voice_agent_conf_t *conf, ngx_http_voice_agent_conf_t *prev)
{
    u_char                          **w;
    voice_words_t                    *word;
    ngx_http_voice_upstream_conf_t   *u, *pu;

    u = &conf->stt_stream.upstream;
    pu = &prev->stt_stream.upstream;

    if (u->url.len == 0 && pu->url.len) {
        u->url = pu->url;
        u->host = pu->host;
        u->port = pu->port;
        u->uri = pu->uri;
        u->addrs = pu->addrs;
        u->naddrs = pu->naddrs;
        u->secure = pu->secure;
#if (NGX_HTTP_SSL)
        u->ssl = pu->ssl;
#endif
    }

    ngx_conf_merge_ptr_value(u->headers, pu->headers, NULL);
    ngx_conf_merge_msec_value(u->connect_timeout, pu->connect_timeout, 5000);
    ngx_conf_merge_msec_value(u->read_timeout, pu->read_timeout, 30000);
#if (NGX_HTTP_SSL)
    ngx_conf_merge_value(u->ssl_verify, pu->ssl_verify, 1);
    ngx_conf_merge_str_value(u->ssl_trusted_certificate,
                             pu->ssl_trusted_certificate, "");
#endif
    u->max_message = 64 * 1024;

    ngx_conf_merge_uint_value(conf->stt_stream.dialect,
                              prev->stt_stream.dialect,
                              NGX_HTTP_VOICE_STT_STREAM_DEEPGRAM);
    ngx_conf_merge_msec_value(conf->stt_stream.timeout,
                              prev->stt_stream.timeout, 1000);

    conf->stt_stream.model = conf->stt.model;
    conf->stt_stream.language = conf->stt.language;

    if (conf->barge_in_ignore == NGX_CONF_UNSET_PTR) {

        if (prev->barge_in_ignore == NGX_CONF_UNSET_PTR) {
            prev->barge_in_ignore = ngx_array_create(cf->pool, 5,
                                                     sizeof(voice_words_t));
            if (prev->barge_in_ignore == NULL) {
                return NGX_CONF_ERROR;
            }

            for (w = ngx_http_voice_backchannels; *w; w++) {
                word = ngx_array_push(prev->barge_in_ignore);
                if (word == NULL) {
                    return NGX_CONF_ERROR;
                }

                word->word = *w;
                word->len = ngx_strlen(*w);
            }
        }

        conf->barge_in_ignore = prev->barge_in_ignore;
    }

    return ngx_http_voice_upstream_merge(cf, u, "voice_stt_stream");
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
    ngx_http_voice_webhook_param_t    *param;
    ngx_http_compile_complex_value_t   ccv;

    if (vlcf->webhook.params == NGX_CONF_UNSET_PTR) {
        vlcf->webhook.params = ngx_array_create(cf->pool, 4,
                                      sizeof(ngx_http_voice_webhook_param_t));
        if (vlcf->webhook.params == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    param = ngx_array_push(vlcf->webhook.params);
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
        vlcf->mode = 0;
        return NGX_CONF_OK;
    }

    value = cf->args->elts;

    for (i = 0; ngx_http_voice_modes[i].mode; i++) {
        if (value[1].len == ngx_http_voice_modes[i].mode->name.len
            && ngx_strcmp(value[1].data,
                          ngx_http_voice_modes[i].mode->name.data) == 0)
        {
            vlcf->mode = i;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid mode \"%V\", it must be \"agent\" or "
                       "\"echo\"", &value[1]);

    return NGX_CONF_ERROR;
}


/*
 * voice_apology_audio: a file of μ-law 8 kHz, or a WAV file of PCM16 mono
 * at any rate played, converted once at load and kept for every call.
 */

static char *
ngx_http_voice_apology_audio(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    int                 format;
    off_t               size;
    size_t              used, cap, len;
    u_char             *raw, *out;
    ssize_t             n;
    ngx_str_t          *value, name;
    ngx_file_t          file;
    ngx_file_info_t     fi;
    voice_tts_audio_t   conv;

    if (vlcf->agent.tts.apology_audio.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = name;
    file.log = cf->log;

    file.fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", name.data);
        return NGX_CONF_ERROR;
    }

    raw = NULL;
    size = 0;

    if (ngx_fd_info(file.fd, &fi) != NGX_FILE_ERROR) {
        size = ngx_file_size(&fi);

        if (size > 0 && size <= NGX_HTTP_VOICE_APOLOGY_MAX) {
            raw = ngx_pnalloc(cf->temp_pool, size);
        }
    }

    n = raw ? ngx_read_file(&file, raw, size, 0) : NGX_ERROR;

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", name.data);
    }

    if (n != size || size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" cannot be read, or is empty or more than "
                           "%d bytes", name.data, NGX_HTTP_VOICE_APOLOGY_MAX);
        return NGX_CONF_ERROR;
    }

    format = (size >= 12 && ngx_strncmp(raw, "RIFF", 4) == 0
              && ngx_strncmp(raw + 8, "WAVE", 4) == 0)
             ? VOICE_TTS_AUDIO_WAV : VOICE_TTS_AUDIO_ULAW;

    /* PCM16 at 1000 Hz at the lowest: 4 μ-law bytes per byte, at most */

    cap = (format == VOICE_TTS_AUDIO_WAV) ? (size_t) size * 4 + 64
                                         : (size_t) size;

    out = ngx_pnalloc(cf->pool, cap);
    if (out == NULL
        || voice_tts_audio_init(&conv, format, VOICE_G711_RATE) != 0)
    {
        return NGX_CONF_ERROR;
    }

    len = voice_tts_audio_convert(&conv, raw, size, &used, out, cap);

    if (voice_tts_audio_failed(&conv) || len == 0) {
        voice_tts_audio_free(&conv);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" is neither μ-law 8 kHz nor a WAV file "
                           "of PCM16 mono", name.data);
        return NGX_CONF_ERROR;
    }

    voice_tts_audio_free(&conv);

    vlcf->agent.tts.apology_audio.data = out;
    vlcf->agent.tts.apology_audio.len = len;

    return NGX_CONF_OK;
}


static char *
ngx_http_voice_tts_format(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    ngx_int_t   rate;
    ngx_str_t  *value;

    if (vlcf->agent.tts.format != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "ulaw_8000") == 0) {
        vlcf->agent.tts.format = VOICE_TTS_AUDIO_ULAW;
        vlcf->agent.tts.rate = VOICE_G711_RATE;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "wav") == 0) {
        vlcf->agent.tts.format = VOICE_TTS_AUDIO_WAV;
        vlcf->agent.tts.rate = 0;
        return NGX_CONF_OK;
    }

    if (value[1].len > 4 && ngx_strncmp(value[1].data, "pcm_", 4) == 0) {
        rate = ngx_atoi(value[1].data + 4, value[1].len - 4);

        if (rate == 8000 || rate == 16000 || rate == 22050 || rate == 24000
            || rate == 44100)
        {
            vlcf->agent.tts.format = VOICE_TTS_AUDIO_PCM;
            vlcf->agent.tts.rate = rate;
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


static char *
ngx_http_voice_stt_stream(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    ngx_str_t  *value;

    if (vlcf->agent.stt_stream.upstream.url.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_http_voice_upstream_parse_url(cf,
                                             &vlcf->agent.stt_stream.upstream,
                                             &value[1]);
}


static char *
ngx_http_voice_stt_stream_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    ngx_str_t                         *value;
    ngx_array_t                      **headers;
    ngx_http_voice_upstream_header_t  *h;
    ngx_http_compile_complex_value_t   ccv;

    headers = &vlcf->agent.stt_stream.upstream.headers;

    if (*headers == NGX_CONF_UNSET_PTR) {
        *headers = ngx_array_create(cf->pool, 2,
                                    sizeof(ngx_http_voice_upstream_header_t));
        if (*headers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    h = ngx_array_push(*headers);
    if (h == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty header name";
    }

    h->name = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &h->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voice_barge_in_ignore(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    ngx_str_t      *value;
    ngx_uint_t      i;
    voice_words_t  *word;

    if (vlcf->agent.barge_in_ignore != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    vlcf->agent.barge_in_ignore = ngx_array_create(cf->pool,
                                                   cf->args->nelts - 1,
                                                   sizeof(voice_words_t));
    if (vlcf->agent.barge_in_ignore == NULL) {
        return NGX_CONF_ERROR;
    }

    /* "voice_barge_in_ignore off;": every word counts */

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        word = ngx_array_push(vlcf->agent.barge_in_ignore);
        if (word == NULL) {
            return NGX_CONF_ERROR;
        }

        word->word = value[i].data;
        word->len = value[i].len;
    }

    return NGX_CONF_OK;
}


/* "off": the fixed margin while the agent speaks, as before */

static char *
ngx_http_voice_barge_in_echo_margin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_voice_loc_conf_t  *vlcf = conf;

    ngx_str_t  *value;
    ngx_int_t   n;

    if (vlcf->agent.echo_margin != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        vlcf->agent.echo_margin = NGX_HTTP_VOICE_AGENT_ECHO_OFF;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n > 40) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be 0 to 40 (dB) or \"off\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    vlcf->agent.echo_margin = n;

    return NGX_CONF_OK;
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
    ngx_http_voice_stream_t  *call;

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
    ngx_http_voice_stream_t  *call;

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
    ngx_http_voice_stream_t  *call;

    call = ngx_http_get_module_ctx(r->main, ngx_http_voice_module);

    if (call == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ms = (ngx_msec_int_t) ((call->end ? call->end : ngx_current_msec)
                           - call->start);
    ms = ngx_max(ms, 0);

    v->len = ngx_sprintf(p, "%T.%03M", (time_t) ms / 1000, ms % 1000) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* Twilio's first step of a call: the signed voice webhook, via libcurl */

#ifndef SIM_WEBHOOK_H
#define SIM_WEBHOOK_H

#include "conf.h"
#include "stream.h"


/*
 * POSTs a ringing call's parameters to cf->url, signed with cf->token,
 * and takes the <Stream url> and its <Parameter>s from the TwiML, and
 * the CallSid posted, into the stream.  Failure is fatal.
 */
void sim_webhook_run(const sim_conf_t *cf, sim_stream_t *stream);

#endif /* SIM_WEBHOOK_H */

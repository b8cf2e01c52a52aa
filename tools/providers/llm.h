/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * OpenAI's chat completions endpoint, answered by a shop's small FAQ,
 * streamed word by word as Server-Sent Events.
 */

#ifndef VP_LLM_H
#define VP_LLM_H

#include "http.h"


/* POST /v1/chat/completions */
void vp_llm_handle(vp_http_conn_t *c);

#endif /* VP_LLM_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* OpenAI's transcriptions endpoint, answered by pocketsphinx */

#ifndef VP_STT_H
#define VP_STT_H

#include "http.h"


#define VP_STT_MODEL_DIR  "/usr/share/pocketsphinx/model/en-us"


/* loads the model from vp_conf.model_dir, and the FAQ grammar: 0 or -1 */
int vp_stt_init(void);

/* POST /v1/audio/transcriptions */
void vp_stt_handle(vp_http_conn_t *c);

void vp_stt_free(void);

#endif /* VP_STT_H */

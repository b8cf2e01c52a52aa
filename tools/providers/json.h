/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* request bodies and WebSocket messages as JSON, through yajl's tree */

#ifndef VP_JSON_H
#define VP_JSON_H

#include <yajl/yajl_tree.h>

#include "http.h"


/*
 * The body as a JSON object, or NULL after answering 400.  Nesting is
 * bounded first: yajl's tree is freed recursively.
 */
yajl_val vp_json_body(vp_http_conn_t *c);

/* the same for any bytes: NULL with *err saying why, answering nothing */
yajl_val vp_json_parse(const uint8_t *data, size_t len, const char **err);

/* v[key] if it is a string, else NULL */
const char *vp_json_str(yajl_val v, const char *key);

#endif /* VP_JSON_H */

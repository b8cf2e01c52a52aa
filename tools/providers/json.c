/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdlib.h>
#include <string.h>

#include "json.h"


#define VP_JSON_DEPTH_MAX  64


static const char  vp_json_nomem[] = "out of memory";


yajl_val
vp_json_body(vp_http_conn_t *c)
{
    yajl_val     root;
    const char  *err;

    root = vp_json_parse(c->body, c->body_len, &err);

    if (root == NULL) {
        vp_http_error(c, err == vp_json_nomem ? 500 : 400, err);
    }

    return root;
}


yajl_val
vp_json_parse(const uint8_t *data, size_t len, const char **err)
{
    int        depth, in_str;
    char      *text, msg[256];
    size_t     i;
    uint8_t    ch;
    yajl_val   root;

    depth = 0;
    in_str = 0;

    for (i = 0; i < len; i++) {
        ch = data[i];

        if (in_str) {
            if (ch == '\\') {
                i++;

            } else if (ch == '"') {
                in_str = 0;
            }

        } else if (ch == '"') {
            in_str = 1;

        } else if (ch == '{' || ch == '[') {
            if (++depth > VP_JSON_DEPTH_MAX) {
                *err = "JSON nested too deep";
                return NULL;
            }

        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }

    text = malloc(len + 1);
    if (text == NULL) {
        *err = vp_json_nomem;
        return NULL;
    }

    memcpy(text, data, len);
    text[len] = '\0';

    msg[0] = '\0';
    root = yajl_tree_parse(text, msg, sizeof(msg));
    free(text);

    if (root == NULL || !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        *err = "not a JSON object";
        return NULL;
    }

    return root;
}


const char *
vp_json_str(yajl_val v, const char *key)
{
    const char  *path[2];

    path[0] = key;
    path[1] = NULL;

    v = yajl_tree_get(v, path, yajl_t_string);

    return v ? YAJL_GET_STRING(v) : NULL;
}

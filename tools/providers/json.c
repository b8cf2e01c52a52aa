/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdlib.h>
#include <string.h>

#include "json.h"


#define VP_JSON_DEPTH_MAX  64


yajl_val
vp_json_body(vp_http_conn_t *c)
{
    int        depth, in_str;
    char      *text, err[256];
    size_t     i;
    uint8_t    ch;
    yajl_val   root;

    depth = 0;
    in_str = 0;

    for (i = 0; i < c->body_len; i++) {
        ch = c->body[i];

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
                vp_http_error(c, 400, "JSON nested too deep");
                return NULL;
            }

        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }

    text = malloc(c->body_len + 1);
    if (text == NULL) {
        vp_http_error(c, 500, "out of memory");
        return NULL;
    }

    memcpy(text, c->body, c->body_len);
    text[c->body_len] = '\0';

    err[0] = '\0';
    root = yajl_tree_parse(text, err, sizeof(err));
    free(text);

    if (root == NULL || !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        vp_http_error(c, 400, "the body is not a JSON object");
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

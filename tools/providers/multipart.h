/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* multipart/form-data bodies (RFC 7578), as the STT endpoint takes them */

#ifndef VP_MULTIPART_H
#define VP_MULTIPART_H

#include <stddef.h>
#include <stdint.h>


#define VP_MULTIPART_PARTS_MAX  16


typedef struct {
    char            name[64];
    const uint8_t  *data;
    size_t          len;
} vp_multipart_part_t;


/* the parts, by the name in each one's Content-Disposition; 0 or -1 */
int vp_multipart_parse(const uint8_t *body, size_t len,
    const char *boundary, vp_multipart_part_t *parts, int *nparts);

/* the part of that name, or NULL */
const vp_multipart_part_t *vp_multipart_find(
    const vp_multipart_part_t *parts, int n, const char *name);

#endif /* VP_MULTIPART_H */

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "multipart.h"


int
vp_multipart_parse(const uint8_t *body, size_t len, const char *boundary,
    vp_multipart_part_t *parts, int *nparts)
{
    int             n;
    char            delim[96], disp[1024];
    size_t          dlen, k;
    const uint8_t  *p, *end, *q, *data, *hend, *line, *le, *next;

    dlen = snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    end = body + len;

    /* the first delimiter may open the body, without a CRLF before it */

    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;

    } else {
        p = memmem(body, len, delim, dlen);
        if (p == NULL) {
            return -1;
        }

        p += dlen;
    }

    n = 0;

    for ( ;; ) {
        /* "--" closes the body, else padding and CRLF open a part */

        if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            *nparts = n;
            return 0;
        }

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            return -1;
        }

        p += 2;

        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p;
            data = p + 2;

        } else {
            q = memmem(p, end - p, "\r\n\r\n", 4);
            if (q == NULL) {
                return -1;
            }

            hend = q + 2;
            data = q + 4;
        }

        next = memmem(data, end - data, delim, dlen);
        if (next == NULL) {
            return -1;
        }

        if (n < VP_MULTIPART_PARTS_MAX) {
            parts[n].name[0] = '\0';
            parts[n].data = data;
            parts[n].len = next - data;

            for (line = p; line < hend; line = le + 2) {
                le = memmem(line, hend - line, "\r\n", 2);
                if (le == NULL) {
                    break;
                }

                k = le - line;

                if (k > 20 && k < sizeof(disp)
                    && strncasecmp((const char *) line,
                                   "content-disposition:", 20) == 0)
                {
                    memcpy(disp, line + 20, k - 20);
                    disp[k - 20] = '\0';
                    (void) vp_http_param(disp, "name", parts[n].name,
                                    sizeof(parts[n].name));
                }
            }

            n++;
        }

        p = next + dlen;
    }
}


const vp_multipart_part_t *
vp_multipart_find(const vp_multipart_part_t *parts, int n, const char *name)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (strcmp(parts[i].name, name) == 0) {
            return &parts[i];
        }
    }

    return NULL;
}

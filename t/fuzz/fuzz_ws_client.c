/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The handshake on arbitrary bytes.  The response reader never reads
 * past its input, never takes more than the head limit, and comes to the
 * same answer whether the bytes arrive whole or cut at a point taken
 * from the input.  The request writer, given the input as host, path and
 * header, either refuses or writes exactly the lines it says it writes.
 */

#include <stdlib.h>
#include <string.h>

#include "voice_ws_client.h"


#define KEY   "dGhlIHNhbXBsZSBub25jZQ=="

/* a good head, so that the input also goes on from any point of one */
#define HEAD  "HTTP/1.1 101 Switching Protocols\r\n" \
              "Upgrade: websocket\r\nConnection: Upgrade\r\n" \
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"


typedef struct {
    int          rc;
    int          status;
    const char  *error;
    size_t       head;
} answer_t;


static void
read_head(const uint8_t *in, size_t len, size_t cut, answer_t *a)
{
    size_t                      used;
    voice_ws_client_response_t  r;

    voice_ws_client_response_init(&r, KEY);

    a->rc = voice_ws_client_response(&r, in, cut, &used);
    a->head = used;

    if (used > cut || (a->rc == VOICE_WS_CLIENT_AGAIN && used != cut)) {
        abort();
    }

    if (a->rc == VOICE_WS_CLIENT_AGAIN) {
        a->rc = voice_ws_client_response(&r, in + cut, len - cut, &used);
        a->head += used;

        if (used > len - cut) {
            abort();
        }
    }

    if (a->head > VOICE_WS_CLIENT_MAX_HEAD
        || (a->rc == VOICE_WS_CLIENT_ERROR) != (r.error != NULL))
    {
        abort();
    }

    a->status = r.status;
    a->error = r.error;
}


static void
write_request(const uint8_t *data, size_t size)
{
    size_t                    n, i, lines, third;
    uint8_t                  *out;
    voice_ws_client_header_t  h;

    third = size / 3;

    h.name = data + third;
    h.name_len = third;
    h.value = data + 2 * third;
    h.value_len = size - 2 * third;

    n = voice_ws_client_request(NULL, data, third, data + third, third, KEY,
                                &h, 1);
    if (n == 0) {
        return;
    }

    out = malloc(n);

    if (voice_ws_client_request(out, data, third, data + third, third, KEY,
                                &h, 1)
        != n)
    {
        abort();
    }

    /* the request line, five headers, the caller's and the blank line */

    lines = 0;

    for (i = 0; i < n; i++) {
        if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') {
            if (out[i] != '\r' || i + 1 == n || out[i + 1] != '\n') {
                abort();
            }

            lines++;
            i++;
        }
    }

    if (lines != 8 || memcmp(out + n - 4, "\r\n\r\n", 4) != 0) {
        abort();
    }

    free(out);
}


static void
same(const uint8_t *in, size_t len, size_t cut)
{
    answer_t  whole, split;

    read_head(in, len, len, &whole);
    read_head(in, len, cut, &split);

    if (whole.rc != split.rc || whole.status != split.status
        || whole.head != split.head
        || (whole.error == NULL) != (split.error == NULL)
        || (whole.error && strcmp(whole.error, split.error) != 0))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t    k;
    uint8_t  *in;

    if (size < 1) {
        return 0;
    }

    same(data + 1, size - 1, data[0] % size);

    k = data[0] % sizeof(HEAD);
    in = malloc(k + size - 1);
    memcpy(in, HEAD, k);
    memcpy(in + k, data + 1, size - 1);

    same(in, k + size - 1, (k + data[0]) % (k + size));

    free(in);

    write_request(data, size);

    return 0;
}

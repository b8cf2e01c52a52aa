/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <string.h>

#include <openssl/evp.h>

#include "voice_buf.h"
#include "voice_ws_client.h"


#define VOICE_WS_CLIENT_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


/* where the response reader is */
enum {
    VOICE_WS_CLIENT_S_PROTO = 0,        /* "HTTP/1." */
    VOICE_WS_CLIENT_S_MINOR,
    VOICE_WS_CLIENT_S_SP,
    VOICE_WS_CLIENT_S_CODE,
    VOICE_WS_CLIENT_S_CODE_END,
    VOICE_WS_CLIENT_S_REASON,
    VOICE_WS_CLIENT_S_LF,               /* after CR: LF, then r->after */
    VOICE_WS_CLIENT_S_LINE,             /* a header, a fold or the end */
    VOICE_WS_CLIENT_S_NAME,
    VOICE_WS_CLIENT_S_VALUE,
    VOICE_WS_CLIENT_S_DONE,
    VOICE_WS_CLIENT_S_ERROR
};

/* the headers the handshake looks at */
enum {
    VOICE_WS_CLIENT_H_NONE = -1,        /* no header line yet */
    VOICE_WS_CLIENT_H_OTHER = 0,
    VOICE_WS_CLIENT_H_UPGRADE,
    VOICE_WS_CLIENT_H_CONNECTION,
    VOICE_WS_CLIENT_H_ACCEPT,
    VOICE_WS_CLIENT_H_EXTENSIONS
};


static int voice_ws_client_token(uint8_t c);
static int voice_ws_client_clean(const uint8_t *p, size_t len, int value);
static size_t voice_ws_client_line(uint8_t *out, size_t at, const char *name,
    const uint8_t *value, size_t value_len);
static void voice_ws_client_match(voice_ws_client_match_t *m,
    const char *want, int c);
static void voice_ws_client_value(voice_ws_client_response_t *r, int c);
static int voice_ws_client_name(voice_ws_client_response_t *r);
static int voice_ws_client_byte(voice_ws_client_response_t *r, uint8_t c);
static int voice_ws_client_done(voice_ws_client_response_t *r);
static int voice_ws_client_fail(voice_ws_client_response_t *r,
    const char *why);


void
voice_ws_client_key(const uint8_t nonce[16], char *key)
{
    EVP_EncodeBlock((unsigned char *) key, nonce, 16);
}


int
voice_ws_client_accept(const char *key, size_t key_len, char *accept)
{
    uint8_t       buf[128];
    unsigned int  n;
    uint8_t       sha1[EVP_MAX_MD_SIZE];

    if (key_len > sizeof(buf) - (sizeof(VOICE_WS_CLIENT_GUID) - 1)) {
        return 0;
    }

    memcpy(buf, key, key_len);
    memcpy(buf + key_len, VOICE_WS_CLIENT_GUID,
           sizeof(VOICE_WS_CLIENT_GUID) - 1);

    if (!EVP_Digest(buf, key_len + sizeof(VOICE_WS_CLIENT_GUID) - 1, sha1,
                    &n, EVP_sha1(), NULL)
        || n != 20)
    {
        return 0;
    }

    EVP_EncodeBlock((unsigned char *) accept, sha1, 20);

    return 1;
}


/* tchar of RFC 7230, 3.2.6 */

static int
voice_ws_client_token(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z'))
    {
        return 1;
    }

    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


/*
 * Host and path: no control characters, no spaces, not empty; a value:
 * no control characters but HTAB.  CR, LF and NUL are controls.
 */

static int
voice_ws_client_clean(const uint8_t *p, size_t len, int value)
{
    size_t  i;

    if (!value && len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (p[i] == 0x7f || (p[i] < 0x20 && !(value && p[i] == '\t'))
            || (!value && p[i] == ' '))
        {
            return 0;
        }
    }

    return 1;
}


/* "<name>: <value>" CRLF, at out + at */

static size_t
voice_ws_client_line(uint8_t *out, size_t at, const char *name,
    const uint8_t *value, size_t value_len)
{
    size_t  len;

    len = voice_buf_str(out, at, name);
    len += voice_buf_str(out, at + len, ": ");
    len += voice_buf_mem(out, at + len, value, value_len);
    len += voice_buf_str(out, at + len, "\r\n");

    return len;
}


size_t
voice_ws_client_request(uint8_t *out, const uint8_t *host, size_t host_len,
    const uint8_t *path, size_t path_len, const char *key,
    const voice_ws_client_header_t *headers, size_t n)
{
    size_t                           i, j, len;
    const voice_ws_client_header_t  *h;

    if (!voice_ws_client_clean(host, host_len, 0)
        || !voice_ws_client_clean(path, path_len, 0)
        || !voice_ws_client_clean((const uint8_t *) key, strlen(key), 0))
    {
        return 0;
    }

    for (i = 0; i < n; i++) {
        h = &headers[i];

        if (h->name_len == 0
            || !voice_ws_client_clean(h->value, h->value_len, 1))
        {
            return 0;
        }

        for (j = 0; j < h->name_len; j++) {
            if (!voice_ws_client_token(h->name[j])) {
                return 0;
            }
        }
    }

    len = voice_buf_str(out, 0, "GET ");
    len += voice_buf_mem(out, len, path, path_len);
    len += voice_buf_str(out, len, " HTTP/1.1\r\n");
    len += voice_ws_client_line(out, len, "Host", host, host_len);
    len += voice_ws_client_line(out, len, "Upgrade",
                                (const uint8_t *) "websocket", 9);
    len += voice_ws_client_line(out, len, "Connection",
                                (const uint8_t *) "Upgrade", 7);
    len += voice_ws_client_line(out, len, "Sec-WebSocket-Key",
                                (const uint8_t *) key, strlen(key));
    len += voice_ws_client_line(out, len, "Sec-WebSocket-Version",
                                (const uint8_t *) "13", 2);

    for (i = 0; i < n; i++) {
        h = &headers[i];
        len += voice_buf_mem(out, len, h->name, h->name_len);
        len += voice_ws_client_line(out, len, "", h->value, h->value_len);
    }

    len += voice_buf_str(out, len, "\r\n");

    return len;
}


void
voice_ws_client_response_init(voice_ws_client_response_t *r,
    const char *key)
{
    memset(r, 0, sizeof(*r));
    r->header = VOICE_WS_CLIENT_H_NONE;

    r->upgrade.list = 1;
    r->upgrade.caseless = 1;
    r->connection.list = 1;
    r->connection.caseless = 1;
    r->extensions.list = 1;

    if (!voice_ws_client_accept(key, strlen(key), r->expect)) {
        (void) voice_ws_client_fail(r, "sha-1 failed");
    }
}


/*
 * One byte of a value, or -1 at the end of its line: white space (and
 * commas, in a list) ends a word.
 */

static void
voice_ws_client_match(voice_ws_client_match_t *m, const char *want, int c)
{
    if (c < 0 || c == ' ' || c == '\t' || (m->list && c == ',')) {
        if (m->in_word && !m->miss && want[m->pos] == '\0') {
            m->found = 1;
        }

        m->in_word = 0;
        return;
    }

    if (!m->in_word) {
        m->in_word = 1;
        m->words++;
        m->pos = 0;
        m->miss = 0;
    }

    if (m->miss) {
        return;
    }

    if (m->caseless && c >= 'A' && c <= 'Z') {
        c |= 0x20;
    }

    if (want[m->pos] != '\0' && c == (uint8_t) want[m->pos]) {
        m->pos++;

    } else {
        m->miss = 1;
    }
}


static void
voice_ws_client_value(voice_ws_client_response_t *r, int c)
{
    switch (r->header) {
    case VOICE_WS_CLIENT_H_UPGRADE:
        voice_ws_client_match(&r->upgrade, "websocket", c);
        break;
    case VOICE_WS_CLIENT_H_CONNECTION:
        voice_ws_client_match(&r->connection, "upgrade", c);
        break;
    case VOICE_WS_CLIENT_H_ACCEPT:
        voice_ws_client_match(&r->accept, r->expect, c);
        break;
    case VOICE_WS_CLIENT_H_EXTENSIONS:
        voice_ws_client_match(&r->extensions, "", c);
        break;
    }
}


/* the header the name just read is, its case folded already */

static int
voice_ws_client_name(voice_ws_client_response_t *r)
{
    size_t  i;
    static const char *const  names[] = {
        "upgrade", "connection", "sec-websocket-accept",
        "sec-websocket-extensions"
    };

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (r->name_len == strlen(names[i])
            && memcmp(r->name, names[i], r->name_len) == 0)
        {
            return VOICE_WS_CLIENT_H_UPGRADE + (int) i;
        }
    }

    return VOICE_WS_CLIENT_H_OTHER;
}


static int
voice_ws_client_fail(voice_ws_client_response_t *r, const char *why)
{
    r->state = VOICE_WS_CLIENT_S_ERROR;
    r->error = why;

    return VOICE_WS_CLIENT_ERROR;
}


/* the head is complete: is it the answer RFC 6455, 4.1 requires */

static int
voice_ws_client_done(voice_ws_client_response_t *r)
{
    if (r->upgrade.words != 1 || !r->upgrade.found) {
        return voice_ws_client_fail(r, "no upgrade to websocket");
    }

    if (!r->connection.found) {
        return voice_ws_client_fail(r, "no connection upgrade");
    }

    if (r->accept.words == 0) {
        return voice_ws_client_fail(r, "no sec-websocket-accept");
    }

    if (r->accept.words != 1 || !r->accept.found) {
        return voice_ws_client_fail(r, "wrong sec-websocket-accept");
    }

    if (r->extensions.words) {
        return voice_ws_client_fail(r, "unrequested extension");
    }

    r->state = VOICE_WS_CLIENT_S_DONE;

    return VOICE_WS_CLIENT_OK;
}


static int
voice_ws_client_byte(voice_ws_client_response_t *r, uint8_t c)
{
    static const char  proto[] = "HTTP/1.";

    switch (r->state) {

    case VOICE_WS_CLIENT_S_PROTO:
        if (c != (uint8_t) proto[r->name_len]) {
            return voice_ws_client_fail(r, "not an http response");
        }

        if (++r->name_len == sizeof(proto) - 1) {
            r->state = VOICE_WS_CLIENT_S_MINOR;
        }

        break;

    case VOICE_WS_CLIENT_S_MINOR:
        if (c < '0' || c > '9') {
            return voice_ws_client_fail(r, "not an http response");
        }

        r->state = VOICE_WS_CLIENT_S_SP;
        break;

    case VOICE_WS_CLIENT_S_SP:
        if (c != ' ') {
            return voice_ws_client_fail(r, "bad status line");
        }

        r->state = VOICE_WS_CLIENT_S_CODE;
        break;

    case VOICE_WS_CLIENT_S_CODE:
        if (c == ' ' && r->digits == 0) {
            break;
        }

        if (c < '0' || c > '9') {
            return voice_ws_client_fail(r, "bad status line");
        }

        r->status = r->status * 10 + (c - '0');

        if (++r->digits == 3) {
            r->state = VOICE_WS_CLIENT_S_CODE_END;
        }

        break;

    case VOICE_WS_CLIENT_S_CODE_END:
        if (c != ' ' && c != '\r' && c != '\n') {
            return voice_ws_client_fail(r, "bad status line");
        }

        if (r->status != 101) {
            return voice_ws_client_fail(r, "not switching protocols");
        }

        /* fall through */

    case VOICE_WS_CLIENT_S_REASON:
        r->state = VOICE_WS_CLIENT_S_REASON;

        if (c == '\r') {
            r->state = VOICE_WS_CLIENT_S_LF;
            r->after = VOICE_WS_CLIENT_S_LINE;

        } else if (c == '\n') {
            r->state = VOICE_WS_CLIENT_S_LINE;
        }

        break;

    case VOICE_WS_CLIENT_S_LF:
        if (c != '\n') {
            return voice_ws_client_fail(r, "cr without lf");
        }

        if (r->after == VOICE_WS_CLIENT_S_DONE) {
            return voice_ws_client_done(r);
        }

        r->state = r->after;
        break;

    case VOICE_WS_CLIENT_S_LINE:
        if (c == '\r') {
            r->state = VOICE_WS_CLIENT_S_LF;
            r->after = VOICE_WS_CLIENT_S_DONE;
            break;
        }

        if (c == '\n') {
            return voice_ws_client_done(r);
        }

        /* obs-fold: the line goes on with the previous header's value */

        if (c == ' ' || c == '\t') {
            if (r->header == VOICE_WS_CLIENT_H_NONE) {
                return voice_ws_client_fail(r, "bad header line");
            }

            r->state = VOICE_WS_CLIENT_S_VALUE;
            break;
        }

        r->name_len = 0;
        r->state = VOICE_WS_CLIENT_S_NAME;

        /* fall through */

    case VOICE_WS_CLIENT_S_NAME:
        if (c == ':' && r->name_len > 0) {
            r->header = voice_ws_client_name(r);
            r->state = VOICE_WS_CLIENT_S_VALUE;
            break;
        }

        if (!voice_ws_client_token(c)) {
            return voice_ws_client_fail(r, "bad header line");
        }

        /* a name too long for the buffer is no name we look for */

        if (r->name_len < VOICE_WS_CLIENT_NAME_MAX) {
            r->name[r->name_len] = (c >= 'A' && c <= 'Z') ? (c | 0x20) : c;
        }

        if (r->name_len <= VOICE_WS_CLIENT_NAME_MAX) {
            r->name_len++;
        }

        break;

    case VOICE_WS_CLIENT_S_VALUE:
        if (c == '\r' || c == '\n') {
            voice_ws_client_value(r, -1);

            r->state = c == '\r' ? VOICE_WS_CLIENT_S_LF
                                 : VOICE_WS_CLIENT_S_LINE;
            r->after = VOICE_WS_CLIENT_S_LINE;
            break;
        }

        if (c == 0x7f || (c < 0x20 && c != '\t')) {
            return voice_ws_client_fail(r, "bad header value");
        }

        voice_ws_client_value(r, c);
        break;
    }

    return VOICE_WS_CLIENT_AGAIN;
}


int
voice_ws_client_response(voice_ws_client_response_t *r, const uint8_t *in,
    size_t len, size_t *used)
{
    int     rc;
    size_t  i;

    *used = 0;

    if (r->state == VOICE_WS_CLIENT_S_DONE) {
        return VOICE_WS_CLIENT_OK;
    }

    if (r->state == VOICE_WS_CLIENT_S_ERROR) {
        return VOICE_WS_CLIENT_ERROR;
    }

    for (i = 0; i < len; i++) {
        if (++r->head_len > VOICE_WS_CLIENT_MAX_HEAD) {
            *used = i;
            return voice_ws_client_fail(r, "response head too large");
        }

        rc = voice_ws_client_byte(r, in[i]);

        if (rc != VOICE_WS_CLIENT_AGAIN) {
            *used = i + 1;
            return rc;
        }
    }

    *used = len;

    return VOICE_WS_CLIENT_AGAIN;
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The client's opening handshake: the key and accept of RFC 6455's own
 * example, the request byte for byte with nothing injectable, and the
 * response read the same at every split, with every way a server may
 * refuse, mistype or overflow it told apart.
 */

#include "unit.h"
#include "voice_ws_client.h"


/* RFC 6455, 1.3: the nonce "the sample nonce" and its accept value */
#define KEY     "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define HEAD    "HTTP/1.1 101 Switching Protocols\r\n" \
                "Upgrade: websocket\r\n" \
                "Connection: Upgrade\r\n" \
                "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"

/* a frame the server sent right behind its head */
#define FRAME   "\x81\x02hi"


/* heads a server may send, and what the client makes of them */

#define S(s)  s, sizeof(s) - 1

static const struct {
    const char  *head;
    size_t       len;
    int          rc;
    int          status;
    const char  *error;
} heads[] = {

    /* the plain answer, and the same with every liberty HTTP allows */
    { S(HEAD), VOICE_WS_CLIENT_OK, 101, NULL },
    { S("HTTP/1.1 101\r\nupgrade: WebSocket\r\nCONNECTION: upgrade\r\n"
      "sec-websocket-ACCEPT: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_OK, 101, NULL },
    { S("HTTP/1.1 101 Switching Protocols\n"
      "Upgrade:websocket\nConnection:Upgrade\n"
      "Sec-WebSocket-Accept:" ACCEPT "\n\n"),
      VOICE_WS_CLIENT_OK, 101, NULL },
    { S("HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: \t websocket \t \r\n"
      "Connection: keep-alive, Upgrade,\r\n"
      "Sec-WebSocket-Accept:   " ACCEPT "  \r\n"
      "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
      "X-A-Header-Name-Far-Longer-Than-Thirty-Two-Bytes: x\r\n\r\n"),
      VOICE_WS_CLIENT_OK, 101, NULL },

    /* obs-fold: a value carried on to the next line */
    { S("HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade:\r\n websocket\r\n"
      "Connection: keep-alive,\r\n\tUpgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_OK, 101, NULL },
    { S("HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: web\r\n socket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "no upgrade to websocket" },
    { S("HTTP/1.1 101 Switching Protocols\r\n"
      " Upgrade: websocket\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "bad header line" },

    /* the accept value: missing, wrong, doubled or padded inside */
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "no sec-websocket-accept" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "wrong sec-websocket-accept" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "wrong sec-websocket-accept" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "=\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "wrong sec-websocket-accept" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "wrong sec-websocket-accept" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "wrong sec-websocket-accept" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYG zzhZRbK+xOo=\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "wrong sec-websocket-accept" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "wrong sec-websocket-accept" },

    /* Upgrade and Connection: missing, or not quite the word */
    { S("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "no upgrade to websocket" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websockets\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "no upgrade to websocket" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket, h2c\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "no upgrade to websocket" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "no connection upgrade" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgraded, keep-alive\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "no connection upgrade" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "X-Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "no connection upgrade" },

    /* an extension the client never asked for changes the framing */
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "unrequested extension" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n"
      "Sec-WebSocket-Extensions:  \r\n\r\n"),
      VOICE_WS_CLIENT_OK, 101, NULL },

    /* refusals: the status is known as soon as it is read */
    { S("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 401, "not switching protocols" },
    { S("HTTP/1.1 200 OK\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 200, "not switching protocols" },
    { S("HTTP/1.0 302 Found\r\n"),
      VOICE_WS_CLIENT_ERROR, 302, "not switching protocols" },
    { S("HTTP/1.1 503\r\n"),
      VOICE_WS_CLIENT_ERROR, 503, "not switching protocols" },
    { S("HTTP/1.1 1010 Switching Protocols\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "bad status line" },
    { S("HTTP/1.1 10 Switching Protocols\r\n"),
      VOICE_WS_CLIENT_ERROR, 10, "bad status line" },
    { S("HTTP/1.1101 Switching Protocols\r\n"),
      VOICE_WS_CLIENT_ERROR, 0, "bad status line" },
    { S("HTTP/2 101\r\n"), VOICE_WS_CLIENT_ERROR, 0, "not an http response" },
    { S("SSH-2.0-OpenSSH\r\n"), VOICE_WS_CLIENT_ERROR, 0,
      "not an http response" },
    { S("\x81\x05hello"), VOICE_WS_CLIENT_ERROR, 0, "not an http response" },

    /* lines HTTP does not have */
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade : websocket\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "bad header line" },
    { S("HTTP/1.1 101 Switching Protocols\r\n: websocket\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "bad header line" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade\r\n\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "bad header line" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUp\"grade: websocket\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "bad header line" },
    { S("HTTP/1.1 101 Switching Protocols\rUpgrade: websocket\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "cr without lf" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: web\rsocket\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "cr without lf" },
    { S("HTTP/1.1 101 Switching Protocols\r\n\r\r"),
      VOICE_WS_CLIENT_ERROR, 101, "cr without lf" },
    { S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: web\0socket\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "bad header value" },
    { S("HTTP/1.1 101 Switching Protocols\r\nX: \x7f\r\n"),
      VOICE_WS_CLIENT_ERROR, 101, "bad header value" }
};


/* feeds a head in pieces of "step" bytes after a first of "cut" */

static int
feed(voice_ws_client_response_t *r, const uint8_t *in, size_t len,
    size_t cut, size_t step, size_t *head)
{
    int     rc;
    size_t  at, n, used;

    voice_ws_client_response_init(r, KEY);

    at = 0;
    *head = 0;
    rc = VOICE_WS_CLIENT_AGAIN;

    while (at < len) {
        n = at == 0 ? cut : step;
        n = n < len - at ? n : len - at;

        rc = voice_ws_client_response(r, in + at, n, &used);

        if (rc == VOICE_WS_CLIENT_AGAIN && used != n) {
            return -2;
        }

        *head += used;
        at += n;

        if (rc != VOICE_WS_CLIENT_AGAIN) {
            break;
        }
    }

    return rc;
}


static void
test_key(void)
{
    char  key[VOICE_WS_CLIENT_KEY_LEN + 1];
    char  accept[VOICE_WS_CLIENT_ACCEPT_LEN + 1];

    memset(key, 'x', sizeof(key));
    voice_ws_client_key((const uint8_t *) "the sample nonce", key);
    CHECK_STR(key, KEY);
    CHECK_INT(strlen(key), VOICE_WS_CLIENT_KEY_LEN);

    CHECK_INT(voice_ws_client_accept(KEY, strlen(KEY), accept), 1);
    CHECK_STR(accept, ACCEPT);
    CHECK_INT(strlen(accept), VOICE_WS_CLIENT_ACCEPT_LEN);

    /* every nonce byte reaches the key */
    voice_ws_client_key((const uint8_t *)
                        "\x00\x00\x00\x00\x00\x00\x00\x00"
                        "\x00\x00\x00\x00\x00\x00\x00\x01", key);
    CHECK_STR(key, "AAAAAAAAAAAAAAAAAAAAAQ==");
}


/* extra headers that would add a line or break one */

#define H(name, value)  { (const uint8_t *) name, sizeof(name) - 1, \
                          (const uint8_t *) value, sizeof(value) - 1 }

static const voice_ws_client_header_t  bad[] = {
    H("", "v"), H("X Y", "v"), H("X:Y", "v"), H("X\r", "v"),
    H("X\n", "v"), H("X\0", "v"), H("X\"", "v"), H("X(", "v"),
    H("X@", "v"), H("\xc3\xa9", "v"),
    H("X", "a\rb"), H("X", "a\nb"), H("X", "a\r\nX-Injected: 1"),
    H("X", "a\0b"), H("X", "\x1b"), H("X", "\x7f")
};

static const voice_ws_client_header_t  good =
    H("X-Ok!#$%&'*+-.^_`|~09", "caf\xc3\xa9 \t");


static void
test_request(void)
{
    size_t                    n, i;
    uint8_t                   out[512];
    voice_ws_client_header_t  h[2] = {
        H("Authorization", "Token k\ty"), H("X-Empty", "")
    };
    static const char         want[] =
        "GET /v1/listen?encoding=mulaw&sample_rate=8000 HTTP/1.1\r\n"
        "Host: api.deepgram.com\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: " KEY "\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Authorization: Token k\ty\r\n"
        "X-Empty: \r\n"
        "\r\n";
    static const char *const  paths[] = {
        "/a\rb", "/a\nb", "/a b", "/a\tb", "", "/a\x7f"
    };


    n = voice_ws_client_request(out, (const uint8_t *) "api.deepgram.com",
            16, (const uint8_t *) "/v1/listen?encoding=mulaw&sample_rate=8000",
            42, KEY, h, 2);
    CHECK_MEM(out, n, want, sizeof(want) - 1);
    CHECK_INT(voice_ws_client_request(NULL,
                  (const uint8_t *) "api.deepgram.com", 16,
                  (const uint8_t *) "/v1/listen?encoding=mulaw"
                  "&sample_rate=8000", 42, KEY, h, 2), n);

    /* no extra headers; a port and an IPv6 literal are hosts too */
    n = voice_ws_client_request(out, (const uint8_t *) "[::1]:8443", 10,
                                (const uint8_t *) "/", 1, KEY, NULL, 0);
    CHECK_INT(n, sizeof("GET / HTTP/1.1\r\nHost: [::1]:8443\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: " KEY "\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n") - 1);

    /* whatever the caller passes cannot start a line of its own */

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        CHECK_INT(voice_ws_client_request(NULL, (const uint8_t *) "h", 1,
                      (const uint8_t *) paths[i], strlen(paths[i]), KEY,
                      NULL, 0), 0);
        CHECK_INT(voice_ws_client_request(NULL, (const uint8_t *) paths[i],
                      strlen(paths[i]), (const uint8_t *) "/", 1, KEY,
                      NULL, 0), 0);
    }

    CHECK_INT(voice_ws_client_request(NULL, (const uint8_t *) "h\0x", 3,
                  (const uint8_t *) "/", 1, KEY, NULL, 0), 0);
    CHECK_INT(voice_ws_client_request(NULL, (const uint8_t *) "h", 1,
                  (const uint8_t *) "/\0", 2, KEY, NULL, 0), 0);
    CHECK_INT(voice_ws_client_request(NULL, (const uint8_t *) "h", 1,
                  (const uint8_t *) "/", 1, "k\r\nX: y", NULL, 0), 0);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(voice_ws_client_request(out, (const uint8_t *) "h", 1,
                      (const uint8_t *) "/", 1, KEY, &bad[i], 1), 0);
    }

    /* the second header is as checked as the first */
    h[1].name = (const uint8_t *) "X-Bad\r\n";
    h[1].name_len = 7;
    CHECK_INT(voice_ws_client_request(NULL, (const uint8_t *) "h", 1,
                  (const uint8_t *) "/", 1, KEY, h, 2), 0);

    /* and every token character in a name, UTF-8 in a value, are fine */
    CHECK(voice_ws_client_request(NULL, (const uint8_t *) "h", 1,
              (const uint8_t *) "/", 1, KEY, &good, 1) > 0);
}


/* every head read whole, at every split in two, and a byte at a time */

static void
test_heads(void)
{
    int                         rc, ok;
    size_t                      i, cut, len, head, wrong;
    uint8_t                     in[1024];
    voice_ws_client_response_t  r;

    for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        len = heads[i].len;
        memcpy(in, heads[i].head, len);
        memcpy(in + len, FRAME, sizeof(FRAME) - 1);

        wrong = 0;

        for (cut = 0; cut <= len + sizeof(FRAME) - 1; cut++) {
            rc = feed(&r, in, len + sizeof(FRAME) - 1, cut ? cut : 1,
                      len + sizeof(FRAME), &head);

            ok = rc == heads[i].rc && r.status == heads[i].status
                 && (heads[i].error ? r.error
                                      && strcmp(r.error, heads[i].error)
                                         == 0
                                    : r.error == NULL);

            /* the frame behind a good head is never taken for head */
            if (rc == VOICE_WS_CLIENT_OK && head != len) {
                ok = 0;
            }

            if (!ok) {
                wrong++;
                if (wrong == 1) {
                    UNIT_FAIL("head %zu cut %zu: rc %d status %d \"%s\"",
                              i, cut, rc, r.status,
                              r.error ? r.error : "");
                }
            }
        }

        CHECK_INT(wrong, 0);

        rc = feed(&r, in, len + sizeof(FRAME) - 1, 1, 1, &head);
        CHECK_INT(rc, heads[i].rc);

        if (rc == VOICE_WS_CLIENT_OK) {
            CHECK_INT(head, len);
        }
    }
}


static void
test_edges(void)
{
    int                         rc;
    size_t                      used, n;
    uint8_t                     big[VOICE_WS_CLIENT_MAX_HEAD + 64];
    voice_ws_client_response_t  r;
    static const char           tail[] = "\r\n\r\n";

    /* nothing yet: AGAIN, all used */
    voice_ws_client_response_init(&r, KEY);
    CHECK_INT(voice_ws_client_response(&r, (const uint8_t *) "", 0, &used),
              VOICE_WS_CLIENT_AGAIN);
    CHECK_INT(used, 0);
    CHECK_INT(voice_ws_client_response(&r, (const uint8_t *) "HTTP/1.1 10",
                                       11, &used),
              VOICE_WS_CLIENT_AGAIN);
    CHECK_INT(used, 11);
    CHECK_INT(r.status, 10);
    CHECK(r.error == NULL);

    /* done is done: the same answer again, nothing used */
    voice_ws_client_response_init(&r, KEY);
    rc = voice_ws_client_response(&r, (const uint8_t *) HEAD FRAME,
                                  sizeof(HEAD FRAME) - 1, &used);
    CHECK_INT(rc, VOICE_WS_CLIENT_OK);
    CHECK_INT(used, sizeof(HEAD) - 1);
    CHECK_INT(voice_ws_client_response(&r, (const uint8_t *) FRAME,
                                       sizeof(FRAME) - 1, &used),
              VOICE_WS_CLIENT_OK);
    CHECK_INT(used, 0);

    voice_ws_client_response_init(&r, KEY);
    rc = voice_ws_client_response(&r, (const uint8_t *) "HTTP/1.1 401 No\r\n",
                                  17, &used);
    CHECK_INT(rc, VOICE_WS_CLIENT_ERROR);
    CHECK_INT(used, 13);
    CHECK_INT(voice_ws_client_response(&r, (const uint8_t *) HEAD,
                                       sizeof(HEAD) - 1, &used),
              VOICE_WS_CLIENT_ERROR);
    CHECK_INT(used, 0);
    CHECK_STR(r.error, "not switching protocols");

    /* another key: the sample's accept is wrong for it */
    voice_ws_client_response_init(&r, "AAAAAAAAAAAAAAAAAAAAAQ==");
    CHECK_INT(voice_ws_client_response(&r, (const uint8_t *) HEAD,
                                       sizeof(HEAD) - 1, &used),
              VOICE_WS_CLIENT_ERROR);
    CHECK_STR(r.error, "wrong sec-websocket-accept");

    /* a head of exactly the limit is read, one byte more is not */

    n = sizeof(HEAD) - 1 - 2;
    memcpy(big, HEAD, n);
    memcpy(big + n, "X: ", 3);
    memset(big + n + 3, 'a', VOICE_WS_CLIENT_MAX_HEAD - n - 3 - 4);
    memcpy(big + VOICE_WS_CLIENT_MAX_HEAD - 4, tail, 4);

    voice_ws_client_response_init(&r, KEY);
    CHECK_INT(voice_ws_client_response(&r, big, VOICE_WS_CLIENT_MAX_HEAD,
                                       &used),
              VOICE_WS_CLIENT_OK);
    CHECK_INT(used, VOICE_WS_CLIENT_MAX_HEAD);

    memset(big + n + 3, 'a', VOICE_WS_CLIENT_MAX_HEAD - n - 3 - 3);
    memcpy(big + VOICE_WS_CLIENT_MAX_HEAD - 3, tail, 4);

    voice_ws_client_response_init(&r, KEY);
    CHECK_INT(voice_ws_client_response(&r, big, VOICE_WS_CLIENT_MAX_HEAD + 1,
                                       &used),
              VOICE_WS_CLIENT_ERROR);
    CHECK_INT(used, VOICE_WS_CLIENT_MAX_HEAD);
    CHECK_STR(r.error, "response head too large");
    CHECK_INT(r.status, 101);

    /* the limit holds across reads too */
    voice_ws_client_response_init(&r, KEY);
    CHECK_INT(voice_ws_client_response(&r, big, 4096, &used),
              VOICE_WS_CLIENT_AGAIN);
    CHECK_INT(voice_ws_client_response(&r, big + 4096,
                                       VOICE_WS_CLIENT_MAX_HEAD + 1 - 4096,
                                       &used),
              VOICE_WS_CLIENT_ERROR);
    CHECK_INT(used, VOICE_WS_CLIENT_MAX_HEAD - 4096);
}


int
main(void)
{
    test_key();
    test_request();
    test_heads();
    test_edges();

    UNIT_DONE("ws_client");
}

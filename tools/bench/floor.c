/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The floor of make bench BENCH=side: a bare epoll server that does what
 * an echo call cannot do without, and nothing else.  It answers the
 * WebSocket handshake, and for each inbound media message sends the
 * payload back as Twilio-shaped outbound media to the same streamSid;
 * "stop" closes with 1000, and the socket goes with the caller's close.
 * The syscalls are the module's: one read() per readable socket, one
 * write() of all that read calls for.  No JSON parser, no validation, no
 * base64 decoding: the messages are searched for the strings that
 * matter, so what it costs is about what the kernel costs.
 *
 *   floor PORT
 */

#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/sha.h>


#define FLOOR_IN    8192               /* a media message is 300 bytes */
#define FLOOR_OUT   (2 * FLOOR_IN)
#define FLOOR_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


typedef struct {
    int       fd;
    int       open;                     /* the handshake is done */
    int       closing;                  /* our close frame is sent */
    int       done;                     /* close once the write is out */
    size_t    in_len;
    uint8_t   in[FLOOR_IN];
} floor_conn_t;


static void floor_accept(int ep, int lfd);
static void floor_read(floor_conn_t *c);
static size_t floor_handshake(floor_conn_t *c, uint8_t *out);
static size_t floor_frames(floor_conn_t *c, uint8_t *out);
static size_t floor_message(floor_conn_t *c, uint8_t *data, size_t len,
    uint8_t *out);
static const uint8_t *floor_value(const uint8_t *data, size_t len,
    const char *key, size_t *vlen);
static size_t floor_header(uint8_t *out, int opcode, size_t len);
static void floor_close(floor_conn_t *c);


int
main(int argc, char **argv)
{
    int                 ep, lfd, one, i, n;
    struct rlimit       rl;
    struct sockaddr_in  sin;
    struct epoll_event  ev, evs[256];

    if (argc != 2) {
        fprintf(stderr, "usage: floor PORT\n");
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t) atoi(argv[1]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(lfd, (struct sockaddr *) &sin, sizeof(sin)) != 0
        || listen(lfd, 4096) != 0)
    {
        perror("floor: bind");
        return 1;
    }

    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

    for ( ;; ) {
        n = epoll_wait(ep, evs, 256, -1);

        for (i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                floor_accept(ep, lfd);

            } else {
                floor_read(evs[i].data.ptr);
            }
        }
    }
}


static void
floor_accept(int ep, int lfd)
{
    int                 fd, one;
    floor_conn_t       *c;
    struct epoll_event  ev;

    for ( ;; ) {
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            return;
        }

        one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        /* not calloc(): the buffer's pages are touched only as used */

        c = malloc(sizeof(floor_conn_t));
        if (c == NULL) {
            close(fd);
            return;
        }

        c->fd = fd;
        c->open = 0;
        c->closing = 0;
        c->done = 0;
        c->in_len = 0;
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}


/*
 * One read, one write.  The write is assumed to go whole: a caller's
 * 50 messages a second never fill a socket buffer that is read.
 */

static void
floor_read(floor_conn_t *c)
{
    size_t   len;
    ssize_t  n;
    uint8_t  out[FLOOR_OUT];

    n = read(c->fd, c->in + c->in_len, FLOOR_IN - c->in_len);

    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) {
            return;
        }

        floor_close(c);
        return;
    }

    c->in_len += n;

    len = c->open ? floor_frames(c, out) : floor_handshake(c, out);

    if (len && write(c->fd, out, len) < 0) {
        floor_close(c);
        return;
    }

    if (c->done || c->in_len == FLOOR_IN) {
        floor_close(c);
    }
}


static size_t
floor_handshake(floor_conn_t *c, uint8_t *out)
{
    char      *key, *end, cat[128], acc[32];
    size_t     klen, rest;
    uint8_t    digest[SHA_DIGEST_LENGTH];

    c->in[c->in_len < FLOOR_IN ? c->in_len : FLOOR_IN - 1] = '\0';

    end = strstr((char *) c->in, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }

    key = strcasestr((char *) c->in, "Sec-WebSocket-Key:");
    if (key == NULL) {
        c->done = 1;
        return 0;
    }

    key += sizeof("Sec-WebSocket-Key:") - 1;
    key += strspn(key, " ");
    klen = strcspn(key, "\r");

    if (klen > 64) {
        c->done = 1;
        return 0;
    }

    snprintf(cat, sizeof(cat), "%.*s%s", (int) klen, key, FLOOR_GUID);
    SHA1((uint8_t *) cat, strlen(cat), digest);
    EVP_EncodeBlock((uint8_t *) acc, digest, SHA_DIGEST_LENGTH);

    end += 4;
    rest = c->in_len - (end - (char *) c->in);
    memmove(c->in, end, rest);
    c->in_len = rest;
    c->open = 1;

    return sprintf((char *) out, "HTTP/1.1 101 Switching Protocols\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
}


/* the complete client frames in c->in; what they call for, into out */

static size_t
floor_frames(floor_conn_t *c, uint8_t *out)
{
    int       opcode;
    size_t    off, hlen, plen, i, len;
    uint8_t  *p, *mask;

    off = 0;
    len = 0;

    while (c->in_len - off >= 6 && !c->done) {
        p = c->in + off;
        opcode = p[0] & 0x0f;
        plen = p[1] & 0x7f;
        hlen = 2;

        if (plen == 126) {
            plen = (size_t) p[2] << 8 | p[3];
            hlen = 4;

        } else if (plen == 127) {
            c->done = 1;                /* 64 KB or more: no caller */
            break;
        }

        if (c->in_len - off < hlen + 4 + plen) {
            break;
        }

        mask = p + hlen;
        p += hlen + 4;

        for (i = 0; i < plen; i++) {
            p[i] ^= mask[i & 3];
        }

        if (opcode == 0x8) {
            if (!c->closing) {
                len += floor_header(out + len, 0x8, 2);
                memcpy(out + len, "\x03\xe8", 2);
                len += 2;
            }

            c->done = 1;

        } else if (opcode == 0x1 && !c->closing) {
            len += floor_message(c, p, plen, out + len);
        }

        off += hlen + 4 + plen;
    }

    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;

    return len;
}


static size_t
floor_message(floor_conn_t *c, uint8_t *data, size_t len, uint8_t *out)
{
    size_t          n, slen, plen, body;
    const uint8_t  *event, *sid, *payload;

    event = floor_value(data, len, "\"event\":\"", &n);

    if (event && n == 4 && memcmp(event, "stop", 4) == 0) {
        n = floor_header(out, 0x8, 2);
        memcpy(out + n, "\x03\xe8", 2);
        c->closing = 1;
        return n + 2;
    }

    if (event == NULL || n != 5 || memcmp(event, "media", 5) != 0) {
        return 0;
    }

    sid = floor_value(data, len, "\"streamSid\":\"", &slen);
    payload = floor_value(data, len, "\"payload\":\"", &plen);

    if (sid == NULL || payload == NULL || slen > 64 || plen > 4096) {
        return 0;
    }

    body = sizeof("{\"event\":\"media\",\"streamSid\":\"\","
                  "\"media\":{\"payload\":\"\"}}") - 1 + slen + plen;

    n = floor_header(out, 0x1, body);
    n += sprintf((char *) out + n, "{\"event\":\"media\",\"streamSid\":\""
                 "%.*s\",\"media\":{\"payload\":\"%.*s\"}}", (int) slen,
                 sid, (int) plen, payload);

    return n;
}


/* the string value after key, up to its closing quote */

static const uint8_t *
floor_value(const uint8_t *data, size_t len, const char *key, size_t *vlen)
{
    size_t          klen;
    const uint8_t  *v, *end;

    klen = strlen(key);
    v = memmem(data, len, key, klen);
    if (v == NULL) {
        return NULL;
    }

    v += klen;
    end = memchr(v, '"', data + len - v);
    if (end == NULL) {
        return NULL;
    }

    *vlen = end - v;

    return v;
}


static size_t
floor_header(uint8_t *out, int opcode, size_t len)
{
    out[0] = (uint8_t) (0x80 | opcode);

    if (len < 126) {
        out[1] = (uint8_t) len;
        return 2;
    }

    out[1] = 126;
    out[2] = (uint8_t) (len >> 8);
    out[3] = (uint8_t) len;

    return 4;
}


/* closing the socket takes it out of the epoll set */

static void
floor_close(floor_conn_t *c)
{
    close(c->fd);
    free(c);
}

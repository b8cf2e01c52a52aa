/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * voice-sim: plays Twilio's part of phone calls against the module.
 *
 * Signs and POSTs the voice webhook, reads the TwiML, opens the Media
 * Stream with a signed handshake, sends connected/start and the caller's
 * audio in 20 ms media messages, and plays the outbound audio back in
 * real time the way Twilio does: marks return when playback reaches them,
 * "clear" empties the buffer and returns the pending marks.  Many calls
 * run at once on one epoll loop, for load tests.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "voice_g711.h"
#include "voice_resample.h"
#include "voice_twilio.h"
#include "voice_wav.h"
#include "voice_ws.h"


#define SIM_FRAME       160             /* 20 ms of μ-law */
#define SIM_MSG_MAX     (256 * 1024)
#define SIM_MARKS_MAX   256
#define SIM_SAY_MAX     32
#define SIM_GUID        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


enum {
    st_connecting = 0,
    st_tls,
    st_handshake,
    st_open,
    st_closing,
    st_done
};


typedef struct {
    char           name[VOICE_TWILIO_NAME_MAX + 1];
    size_t         at;                  /* playout position it follows */
} sim_mark_t;


/* one thing the caller says in a scripted call (--say) */

typedef struct {
    const char    *text;
    uint8_t       *audio;               /* μ-law 8 kHz */
    size_t         len;
    int            interrupt_ms;        /* start while the agent speaks */
} sim_say_t;


/* what the caller's side saw of one turn */

typedef struct {
    double         t_said;              /* caller started */
    double         t_end;               /* caller stopped */
    double         t_reply;             /* first agent audio after it */
} sim_turn_t;


typedef struct {
    int            id;
    int            fd;
    SSL           *ssl;
    int            state;
    int            failed;
    const char    *why;

    char           call_sid[40];
    char           stream_sid[40];
    char           key[32];

    uint8_t       *out;                 /* bytes to send */
    size_t         out_len;
    size_t         out_size;

    uint8_t        in[65536];           /* handshake response */
    size_t         in_len;

    voice_ws_parser_t      ws;
    uint8_t               *msg;
    voice_twilio_parser_t  tp;
    voice_twilio_msg_t     tm;

    size_t         sent;                /* caller audio bytes sent */
    unsigned long  seq;
    int            stop_sent;

    uint8_t       *play;                /* outbound audio received */
    size_t         play_len;
    size_t         play_size;
    size_t         played;              /* playout position */
    sim_mark_t     marks[SIM_MARKS_MAX];
    int            nmarks;

    int16_t       *heard;               /* as played, gaps as silence */
    size_t         heard_len;
    size_t         heard_size;

    int16_t       *call_wav;            /* stereo: caller, agent */
    size_t         call_len;            /* frames */
    size_t         call_size;

    /* a scripted call: what is said when */
    int            say;                 /* the next or current --say */
    size_t         say_pos;
    int            saying;
    int            talking;             /* the agent's audio plays */
    int            awaiting;            /* a turn waits for its reply */
    double         t_talk;              /* agent started / went quiet */
    double         t_said_end;
    sim_turn_t     turns[SIM_SAY_MAX];

    double         t_start;
    double         t_open;
    double         t_first_in;          /* first caller media sent */
    double         t_first_out;         /* first agent media received */
    double         t_last_out;
    double         t_audio_end;

    unsigned long  media_out;
    unsigned long  marks_in;
    unsigned long  marks_back;
    unsigned long  clears;
    int            close_code;
} sim_call_t;


typedef struct {
    const char    *url;
    const char    *stream_url;
    const char    *token;
    const char    *play;
    const char    *play_ulaw;
    const char    *record;
    const char    *record_raw;
    const char    *save_sent;
    const char    *dtmf;
    const char    *record_call;
    sim_say_t      says[SIM_SAY_MAX];
    int            nsays;
    int            pause_ms;
    int            live;
    int            calls;
    int            ramp_ms;
    int            silence_after;
    int            fast;
    int            drain_ms;
    int            json;
    int            timeout;
    int            insecure;
    int            verbose;
} sim_conf_t;


static sim_conf_t   conf;

static void synthesize(sim_say_t *say);
static uint8_t *load_wav(const char *file, int raw_ulaw, size_t *out_len);
static int          ep;
static SSL_CTX     *ssl_ctx;

static char         host[256], port[8], path[2048], stream_url[2048];
static char         authority[300];
static int          tls;
static voice_twilio_param_t  params[VOICE_TWILIO_PARAMS_MAX];
static unsigned     nparams;

static uint8_t     *audio;              /* the caller's μ-law */
static size_t       audio_len;


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
die(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    fprintf(stderr, "voice-sim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);

    exit(2);
}


static void *
grow(void *p, size_t *size, size_t need, size_t elt)
{
    size_t  n;

    if (need <= *size) {
        return p;
    }

    n = *size ? *size : 4096;

    while (n < need) {
        n *= 2;
    }

    p = realloc(p, n * elt);
    if (p == NULL) {
        die("out of memory");
    }

    *size = n;

    return p;
}


static void
b64(const uint8_t *in, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *) out, in, (int) len);
}


/* base64(HMAC-SHA1(token, url + sorted name+value)) */

static void
sign(const char *url, const char **names, const char **values, int n,
    char *out)
{
    int            i, j;
    unsigned int   len;
    const char    *t;
    char          *data;
    size_t         size;
    uint8_t        digest[20];

    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            t = names[j]; names[j] = names[j - 1]; names[j - 1] = t;
            t = values[j]; values[j] = values[j - 1]; values[j - 1] = t;
        }
    }

    size = strlen(url) + 1;

    for (i = 0; i < n; i++) {
        size += strlen(names[i]) + strlen(values[i]);
    }

    data = malloc(size);
    strcpy(data, url);

    for (i = 0; i < n; i++) {
        strcat(data, names[i]);
        strcat(data, values[i]);
    }

    HMAC(EVP_sha1(), conf.token, (int) strlen(conf.token),
         (uint8_t *) data, strlen(data), digest, &len);
    b64(digest, 20, out);

    free(data);
}


static size_t
curl_body(char *ptr, size_t size, size_t n, void *data)
{
    char    **body = data;
    size_t    old;

    old = *body ? strlen(*body) : 0;

    *body = realloc(*body, old + size * n + 1);
    memcpy(*body + old, ptr, size * n);
    (*body)[old + size * n] = '\0';

    return size * n;
}


static void
xml_unescape(char *s)
{
    char  *r, *w;
    long   c;

    for (r = w = s; *r; ) {
        if (*r != '&') {
            *w++ = *r++;
            continue;
        }

        if (strncmp(r, "&amp;", 5) == 0) { *w++ = '&'; r += 5; }
        else if (strncmp(r, "&lt;", 4) == 0) { *w++ = '<'; r += 4; }
        else if (strncmp(r, "&gt;", 4) == 0) { *w++ = '>'; r += 4; }
        else if (strncmp(r, "&quot;", 6) == 0) { *w++ = '"'; r += 6; }
        else if (strncmp(r, "&apos;", 6) == 0) { *w++ = '\''; r += 6; }
        else if (r[1] == '#') {
            c = strtol(r + 2, &r, 10);
            *w++ = (char) c;
            if (*r == ';') {
                r++;
            }
        } else {
            *w++ = *r++;
        }
    }

    *w = '\0';
}


static char *
xml_attr(const char *tag, const char *name, char *out, size_t cap)
{
    char         pat[64];
    const char  *p, *e;
    size_t       n;

    snprintf(pat, sizeof(pat), "%s=\"", name);

    p = strstr(tag, pat);
    if (p == NULL) {
        return NULL;
    }

    p += strlen(pat);
    e = strchr(p, '"');

    if (e == NULL || (size_t) (e - p) >= cap) {
        return NULL;
    }

    n = e - p;
    memcpy(out, p, n);
    out[n] = '\0';
    xml_unescape(out);

    return out;
}


/* Twilio's first step: the signed webhook, then its TwiML */

static void
webhook(void)
{
    int                 i;
    long                status;
    char                sig[64], call_sid[40], *body, *p, *field;
    CURL               *curl;
    const char         *names[8], *values[8];
    struct curl_slist  *hdrs;

    snprintf(call_sid, sizeof(call_sid), "CA%016lx%016lx",
             (unsigned long) random(), (unsigned long) time(NULL));

    names[0] = "AccountSid"; values[0] = "AC00000000000000000000000000000000";
    names[1] = "ApiVersion"; values[1] = "2010-04-01";
    names[2] = "CallSid";    values[2] = call_sid;
    names[3] = "CallStatus"; values[3] = "ringing";
    names[4] = "Direction";  values[4] = "inbound";
    names[5] = "From";       values[5] = "+15550001111";
    names[6] = "To";         values[6] = "+15550002222";

    curl = curl_easy_init();
    body = NULL;
    field = NULL;

    for (i = 0; i < 7; i++) {
        char  *k, *v, *pair;

        k = curl_easy_escape(curl, names[i], 0);
        v = curl_easy_escape(curl, values[i], 0);
        pair = NULL;

        if (asprintf(&pair, "%s%s%s=%s", field ? field : "", field ? "&" : "",
                     k, v) < 0)
        {
            die("out of memory");
        }

        free(field);
        field = pair;
        curl_free(k);
        curl_free(v);
    }

    hdrs = NULL;

    if (conf.token) {
        char  h[128];

        sign(conf.url, names, values, 7, sig);
        snprintf(h, sizeof(h), "X-Twilio-Signature: %s", sig);
        hdrs = curl_slist_append(hdrs, h);
    }

    curl_easy_setopt(curl, CURLOPT_URL, conf.url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, field);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, curl_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);

    if (conf.insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    if (curl_easy_perform(curl) != CURLE_OK) {
        die("webhook %s failed", conf.url);
    }

    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

    if (status != 200 || body == NULL) {
        die("webhook %s answered %ld", conf.url, status);
    }

    if (!conf.json) {
        printf("webhook: %s -> %ld\n  %s\n", conf.url, status, body);
    }

    p = strstr(body, "<Stream");
    if (p == NULL || xml_attr(p, "url", stream_url, sizeof(stream_url))
                     == NULL)
    {
        die("no <Stream url> in the TwiML");
    }

    for (p = strstr(p, "<Parameter"); p && nparams < VOICE_TWILIO_PARAMS_MAX;
         p = strstr(p + 1, "<Parameter"))
    {
        if (xml_attr(p, "name", params[nparams].name,
                     sizeof(params[nparams].name))
            && xml_attr(p, "value", params[nparams].value,
                        sizeof(params[nparams].value)))
        {
            nparams++;
        }
    }

    free(body);
    free(field);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
}


static void
split_url(const char *url)
{
    const char  *p, *s;
    size_t       n;

    if (strncmp(url, "wss://", 6) == 0) {
        tls = 1;
        p = url + 6;
        strcpy(port, "443");

    } else if (strncmp(url, "ws://", 5) == 0) {
        p = url + 5;
        strcpy(port, "80");

    } else {
        die("stream URL must be ws:// or wss://: %s", url);
    }

    s = strchr(p, '/');
    n = s ? (size_t) (s - p) : strlen(p);

    if (n >= sizeof(host)) {
        die("host too long");
    }

    memcpy(authority, p, n);
    authority[n] = '\0';
    memcpy(host, p, n);
    host[n] = '\0';
    snprintf(path, sizeof(path), "%s", s ? s : "/");

    s = strrchr(host, ':');

    if (s && strchr(host, ']') < s) {
        snprintf(port, sizeof(port), "%s", s + 1);
        host[s - host] = '\0';
    }
}


static void
queue(sim_call_t *c, const void *data, size_t len)
{
    c->out = grow(c->out, &c->out_size, c->out_len + len, 1);
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}


/* a masked client frame */

static void
send_frame(sim_call_t *c, int opcode, const uint8_t *data, size_t len)
{
    size_t   n;
    uint8_t  hdr[VOICE_WS_MAX_HEADER], mask[4];

    RAND_bytes(mask, 4);
    n = voice_ws_frame_header(hdr, opcode, 1, len, mask);

    c->out = grow(c->out, &c->out_size, c->out_len + n + len, 1);
    memcpy(c->out + c->out_len, hdr, n);
    memcpy(c->out + c->out_len + n, data, len);
    voice_ws_mask(c->out + c->out_len + n, len, mask, 0);
    c->out_len += n + len;
}


static void
send_text(sim_call_t *c, const uint8_t *json, size_t len)
{
    if (conf.verbose) {
        fprintf(stderr, "[%d] > %.*s\n", c->id, (int) (len > 200 ? 200 : len),
                json);
    }

    send_frame(c, VOICE_WS_OP_TEXT, json, len);
}


static void
finish(sim_call_t *c, const char *why, int failed)
{
    if (c->state == st_done) {
        return;
    }

    c->state = st_done;
    c->why = why;
    c->failed = failed;

    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }

    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}


static void
flush_out(sim_call_t *c)
{
    ssize_t             n;
    struct epoll_event  ev;

    while (c->out_len) {
        if (c->ssl) {
            n = SSL_write(c->ssl, c->out, (int) c->out_len);

            if (n <= 0) {
                int  e = SSL_get_error(c->ssl, (int) n);

                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    break;
                }

                finish(c, "TLS write failed", 1);
                return;
            }

        } else {
            n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

            if (n < 0) {
                if (errno == EAGAIN) {
                    break;
                }

                finish(c, "send failed", 1);
                return;
            }
        }

        memmove(c->out, c->out + n, c->out_len - n);
        c->out_len -= n;
    }

    ev.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}


static void
start_handshake(sim_call_t *c)
{
    char     req[4096], sig[64], url[2300];
    uint8_t  raw[16];
    int      n;

    RAND_bytes(raw, 16);
    b64(raw, 16, c->key);

    sig[0] = '\0';

    if (conf.token) {
        snprintf(url, sizeof(url), "%s", stream_url);
        sign(url, NULL, NULL, 0, sig);
    }

    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                 path, authority, c->key,
                 conf.token ? "X-Twilio-Signature: " : "", sig,
                 conf.token ? "\r\n" : "");

    queue(c, req, n);
    c->state = st_handshake;
    flush_out(c);
}


static void
open_stream(sim_call_t *c)
{
    size_t   n;
    uint8_t  buf[8192];

    c->state = st_open;
    c->t_open = now();

    n = voice_twilio_build_connected(buf, sizeof(buf));
    send_text(c, buf, n);

    n = voice_twilio_build_start(buf, sizeof(buf), c->stream_sid,
                                 c->call_sid,
                                 "AC00000000000000000000000000000000",
                                 params, nparams);
    send_text(c, buf, n);

    if (conf.dtmf) {
        const char  *d;

        for (d = conf.dtmf; *d; d++) {
            n = voice_twilio_build_dtmf(buf, sizeof(buf), c->stream_sid,
                                        ++c->seq + 1, *d);
            send_text(c, buf, n);
        }
    }

    c->seq = 1;
}


static int
check_handshake(sim_call_t *c)
{
    char           *end, *acc, want[64], cat[128];
    uint8_t         digest[20];

    c->in[c->in_len < sizeof(c->in) ? c->in_len : sizeof(c->in) - 1] = '\0';

    end = strstr((char *) c->in, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }

    if (strncmp((char *) c->in, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "[%d] handshake refused: %.*s\n", c->id,
                (int) (strchr((char *) c->in, '\r') - (char *) c->in),
                (char *) c->in);
        finish(c, "handshake refused", 1);
        return -1;
    }

    snprintf(cat, sizeof(cat), "%s%s", c->key, SIM_GUID);
    SHA1((uint8_t *) cat, strlen(cat), digest);
    b64(digest, 20, want);

    acc = strcasestr((char *) c->in, "Sec-WebSocket-Accept:");

    if (acc == NULL || acc > end || strstr(acc, want) != acc + 22) {
        finish(c, "bad Sec-WebSocket-Accept", 1);
        return -1;
    }

    end += 4;
    c->in_len -= end - (char *) c->in;
    memmove(c->in, end, c->in_len);

    open_stream(c);

    return 1;
}


static void
mark_back(sim_call_t *c, const char *name)
{
    size_t   n;
    uint8_t  buf[512];

    n = voice_twilio_build_mark(buf, sizeof(buf), c->stream_sid, ++c->seq,
                                name);
    send_text(c, buf, n);
    c->marks_back++;
}


static void
on_message(sim_call_t *c, const uint8_t *data, size_t len)
{
    int      i;
    uint8_t  raw[VOICE_TWILIO_PAYLOAD_MAX];
    int      n;

    if (conf.verbose) {
        fprintf(stderr, "[%d] < %.*s\n", c->id, (int) (len > 200 ? 200 : len),
                data);
    }

    if (voice_twilio_parse(&c->tp, data, len, &c->tm) != VOICE_TWILIO_OK) {
        fprintf(stderr, "[%d] bad message from the server: %s\n", c->id,
                c->tp.error);
        return;
    }

    switch (c->tm.event) {

    case VOICE_TWILIO_MEDIA:
        n = EVP_DecodeBlock(raw, (const uint8_t *) c->tm.payload,
                            (int) c->tm.payload_len);
        if (n < 0) {
            fprintf(stderr, "[%d] media payload is not base64\n", c->id);
            return;
        }

        if (c->tm.payload_len >= 1 && c->tm.payload[c->tm.payload_len - 1]
                                      == '=')
        {
            n--;
        }

        if (c->tm.payload_len >= 2 && c->tm.payload[c->tm.payload_len - 2]
                                      == '=')
        {
            n--;
        }

        if (c->media_out++ == 0) {
            c->t_first_out = now();
        }

        c->t_last_out = now();

        c->play = grow(c->play, &c->play_size, c->play_len + n, 1);
        memcpy(c->play + c->play_len, raw, n);
        c->play_len += n;
        return;

    case VOICE_TWILIO_MARK:
        c->marks_in++;

        if (c->nmarks == SIM_MARKS_MAX || c->played >= c->play_len) {
            mark_back(c, c->tm.mark_name);
            return;
        }

        snprintf(c->marks[c->nmarks].name, sizeof(c->marks[0].name), "%s",
                 c->tm.mark_name);
        c->marks[c->nmarks].at = c->play_len;
        c->nmarks++;
        return;

    case VOICE_TWILIO_CLEAR:
        c->clears++;
        c->play_len = c->played;

        for (i = 0; i < c->nmarks; i++) {
            mark_back(c, c->marks[i].name);
        }

        c->nmarks = 0;
        return;
    }
}


static void
on_readable(sim_call_t *c)
{
    int               rc;
    ssize_t           n;
    size_t            used, off;
    uint8_t           buf[16384];
    voice_ws_event_t  ev;

    for ( ;; ) {
        if (c->ssl) {
            n = SSL_read(c->ssl, buf, sizeof(buf));

            if (n <= 0) {
                int  e = SSL_get_error(c->ssl, (int) n);

                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                    return;
                }

                n = 0;
            }

        } else {
            n = recv(c->fd, buf, sizeof(buf), 0);

            if (n < 0 && errno == EAGAIN) {
                return;
            }
        }

        if (n <= 0) {
            if (c->state == st_closing && c->close_code) {
                finish(c, "closed", 0);

            } else {
                finish(c, "server closed the connection", 1);
            }

            return;
        }

        off = 0;

        if (c->state == st_handshake) {
            if (c->in_len + n > sizeof(c->in) - 1) {
                finish(c, "handshake response too long", 1);
                return;
            }

            memcpy(c->in + c->in_len, buf, n);
            c->in_len += n;

            if (check_handshake(c) <= 0) {
                continue;
            }

            memcpy(buf, c->in, c->in_len);
            n = c->in_len;
            c->in_len = 0;
        }

        while (off < (size_t) n && c->state != st_done) {
            rc = voice_ws_parse(&c->ws, buf + off, n - off, &used, &ev);
            off += used;

            switch (rc) {
            case VOICE_WS_AGAIN:
                break;

            case VOICE_WS_MESSAGE:
                on_message(c, ev.data, ev.len);
                break;

            case VOICE_WS_PING:
                send_frame(c, VOICE_WS_OP_PONG, ev.data, ev.len);
                break;

            case VOICE_WS_CLOSE:
                c->close_code = ev.close_code;

                if (c->state != st_closing) {
                    uint8_t  code[2] = { (uint8_t) (ev.close_code >> 8),
                                         (uint8_t) ev.close_code };

                    send_frame(c, VOICE_WS_OP_CLOSE, code, 2);
                    c->state = st_closing;
                }

                break;

            case VOICE_WS_ERROR:
                finish(c, "protocol error from the server", 1);
                return;
            }
        }

        flush_out(c);
    }
}


static void
on_connected(sim_call_t *c)
{
    int        err;
    socklen_t  len;

    len = sizeof(err);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);

    if (err) {
        finish(c, "connect failed", 1);
        return;
    }

    if (!tls) {
        start_handshake(c);
        return;
    }

    c->ssl = SSL_new(ssl_ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, host);
    SSL_set1_host(c->ssl, host);
    c->state = st_tls;
}


static void
on_tls(sim_call_t *c)
{
    int  rc;

    rc = SSL_connect(c->ssl);

    if (rc == 1) {
        start_handshake(c);
        return;
    }

    rc = SSL_get_error(c->ssl, rc);

    if (rc != SSL_ERROR_WANT_READ && rc != SSL_ERROR_WANT_WRITE) {
        finish(c, "TLS handshake failed", 1);
    }
}


static void
start_call(sim_call_t *c, struct addrinfo *ai)
{
    int                 one;
    struct epoll_event  ev;

    c->t_start = now();
    snprintf(c->call_sid, sizeof(c->call_sid), "CA%08x%024d",
             (unsigned) random(), c->id);
    snprintf(c->stream_sid, sizeof(c->stream_sid), "MZ%08x%024d",
             (unsigned) random(), c->id);

    c->msg = malloc(SIM_MSG_MAX);
    voice_ws_parser_init(&c->ws, 0, c->msg, SIM_MSG_MAX);

    if (voice_twilio_parser_init(&c->tp, NULL) != VOICE_TWILIO_OK) {
        die("out of memory");
    }

    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        die("socket: %s", strerror(errno));
    }

    one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0
        && errno != EINPROGRESS)
    {
        finish(c, "connect failed", 1);
        return;
    }

    c->state = st_connecting;

    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}


static void
send_media(sim_call_t *c, const uint8_t *frame)
{
    size_t   n;
    char     b64buf[SIM_FRAME * 2];
    uint8_t  json[1024];

    b64(frame, SIM_FRAME, b64buf);

    if (c->sent == 0) {
        c->t_first_in = now();
    }

    c->seq++;
    n = voice_twilio_build_media(json, sizeof(json), c->stream_sid, c->seq,
                                 c->sent / SIM_FRAME + 1, c->sent / 8,
                                 (uint8_t *) b64buf, strlen(b64buf));
    send_frame(c, VOICE_WS_OP_TEXT, json, n);
    c->sent += SIM_FRAME;
}


/* the call as a stereo WAV: caller left, agent right, 20 ms a tick */

static void
record_call(sim_call_t *c, const uint8_t *caller, const uint8_t *agent,
    size_t agent_n)
{
    size_t    i;
    int16_t  *f;

    if (conf.record_call == NULL || c->id != 1 || conf.fast) {
        return;
    }

    c->call_wav = grow(c->call_wav, &c->call_size,
                       (c->call_len + SIM_FRAME) * 2, 2);
    f = c->call_wav + c->call_len * 2;

    for (i = 0; i < SIM_FRAME; i++) {
        f[2 * i] = caller ? voice_ulaw_decode(caller[i]) : 0;
        f[2 * i + 1] = (agent && i < agent_n) ? voice_ulaw_decode(agent[i])
                                              : 0;
    }

    c->call_len += SIM_FRAME;
}


static void
live(const char *fmt, ...)
{
    va_list     ap;
    time_t      now_t;
    struct tm   tm;
    char        ts[16];

    if (!conf.live) {
        return;
    }

    now_t = time(NULL);
    localtime_r(&now_t, &tm);
    strftime(ts, sizeof(ts), "%H:%M:%S", &tm);

    fprintf(stderr, "[%s] ", ts);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
}


/*
 * A scripted call (--say): each line is said when the agent has answered
 * the one before and gone quiet for --pause, or, with --interrupt, that
 * long into the agent's answer.  The call hangs up once the last answer
 * has been heard (or after --silence-after of nothing).
 */

static void
script_tick(sim_call_t *c, double t, const uint8_t *agent, size_t agent_n)
{
    int         start;
    uint8_t     frame[SIM_FRAME];
    sim_say_t  *say;
    sim_turn_t *turn;
    size_t      i, n;
    uint8_t     json[1024];

    /* what the caller hears */

    if (agent && !c->talking) {
        c->talking = 1;
        c->t_talk = t;

        if (c->awaiting) {
            c->awaiting = 0;
            c->turns[c->say - 1].t_reply = t;

            if (c->id == 1) {
                live("agent answers, %.0f ms after the caller stopped",
                     (t - c->t_said_end) * 1000);
            }
        }

    } else if (agent == NULL && c->talking) {
        c->talking = 0;
        c->t_talk = t;
    }

    if (c->saying) {
        say = &conf.says[c->say];
        n = say->len - c->say_pos;
        n = n < SIM_FRAME ? n : SIM_FRAME;

        memcpy(frame, say->audio + c->say_pos, n);
        memset(frame + n, 0xff, SIM_FRAME - n);
        c->say_pos += n;

        if (c->say_pos == say->len) {
            c->saying = 0;
            c->say++;
            c->awaiting = 1;
            c->t_said_end = t;
            c->turns[c->say - 1].t_end = t;
        }

        send_media(c, frame);
        record_call(c, frame, agent, agent_n);
        return;
    }

    memset(frame, 0xff, SIM_FRAME);
    send_media(c, frame);
    record_call(c, frame, agent, agent_n);

    if (c->say < conf.nsays) {
        say = &conf.says[c->say];

        if (say->interrupt_ms) {
            start = c->talking && !c->awaiting
                    && t - c->t_talk >= say->interrupt_ms / 1000.0;

        } else {
            start = !c->talking
                    && (!c->awaiting || t - c->t_said_end > 15)
                    && t - (c->t_talk > c->t_open ? c->t_talk : c->t_open)
                       >= conf.pause_ms / 1000.0
                    && t - c->t_open >= 1.5;
        }

        if (start) {
            c->saying = 1;
            c->say_pos = 0;
            c->awaiting = 0;
            turn = &c->turns[c->say];
            turn->t_said = t;

            if (c->id == 1) {
                live("caller: %s%s", say->text,
                     say->interrupt_ms ? "   (interrupting)" : "");
            }
        }

        return;
    }

    /* the last answer heard, or nothing for --silence-after: hang up */

    if (!c->stop_sent && !c->talking
        && ((!c->awaiting && t - c->t_talk >= 2 * conf.pause_ms / 1000.0)
            || t - c->t_said_end >= conf.silence_after / 1000.0))
    {
        i = voice_twilio_build_stop(json, sizeof(json), c->stream_sid,
                                    c->call_sid,
                                    "AC00000000000000000000000000000000",
                                    ++c->seq);
        send_text(c, json, i);
        c->stop_sent = 1;

        if (c->id == 1) {
            live("caller hangs up");
        }
    }
}


/* every 20 ms: send the next frame of caller audio, play out 20 ms */

static void
tick(sim_call_t *c, double t)
{
    size_t   n, total, chunk, agent_n;
    int      i, j;
    uint8_t *agent, *caller;
    uint8_t  frame[SIM_FRAME];
    char     b64buf[SIM_FRAME * 2];
    uint8_t  json[1024];

    if (c->state != st_open) {
        return;
    }

    /* playout */

    agent = NULL;
    agent_n = 0;

    if (c->played < c->play_len) {
        n = c->play_len - c->played;

        if (!conf.fast && n > SIM_FRAME) {
            n = SIM_FRAME;
        }

        agent = c->play + c->played;
        agent_n = n;

        if (conf.record) {
            c->heard = grow(c->heard, &c->heard_size, c->heard_len + n, 2);
            voice_ulaw_decode_buf(c->play + c->played, n,
                                  c->heard + c->heard_len);
            c->heard_len += n;
        }

        c->played += n;

    } else if (conf.record && c->t_first_out > 0) {
        c->heard = grow(c->heard, &c->heard_size,
                        c->heard_len + SIM_FRAME, 2);
        memset(c->heard + c->heard_len, 0, SIM_FRAME * 2);
        c->heard_len += SIM_FRAME;
    }

    for (i = 0; i < c->nmarks && c->marks[i].at <= c->played; i++) {
        mark_back(c, c->marks[i].name);
    }

    for (j = 0; i < c->nmarks; i++, j++) {
        c->marks[j] = c->marks[i];
    }

    c->nmarks = j;

    if (conf.nsays) {
        script_tick(c, t, agent, agent_n);
        flush_out(c);
        return;
    }

    caller = NULL;

    /* caller audio, then silence */

    total = audio_len + (size_t) conf.silence_after * 8;

    chunk = conf.fast ? total : SIM_FRAME;

    for (n = 0; n < chunk && c->sent < total; n += SIM_FRAME) {
        for (i = 0; i < SIM_FRAME; i++) {
            frame[i] = (c->sent + i < audio_len) ? audio[c->sent + i] : 0xff;
        }

        b64(frame, SIM_FRAME, b64buf);
        caller = frame;

        if (c->sent == 0) {
            c->t_first_in = t;
        }

        c->seq++;
        i = (int) voice_twilio_build_media(json, sizeof(json), c->stream_sid,
                                           c->seq, c->sent / SIM_FRAME + 1,
                                           c->sent / 8,
                                           (uint8_t *) b64buf,
                                           strlen(b64buf));
        send_frame(c, VOICE_WS_OP_TEXT, json, i);
        c->sent += SIM_FRAME;

        if (c->sent >= total) {
            c->t_audio_end = t;
        }
    }

    record_call(c, caller, agent, agent_n);

    /* hang up when the audio is done and the agent has gone quiet */

    if (c->sent >= total && !c->stop_sent
        && (!conf.fast || t - (c->t_last_out > c->t_audio_end
                               ? c->t_last_out : c->t_audio_end)
                          >= conf.drain_ms / 1000.0)
        && c->played >= c->play_len)
    {
        i = (int) voice_twilio_build_stop(json, sizeof(json), c->stream_sid,
                                          c->call_sid,
                                          "AC00000000000000000000000000000000",
                                          ++c->seq);
        send_text(c, json, i);
        c->stop_sent = 1;
    }

    flush_out(c);
}


static void
load_audio(void)
{
    int  i;

    for (i = 0; i < conf.nsays; i++) {
        synthesize(&conf.says[i]);
    }

    if (conf.play) {
        audio = load_wav(conf.play, 0, &audio_len);

    } else if (conf.play_ulaw) {
        audio = load_wav(conf.play_ulaw, 1, &audio_len);
    }
}


/* --say: espeak-ng speaks the text into a WAV file, read back as μ-law */

static void
synthesize(sim_say_t *say)
{
    int          fd, status;
    size_t       start, end;
    pid_t        pid;
    const char  *tmp;
    char         path[512];

    tmp = getenv("TMPDIR");
    snprintf(path, sizeof(path), "%s/voice-sim-XXXXXX",
             tmp ? tmp : "/tmp");

    fd = mkstemp(path);
    if (fd < 0) {
        die("mkstemp %s: %s", path, strerror(errno));
    }

    close(fd);

    pid = fork();

    if (pid == 0) {
        execlp("espeak-ng", "espeak-ng", "-s", "155", "-w", path, say->text,
               (char *) NULL);
        _exit(127);
    }

    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)
        || WEXITSTATUS(status) != 0)
    {
        unlink(path);
        die("--say needs espeak-ng (apt-get install espeak-ng)");
    }

    say->audio = load_wav(path, 0, &say->len);
    unlink(path);

    /* the speech alone: the turn's timings start where the voice stops */

    for (start = 0; start < say->len; start++) {
        if (abs(voice_ulaw_decode(say->audio[start])) > 300) {
            break;
        }
    }

    for (end = say->len; end > start; end--) {
        if (abs(voice_ulaw_decode(say->audio[end - 1])) > 300) {
            break;
        }
    }

    memmove(say->audio, say->audio + start, end - start);
    say->len = end - start;

    if (say->len == 0) {
        die("espeak-ng said nothing for \"%s\"", say->text);
    }
}


/* a WAV file (PCM16 or G.711, any rate and channels) or raw μ-law */

static uint8_t *
load_wav(const char *file, int raw_ulaw, size_t *out_len)
{
    FILE              *f;
    uint8_t           *buf, *ulaw;
    size_t             len, i, frames, used, out_n;
    int16_t           *pcm, *rs_out;
    struct stat        st;
    voice_wav_t        wav;
    voice_resampler_t *rs;

    f = fopen(file, "rb");
    if (f == NULL || fstat(fileno(f), &st) < 0) {
        die("cannot open %s", file);
    }

    len = st.st_size;
    buf = malloc(len + 1);

    if (fread(buf, 1, len, f) != len) {
        die("cannot read %s", file);
    }

    fclose(f);

    if (raw_ulaw) {
        *out_len = len;
        return buf;
    }

    if (voice_wav_parse(buf, len, &wav) != 0) {
        die("%s: not a PCM16 or G.711 WAV file", file);
    }

    frames = wav.data_len / (wav.format == VOICE_WAV_PCM16 ? 2 : 1)
             / wav.channels;
    pcm = malloc((frames + 1) * sizeof(int16_t));

    for (i = 0; i < frames; i++) {
        long      sum;
        unsigned  ch;

        sum = 0;

        for (ch = 0; ch < wav.channels; ch++) {
            const uint8_t  *s;
            size_t          k = i * wav.channels + ch;

            s = buf + wav.data_offset;

            if (wav.format == VOICE_WAV_PCM16) {
                sum += (int16_t) (s[2 * k] | s[2 * k + 1] << 8);

            } else if (wav.format == VOICE_WAV_ULAW) {
                sum += voice_ulaw_decode(s[k]);

            } else {
                sum += voice_alaw_decode(s[k]);
            }
        }

        pcm[i] = (int16_t) (sum / (long) wav.channels);
    }

    if (wav.rate != 8000) {
        rs = voice_resampler_create(wav.rate, 8000, VOICE_RESAMPLE_QUALITY);
        if (rs == NULL) {
            die("cannot resample from %u Hz", wav.rate);
        }

        out_n = voice_resample_out_max(frames, wav.rate, 8000);
        rs_out = malloc(out_n * sizeof(int16_t));
        out_n = voice_resample(rs, pcm, frames, rs_out, out_n, &used);
        voice_resampler_destroy(rs);

        free(pcm);
        pcm = rs_out;
        frames = out_n;
    }

    ulaw = malloc(frames + SIM_FRAME);
    voice_ulaw_encode_buf(pcm, frames, ulaw);
    *out_len = frames;

    free(pcm);
    free(buf);

    return ulaw;
}


static void
write_file(const char *name, const void *hdr, size_t hlen, const void *data,
    size_t len)
{
    FILE  *f;

    f = fopen(name, "wb");

    if (f == NULL || (hlen && fwrite(hdr, 1, hlen, f) != hlen)
        || (len && fwrite(data, 1, len, f) != len))
    {
        die("cannot write %s", name);
    }

    fclose(f);
}


static void
usage(void)
{
    fprintf(stderr,
        "usage: voice-sim (--url WEBHOOK_URL | --stream-url WS_URL) [options]\n"
        "  --url URL            Twilio voice webhook (http/https) to call\n"
        "  --stream-url URL     skip the webhook, open this ws:// or wss:// URL\n"
        "  --token TOKEN        auth token: signs the webhook and the handshake\n"
        "  --play FILE.wav      caller audio (PCM16/G.711, any rate, to 8 kHz)\n"
        "  --play-ulaw FILE     caller audio as raw 8 kHz μ-law\n"
        "  --silence-after MS   silence streamed after the audio (1000)\n"
        "  --say TEXT           say this (espeak-ng) once the agent is quiet;\n"
        "                       repeat for a conversation\n"
        "  --interrupt MS       the next --say starts MS into the agent's answer\n"
        "  --pause MS           quiet before each --say (800)\n"
        "  --record OUT.wav     what the caller heard, in real time\n"
        "  --record-call OUT.wav  the call in stereo: caller left, agent right\n"
        "  --live               print the conversation as it happens (stderr)\n"
        "  --record-raw OUT     the received audio as raw PCM16, no gaps\n"
        "  --save-sent OUT      the caller audio sent, as raw PCM16\n"
        "  --calls N            N calls at once; --ramp MS between starts\n"
        "  --fast               no real-time pacing; --drain-ms MS (2000)\n"
        "  --dtmf DIGITS        send DTMF digits after start\n"
        "  --json               a JSON report\n"
        "  --timeout S          give up after S seconds (120)\n"
        "  --insecure           do not verify TLS certificates\n"
        "  -v                   print every message\n");
    exit(2);
}


int
main(int argc, char **argv)
{
    int                  i, n, started, done, failed, opt, interrupt;
    double               t, next_tick, deadline, next_start;
    sim_call_t          *calls, *c;
    struct addrinfo      hints, *ai;
    struct epoll_event   evs[256];

    static struct option  opts[] = {
        { "url", required_argument, NULL, 'u' },
        { "stream-url", required_argument, NULL, 's' },
        { "token", required_argument, NULL, 't' },
        { "play", required_argument, NULL, 'p' },
        { "play-ulaw", required_argument, NULL, 'P' },
        { "silence-after", required_argument, NULL, 'S' },
        { "record", required_argument, NULL, 'r' },
        { "record-raw", required_argument, NULL, 'R' },
        { "save-sent", required_argument, NULL, 'W' },
        { "calls", required_argument, NULL, 'n' },
        { "ramp", required_argument, NULL, 'm' },
        { "fast", no_argument, NULL, 'f' },
        { "drain-ms", required_argument, NULL, 'd' },
        { "dtmf", required_argument, NULL, 'D' },
        { "json", no_argument, NULL, 'j' },
        { "timeout", required_argument, NULL, 'T' },
        { "insecure", no_argument, NULL, 'k' },
        { "say", required_argument, NULL, 'y' },
        { "interrupt", required_argument, NULL, 'I' },
        { "pause", required_argument, NULL, 'Z' },
        { "record-call", required_argument, NULL, 'C' },
        { "live", no_argument, NULL, 'L' },
        { NULL, 0, NULL, 0 }
    };

    conf.calls = 1;
    conf.pause_ms = 800;
    conf.silence_after = -1;
    conf.drain_ms = 2000;
    conf.timeout = 120;

    while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': conf.url = optarg; break;
        case 's': conf.stream_url = optarg; break;
        case 't': conf.token = optarg; break;
        case 'p': conf.play = optarg; break;
        case 'P': conf.play_ulaw = optarg; break;
        case 'S': conf.silence_after = atoi(optarg); break;
        case 'r': conf.record = optarg; break;
        case 'R': conf.record_raw = optarg; break;
        case 'W': conf.save_sent = optarg; break;
        case 'n': conf.calls = atoi(optarg); break;
        case 'm': conf.ramp_ms = atoi(optarg); break;
        case 'f': conf.fast = 1; break;
        case 'd': conf.drain_ms = atoi(optarg); break;
        case 'D': conf.dtmf = optarg; break;
        case 'j': conf.json = 1; break;
        case 'T': conf.timeout = atoi(optarg); break;
        case 'k': conf.insecure = 1; break;
        case 'v': conf.verbose = 1; break;
        case 'y':
            if (conf.nsays == SIM_SAY_MAX) {
                die("at most %d --say", SIM_SAY_MAX);
            }

            conf.says[conf.nsays++].text = optarg;
            interrupt = 0;
            break;
        case 'I':
            interrupt = atoi(optarg);
            if (conf.nsays < SIM_SAY_MAX) {
                conf.says[conf.nsays].interrupt_ms = interrupt;
            }
            break;
        case 'Z': conf.pause_ms = atoi(optarg); break;
        case 'C': conf.record_call = optarg; break;
        case 'L': conf.live = 1; break;
        default: usage();
        }
    }

    if ((conf.url == NULL) == (conf.stream_url == NULL) || conf.calls < 1
        || (conf.nsays && (conf.play || conf.play_ulaw || conf.fast)))
    {
        usage();
    }

    if (conf.silence_after < 0) {
        conf.silence_after = conf.nsays ? 15000 : 1000;
    }

    srandom((unsigned) time(NULL) ^ (unsigned) getpid());
    curl_global_init(CURL_GLOBAL_DEFAULT);

    load_audio();

    if (conf.url) {
        webhook();

    } else {
        snprintf(stream_url, sizeof(stream_url), "%s", conf.stream_url);
    }

    split_url(stream_url);

    if (tls) {
        ssl_ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_default_verify_paths(ssl_ctx);
        SSL_CTX_set_verify(ssl_ctx, conf.insecure ? SSL_VERIFY_NONE
                                                  : SSL_VERIFY_PEER, NULL);
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;

    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        die("cannot resolve %s", host);
    }

    ep = epoll_create1(0);
    calls = calloc(conf.calls, sizeof(sim_call_t));

    for (i = 0; i < conf.calls; i++) {
        calls[i].id = i + 1;
        calls[i].fd = -1;
        calls[i].state = -1;
    }

    t = now();
    deadline = t + conf.timeout;
    next_tick = t;
    next_start = t;
    started = 0;

    for ( ;; ) {
        t = now();

        while (started < conf.calls && t >= next_start) {
            start_call(&calls[started++], ai);
            next_start = t + conf.ramp_ms / 1000.0;
        }

        n = epoll_wait(ep, evs, 256,
                       (int) ((next_tick - t) * 1000 > 0
                              ? (next_tick - t) * 1000 : 0));

        for (i = 0; i < n; i++) {
            c = evs[i].data.ptr;

            if (c->state == st_connecting) {
                on_connected(c);
            }

            if (c->state == st_tls) {
                on_tls(c);
            }

            if (c->state == st_done) {
                continue;
            }

            if (evs[i].events & EPOLLOUT) {
                flush_out(c);
            }

            if (c->state != st_done && (evs[i].events & (EPOLLIN | EPOLLHUP
                                                         | EPOLLERR)))
            {
                on_readable(c);
            }
        }

        t = now();

        if (t >= next_tick) {
            for (i = 0; i < started; i++) {
                tick(&calls[i], t);
            }

            next_tick += 0.020;

            if (next_tick < t) {
                next_tick = t + 0.020;
            }
        }

        done = 0;

        for (i = 0; i < started; i++) {
            done += calls[i].state == st_done;
        }

        if (done == conf.calls) {
            break;
        }

        if (t > deadline) {
            for (i = 0; i < conf.calls; i++) {
                if (i >= started) {
                    calls[i].state = st_done;
                    calls[i].failed = 1;
                    calls[i].why = "never started";
                }

                finish(&calls[i], "timed out", 1);
            }

            break;
        }
    }

    /* report */

    failed = 0;

    if (conf.json) {
        printf("{\"calls\":[");
    }

    for (i = 0; i < conf.calls; i++) {
        c = &calls[i];

        if (!c->failed && c->close_code != 1000) {
            c->failed = 1;
            c->why = "not closed with 1000";
        }

        failed += c->failed;

        if (conf.json) {
            printf("%s{\"id\":%d,\"ok\":%s,\"end\":\"%s\",\"close\":%d,"
                   "\"handshake_ms\":%.1f,\"first_reply_ms\":%.1f,"
                   "\"media_out\":%lu,\"audio_heard_bytes\":%zu,"
                   "\"marks\":%lu,\"marks_returned\":%lu,\"clears\":%lu,"
                   "\"turns\":[",
                   i ? "," : "", c->id, c->failed ? "false" : "true",
                   c->why ? c->why : "", c->close_code,
                   c->t_open > 0 ? (c->t_open - c->t_start) * 1000 : -1.0,
                   c->t_first_out > 0 ? (c->t_first_out - c->t_first_in) * 1000
                                      : -1.0,
                   c->media_out, c->play_len, c->marks_in, c->marks_back,
                   c->clears);

            for (n = 0; n < c->say; n++) {
                sim_turn_t  *tu = &c->turns[n];

                printf("%s{\"said_at_ms\":%.0f,\"said_ms\":%.0f,"
                       "\"reply_after_ms\":%.0f}", n ? "," : "",
                       (tu->t_said - c->t_open) * 1000,
                       (tu->t_end - tu->t_said) * 1000,
                       tu->t_reply > 0 ? (tu->t_reply - tu->t_end) * 1000
                                       : -1.0);
            }

            printf("]}");

        } else if (conf.calls <= 20 || c->failed) {
            printf("call %d: %s, close %d, handshake %.1f ms, first reply "
                   "%.1f ms, %lu media messages, %zu bytes of audio heard, "
                   "%lu marks (%lu returned), %lu clears\n",
                   c->id, c->why ? c->why : "?", c->close_code,
                   c->t_open > 0 ? (c->t_open - c->t_start) * 1000 : -1.0,
                   c->t_first_out > 0 ? (c->t_first_out - c->t_first_in) * 1000
                                      : -1.0,
                   c->media_out, c->play_len, c->marks_in, c->marks_back,
                   c->clears);

            for (n = 0; n < c->say; n++) {
                sim_turn_t  *tu = &c->turns[n];

                printf("  turn %d: said %.1f s in, for %.1f s; ", n + 1,
                       tu->t_said - c->t_open, tu->t_end - tu->t_said);

                if (tu->t_reply > 0) {
                    printf("answered %.0f ms after the caller stopped\n",
                           (tu->t_reply - tu->t_end) * 1000);

                } else {
                    printf("no answer\n");
                }
            }
        }
    }

    if (conf.json) {
        printf("],\"summary\":{\"calls\":%d,\"failed\":%d}}\n", conf.calls,
               failed);

    } else {
        printf("%d calls, %d failed\n", conf.calls, failed);
    }

    c = &calls[0];

    if (conf.record) {
        uint8_t  hdr[VOICE_WAV_HEADER];

        voice_wav_header(hdr, 8000, 1, c->heard_len * 2);
        write_file(conf.record, hdr, sizeof(hdr), c->heard,
                   c->heard_len * 2);
    }

    if (conf.record_call) {
        uint8_t  hdr[VOICE_WAV_HEADER];

        voice_wav_header(hdr, 8000, 2, c->call_len * 4);
        write_file(conf.record_call, hdr, sizeof(hdr), c->call_wav,
                   c->call_len * 4);
    }

    if (conf.record_raw) {
        int16_t  *pcm;

        pcm = malloc(c->play_len * 2 + 2);
        voice_ulaw_decode_buf(c->play, c->play_len, pcm);
        write_file(conf.record_raw, NULL, 0, pcm, c->play_len * 2);
        free(pcm);
    }

    if (conf.save_sent) {
        int16_t  *pcm;

        pcm = malloc(audio_len * 2 + 2);
        voice_ulaw_decode_buf(audio, audio_len, pcm);
        write_file(conf.save_sent, NULL, 0, pcm, audio_len * 2);
        free(pcm);
    }

    freeaddrinfo(ai);

    return failed ? 1 : 0;
}

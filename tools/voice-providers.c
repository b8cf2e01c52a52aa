/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * voice-providers: the cloud providers' HTTP wire formats, answered by
 * Debian's offline engines, so that the module can be shown with no API
 * key and no network.  nginx reaches it with proxy_pass.
 *
 *   POST /v1/audio/transcriptions         OpenAI STT: pocketsphinx
 *   POST /v1/chat/completions             OpenAI LLM: a shop's small FAQ
 *   POST /v1/text-to-speech/ID[/stream]   ElevenLabs TTS: espeak-ng
 *   POST /v1/audio/speech                 OpenAI TTS: espeak-ng
 *
 * Neither pocketsphinx nor espeak-ng is thread-safe, so each connection
 * gets a process of its own: the parent loads both engines once (the
 * acoustic and language models take 0.4 to 0.7 s, espeak-ng 10 ms) and
 * forks a child per accepted connection, which inherits them and serves
 * that connection's keep-alive requests with plain blocking I/O.  One
 * call never waits for another's synthesis or decoding.
 *
 * Recognition, measured on espeak-ng's en-us voice at 175 words a minute
 * (8 FAQ questions, 37 words: "what are your opening hours", "where are
 * you located", "how much does it cost", "thank you goodbye", ...; 8
 * other questions of the shop worded differently, 54 words; 4 outside
 * it, 23 words), word error rate:
 *
 *                              16 kHz   8 kHz   8 kHz mu-law
 *   general model alone          92%     95%     81%    FAQ questions
 *   + noise floor                27%     57%     43%    FAQ questions
 *                                31%     50%     48%    other wording
 *   + FAQ grammar (default)       0%      0%      0%    FAQ questions
 *                                24%     35%     30%    other wording
 *                                48%     43%     52%    outside the FAQ
 *
 * (The FAQ questions are sentences of the grammar, the other wordings
 * mostly are not.)
 * The noise floor is what makes pocketsphinx usable here (see
 * vp_noise_floor()); the grammar then makes the shop's questions exact
 * and fast: 80 ms for a 2 s question, where the general model takes
 * 0.7 s.  Wideband audio does better than the phone band with the
 * general model, but a call only ever has 8 kHz: upsampling it in the
 * module would add nothing that the resampling here (the same libspeexdsp
 * filter) does not, so the module sends 8 kHz as it is.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <espeak-ng/speak_lib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>
#include <yajl/yajl_tree.h>

#include "voice_g711.h"
#include "voice_json.h"
#include "voice_resample.h"
#include "voice_wav.h"


#define VP_HEADER_MAX       (16 * 1024)
#define VP_BODY_MAX         (16 * 1024 * 1024)
#define VP_BUF_INIT         (64 * 1024)
#define VP_CHILDREN_MAX     64
#define VP_IDLE_MS          5000
#define VP_SEND_TIMEOUT     10              /* seconds */
#define VP_NOTE_MAX         2048
#define VP_NOTE_TEXT        300             /* bytes of text in a log line */
#define VP_JSON_DEPTH_MAX   64
#define VP_PARTS_MAX        16
#define VP_USER_MAX         4096            /* bytes of a user message read */
#define VP_ECHO_MAX         200
#define VP_REPLY_MAX        2048
#define VP_WORDS_MAX        64

#define VP_STT_RATE         16000           /* the en-us acoustic model's */
#define VP_STT_SECONDS_MAX  120
#define VP_STT_NOISE        328             /* uniform: -45 dBFS rms */
#define VP_STT_FAQ_MIN      -42.0           /* grammar score per frame */
#define VP_MODEL_DIR        "/usr/share/pocketsphinx/model/en-us"

#define VP_TTS_BUF_MS       40
#define VP_TTS_TEXT_MAX     (16 * 1024)
#define VP_TTS_VOICE        "en-us"

#define VP_PCM              0
#define VP_ULAW             1
#define VP_ALAW             2


typedef struct {
    int            fd;
    uint8_t       *buf;
    size_t         len;
    size_t         size;
    size_t         used;                /* bytes of the current request */

    /* the request */
    char          *method;
    char          *path;
    char          *query;
    int            http11;
    const char    *content_type;
    uint8_t       *body;
    size_t         body_len;

    /* the response */
    int            keepalive;
    int            chunked;
    int            headers_sent;
    int            failed;              /* the client is gone */
    int            linger;              /* unread input may follow */
    int            status;
    size_t         sent;                /* body bytes */
    double         start;
    double         first;               /* the first body byte sent */
    char           note[VP_NOTE_MAX];
    size_t         note_len;
} vp_conn_t;


typedef struct {
    char            name[64];
    const uint8_t  *data;
    size_t          len;
} vp_part_t;


typedef struct {
    vp_conn_t          *c;
    voice_resampler_t  *rs;
    unsigned            rate;
    int                 encoding;
    const char         *type;
    int                 wav;            /* a WAV header before the audio */
    int16_t            *pcm;
    size_t              pcm_size;
    uint8_t            *out;
    size_t              out_size;
} vp_tts_t;


typedef struct {
    const char         *keywords[20];   /* "word", or "prefix*" */
    const char         *answer;
} vp_faq_t;


static int vp_listen(const char *addr);
static int vp_local_port(int ls);
static int vp_write_port_file(int port);
static int vp_stt_init(void);
static int vp_stt_grammar(void);
static int vp_tts_init(void);
static void vp_run(int ls);
static void vp_on_signal(int signo);
static void vp_reap(void);
static void vp_stop_children(void);
static void vp_serve(int fd);
static int vp_read_request(vp_conn_t *c);
static size_t vp_head_end(const uint8_t *p, size_t len);
static int vp_parse_head(vp_conn_t *c, size_t end);
static int vp_parse_request_line(vp_conn_t *c, char *line);
static int vp_fill(vp_conn_t *c, size_t cap);
static void vp_next(vp_conn_t *c);
static void vp_close(vp_conn_t *c);
static void vp_handle(vp_conn_t *c);
static int vp_send(vp_conn_t *c, struct iovec *iov, int n);
static size_t vp_head(vp_conn_t *c, char *out, size_t cap, int status,
    const char *type, ssize_t len, const char *extra);
static void vp_respond(vp_conn_t *c, int status, const char *type,
    const void *body, size_t len);
static void vp_error(vp_conn_t *c, int status, const char *msg);
static int vp_stream_start(vp_conn_t *c, const char *type,
    const char *extra);
static int vp_stream_write(vp_conn_t *c, const void *data, size_t len);
static void vp_stream_end(vp_conn_t *c);
static const char *vp_status_text(int status);
static void vp_stt(vp_conn_t *c);
static int vp_multipart(const uint8_t *body, size_t len,
    const char *boundary, vp_part_t *parts, int *nparts);
static const vp_part_t *vp_part(const vp_part_t *parts, int n,
    const char *name);
static int vp_param(const char *s, const char *key, char *out, size_t cap);
static const char *vp_skip_value(const char *p);
static int16_t *vp_wav_samples(const uint8_t *file, const voice_wav_t *wav,
    size_t *n);
static int16_t *vp_resample_all(const int16_t *in, size_t n,
    unsigned from, unsigned to, size_t *out_n);
static void vp_noise_floor(int16_t *pcm, size_t n);
static const char *vp_decode(const char *search, const int16_t *pcm,
    size_t n, double *score);
static void vp_llm(vp_conn_t *c);
static size_t vp_user_text(yajl_val msg, char *out, size_t cap);
static size_t vp_faq_reply(const char *text, char *out, size_t cap);
static int vp_faq_match(const char *text);
static int vp_keyword(const char *word, const char *kw);
static int vp_sse(vp_conn_t *c, const char *id, const char *model,
    const char *delta, size_t delta_len, const char *finish);
static void vp_tts(vp_conn_t *c, const char *voice, int openai);
static int vp_tts_format(vp_tts_t *t, const char *format, int openai);
static void vp_tts_voice(const char *name);
static int vp_tts_callback(short *wav, int numsamples,
    espeak_EVENT *events);
static int vp_tts_audio(vp_tts_t *t, const int16_t *in, size_t n);
static yajl_val vp_json_parse(vp_conn_t *c);
static const char *vp_json_str(yajl_val v, const char *key);
static int vp_query_arg(const char *query, const char *key, char *out,
    size_t cap);
static void vp_note(vp_conn_t *c, const char *key, const char *s,
    size_t len);
static void vp_notef(vp_conn_t *c, const char *fmt, ...);
static void vp_log_request(vp_conn_t *c);
static void vp_logf(const char *fmt, ...);
static double vp_now_ms(void);
static void vp_sleep_ms(unsigned ms);


static struct {
    const char    *listen;
    const char    *port_file;
    const char    *log_file;
    const char    *model_dir;
    unsigned       word_delay;
    unsigned       max_children;
    int            verbose;
    int            no_fork;
    int            grammar;
} vp_conf;

static int                     vp_log_fd = 2;
static cmd_ln_t               *vp_ps_config;
static ps_decoder_t           *vp_ps;
static char                    vp_lm_search[64];
static int                     vp_tts_rate;     /* espeak-ng's output */
static char                    vp_voice[64];    /* the voice set now */
static pid_t                   vp_children[VP_CHILDREN_MAX];
static unsigned                vp_nchildren;
static volatile sig_atomic_t   vp_quit;

/*
 * espeak-ng's synthesis callback carries no pointer of ours; one
 * synthesis at a time runs in a process, so a static says whose it is.
 */
static vp_tts_t               *vp_tts_current;


/*
 * The shop.  An entry wins by the number of words of the caller's last
 * message that match its keywords (ties: the earlier entry), so that
 * recognition errors in some words still leave enough to match.  The
 * order also gives the keypad menu: key 1 is hours, 2 location, ...
 */

enum {
    vp_faq_human = 0,
    vp_faq_hours,
    vp_faq_location,
    vp_faq_prices,
    vp_faq_delivery,
    vp_faq_returns,
    vp_faq_thanks,
    vp_faq_greeting,
    vp_faq_n
};

static const vp_faq_t  vp_faq[vp_faq_n] = {

    { { "human*", "person", "people", "agent*", "operator*",
        "representative*", "someone", "somebody", "staff", "manager*",
        "colleague*", "real", NULL },
      "Of course, I will put you through to a member of our team. "
      "Please stay on the line." },

    { { "hour*", "open*", "close", "closed", "closing", "time*", "when",
        "weekend*", "saturday*", "sunday*", "monday*", "ours", NULL },
      "Our opening hours are Monday to Friday from 9 am to 6 pm, and "
      "Saturday from 10 am to 4 pm. We are closed on Sundays." },

    { { "where", "locat*", "address*", "find", "direction*", "street",
        "closest", "nearest", "situated", "based", "park*", "map", NULL },
      "We are at 42 Market Street, right next to the central station. "
      "There is free parking behind the shop." },

    { { "price*", "cost*", "much", "expensive", "cheap*", "pay*", "fee*",
        "charge*", "dollar*", "money", NULL },
      "Most of our items cost between 5 and 50 dollars. "
      "We also have a discount for students on Mondays." },

    { { "deliver*", "ship*", "send*", "post*", "arrive*", "courier*",
        "parcel*", "package*", NULL },
      "We deliver within two working days. Delivery is free on orders "
      "over 30 dollars, otherwise it costs 5 dollars." },

    { { "return*", "refund*", "exchange*", "broken", "damaged", "faulty",
        "wrong", "back", NULL },
      "You can return any item within 30 days for a full refund. "
      "Just bring it to the shop with your receipt." },

    { { "thank*", "thanks", "bye", "goodbye", "cheers", "great",
        "perfect", NULL },
      "You are welcome! Thank you for calling, and have a lovely day. "
      "Goodbye!" },

    { { "hello", "hi", "hey", "morning", "afternoon", "evening", "good",
        NULL },
      "Hello, and thanks for calling the corner shop! "
      "How can I help you today?" },
};


/*
 * What callers of the shop ask, as a JSGF grammar over the model's
 * dictionary (every word must be in it).
 */

static const char  vp_grammar[] =
    "#JSGF V1.0;\n"
    "grammar shop;\n"
    "public <utt> = [<greet>] [<lead>] <ask> [<tail>] | <greet> [<tail>]"
    " | <tail>;\n"
    "<greet> = hello | hi | hey | hello there | hi there | good morning"
    " | good afternoon | good evening | yes | okay;\n"
    "<lead> = i would like to know | i would like to check"
    " | i would like to ask | can you tell me | could you tell me"
    " | i want to know | i have a question | please tell me;\n"
    "<tail> = please | thank you | thanks | goodbye | bye"
    " | thank you goodbye | thanks bye | that is all;\n"
    "<ask> = <hours> | <where> | <price> | <delivery> | <return>"
    " | <human>;\n"
    "<hours> = what are your opening hours | what are your hours"
    " | [what are] the opening hours [of the store | of the shop]"
    " | your opening hours | when are you open | when do you open"
    " | when do you close | what time do you open | what time do you close"
    " | are you open [today | tomorrow | on sunday | on saturday"
    " | at the weekend];\n"
    "<where> = where are you [located] | where is the (shop | store)"
    " | what is your address | how do i find you | how do i get there"
    " | is there parking;\n"
    "<price> = how much does it cost | how much is it | how much are they"
    " | what are your prices | what does it cost | is it expensive;\n"
    "<delivery> = do you deliver [to my address]"
    " | how long does delivery take | how much is delivery"
    " | can you send it to me | do you ship;\n"
    "<return> = i would like to return an item | i want to return an item"
    " | can i return it | can i get a refund | i want a refund"
    " | i want my money back | it is broken;\n"
    "<human> = can i talk to a human | can i talk to someone"
    " | can i speak to a person | i want to speak to a person"
    " | i want to talk to a human | let me speak to an agent"
    " | a real person;\n";


static void
vp_usage(void)
{
    fprintf(stderr,
        "usage: voice-providers --listen ADDR:PORT [options]\n"
        "\n"
        "  --listen ADDR:PORT   address to listen on (port 0: any free)\n"
        "  --port-file FILE     write the port there once listening\n"
        "  --log FILE           request log (default stderr)\n"
        "  --model-dir DIR      pocketsphinx model (default "
        VP_MODEL_DIR ")\n"
        "  --word-delay MS      pause between streamed LLM words (30)\n"
        "  --max-children N     connections served at once (%d)\n"
        "  --no-grammar         the general language model only, no FAQ "
        "grammar\n"
        "  --no-fork            serve connections one by one in-process\n"
        "  -v                   log more\n"
        "\n"
        "endpoints: POST /v1/audio/transcriptions, /v1/chat/completions,\n"
        "  /v1/text-to-speech/VOICE[/stream]?output_format=ulaw_8000|\n"
        "  alaw_8000|pcm_8000|pcm_16000|pcm_22050|pcm_24000|pcm_44100|"
        "pcm_48000,\n"
        "  /v1/audio/speech\n", VP_CHILDREN_MAX);
}


int
main(int argc, char **argv)
{
    int     ls, opt, port;
    long    v;
    char   *end;
    double  t0, t_stt, t_tts;

    static const struct option  opts[] = {
        { "listen",       required_argument, NULL, 'l' },
        { "port-file",    required_argument, NULL, 'p' },
        { "log",          required_argument, NULL, 'L' },
        { "model-dir",    required_argument, NULL, 'm' },
        { "word-delay",   required_argument, NULL, 'w' },
        { "max-children", required_argument, NULL, 'c' },
        { "no-fork",      no_argument,       NULL, 'n' },
        { "no-grammar",   no_argument,       NULL, 'g' },
        { "verbose",      no_argument,       NULL, 'v' },
        { "help",         no_argument,       NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };

    vp_conf.model_dir = VP_MODEL_DIR;
    vp_conf.grammar = 1;
    vp_conf.word_delay = 30;
    vp_conf.max_children = VP_CHILDREN_MAX;

    while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (opt) {
        case 'l': vp_conf.listen = optarg; break;
        case 'p': vp_conf.port_file = optarg; break;
        case 'L': vp_conf.log_file = optarg; break;
        case 'm': vp_conf.model_dir = optarg; break;
        case 'n': vp_conf.no_fork = 1; break;
        case 'g': vp_conf.grammar = 0; break;
        case 'v': vp_conf.verbose = 1; break;

        case 'w':
        case 'c':
            v = strtol(optarg, &end, 10);

            if (end == optarg || *end != '\0' || v < 0 || v > 10000
                || (opt == 'c' && v == 0))
            {
                fprintf(stderr, "voice-providers: bad value \"%s\"\n",
                        optarg);
                return 2;
            }

            if (opt == 'w') {
                vp_conf.word_delay = (unsigned) v;

            } else {
                vp_conf.max_children = (v > VP_CHILDREN_MAX)
                                       ? VP_CHILDREN_MAX : (unsigned) v;
            }

            break;

        case 'h':
            vp_usage();
            return 0;

        default:
            vp_usage();
            return 2;
        }
    }

    if (vp_conf.listen == NULL || optind != argc) {
        vp_usage();
        return 2;
    }

    if (vp_conf.log_file) {
        vp_log_fd = open(vp_conf.log_file,
                         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (vp_log_fd == -1) {
            fprintf(stderr, "voice-providers: %s: %s\n", vp_conf.log_file,
                    strerror(errno));
            return 1;
        }
    }

    signal(SIGPIPE, SIG_IGN);

    ls = vp_listen(vp_conf.listen);
    if (ls == -1) {
        return 1;
    }

    /* loaded before the first fork, so that no call pays for it */

    t0 = vp_now_ms();
    if (vp_stt_init() != 0) {
        return 1;
    }

    t_stt = vp_now_ms() - t0;

    t0 = vp_now_ms();
    if (vp_tts_init() != 0) {
        return 1;
    }

    t_tts = vp_now_ms() - t0;

    port = vp_local_port(ls);

    if (vp_conf.port_file && vp_write_port_file(port) != 0) {
        return 1;
    }

    vp_logf("listening on port %d; stt model loaded in %.0f ms, tts in "
            "%.0f ms", port, t_stt, t_tts);

    vp_run(ls);

    close(ls);
    ps_free(vp_ps);
    cmd_ln_free_r(vp_ps_config);
    espeak_Terminate();

    vp_logf("exiting");

    return 0;
}


static int
vp_listen(const char *addr)
{
    int               fd, one, rc;
    char              host[256];
    const char       *colon, *port;
    size_t            n;
    struct addrinfo   hints, *ai;

    colon = strrchr(addr, ':');

    if (colon == NULL) {
        host[0] = '\0';
        port = addr;

    } else {
        n = colon - addr;

        if (n >= sizeof(host)) {
            fprintf(stderr, "voice-providers: bad address \"%s\"\n", addr);
            return -1;
        }

        if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
            memcpy(host, addr + 1, n - 2);
            host[n - 2] = '\0';

        } else {
            memcpy(host, addr, n);
            host[n] = '\0';
        }

        port = colon + 1;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;

    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "voice-providers: \"%s\": %s\n", addr,
                gai_strerror(rc));
        return -1;
    }

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd == -1) {
        fprintf(stderr, "voice-providers: socket: %s\n", strerror(errno));
        freeaddrinfo(ai);
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1
        || listen(fd, 128) == -1)
    {
        fprintf(stderr, "voice-providers: %s: %s\n", addr, strerror(errno));
        freeaddrinfo(ai);
        close(fd);
        return -1;
    }

    freeaddrinfo(ai);

    return fd;
}


static int
vp_local_port(int ls)
{
    socklen_t                len;
    struct sockaddr_storage  sa;

    len = sizeof(sa);
    if (getsockname(ls, (struct sockaddr *) &sa, &len) == -1) {
        return -1;
    }

    return ntohs(sa.ss_family == AF_INET6
                 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                 : ((struct sockaddr_in *) &sa)->sin_port);
}


/* the port, written whole by a rename: a reader never sees half of it */

static int
vp_write_port_file(int port)
{
    char   tmp[4096];
    FILE  *f;

    if ((size_t) snprintf(tmp, sizeof(tmp), "%s.tmp", vp_conf.port_file)
        >= sizeof(tmp))
    {
        return -1;
    }

    f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "voice-providers: %s: %s\n", tmp, strerror(errno));
        return -1;
    }

    fprintf(f, "%d\n", port);

    if (fclose(f) != 0 || rename(tmp, vp_conf.port_file) != 0) {
        fprintf(stderr, "voice-providers: %s: %s\n", vp_conf.port_file,
                strerror(errno));
        return -1;
    }

    return 0;
}


static int
vp_stt_init(void)
{
    char               hmm[4096], lm[4096], dict[4096];
    ps_search_iter_t  *it;

    if ((size_t) snprintf(hmm, sizeof(hmm), "%s/en-us", vp_conf.model_dir)
            >= sizeof(hmm)
        || (size_t) snprintf(lm, sizeof(lm), "%s/en-us.lm.bin",
                             vp_conf.model_dir) >= sizeof(lm)
        || (size_t) snprintf(dict, sizeof(dict), "%s/cmudict-en-us.dict",
                             vp_conf.model_dir) >= sizeof(dict))
    {
        fprintf(stderr, "voice-providers: model path too long\n");
        return -1;
    }

    if (access(hmm, R_OK) != 0 || access(lm, R_OK) != 0
        || access(dict, R_OK) != 0)
    {
        fprintf(stderr, "voice-providers: no pocketsphinx model in %s "
                "(en-us/, en-us.lm.bin, cmudict-en-us.dict): install "
                "pocketsphinx-en-us or pass --model-dir\n",
                vp_conf.model_dir);
        return -1;
    }

    /* pocketsphinx logs every setting and every utterance otherwise */
    err_set_logfp(NULL);

    /* a narrower search than the default: a third faster, as accurate */

    vp_ps_config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm,
                               "-lm", lm, "-dict", dict,
                               "-maxhmmpf", "3000", "-maxwpf", "10",
                               "-logfn", "/dev/null", NULL);
    if (vp_ps_config == NULL) {
        fprintf(stderr, "voice-providers: pocketsphinx configuration "
                "failed\n");
        return -1;
    }

    vp_ps = ps_init(vp_ps_config);
    if (vp_ps == NULL) {
        fprintf(stderr, "voice-providers: pocketsphinx failed to load "
                "the model in %s\n", vp_conf.model_dir);
        cmd_ln_free_r(vp_ps_config);
        return -1;
    }

    /* the language model's search, the only one yet (ps_get_search leaks) */

    it = ps_search_iter(vp_ps);
    if (it == NULL) {
        fprintf(stderr, "voice-providers: pocketsphinx has no search\n");
        return -1;
    }

    snprintf(vp_lm_search, sizeof(vp_lm_search), "%s",
             ps_search_iter_val(it));
    ps_search_iter_free(it);

    if (vp_conf.grammar && vp_stt_grammar() != 0) {
        fprintf(stderr, "voice-providers: the FAQ grammar does not "
                "compile with this dictionary\n");
        return -1;
    }

    return 0;
}


/* ps_set_jsgf_string(), but without leaking the parsed grammar */

static int
vp_stt_grammar(void)
{
    int           rc;
    jsgf_t       *jsgf;
    jsgf_rule_t  *rule;
    fsg_model_t  *fsg;

    jsgf = jsgf_parse_string(vp_grammar, NULL);
    if (jsgf == NULL) {
        return -1;
    }

    rc = -1;
    rule = jsgf_get_public_rule(jsgf);

    if (rule) {
        fsg = jsgf_build_fsg(jsgf, rule, ps_get_logmath(vp_ps),
                             cmd_ln_float32_r(vp_ps_config, "-lw"));
        if (fsg) {
            /* the search keeps its own reference */
            rc = ps_set_fsg(vp_ps, "faq", fsg) == 0 ? 0 : -1;
            fsg_model_free(fsg);
        }
    }

    jsgf_grammar_free(jsgf);

    return rc;
}


static int
vp_tts_init(void)
{
    /* synchronous: no thread of espeak-ng's own, so fork() is safe */

    vp_tts_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, VP_TTS_BUF_MS,
                                    NULL, espeakINITIALIZE_DONT_EXIT);
    if (vp_tts_rate <= 0) {
        fprintf(stderr, "voice-providers: espeak-ng failed to initialize "
                "(is espeak-ng-data installed?)\n");
        return -1;
    }

    espeak_SetSynthCallback(vp_tts_callback);
    vp_tts_voice(VP_TTS_VOICE);

    return 0;
}


/* the parent: accepts and forks until SIGTERM or SIGINT */

static void
vp_run(int ls)
{
    int               fd, rc;
    pid_t             pid, parent;
    unsigned          i;
    sigset_t          block, orig;
    struct pollfd     pfd;
    struct sigaction  sa;

    /* blocked but for ppoll(): no signal slips in between check and wait */

    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &orig);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vp_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    parent = getpid();

    while (!vp_quit) {
        vp_reap();

        pfd.fd = ls;
        pfd.events = (vp_nchildren < vp_conf.max_children) ? POLLIN : 0;
        pfd.revents = 0;

        rc = ppoll(&pfd, 1, NULL, &orig);

        if (rc == -1) {
            if (errno == EINTR) {
                continue;
            }

            vp_logf("poll: %s", strerror(errno));
            break;
        }

        if (!(pfd.revents & POLLIN)) {
            continue;
        }

        fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd == -1) {
            if (errno == EMFILE || errno == ENFILE) {
                vp_logf("accept: %s", strerror(errno));
                vp_sleep_ms(100);
            }

            continue;
        }

        if (vp_conf.no_fork) {
            vp_serve(fd);
            continue;
        }

        pid = fork();

        if (pid == 0) {
            signal(SIGCHLD, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            signal(SIGINT, SIG_DFL);
            sigprocmask(SIG_SETMASK, &orig, NULL);

            /* a demo killed with SIGKILL leaves no orphans serving */
            (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent) {
                _exit(0);
            }

            close(ls);
            vp_serve(fd);
            _exit(0);
        }

        close(fd);

        if (pid == -1) {
            vp_logf("fork: %s", strerror(errno));
            continue;
        }

        for (i = 0; i < VP_CHILDREN_MAX; i++) {
            if (vp_children[i] == 0) {
                vp_children[i] = pid;
                vp_nchildren++;
                break;
            }
        }

        if (vp_conf.verbose) {
            vp_logf("connection: child %d, %u running", (int) pid,
                    vp_nchildren);
        }
    }

    vp_stop_children();
    sigprocmask(SIG_SETMASK, &orig, NULL);
}


static void
vp_on_signal(int signo)
{
    if (signo == SIGTERM || signo == SIGINT) {
        vp_quit = 1;
    }

    /* SIGCHLD only ends ppoll(); the loop reaps */
}


static void
vp_reap(void)
{
    int       status;
    pid_t     pid;
    unsigned  i;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < VP_CHILDREN_MAX; i++) {
            if (vp_children[i] == pid) {
                vp_children[i] = 0;
                vp_nchildren--;
                break;
            }
        }

        if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM) {
            vp_logf("child %d exited on signal %d", (int) pid,
                    WTERMSIG(status));
        }
    }
}


static void
vp_stop_children(void)
{
    int       n;
    unsigned  i;

    for (i = 0; i < VP_CHILDREN_MAX; i++) {
        if (vp_children[i]) {
            kill(vp_children[i], SIGTERM);
        }
    }

    for (n = 0; n < 200 && vp_nchildren > 0; n++) {
        vp_sleep_ms(10);
        vp_reap();
    }

    for (i = 0; i < VP_CHILDREN_MAX; i++) {
        if (vp_children[i]) {
            kill(vp_children[i], SIGKILL);
            (void) waitpid(vp_children[i], NULL, 0);
            vp_children[i] = 0;
        }
    }

    vp_nchildren = 0;
}


/* one connection: its requests one after another until close or idle */

static void
vp_serve(int fd)
{
    int             one;
    vp_conn_t       c;
    struct timeval  tv;

    memset(&c, 0, sizeof(vp_conn_t));
    c.fd = fd;

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    /* a client that stops reading does not hold the child forever */
    tv.tv_sec = VP_SEND_TIMEOUT;
    tv.tv_usec = 0;
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    c.size = VP_BUF_INIT;
    c.buf = malloc(c.size);

    if (c.buf) {
        while (vp_read_request(&c) == 0) {
            vp_handle(&c);
            vp_log_request(&c);

            if (!c.keepalive || c.failed) {
                break;
            }

            vp_next(&c);
        }
    }

    vp_close(&c);
    free(c.buf);
}


/* 0: a whole request is in c; -1: the connection is done */

static int
vp_read_request(vp_conn_t *c)
{
    int     rc;
    size_t  end;

    for ( ;; ) {
        end = vp_head_end(c->buf, c->len);

        if (end && end <= VP_HEADER_MAX) {
            break;
        }

        if (end || c->len >= VP_HEADER_MAX) {
            c->start = vp_now_ms();
            c->method = "-";
            c->path = "-";
            c->linger = 1;
            vp_error(c, 431, "request header too large");
            vp_log_request(c);
            return -1;
        }

        rc = vp_fill(c, c->len + 4096);
        if (rc <= 0) {
            return -1;
        }
    }

    c->start = vp_now_ms();

    rc = vp_parse_head(c, end);
    if (rc != 0) {
        c->keepalive = 0;
        c->linger = 1;

        if (c->method == NULL) {
            c->method = "-";
            c->path = "-";
        }

        vp_error(c, rc, rc == 413 ? "request body too large"
                        : rc == 411 ? "send the body with Content-Length"
                        : "malformed request header");
        vp_log_request(c);
        return -1;
    }

    while (c->len < c->used) {
        rc = vp_fill(c, c->used);
        if (rc <= 0) {
            return -1;
        }
    }

    c->body = c->buf + end;
    c->body_len = c->used - end;

    return 0;
}


/* the length of the request head with its empty line, 0 if incomplete */

static size_t
vp_head_end(const uint8_t *p, size_t len)
{
    size_t  i;

    for (i = 1; i < len; i++) {
        if (p[i] != '\n') {
            continue;
        }

        if (p[i - 1] == '\n'
            || (i >= 2 && p[i - 1] == '\r' && p[i - 2] == '\n'))
        {
            return i + 1;
        }
    }

    return 0;
}


/*
 * Splits the head in place into NUL-terminated strings.  0 on success,
 * else the status to answer with.
 */

static int
vp_parse_head(vp_conn_t *c, size_t end)
{
    int          rc, closing, keep, have_cl;
    char        *p, *last, *line, *next, *name, *value, *q;
    size_t       len;
    uint64_t     cl, v;
    const char  *expect;

    p = (char *) c->buf;
    last = p + end;

    if (memchr(p, '\0', end) != NULL) {
        return 400;
    }

    /* an empty line or two before the request line are allowed */
    while (p < last && (*p == '\r' || *p == '\n')) {
        p++;
    }

    line = p;
    next = memchr(line, '\n', last - line);
    if (next == NULL) {
        return 400;
    }

    *next = '\0';
    if (next > line && next[-1] == '\r') {
        next[-1] = '\0';
    }

    rc = vp_parse_request_line(c, line);
    if (rc != 0) {
        return rc;
    }

    closing = 0;
    keep = 0;
    cl = 0;
    have_cl = 0;
    expect = NULL;

    for (line = next + 1; line < last; line = next + 1) {
        next = memchr(line, '\n', last - line);
        if (next == NULL) {
            break;
        }

        *next = '\0';
        if (next > line && next[-1] == '\r') {
            next[-1] = '\0';
        }

        if (line[0] == '\0') {
            break;
        }

        /* obsolete line folding */
        if (line[0] == ' ' || line[0] == '\t') {
            return 400;
        }

        name = line;
        value = strchr(line, ':');
        if (value == NULL || value == name) {
            return 400;
        }

        *value++ = '\0';

        while (*value == ' ' || *value == '\t') {
            value++;
        }

        len = strlen(value);
        while (len && (value[len - 1] == ' ' || value[len - 1] == '\t')) {
            value[--len] = '\0';
        }

        if (strcasecmp(name, "content-length") == 0) {
            if (len == 0 || strspn(value, "0123456789") != len) {
                return 400;
            }

            v = 0;
            for (q = value; *q; q++) {
                v = v * 10 + (*q - '0');
                if (v > VP_BODY_MAX) {
                    return 413;
                }
            }

            if (have_cl && v != cl) {
                return 400;
            }

            cl = v;
            have_cl = 1;

        } else if (strcasecmp(name, "transfer-encoding") == 0) {
            /* nginx's proxy sends Content-Length; chunked bodies aren't */
            return 411;

        } else if (strcasecmp(name, "content-type") == 0) {
            c->content_type = value;

        } else if (strcasecmp(name, "expect") == 0) {
            expect = value;

        } else if (strcasecmp(name, "connection") == 0) {
            for (q = strtok(value, ", \t"); q; q = strtok(NULL, ", \t")) {
                if (strcasecmp(q, "close") == 0) {
                    closing = 1;

                } else if (strcasecmp(q, "keep-alive") == 0) {
                    keep = 1;
                }
            }
        }
    }

    c->keepalive = c->http11 ? !closing : (keep && !closing);
    c->used = end + cl;

    if (expect && c->http11 && c->len < c->used
        && strcasecmp(expect, "100-continue") == 0)
    {
        struct iovec  iov;

        iov.iov_base = "HTTP/1.1 100 Continue\r\n\r\n";
        iov.iov_len = sizeof("HTTP/1.1 100 Continue\r\n\r\n") - 1;
        (void) vp_send(c, &iov, 1);
    }

    return 0;
}


/* METHOD SP target SP HTTP/1.x: 0, or the status to answer with */

static int
vp_parse_request_line(vp_conn_t *c, char *line)
{
    char  *sp, *target, *q;

    sp = strchr(line, ' ');
    if (sp == NULL || sp == line) {
        return 400;
    }

    *sp = '\0';

    for (q = line; *q; q++) {
        if (*q < 'A' || *q > 'Z') {
            return 400;
        }
    }

    c->method = line;

    target = sp + 1;
    c->path = target;

    sp = strchr(target, ' ');
    if (sp == NULL) {
        return 400;
    }

    *sp = '\0';

    if (strcmp(sp + 1, "HTTP/1.1") == 0) {
        c->http11 = 1;

    } else if (strcmp(sp + 1, "HTTP/1.0") != 0) {
        return 400;
    }

    /* absolute-form: drop the scheme and the authority */
    if (strncasecmp(target, "http://", 7) == 0
        || strncasecmp(target, "https://", 8) == 0)
    {
        q = strstr(target, "://") + 3;
        target = strchr(q, '/');
        if (target == NULL) {
            target = "/";
        }
    }

    c->path = target;

    if (target[0] != '/') {
        return 400;
    }

    q = strchr(target, '?');
    if (q) {
        *q = '\0';
        c->query = q + 1;
    }

    return 0;
}


/* reads what arrives within the idle time: >0 bytes, 0 EOF, -1 error */

static int
vp_fill(vp_conn_t *c, size_t cap)
{
    int            rc;
    size_t         size;
    uint8_t       *p;
    ssize_t        n;
    struct pollfd  pfd;

    if (cap > c->size) {
        size = c->size;
        while (size < cap) {
            size *= 2;
        }

        p = realloc(c->buf, size);
        if (p == NULL) {
            return -1;
        }

        c->buf = p;
        c->size = size;
    }

    pfd.fd = c->fd;
    pfd.events = POLLIN;

    do {
        rc = poll(&pfd, 1, VP_IDLE_MS);
    } while (rc == -1 && errno == EINTR);

    if (rc <= 0) {
        return -1;
    }

    do {
        n = recv(c->fd, c->buf + c->len, c->size - c->len, 0);
    } while (n == -1 && errno == EINTR);

    if (n <= 0) {
        return (int) n;
    }

    c->len += n;

    return 1;
}


/* drops the request done with, keeping what a pipelining client sent */

static void
vp_next(vp_conn_t *c)
{
    uint8_t  *p;

    memmove(c->buf, c->buf + c->used, c->len - c->used);
    c->len -= c->used;

    if (c->size > 4 * VP_BUF_INIT && c->len < VP_BUF_INIT) {
        p = realloc(c->buf, VP_BUF_INIT);
        if (p) {
            c->buf = p;
            c->size = VP_BUF_INIT;
        }
    }

    c->used = 0;
    c->method = NULL;
    c->path = NULL;
    c->query = NULL;
    c->http11 = 0;
    c->content_type = NULL;
    c->body = NULL;
    c->body_len = 0;
    c->keepalive = 0;
    c->chunked = 0;
    c->headers_sent = 0;
    c->status = 0;
    c->sent = 0;
    c->first = 0;
    c->note_len = 0;
    c->note[0] = '\0';
}


/*
 * After an error answer the client may still be sending: read a little
 * before closing so that the answer is not lost to a TCP reset.
 */

static void
vp_close(vp_conn_t *c)
{
    int            n;
    char           drain[4096];
    struct pollfd  pfd;

    if (c->linger && !c->failed && shutdown(c->fd, SHUT_WR) == 0) {
        pfd.fd = c->fd;
        pfd.events = POLLIN;

        for (n = 0; n < 256; n++) {
            if (poll(&pfd, 1, 500) <= 0
                || recv(c->fd, drain, sizeof(drain), 0) <= 0)
            {
                break;
            }
        }
    }

    close(c->fd);
}


static void
vp_handle(vp_conn_t *c)
{
    int          post;
    size_t       n;
    char         voice[64];
    const char  *p;

    post = (strcmp(c->method, "POST") == 0);

    if (strcmp(c->path, "/v1/audio/transcriptions") == 0) {
        if (post) {
            vp_stt(c);
            return;
        }

        goto not_allowed;
    }

    if (strcmp(c->path, "/v1/chat/completions") == 0) {
        if (post) {
            vp_llm(c);
            return;
        }

        goto not_allowed;
    }

    if (strcmp(c->path, "/v1/audio/speech") == 0) {
        if (post) {
            vp_tts(c, NULL, 1);
            return;
        }

        goto not_allowed;
    }

    /* /v1/text-to-speech/{voice_id} and .../stream: both stream here */

    if (strncmp(c->path, "/v1/text-to-speech/", 19) == 0) {
        p = c->path + 19;
        n = strcspn(p, "/");

        if (n > 0 && n < sizeof(voice)
            && (p[n] == '\0' || strcmp(p + n, "/stream") == 0))
        {
            if (!post) {
                goto not_allowed;
            }

            memcpy(voice, p, n);
            voice[n] = '\0';
            vp_tts(c, voice, 0);
            return;
        }
    }

    vp_error(c, 404, "no such endpoint");
    return;

not_allowed:

    vp_error(c, 405, "use POST");
}


/* writes it all, or marks the client gone */

static int
vp_send(vp_conn_t *c, struct iovec *iov, int n)
{
    ssize_t        k;
    struct msghdr  mh;

    if (c->failed) {
        return -1;
    }

    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = iov;
    mh.msg_iovlen = n;

    while (mh.msg_iovlen > 0) {
        k = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

        if (k == -1) {
            if (errno == EINTR) {
                continue;
            }

            c->failed = 1;
            return -1;
        }

        while (mh.msg_iovlen > 0 && (size_t) k >= mh.msg_iov->iov_len) {
            k -= mh.msg_iov->iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }

        if (mh.msg_iovlen > 0) {
            mh.msg_iov->iov_base = (char *) mh.msg_iov->iov_base + k;
            mh.msg_iov->iov_len -= k;
        }
    }

    return 0;
}


/*
 * The response head; len -1 for a body streamed as it is made: chunked
 * to an HTTP/1.1 client, to an HTTP/1.0 one until the connection closes.
 */

static size_t
vp_head(vp_conn_t *c, char *out, size_t cap, int status, const char *type,
    ssize_t len, const char *extra)
{
    int   n;
    char  framing[64];

    if (len >= 0) {
        snprintf(framing, sizeof(framing), "Content-Length: %zd\r\n", len);

    } else if (c->http11) {
        c->chunked = 1;
        snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");

    } else {
        c->keepalive = 0;
        framing[0] = '\0';
    }

    c->status = status;
    c->headers_sent = 1;

    n = snprintf(out, cap,
                 "HTTP/1.1 %d %s\r\n"
                 "Server: voice-providers\r\n"
                 "Content-Type: %s\r\n"
                 "%s%s"
                 "Connection: %s\r\n"
                 "\r\n",
                 status, vp_status_text(status), type, framing,
                 extra ? extra : "", c->keepalive ? "keep-alive" : "close");

    return ((size_t) n < cap) ? (size_t) n : cap - 1;
}


static void
vp_respond(vp_conn_t *c, int status, const char *type, const void *body,
    size_t len)
{
    char          head[1024];
    struct iovec  iov[2];

    iov[0].iov_base = head;
    iov[0].iov_len = vp_head(c, head, sizeof(head), status, type,
                             (ssize_t) len,
                             status == 405 ? "Allow: POST\r\n" : NULL);
    iov[1].iov_base = (void *) body;
    iov[1].iov_len = len;

    if (vp_send(c, iov, 2) == 0) {
        c->sent += len;
    }
}


/* OpenAI's error object: {"error":{"message","type"}} */

static void
vp_error(vp_conn_t *c, int status, const char *msg)
{
    char    body[1024];
    size_t  n, k;

    n = strlen(msg);
    if (n > 160) {
        n = 160;
    }

    k = snprintf(body, sizeof(body), "{\"error\":{\"message\":\"");
    k += voice_json_escape((uint8_t *) body + k, (const uint8_t *) msg, n);
    k += snprintf(body + k, sizeof(body) - k, "\",\"type\":\"%s\"}}\n",
                  status >= 500 ? "server_error" : "invalid_request_error");

    vp_note(c, "error", msg, strlen(msg));
    vp_respond(c, status, "application/json", body, k);
}


static int
vp_stream_start(vp_conn_t *c, const char *type, const char *extra)
{
    char          head[1024];
    struct iovec  iov;

    iov.iov_base = head;
    iov.iov_len = vp_head(c, head, sizeof(head), 200, type, -1, extra);

    return vp_send(c, &iov, 1);
}


static int
vp_stream_write(vp_conn_t *c, const void *data, size_t len)
{
    int           n;
    char          size[32];
    struct iovec  iov[3];

    if (len == 0) {
        return c->failed ? -1 : 0;
    }

    if (c->first == 0) {
        c->first = vp_now_ms();
    }

    if (!c->chunked) {
        iov[0].iov_base = (void *) data;
        iov[0].iov_len = len;
        n = 1;

    } else {
        iov[0].iov_base = size;
        iov[0].iov_len = snprintf(size, sizeof(size), "%zx\r\n", len);
        iov[1].iov_base = (void *) data;
        iov[1].iov_len = len;
        iov[2].iov_base = "\r\n";
        iov[2].iov_len = 2;
        n = 3;
    }

    if (vp_send(c, iov, n) != 0) {
        return -1;
    }

    c->sent += len;

    return 0;
}


static void
vp_stream_end(vp_conn_t *c)
{
    struct iovec  iov;

    if (c->chunked) {
        iov.iov_base = "0\r\n\r\n";
        iov.iov_len = 5;
        (void) vp_send(c, &iov, 1);
    }
}


static const char *
vp_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    default:  return "Unknown";
    }
}


/* OpenAI transcriptions: multipart/form-data with a WAV "file" */

static void
vp_stt(vp_conn_t *c)
{
    int               nparts;
    char              boundary[80], *body;
    size_t            n, n16, k;
    int16_t          *pcm, *pcm16;
    double            t0, t1, faq, score;
    const char       *hyp, *format, *search;
    voice_wav_t       wav;
    const vp_part_t  *file, *part;
    vp_part_t         parts[VP_PARTS_MAX];

    if (c->content_type == NULL
        || strncasecmp(c->content_type, "multipart/form-data", 19) != 0)
    {
        vp_error(c, 400, "expected a multipart/form-data body");
        return;
    }

    if (vp_param(c->content_type, "boundary", boundary, sizeof(boundary))
        <= 0)
    {
        vp_error(c, 400, "no multipart boundary in Content-Type");
        return;
    }

    if (vp_multipart(c->body, c->body_len, boundary, parts, &nparts) != 0) {
        vp_error(c, 400, "malformed multipart/form-data body");
        return;
    }

    file = vp_part(parts, nparts, "file");
    if (file == NULL) {
        vp_error(c, 400, "no \"file\" part in the form");
        return;
    }

    format = "json";
    part = vp_part(parts, nparts, "response_format");

    if (part) {
        if (part->len == 4 && memcmp(part->data, "text", 4) == 0) {
            format = "text";

        } else if (!(part->len == 4 && memcmp(part->data, "json", 4) == 0)
                   && !(part->len == 12
                        && memcmp(part->data, "verbose_json", 12) == 0))
        {
            vp_error(c, 400, "response_format: json, verbose_json or text");
            return;
        }
    }

    part = vp_part(parts, nparts, "language");
    if (part) {
        vp_note(c, "language", (const char *) part->data, part->len);
    }

    if (voice_wav_parse(file->data, file->len, &wav) != 0) {
        vp_error(c, 400, "the file is not a PCM16 or G.711 WAV file");
        return;
    }

    if (wav.rate < 4000 || wav.rate > 192000) {
        vp_error(c, 400, "sample rate out of 4000..192000 Hz");
        return;
    }

    n = wav.data_len / (wav.channels * (wav.format == VOICE_WAV_PCM16
                                        ? 2 : 1));

    if (n / wav.rate > VP_STT_SECONDS_MAX) {
        vp_error(c, 400, "audio longer than 120 seconds");
        return;
    }

    t0 = vp_now_ms();

    pcm = vp_wav_samples(file->data, &wav, &n);
    if (pcm == NULL) {
        vp_error(c, 500, "out of memory");
        return;
    }

    if (wav.rate != VP_STT_RATE) {
        pcm16 = vp_resample_all(pcm, n, wav.rate, VP_STT_RATE, &n16);
        free(pcm);

        if (pcm16 == NULL) {
            vp_error(c, 500, "out of memory");
            return;
        }

    } else {
        pcm16 = pcm;
        n16 = n;
    }

    vp_noise_floor(pcm16, n16);

    /*
     * The shop's questions first: a sentence grammar is what recognizes
     * them well.  What it cannot parse, or parses only with a poor score
     * (words outside it forced onto its sentences), goes to the general
     * language model.
     */

    search = "lm";
    faq = 0;
    hyp = vp_conf.grammar ? vp_decode("faq", pcm16, n16, &faq) : "";

    if (hyp[0] != '\0' && faq >= VP_STT_FAQ_MIN) {
        search = "faq";

    } else {
        hyp = vp_decode(vp_lm_search, pcm16, n16, &score);
    }

    free(pcm16);
    t1 = vp_now_ms();

    vp_notef(c, "audio=%zu ms rate=%u decode=%.0f ms search=%s faq=%.1f",
             (size_t) ((uint64_t) n * 1000 / wav.rate), wav.rate, t1 - t0,
             search, faq);
    vp_note(c, "text", hyp, strlen(hyp));

    n = strlen(hyp);

    if (strcmp(format, "text") == 0) {
        body = malloc(n + 1);
        if (body == NULL) {
            vp_error(c, 500, "out of memory");
            return;
        }

        memcpy(body, hyp, n);
        body[n] = '\n';
        vp_respond(c, 200, "text/plain; charset=utf-8", body, n + 1);
        free(body);
        return;
    }

    k = voice_json_escape(NULL, (const uint8_t *) hyp, n);

    body = malloc(k + 16);
    if (body == NULL) {
        vp_error(c, 500, "out of memory");
        return;
    }

    memcpy(body, "{\"text\":\"", 9);
    voice_json_escape((uint8_t *) body + 9, (const uint8_t *) hyp, n);
    memcpy(body + 9 + k, "\"}\n", 3);

    vp_respond(c, 200, "application/json", body, k + 12);
    free(body);
}


/* RFC 7578: the parts, by the name in each one's Content-Disposition */

static int
vp_multipart(const uint8_t *body, size_t len, const char *boundary,
    vp_part_t *parts, int *nparts)
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

        if (n < VP_PARTS_MAX) {
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
                    (void) vp_param(disp, "name", parts[n].name,
                                    sizeof(parts[n].name));
                }
            }

            n++;
        }

        p = next + dlen;
    }
}


static const vp_part_t *
vp_part(const vp_part_t *parts, int n, const char *name)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (strcmp(parts[i].name, name) == 0) {
            return &parts[i];
        }
    }

    return NULL;
}


/*
 * A parameter of a header value, "type; key=value; key="value"": the
 * value's length, or -1 if it is missing or does not fit.
 */

static int
vp_param(const char *s, const char *key, char *out, size_t cap)
{
    size_t       klen, nlen, n;
    const char  *p, *name;

    klen = strlen(key);
    p = vp_skip_value(s);

    while (*p == ';') {
        p++;

        while (*p == ' ' || *p == '\t') {
            p++;
        }

        name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t') {
            p++;
        }

        nlen = p - name;

        while (*p == ' ' || *p == '\t') {
            p++;
        }

        if (*p != '=') {
            p = vp_skip_value(p);
            continue;
        }

        p++;

        while (*p == ' ' || *p == '\t') {
            p++;
        }

        if (nlen != klen || strncasecmp(name, key, klen) != 0) {
            p = vp_skip_value(p);
            continue;
        }

        n = 0;

        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                }

                if (n + 1 >= cap) {
                    return -1;
                }

                out[n++] = *p;
            }

            if (*p != '"') {
                return -1;
            }

        } else {
            for ( /* void */ ; *p && *p != ';' && *p != ' ' && *p != '\t';
                 p++)
            {
                if (n + 1 >= cap) {
                    return -1;
                }

                out[n++] = *p;
            }
        }

        out[n] = '\0';

        return (int) n;
    }

    return -1;
}


/* to the next ';' outside a quoted string, or the end */

static const char *
vp_skip_value(const char *p)
{
    while (*p && *p != ';') {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                }
            }

            if (*p == '\0') {
                break;
            }
        }

        p++;
    }

    return p;
}


/* the first channel as PCM16, malloc'ed */

static int16_t *
vp_wav_samples(const uint8_t *file, const voice_wav_t *wav, size_t *n)
{
    size_t          i, frame, frames;
    int16_t        *out;
    const uint8_t  *p;

    frame = wav->channels * (wav->format == VOICE_WAV_PCM16 ? 2 : 1);
    frames = wav->data_len / frame;

    out = malloc((frames + 1) * sizeof(int16_t));
    if (out == NULL) {
        return NULL;
    }

    p = file + wav->data_offset;

    for (i = 0; i < frames; i++, p += frame) {
        switch (wav->format) {
        case VOICE_WAV_ULAW:
            out[i] = voice_ulaw_decode(p[0]);
            break;

        case VOICE_WAV_ALAW:
            out[i] = voice_alaw_decode(p[0]);
            break;

        default:
            out[i] = (int16_t) (p[0] | p[1] << 8);
        }
    }

    *n = frames;

    return out;
}


/* a whole buffer to another rate, the filter's tail flushed with zeros */

static int16_t *
vp_resample_all(const int16_t *in, size_t n, unsigned from, unsigned to,
    size_t *out_n)
{
    size_t              pad, cap, m, pos, used, k, chunk;
    int16_t            *out;
    voice_resampler_t  *rs;
    static int16_t      zeros[1024];

    rs = voice_resampler_create(from, to, VOICE_RESAMPLE_QUALITY);
    if (rs == NULL) {
        return NULL;
    }

    pad = from / 50;
    cap = voice_resample_out_max(n + pad, from, to) + 16;

    out = malloc(cap * sizeof(int16_t));
    if (out == NULL) {
        voice_resampler_destroy(rs);
        return NULL;
    }

    m = 0;

    for (pos = 0; pos < n; pos += used) {
        k = voice_resample(rs, in + pos, n - pos, out + m, cap - m, &used);
        m += k;

        if (used == 0 && k == 0) {
            break;
        }
    }

    while (pad > 0 && m < cap) {
        chunk = pad < 1024 ? pad : 1024;
        k = voice_resample(rs, zeros, chunk, out + m, cap - m, &used);
        m += k;

        if (used == 0) {
            break;
        }

        pad -= used;
    }

    voice_resampler_destroy(rs);
    *out_n = m;

    return out;
}


/*
 * A noise floor at about -45 dBFS.  The acoustic model never heard
 * digital silence, nor an empty band above 4 kHz: synthesized speech and
 * audio from the phone's 8 kHz are both far better recognized with it.
 * The noise is the same for every utterance, and so is the transcript.
 */

static void
vp_noise_floor(int16_t *pcm, size_t n)
{
    size_t    i;
    int32_t   v;
    uint32_t  r;

    r = 12345;

    for (i = 0; i < n; i++) {
        r = r * 1664525 + 1013904223;
        v = pcm[i] + (int32_t) (r >> 16) % (2 * VP_STT_NOISE + 1)
            - VP_STT_NOISE;
        pcm[i] = (int16_t) (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
}


/* one utterance with the named search: the words, or "" */

static const char *
vp_decode(const char *search, const int16_t *pcm, size_t n, double *score)
{
    int          frames;
    int32        total;
    const char  *hyp;

    *score = 0;

    if (ps_set_search(vp_ps, search) != 0 || ps_start_utt(vp_ps) != 0) {
        return "";
    }

    (void) ps_process_raw(vp_ps, pcm, n, FALSE, TRUE);
    (void) ps_end_utt(vp_ps);

    total = 0;
    hyp = ps_get_hyp(vp_ps, &total);
    frames = ps_get_n_frames(vp_ps);

    if (frames > 0) {
        *score = (double) total / frames;
    }

    return hyp ? hyp : "";
}


/* OpenAI chat completions: the FAQ's answer, word by word */

static void
vp_llm(vp_conn_t *c)
{
    int          stream;
    char         user[VP_USER_MAX], reply[VP_REPLY_MAX], id[64];
    char         model[400], *body;
    size_t       i, ulen, rlen, n, k;
    yajl_val     root, msgs, v;
    const char  *s, *p, *q;

    static const char  *path_messages[] = { "messages", NULL };
    static const char  *path_stream[] = { "stream", NULL };
    static unsigned     serial;

    root = vp_json_parse(c);
    if (root == NULL) {
        return;
    }

    msgs = yajl_tree_get(root, path_messages, yajl_t_array);
    if (msgs == NULL) {
        vp_error(c, 400, "\"messages\" must be an array");
        yajl_tree_free(root);
        return;
    }

    /* the caller's last words; none yet: the call has just started */

    ulen = 0;
    user[0] = '\0';

    for (i = msgs->u.array.len; i-- > 0; ) {
        s = vp_json_str(msgs->u.array.values[i], "role");

        if (s && strcmp(s, "user") == 0) {
            ulen = vp_user_text(msgs->u.array.values[i], user, sizeof(user));
            break;
        }
    }

    v = yajl_tree_get(root, path_stream, yajl_t_any);
    stream = YAJL_IS_TRUE(v);

    s = vp_json_str(root, "model");
    if (s == NULL) {
        s = "voice-providers-faq";
    }

    n = strlen(s);
    k = voice_json_escape((uint8_t *) model, (const uint8_t *) s,
                          n > 64 ? 64 : n);
    model[k] = '\0';

    yajl_tree_free(root);

    rlen = vp_faq_reply(user, reply, sizeof(reply));

    vp_note(c, "user", user, ulen);
    vp_note(c, "reply", reply, rlen);

    snprintf(id, sizeof(id), "chatcmpl-vp%d-%u", (int) getpid(), ++serial);

    if (!stream) {
        k = voice_json_escape(NULL, (const uint8_t *) reply, rlen);
        n = k + strlen(model) + 512;

        body = malloc(n);
        if (body == NULL) {
            vp_error(c, 500, "out of memory");
            return;
        }

        k = snprintf(body, n, "{\"id\":\"%s\",\"object\":\"chat.completion\","
                     "\"created\":%ld,\"model\":\"%s\",\"choices\":[{"
                     "\"index\":0,\"message\":{\"role\":\"assistant\","
                     "\"content\":\"", id, (long) time(NULL), model);
        k += voice_json_escape((uint8_t *) body + k,
                               (const uint8_t *) reply, rlen);
        k += snprintf(body + k, n - k, "\"},\"finish_reason\":\"stop\"}]}\n");

        vp_respond(c, 200, "application/json", body, k);
        free(body);
        return;
    }

    if (vp_stream_start(c, "text/event-stream",
                        "Cache-Control: no-cache\r\n"
                        "X-Accel-Buffering: no\r\n") != 0)
    {
        return;
    }

    if (vp_sse(c, id, model, "{\"role\":\"assistant\",\"content\":\"\"}",
               0, "null") != 0)
    {
        return;
    }

    /* each word with the spaces after it, as a model's tokens come */

    for (p = reply; *p; p = q) {
        q = p + strcspn(p, " ");
        q += strspn(q, " ");

        if (p != reply) {
            vp_sleep_ms(vp_conf.word_delay);
        }

        if (vp_sse(c, id, model, p, q - p, NULL) != 0) {
            return;
        }
    }

    if (vp_sse(c, id, model, "{}", 0, "\"stop\"") != 0) {
        return;
    }

    if (vp_stream_write(c, "data: [DONE]\n\n", 14) != 0) {
        return;
    }

    vp_stream_end(c);
}


/* content: a string, or an array of {"type":"text","text"} parts */

static size_t
vp_user_text(yajl_val msg, char *out, size_t cap)
{
    size_t       i, n, len;
    yajl_val     content, part;
    const char  *s;

    static const char  *path_content[] = { "content", NULL };

    len = 0;
    out[0] = '\0';

    content = yajl_tree_get(msg, path_content, yajl_t_any);

    if (YAJL_IS_STRING(content)) {
        s = YAJL_GET_STRING(content);
        n = strlen(s);
        len = (n < cap - 1) ? n : cap - 1;
        memcpy(out, s, len);

    } else if (YAJL_IS_ARRAY(content)) {
        for (i = 0; i < content->u.array.len; i++) {
            part = content->u.array.values[i];
            s = vp_json_str(part, "text");

            if (s == NULL) {
                continue;
            }

            n = strlen(s);
            if (len + n + 2 > cap) {
                break;
            }

            if (len) {
                out[len++] = ' ';
            }

            memcpy(out + len, s, n);
            len += n;
        }
    }

    out[len] = '\0';

    return len;
}


/*
 * The dialogue: a keypad digit, a FAQ entry, or the caller's words back
 * as a question.  Every sentence ends in . ! or ? for the splitter.
 */

static size_t
vp_faq_reply(const char *text, char *out, size_t cap)
{
    int          i, n;
    size_t       len;
    const char  *p;

    static const int  keypad[10] = {
        vp_faq_human, vp_faq_hours, vp_faq_location, vp_faq_prices,
        vp_faq_delivery, vp_faq_returns, -1, -1, -1, -1
    };

    p = strstr(text, "[caller pressed ");

    if (p) {
        p += 16;

        if (*p && p[1] == ']' && strchr("0123456789*#", *p)) {
            i = (*p >= '0' && *p <= '9') ? keypad[*p - '0'] : -1;

            if (i >= 0) {
                n = snprintf(out, cap, "You pressed %c. %s", *p,
                             vp_faq[i].answer);

            } else {
                n = snprintf(out, cap, "You pressed %c. Press 1 for our "
                             "opening hours, 2 for our address, 3 for "
                             "prices, 4 for delivery, 5 for returns, or 0 "
                             "to talk to a person.", *p);
            }

            return ((size_t) n < cap) ? (size_t) n : cap - 1;
        }
    }

    i = vp_faq_match(text);

    if (i >= 0) {
        n = snprintf(out, cap, "%s", vp_faq[i].answer);
        return ((size_t) n < cap) ? (size_t) n : cap - 1;
    }

    while (*text == ' ' || *text == '\t' || *text == '\n') {
        text++;
    }

    len = strlen(text);

    while (len && strchr(" \t\r\n.?!,;:", text[len - 1])) {
        len--;
    }

    if (len == 0) {
        n = snprintf(out, cap, "%s", vp_faq[vp_faq_greeting].answer);
        return ((size_t) n < cap) ? (size_t) n : cap - 1;
    }

    /* a long echo is cut at a space, never inside a UTF-8 sequence */
    if (len > VP_ECHO_MAX) {
        len = VP_ECHO_MAX;

        while (len > 0 && text[len] != ' ') {
            len--;
        }

        if (len == 0) {
            len = VP_ECHO_MAX;
            while (len > 0 && ((unsigned char) text[len] & 0xc0) == 0x80) {
                len--;
            }
        }
    }

    n = snprintf(out, cap, "You said: %.*s? Could you tell me more?",
                 (int) len, text);

    return ((size_t) n < cap) ? (size_t) n : cap - 1;
}


/* the entry most of whose keywords are among the words, or -1 */

static int
vp_faq_match(const char *text)
{
    int           i, k, hits, best, best_hits, nwords;
    char          words[VP_WORDS_MAX][32];
    size_t        n;
    const char   *p;
    unsigned char  ch;

    nwords = 0;
    p = text;

    while (*p && nwords < VP_WORDS_MAX) {
        n = 0;

        for ( ;; ) {
            ch = (unsigned char) *p;

            if (ch >= 'A' && ch <= 'Z') {
                ch += 'a' - 'A';

            } else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
                         || ch == '\''))
            {
                break;
            }

            if (n < sizeof(words[0]) - 1) {
                words[nwords][n++] = (char) ch;
            }

            p++;
        }

        if (n) {
            words[nwords++][n] = '\0';
        }

        if (*p) {
            p++;
        }
    }

    best = -1;
    best_hits = 0;

    for (i = 0; i < vp_faq_n; i++) {
        hits = 0;

        for (k = 0; k < nwords; k++) {
            const char  *const *kw;

            for (kw = vp_faq[i].keywords; *kw; kw++) {
                if (vp_keyword(words[k], *kw)) {
                    hits++;
                    break;
                }
            }
        }

        if (hits > best_hits) {
            best = i;
            best_hits = hits;
        }
    }

    return best;
}


static int
vp_keyword(const char *word, const char *kw)
{
    size_t  n;

    n = strlen(kw);

    if (n && kw[n - 1] == '*') {
        return strncmp(word, kw, n - 1) == 0;
    }

    return strcmp(word, kw) == 0;
}


/*
 * One chat.completion.chunk: delta_len 0 gives delta as a JSON object,
 * else the delta is {"content": the text}.
 */

static int
vp_sse(vp_conn_t *c, const char *id, const char *model, const char *delta,
    size_t delta_len, const char *finish)
{
    char    buf[8192];
    size_t  n;

    n = snprintf(buf, sizeof(buf), "data: {\"id\":\"%s\",\"object\":"
                 "\"chat.completion.chunk\",\"created\":%ld,\"model\":"
                 "\"%s\",\"choices\":[{\"index\":0,\"delta\":",
                 id, (long) time(NULL), model);

    if (delta_len == 0) {
        n += snprintf(buf + n, sizeof(buf) - n, "%s", delta);

    } else {
        if (voice_json_escape(NULL, (const uint8_t *) delta, delta_len)
            > sizeof(buf) - n - 128)
        {
            delta_len = (sizeof(buf) - n - 128) / 6;
        }

        n += snprintf(buf + n, sizeof(buf) - n, "{\"content\":\"");
        n += voice_json_escape((uint8_t *) buf + n, (const uint8_t *) delta,
                               delta_len);
        n += snprintf(buf + n, sizeof(buf) - n, "\"}");
    }

    n += snprintf(buf + n, sizeof(buf) - n, ",\"finish_reason\":%s}]}\n\n",
                  finish ? finish : "null");

    if (n >= sizeof(buf)) {
        return -1;
    }

    return vp_stream_write(c, buf, n);
}


/*
 * ElevenLabs {"text", "model_id"} with ?output_format=, or OpenAI
 * {"model", "input", "voice", "response_format"}: raw audio, streamed as
 * espeak-ng makes it.
 */

static void
vp_tts(vp_conn_t *c, const char *voice, int openai)
{
    int          rc;
    char         format[32];
    double       speed;
    yajl_val     root, v;
    vp_tts_t     t;
    const char  *text, *s;

    static const char  *path_speed[] = { "speed", NULL };
    static const char  *path_vspeed[] = { "voice_settings", "speed", NULL };
    static int16_t      zeros[256];

    memset(&t, 0, sizeof(vp_tts_t));
    t.c = c;

    if (openai) {
        format[0] = '\0';

    } else if (c->query == NULL
               || vp_query_arg(c->query, "output_format", format,
                               sizeof(format)) < 0)
    {
        /* the real API's default is mp3_44100_128; ours is the phone's */
        strcpy(format, "ulaw_8000");
    }

    root = vp_json_parse(c);
    if (root == NULL) {
        return;
    }

    if (openai) {
        s = vp_json_str(root, "response_format");
        snprintf(format, sizeof(format), "%s", s ? s : "pcm");
        voice = vp_json_str(root, "voice");
    }

    if (vp_tts_format(&t, format, openai) != 0) {
        vp_error(c, 400, openai ? "response_format: pcm or wav"
                 : "output_format: ulaw_8000, alaw_8000, pcm_8000, "
                   "pcm_16000, pcm_22050, pcm_24000, pcm_44100, pcm_48000");
        yajl_tree_free(root);
        return;
    }

    text = vp_json_str(root, openai ? "input" : "text");

    if (text == NULL || text[strspn(text, " \t\r\n")] == '\0') {
        vp_error(c, 400, openai ? "\"input\" must be a non-empty string"
                                : "\"text\" must be a non-empty string");
        yajl_tree_free(root);
        return;
    }

    if (strlen(text) > VP_TTS_TEXT_MAX) {
        vp_error(c, 400, "text too long");
        yajl_tree_free(root);
        return;
    }

    vp_note(c, "text", text, strlen(text));
    vp_notef(c, "format=%s", format);

    v = yajl_tree_get(root, openai ? path_speed : path_vspeed,
                      yajl_t_number);
    speed = YAJL_IS_DOUBLE(v) ? YAJL_GET_DOUBLE(v)
            : YAJL_IS_INTEGER(v) ? (double) YAJL_GET_INTEGER(v) : 1.0;

    if (speed < 0.25 || speed > 4.0) {
        speed = 1.0;
    }

    vp_tts_voice(voice ? voice : VP_TTS_VOICE);
    espeak_SetParameter(espeakRATE, (int) (espeakRATE_NORMAL * speed), 0);

    if (t.rate != (unsigned) vp_tts_rate) {
        t.rs = voice_resampler_create(vp_tts_rate, t.rate,
                                      VOICE_RESAMPLE_QUALITY);
        if (t.rs == NULL) {
            vp_error(c, 500, "out of memory");
            yajl_tree_free(root);
            return;
        }
    }

    vp_tts_current = &t;
    rc = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                      espeakCHARS_UTF8, NULL, NULL);
    vp_tts_current = NULL;

    yajl_tree_free(root);

    if (c->headers_sent && !c->failed && t.rs) {
        (void) vp_tts_audio(&t, zeros, sizeof(zeros) / sizeof(zeros[0]));
    }

    voice_resampler_destroy(t.rs);
    free(t.pcm);
    free(t.out);

    if (c->headers_sent) {
        if (c->first) {
            vp_notef(c, "first_audio=%.0f ms", c->first - c->start);
        }

        vp_stream_end(c);
        return;
    }

    if (rc != EE_OK) {
        vp_error(c, 500, "synthesis failed");
        return;
    }

    /* nothing to say, e.g. only punctuation */
    vp_respond(c, 200, t.type, "", 0);
}


static int
vp_tts_format(vp_tts_t *t, const char *format, int openai)
{
    long   rate;
    char  *end;

    t->type = "audio/pcm";
    t->encoding = VP_PCM;

    if (openai) {
        t->rate = 24000;

        if (strcmp(format, "wav") == 0) {
            t->wav = 1;
            t->type = "audio/wav";
            return 0;
        }

        return strcmp(format, "pcm") == 0 ? 0 : -1;
    }

    if (strcmp(format, "ulaw_8000") == 0) {
        t->rate = 8000;
        t->encoding = VP_ULAW;
        t->type = "audio/basic";
        return 0;
    }

    if (strcmp(format, "alaw_8000") == 0) {
        t->rate = 8000;
        t->encoding = VP_ALAW;
        t->type = "audio/x-alaw-basic";
        return 0;
    }

    if (strncmp(format, "pcm_", 4) != 0) {
        return -1;
    }

    rate = strtol(format + 4, &end, 10);

    if (*end != '\0' || (rate != 8000 && rate != 16000 && rate != 22050
                         && rate != 24000 && rate != 44100 && rate != 48000))
    {
        return -1;
    }

    t->rate = (unsigned) rate;

    return 0;
}


/* an espeak-ng voice by name ("en-us", "en-gb+f3"); else the default */

static void
vp_tts_voice(const char *name)
{
    if (strlen(name) >= sizeof(vp_voice)
        || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-_")
           != strlen(name))
    {
        name = VP_TTS_VOICE;
    }

    if (strcmp(name, vp_voice) == 0) {
        return;
    }

    if (espeak_SetVoiceByName(name) != EE_OK) {
        name = VP_TTS_VOICE;

        if (strcmp(name, vp_voice) == 0) {
            return;
        }

        (void) espeak_SetVoiceByName(name);
    }

    snprintf(vp_voice, sizeof(vp_voice), "%s", name);
}


static int
vp_tts_callback(short *wav, int numsamples, espeak_EVENT *events)
{
    vp_tts_t  *t;

    (void) events;

    t = vp_tts_current;

    if (t == NULL || t->c->failed) {
        return 1;
    }

    if (wav == NULL || numsamples <= 0) {
        return 0;
    }

    return vp_tts_audio(t, wav, numsamples) == 0 ? 0 : 1;
}


/* converts and sends one buffer of espeak-ng's audio */

static int
vp_tts_audio(vp_tts_t *t, const int16_t *in, size_t n)
{
    size_t          m, k, pos, used, cap, need, i, off;
    uint8_t        *o;
    const int16_t  *pcm;

    if (t->rs) {
        cap = voice_resample_out_max(n, vp_tts_rate, t->rate) + 16;

        if (cap > t->pcm_size) {
            free(t->pcm);
            t->pcm = malloc(cap * sizeof(int16_t));
            if (t->pcm == NULL) {
                t->pcm_size = 0;
                return -1;
            }

            t->pcm_size = cap;
        }

        m = 0;

        for (pos = 0; pos < n; pos += used) {
            k = voice_resample(t->rs, in + pos, n - pos, t->pcm + m,
                               cap - m, &used);
            m += k;

            if (used == 0 && k == 0) {
                break;
            }
        }

        pcm = t->pcm;

    } else {
        pcm = in;
        m = n;
    }

    off = (t->wav && !t->c->headers_sent) ? VOICE_WAV_HEADER : 0;
    need = off + m * 2;

    if (need > t->out_size) {
        free(t->out);
        t->out = malloc(need);
        if (t->out == NULL) {
            t->out_size = 0;
            return -1;
        }

        t->out_size = need;
    }

    if (off) {
        /* the length is not known yet: the largest, as streams do */
        voice_wav_header(t->out, t->rate, 1, 0xffffffff - 36);
    }

    o = t->out + off;

    switch (t->encoding) {
    case VP_ULAW:
        voice_ulaw_encode_buf(pcm, m, o);
        break;

    case VP_ALAW:
        voice_alaw_encode_buf(pcm, m, o);
        break;

    default:
        for (i = 0; i < m; i++) {
            o[2 * i] = (uint8_t) (pcm[i] & 0xff);
            o[2 * i + 1] = (uint8_t) ((uint16_t) pcm[i] >> 8);
        }

        m *= 2;
    }

    if (!t->c->headers_sent
        && vp_stream_start(t->c, t->type, "X-Accel-Buffering: no\r\n") != 0)
    {
        return -1;
    }

    return vp_stream_write(t->c, t->out, off + m);
}


/*
 * The body as a JSON object, or NULL after answering 400.  Nesting is
 * bounded first: yajl's tree is freed recursively.
 */

static yajl_val
vp_json_parse(vp_conn_t *c)
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
                vp_error(c, 400, "JSON nested too deep");
                return NULL;
            }

        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }

    text = malloc(c->body_len + 1);
    if (text == NULL) {
        vp_error(c, 500, "out of memory");
        return NULL;
    }

    memcpy(text, c->body, c->body_len);
    text[c->body_len] = '\0';

    err[0] = '\0';
    root = yajl_tree_parse(text, err, sizeof(err));
    free(text);

    if (root == NULL || !YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        vp_error(c, 400, "the body is not a JSON object");
        return NULL;
    }

    return root;
}


static const char *
vp_json_str(yajl_val v, const char *key)
{
    const char  *path[2];

    path[0] = key;
    path[1] = NULL;

    v = yajl_tree_get(v, path, yajl_t_string);

    return v ? YAJL_GET_STRING(v) : NULL;
}


static int
vp_query_arg(const char *query, const char *key, char *out, size_t cap)
{
    size_t       klen, n;
    const char  *p;

    klen = strlen(key);

    for (p = query; *p; p += (*p == '&')) {
        n = strcspn(p, "&");

        if (n > klen && p[klen] == '=' && strncmp(p, key, klen) == 0) {
            n -= klen + 1;

            if (n >= cap) {
                return -1;
            }

            memcpy(out, p + klen + 1, n);
            out[n] = '\0';

            return (int) n;
        }

        p += n;
    }

    return -1;
}


/* appends key="text" to the request's log line, escaped and cut short */

static void
vp_note(vp_conn_t *c, const char *key, const char *s, size_t len)
{
    char    *p;
    size_t   klen, cut, n;

    klen = strlen(key);
    cut = (len > VP_NOTE_TEXT) ? VP_NOTE_TEXT : len;
    n = voice_json_escape(NULL, (const uint8_t *) s, cut);

    if (c->note_len + klen + n + 8 > VP_NOTE_MAX) {
        return;
    }

    p = c->note + c->note_len;
    *p++ = ' ';
    memcpy(p, key, klen);
    p += klen;
    *p++ = '=';
    *p++ = '"';
    p += voice_json_escape((uint8_t *) p, (const uint8_t *) s, cut);

    if (cut < len) {
        memcpy(p, "...", 3);
        p += 3;
    }

    *p++ = '"';
    *p = '\0';

    c->note_len = p - c->note;
}


static void
vp_notef(vp_conn_t *c, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  ap;

    room = VP_NOTE_MAX - c->note_len;
    if (room < 2) {
        return;
    }

    c->note[c->note_len] = ' ';

    va_start(ap, fmt);
    n = vsnprintf(c->note + c->note_len + 1, room - 1, fmt, ap);
    va_end(ap);

    if (n > 0 && (size_t) n < room - 1) {
        c->note_len += n + 1;
    }

    c->note[c->note_len] = '\0';
}


/* method, path, status, body bytes, time, and what the engine made */

static void
vp_log_request(vp_conn_t *c)
{
    vp_logf("%s %.200s%s%.200s %d %zu bytes %.0f ms%s%s",
            c->method ? c->method : "-", c->path ? c->path : "-",
            c->query ? "?" : "", c->query ? c->query : "", c->status,
            c->sent, vp_now_ms() - c->start, c->failed ? " client gone" : "",
            c->note);
}


/* one line, in one write(): the children share the log */

static void
vp_logf(const char *fmt, ...)
{
    int              n;
    char             line[VP_NOTE_MAX + 1024];
    size_t           len;
    va_list          ap;
    struct tm        tm;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);

    len = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
    len += snprintf(line + len, sizeof(line) - len, ".%03ld [%d] ",
                    ts.tv_nsec / 1000000, (int) getpid());

    va_start(ap, fmt);
    n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
    va_end(ap);

    if (n > 0) {
        len += ((size_t) n < sizeof(line) - len - 1)
               ? (size_t) n : sizeof(line) - len - 2;
    }

    line[len++] = '\n';

    if (write(vp_log_fd, line, len) == -1) {
        /* nowhere left to say it */
    }
}


static double
vp_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}


static void
vp_sleep_ms(unsigned ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long) (ms % 1000) * 1000000;

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
        /* void */
    }
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#define _GNU_SOURCE

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "clock.h"
#include "conf.h"
#include "http.h"
#include "listen.h"
#include "llm.h"
#include "log.h"
#include "server.h"
#include "stt.h"
#include "tts.h"


static void vp_server_on_signal(int signo);
static void vp_server_reap(void);
static void vp_server_stop_children(void);
static void vp_server_serve(int fd);
static void vp_server_route(vp_http_conn_t *c);


static pid_t                   vp_server_children[VP_SERVER_CHILDREN_MAX];
static unsigned                vp_server_nchildren;
static volatile sig_atomic_t   vp_server_quit;


int
vp_server_listen(const char *addr)
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


int
vp_server_local_port(int ls)
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

int
vp_server_write_port_file(int port)
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


/* the parent: accepts and forks until SIGTERM or SIGINT */

void
vp_server_run(int ls)
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

    /* main() may have blocked them already: ppoll() takes them anyway */

    sigdelset(&orig, SIGCHLD);
    sigdelset(&orig, SIGTERM);
    sigdelset(&orig, SIGINT);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vp_server_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    parent = getpid();

    while (!vp_server_quit) {
        vp_server_reap();

        pfd.fd = ls;
        pfd.events = (vp_server_nchildren < vp_conf.max_children) ? POLLIN : 0;
        pfd.revents = 0;

        rc = ppoll(&pfd, 1, NULL, &orig);

        if (rc == -1) {
            if (errno == EINTR) {
                continue;
            }

            vp_log_printf("poll: %s", strerror(errno));
            break;
        }

        if (!(pfd.revents & POLLIN)) {
            continue;
        }

        fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd == -1) {
            if (errno == EMFILE || errno == ENFILE) {
                vp_log_printf("accept: %s", strerror(errno));
                vp_clock_sleep_ms(100);
            }

            continue;
        }

        if (vp_conf.no_fork) {
            vp_server_serve(fd);
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
            vp_server_serve(fd);
            _exit(0);
        }

        close(fd);

        if (pid == -1) {
            vp_log_printf("fork: %s", strerror(errno));
            continue;
        }

        for (i = 0; i < VP_SERVER_CHILDREN_MAX; i++) {
            if (vp_server_children[i] == 0) {
                vp_server_children[i] = pid;
                vp_server_nchildren++;
                break;
            }
        }

        if (vp_conf.verbose) {
            vp_log_printf("connection: child %d, %u running", (int) pid,
                    vp_server_nchildren);
        }
    }

    vp_server_stop_children();
    sigprocmask(SIG_SETMASK, &orig, NULL);
}


static void
vp_server_on_signal(int signo)
{
    if (signo == SIGTERM || signo == SIGINT) {
        vp_server_quit = 1;
    }

    /* SIGCHLD only ends ppoll(); the loop reaps */
}


static void
vp_server_reap(void)
{
    int       status;
    pid_t     pid;
    unsigned  i;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < VP_SERVER_CHILDREN_MAX; i++) {
            if (vp_server_children[i] == pid) {
                vp_server_children[i] = 0;
                vp_server_nchildren--;
                break;
            }
        }

        if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM) {
            vp_log_printf("child %d exited on signal %d", (int) pid,
                    WTERMSIG(status));
        }
    }
}


static void
vp_server_stop_children(void)
{
    int       n;
    unsigned  i;

    for (i = 0; i < VP_SERVER_CHILDREN_MAX; i++) {
        if (vp_server_children[i]) {
            kill(vp_server_children[i], SIGTERM);
        }
    }

    for (n = 0; n < 200 && vp_server_nchildren > 0; n++) {
        vp_clock_sleep_ms(10);
        vp_server_reap();
    }

    for (i = 0; i < VP_SERVER_CHILDREN_MAX; i++) {
        if (vp_server_children[i]) {
            kill(vp_server_children[i], SIGKILL);
            (void) waitpid(vp_server_children[i], NULL, 0);
            vp_server_children[i] = 0;
        }
    }

    vp_server_nchildren = 0;
}


/* one connection: its requests one after another until close or idle */

static void
vp_server_serve(int fd)
{
    vp_http_conn_t  c;

    if (vp_http_open(&c, fd) == 0) {
        while (vp_http_read_request(&c) == 0) {
            vp_server_route(&c);
            vp_http_log_request(&c);

            if (!c.keepalive || c.failed) {
                break;
            }

            vp_http_next(&c);
        }
    }

    vp_http_close(&c);
}


static void
vp_server_route(vp_http_conn_t *c)
{
    int          post;
    size_t       n;
    char         voice[64];
    const char  *p;

    post = (strcmp(c->method, "POST") == 0);

    if (strcmp(c->path, "/v1/audio/transcriptions") == 0) {
        if (post) {
            vp_stt_handle(c);
            return;
        }

        goto not_allowed;
    }

    if (strcmp(c->path, "/v1/chat/completions") == 0) {
        if (post) {
            vp_llm_handle(c);
            return;
        }

        goto not_allowed;
    }

    /* Deepgram's live STT: a WebSocket, 426 to anything else */

    if (strcmp(c->path, "/v1/listen") == 0) {
        vp_listen_handle(c);
        return;
    }

    if (strcmp(c->path, "/v1/audio/speech") == 0) {
        if (post) {
            vp_tts_handle(c, NULL, 1);
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
            vp_tts_handle(c, voice, 0);
            return;
        }
    }

    vp_http_error(c, 404, "no such endpoint");
    return;

not_allowed:

    vp_http_error(c, 405, "use POST");
}

/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"


static int  vp_log_fd = 2;


int
vp_log_open(const char *file)
{
    vp_log_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (vp_log_fd == -1) {
        fprintf(stderr, "voice-providers: %s: %s\n", file, strerror(errno));
        vp_log_fd = 2;
        return -1;
    }

    return 0;
}


/* one line, in one write(): the children share the log */

void
vp_log_printf(const char *fmt, ...)
{
    int              n;
    char             line[VP_LOG_LINE_MAX];
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

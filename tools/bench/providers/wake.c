/*
 * Copyright (C) ngx_http_voice_module authors
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "log.h"
#include "wake.h"


static int bp_wake_cmp(const void *a, const void *b);


int
bp_wake_run(int n)
{
    int       i, sv[2];
    char      c;
    int64_t   t, *rtt;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        perror("socketpair");
        return 1;
    }

    if (fork() == 0) {
        close(sv[0]);

        while (read(sv[1], &c, 1) == 1) {
            if (write(sv[1], &c, 1) != 1) {
                break;
            }
        }

        _exit(0);
    }

    close(sv[1]);

    rtt = malloc(n * sizeof(int64_t));
    if (rtt == NULL) {
        return 1;
    }

    c = 'x';

    for (i = 0; i < n; i++) {
        usleep(2000 + random() % 8000);

        t = bp_log_now();

        if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1) {
            return 1;
        }

        rtt[i] = bp_log_now() - t;
    }

    close(sv[0]);
    qsort(rtt, n, sizeof(int64_t), bp_wake_cmp);

    printf("%.3f %.3f %.3f %.3f\n", rtt[n / 2] / 1000.0,
           rtt[(n - 1) * 9 / 10] / 1000.0, rtt[(n - 1) * 99 / 100] / 1000.0,
           rtt[n - 1] / 1000.0);

    return 0;
}


static int
bp_wake_cmp(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return (x > y) - (x < y);
}

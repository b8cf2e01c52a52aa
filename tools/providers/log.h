/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The providers' log: one line per request and per event, written whole
 * in one write(), so that the children can share one file.
 */

#ifndef VP_LOG_H
#define VP_LOG_H


#define VP_LOG_LINE_MAX  3072


/* appends to file from now on (stderr until then); -1 on failure */
int vp_log_open(const char *file);

/* "2024-01-01 12:00:00.000 [pid] " and the message, a line */
void vp_log_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif /* VP_LOG_H */

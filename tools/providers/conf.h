/*
 * Copyright (C) ngx_http_voice_module authors
 */

/* voice-providers' command line */

#ifndef VP_CONF_H
#define VP_CONF_H


typedef struct {
    const char    *listen;
    const char    *port_file;
    const char    *log_file;
    const char    *model_dir;
    unsigned       word_delay;
    unsigned       listen_idle;         /* ms without audio or KeepAlive */
    unsigned       max_children;
    int            verbose;
    int            no_fork;
    int            grammar;
} vp_conf_t;


extern vp_conf_t  vp_conf;


/* fills vp_conf: -1 to go on, else the status to exit with */
int vp_conf_parse(int argc, char **argv);

#endif /* VP_CONF_H */

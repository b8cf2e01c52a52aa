/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The relay: forwards a WebSocket call between the caller (voice-sim) and
 * nginx as it is, and logs "media" with the stream sid each time media
 * messages arrive from nginx: the moment audio left nginx, seen from the
 * caller's side (the first byte read's arrival, however late the relay
 * read it; k: the µs until it did); and "caller_media" with the stream
 * sid and the key of the frame's base64 (bp_log_key) as each of the
 * caller's media messages is written to nginx: the moment that frame
 * reached nginx.
 */

#ifndef BP_RELAY_H
#define BP_RELAY_H

#include "conn.h"


/* a call accepted from the caller: its leg to nginx on 127.0.0.1:port */
int bp_relay_open(int fd, int port);

/* either leg: forward what it read to the other */
void bp_relay_read(bp_conn_t *c);

#endif /* BP_RELAY_H */

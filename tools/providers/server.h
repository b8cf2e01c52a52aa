/*
 * Copyright (C) ngx_http_voice_module authors
 */

/*
 * The providers' server: a listening socket, and a process per accepted
 * connection, forked from the parent that loaded the engines; each child
 * serves its connection's requests and routes them to STT, LLM or TTS,
 * or serves the WebSocket that its connection switches to.
 */

#ifndef VP_SERVER_H
#define VP_SERVER_H


#define VP_SERVER_CHILDREN_MAX  64


/* "ADDR:PORT", "[ADDR]:PORT" or "PORT": the socket, or -1 */
int vp_server_listen(const char *addr);

int vp_server_local_port(int ls);

/* the port into --port-file */
int vp_server_write_port_file(int port);

/* accepts and forks until SIGTERM or SIGINT */
void vp_server_run(int ls);

#endif /* VP_SERVER_H */

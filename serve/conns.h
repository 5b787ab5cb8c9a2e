/* glint serve's connection watchdog: a request's headers and body must arrive within a deadline. */
#ifndef GLINT_SERVE_CONNS_H
#define GLINT_SERVE_CONNS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * libmicrohttpd's connection timeout counts inactivity only: a client sending one byte a second
 * keeps a connection forever. The watchdog bounds the whole read: a new connection must deliver
 * a complete request (headers and body) within read_timeout_ms, and a keep-alive connection its
 * next one within idle_timeout_s + read_timeout_ms of the previous response. Past that, the
 * socket is shut down (the connection's thread then ends it). A request being processed is
 * never cut: the guest's timeout bounds it.
 */
struct serve_conns;

int serve_conns_start(struct serve_conns **out, uint32_t read_timeout_ms, uint32_t idle_timeout_s);
/* Stop the watchdog thread; after MHD_stop_daemon (no connection left). NULL ok. */
void serve_conns_stop(struct serve_conns *w);

/* The MHD_OPTION_NOTIFY_CONNECTION callback (cls: the struct serve_conns). */
void serve_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe);

/* The connection's request has arrived completely (busy: the watchdog leaves it alone), or its
 * response is done (not busy: the next request's deadline starts). conn is the socket context. */
void serve_conns_busy(struct serve_conns *w, void *conn, bool busy);

/* Connections shut down by the watchdog so far. */
uint64_t serve_conns_cut(struct serve_conns *w);

#endif

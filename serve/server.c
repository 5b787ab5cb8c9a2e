/* `glint serve`: load the functions, run libmicrohttpd with its limits, drain on SIGTERM/SIGINT. */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "conns.h"
#include "functions.h"
#include "nats_worker.h"
#include "options.h"
#include "report.h"
#include "routes.h"

/* A connection thread runs the route, jansson (nesting bounded by SJ_MAX_DEPTH) and waits for a
 * pool worker: far less than the default 8 MiB. */
#define CONNECTION_STACK (256u << 10)

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    cli_error("serve: libmicrohttpd: %s", msg);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct MHD_Daemon *start(struct serve_server *s, const char *host, uint16_t port)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (strchr(host, ':')) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(port);
        inet_pton(AF_INET6, host, &a6.sin6_addr);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(port);
        inet_pton(AF_INET, host, &a4.sin_addr);
        sa = (struct sockaddr *)&a4;
    }
    const struct serve_config *c = s->cfg;
    return MHD_start_daemon(flags, port, NULL, NULL, serve_route, s, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, NULL, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)c->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)c->idle_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
                            serve_route_done, s, MHD_OPTION_NOTIFY_CONNECTION, serve_conns_notify,
                            s->conns, MHD_OPTION_THREAD_STACK_SIZE, (size_t)CONNECTION_STACK,
                            MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_END);
}

/* Wait for SIGTERM or SIGINT, then stop accepting (HTTP d and NATS nw, either may be NULL) and
 * let requests in flight finish. Returns true if they all did within drain_ms. */
static bool run_until_signal(struct serve_server *s, struct MHD_Daemon *d, struct nats_worker *nw,
                             const sigset_t *stop)
{
    int sig = 0;
    while (sigwait(stop, &sig) != 0)
        ;
    atomic_store(&s->draining, true);
    if (d) {
        MHD_socket listen_fd = MHD_quiesce_daemon(d); /* closed after MHD_stop_daemon */
        (void)listen_fd;
    }
    unsigned active = atomic_load(&s->active) + nats_worker_active(nw);
    fprintf(stderr, "glint serve: %s: draining %u request%s in flight (at most %u ms)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", active, active == 1 ? "" : "s", s->cfg->drain_ms);
    uint64_t until = now_ms() + s->cfg->drain_ms;
    unsigned nats_left = nw ? nats_worker_drain(nw, s->cfg->drain_ms) : 0;
    while (atomic_load(&s->active) > 0 && now_ms() < until) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    active = atomic_load(&s->active) + nats_left;
    if (active > 0) {
        cli_error("serve: %u request%s still in flight after %u ms; exiting without them", active,
                  active == 1 ? "" : "s", s->cfg->drain_ms);
        return false;
    }
    return true;
}

int cli_serve(int argc, char **argv)
{
    struct serve_config c;
    int status = serve_options_parse(argc, argv, &c);
    if (status != CLI_OK) {
        serve_config_free(&c);
        return status < 0 ? CLI_OK : status;
    }
    char host[64] = "", err[400];
    uint16_t port = 0;
    if (c.listen && serve_parse_listen(c.listen, host, sizeof host, &port, err, sizeof err) != 0) {
        cli_error("serve: %s", err);
        serve_config_free(&c);
        return CLI_USAGE;
    }
    /* SIGTERM and SIGINT go to sigwait() here: blocked before any thread starts, so every
     * thread (pool workers, connections) inherits the mask. GLINT_SIGNAL stays unblocked. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct serve_server s = {.cfg = &c};
    if (c.forward ? serve_forward_open(&c, &s.forward, &s.table, err, sizeof err) != 0
                  : serve_table_load(&c, &s.table, err, sizeof err) != 0) {
        cli_error("serve: %s", err);
        serve_config_free(&c);
        return CLI_LOAD;
    }
    int rc = serve_conns_start(&s.conns, c.read_timeout_ms, c.idle_timeout_s);
    if (rc != 0) {
        cli_error("serve: cannot start the connection watchdog: %s", strerror(rc));
        serve_table_destroy(s.table);
        serve_forward_close(s.forward);
        serve_config_free(&c);
        return CLI_LOAD;
    }
    struct nats_worker *nw = NULL;
    if (c.nats.url && nats_worker_start(s.table, &c, &nw, err, sizeof err) != 0) {
        cli_error("serve: %s", err);
        serve_conns_stop(s.conns);
        serve_table_destroy(s.table);
        serve_forward_close(s.forward);
        serve_config_free(&c);
        return CLI_LOAD;
    }
    struct MHD_Daemon *d = c.listen ? start(&s, host, port) : NULL;
    if (c.listen && !d) {
        cli_error("serve: cannot listen on %s (address in use or not available?)", c.listen);
        nats_worker_destroy(nw);
        serve_conns_stop(s.conns);
        serve_table_destroy(s.table);
        serve_forward_close(s.forward);
        serve_config_free(&c);
        return CLI_LOAD;
    }
    if (d) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        unsigned bound = di ? di->port : port;
        if (s.forward)
            fprintf(stderr, "glint serve: listening on http://%s%s%s:%u (forwarding to %s%s)\n",
                    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", bound,
                    c.forward, c.forward_jetstream ? ", JetStream" : "");
        else
            fprintf(stderr, "glint serve: listening on http://%s%s%s:%u (%zu function%s)\n",
                    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", bound,
                    s.table->nfns, s.table->nfns == 1 ? "" : "s");
    }
    bool drained = run_until_signal(&s, d, nw, &stop);
    if (!drained) {
        /* Calls still running may hold pool sandboxes: leave them to the process exit. */
        fflush(stderr);
        _exit(CLI_GUEST);
    }
    if (d)
        MHD_stop_daemon(d); /* closes idle keep-alive connections, joins their threads */
    nats_worker_destroy(nw);
    serve_conns_stop(s.conns);
    serve_table_destroy(s.table);
    serve_forward_close(s.forward);
    serve_config_free(&c);
    fprintf(stderr, "glint serve: stopped\n");
    return CLI_OK;
}

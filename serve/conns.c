/* glint serve's connection watchdog: shuts down connections whose request is not read in time. */
#include "conns.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct conn {
    struct conn *prev, *next;
    int fd;
    bool busy, cut;
    uint64_t deadline_ns;
};

struct serve_conns {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stop;
    struct conn head; /* circular list sentinel */
    uint64_t read_ns, idle_ns, cut;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *watch(void *arg)
{
    struct serve_conns *w = arg;
    /* Checks every tenth of the read timeout (at least every 10 ms, at most every 100 ms). */
    uint64_t step = w->read_ns / 10;
    step = step < 10000000u ? 10000000u : step > 100000000u ? 100000000u : step;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        uint64_t now = now_ns();
        for (struct conn *c = w->head.next; c != &w->head; c = c->next) {
            if (!c->busy && !c->cut && now > c->deadline_ns) {
                /* The fd stays open (its thread closes it after the CLOSED notification,
                 * which takes this lock first), so it cannot be another connection's. */
                shutdown(c->fd, SHUT_RDWR);
                c->cut = true;
                w->cut++;
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t until = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + step;
        ts.tv_sec = (time_t)(until / 1000000000u);
        ts.tv_nsec = (long)(until % 1000000000u);
        pthread_cond_timedwait(&w->wake, &w->lock, &ts);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int serve_conns_start(struct serve_conns **out, uint32_t read_timeout_ms, uint32_t idle_timeout_s)
{
    struct serve_conns *w = calloc(1, sizeof *w);
    if (!w)
        return ENOMEM;
    w->head.next = w->head.prev = &w->head;
    w->read_ns = (uint64_t)read_timeout_ms * 1000000u;
    w->idle_ns = (uint64_t)idle_timeout_s * 1000000000u;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&w->thread, NULL, watch, w);
    if (rc != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void serve_conns_stop(struct serve_conns *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    while (w->head.next != &w->head) {
        struct conn *c = w->head.next;
        w->head.next = c->next;
        free(c);
    }
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void serve_conns_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct serve_conns *w = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn *c = calloc(1, sizeof *c);
        *socket_context = c;
        if (!c || !ci) {
            free(c);
            *socket_context = NULL;
            return; /* untracked: only MHD's own timeout applies */
        }
        c->fd = ci->connect_fd;
        pthread_mutex_lock(&w->lock);
        c->deadline_ns = now_ns() + w->read_ns;
        c->next = &w->head;
        c->prev = w->head.prev;
        w->head.prev->next = c;
        w->head.prev = c;
        pthread_mutex_unlock(&w->lock);
        return;
    }
    struct conn *c = *socket_context;
    if (toe != MHD_CONNECTION_NOTIFY_CLOSED || !c)
        return;
    pthread_mutex_lock(&w->lock);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    pthread_mutex_unlock(&w->lock);
    free(c);
    *socket_context = NULL;
}

void serve_conns_busy(struct serve_conns *w, void *conn, bool busy)
{
    struct conn *c = conn;
    if (!c)
        return;
    pthread_mutex_lock(&w->lock);
    c->busy = busy;
    if (!busy)
        c->deadline_ns = now_ns() + w->idle_ns + w->read_ns;
    pthread_mutex_unlock(&w->lock);
}

uint64_t serve_conns_cut(struct serve_conns *w)
{
    pthread_mutex_lock(&w->lock);
    uint64_t n = w->cut;
    pthread_mutex_unlock(&w->lock);
    return n;
}

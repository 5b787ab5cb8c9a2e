/* glint serve rows: HTTP POST Echo through a real `glint serve` on loopback (latency one request
 * at a time over two keep-alive connections; requests/s from a short wrk run). */
#include <arpa/inet.h>
#include <errno.h>
#include <glint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "child.h"

extern char **environ;

/* Start glint serve on a free port (a pool of 2, or with hot one hot sandbox); its stderr is
 * read up to the "listening" line. */
static pid_t start_server(const char *glint, const char *guest, bool hot, unsigned *port)
{
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *g = strdup(glint), *elf = strdup(guest);
    char *argv[] = {g,   "serve",  "--listen",      "127.0.0.1:0",     "--guest",
                    elf, "--pool", hot ? "1" : "2", "--no-access-log", hot ? "--hot" : NULL,
                    NULL};
    pid_t pid;
    if (posix_spawn(&pid, glint, &fa, NULL, argv, environ) != 0)
        die("cannot start glint serve (build/bin/glint; see --glint)");
    posix_spawn_file_actions_destroy(&fa);
    free(g);
    free(elf);
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    *port = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "glint serve: listening on http://127.0.0.1:%u", port) == 1)
            break;
    }
    if (!*port)
        die("glint serve did not start");
    /* The rest of its stderr is not read: with --no-access-log it writes nothing more until
     * it stops. The pipe stays open so that it never sees EPIPE. */
    return pid;
}

static void stop_server(pid_t pid)
{
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("glint serve did not exit 0 after SIGTERM");
}

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        die("connect to glint serve");
    return fd;
}

/* One POST over a keep-alive connection; the answer must be 200 with the expected body. */
static void post(int fd, const char *req, size_t reqlen, const char *want)
{
    for (size_t o = 0; o < reqlen;) {
        ssize_t n = write(fd, req + o, reqlen - o);
        if (n <= 0)
            die("write to glint serve");
        o += (size_t)n;
    }
    char buf[4096];
    size_t got = 0;
    const char *body = NULL;
    size_t need = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            die("read from glint serve");
        got += (size_t)n;
        buf[got] = 0;
        if (!body) {
            char *end = strstr(buf, "\r\n\r\n");
            if (!end)
                continue;
            body = end + 4;
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            if (!cl || strncmp(buf, "HTTP/1.1 200", 12) != 0)
                die("glint serve answered without 200 or Content-Length");
            need = (size_t)strtoul(cl + 17, NULL, 10);
        }
        if ((size_t)(buf + got - body) >= need)
            break;
    }
    if (need != strlen(want) || memcmp(body, want, need) != 0)
        die("glint serve gave an unexpected Echo result");
}

static double percentile(double *v, size_t n, double p)
{
    for (size_t i = 1; i < n; i++) { /* insertion sort: n is a few thousand */
        double x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

/* requests/s of a 3 s wrk run with two connections (0 if wrk is missing or fails). */
static double wrk_rps(unsigned port)
{
    if (!bench_on_path("wrk"))
        return 0;
    char url[64], lua[] = "/tmp/glint-bench-serve-XXXXXX";
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/functions/Echo", port);
    int fd = mkstemp(lua);
    static const char script[] = "wrk.method = \"POST\"\nwrk.body = '[\"bench\"]'\n";
    if (fd < 0 || write(fd, script, sizeof script - 1) != (ssize_t)(sizeof script - 1))
        die("wrk script");
    close(fd);
    char *argv[] = {"wrk", "-t2", "-c2", "-d3s", "-s", lua, url, NULL};
    char out[8192];
    int rc = bench_run_capture(argv, out, sizeof out);
    unlink(lua);
    const char *r = strstr(out, "Requests/sec:");
    if (rc != 0 || !r || strstr(out, "Non-2xx"))
        return 0;
    return strtod(r + 13, NULL);
}

/* The echo thread of the loopback round-trip row. */
static void *echo_thread(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept(lfd, NULL, NULL), one = 1;
    if (c < 0 || setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        return NULL;
    char b[512];
    for (;;) {
        ssize_t n = read(c, b, sizeof b);
        if (n <= 0 || write(c, b, (size_t)n) != n)
            break;
    }
    close(c);
    return NULL;
}

/* What any request over loopback TCP costs before HTTP or a guest: 150 bytes written, echoed by
 * another thread, read back. */
static void loopback_row(int iters)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    pthread_t t;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0 ||
        pthread_create(&t, NULL, echo_thread, &lfd) != 0)
        die("loopback echo server");
    int fd = connect_to(ntohs(a.sin_port));
    struct row *r = row_new("tcp_loopback_roundtrip",
                            "loopback TCP: 150 bytes to an echo thread and back (no HTTP)");
    char b[150];
    memset(b, 'x', sizeof b);
    for (int i = 0; i < iters + 100; i++) {
        double t0 = now_us();
        size_t got = 0;
        if (write(fd, b, sizeof b) != (ssize_t)sizeof b)
            die("loopback write");
        while (got < sizeof b) {
            ssize_t n = read(fd, b, sizeof b - got);
            if (n <= 0)
                die("loopback read");
            got += (size_t)n;
        }
        if (i >= 100)
            row_add(r, now_us() - t0);
    }
    close(fd);
    pthread_join(t, NULL);
    close(lfd);
}

/* The same Echo through a pool of one hot sandbox, one connection (what hot mode changes). */
static void hot_row(const char *glint, const char *guest, int iters, const char *req, size_t len,
                    const char *want)
{
    unsigned port;
    pid_t pid = start_server(glint, guest, true, &port);
    int fd = connect_to(port);
    struct row *r = row_new("serve_http_echo_hot_p50",
                            "glint serve --hot: HTTP POST Echo, loopback keep-alive, 1 connection "
                            "(pool of 1 hot sandbox, no access log)");
    if (floors.pool_dirty_16)
        row_floor(r, floors.pool_dirty_16, 1, 0, "pool_call_dirty_16");
    for (int i = 0; i < iters + 100; i++) {
        double t = now_us();
        post(fd, req, len, want);
        if (i >= 100)
            row_add(r, now_us() - t);
    }
    close(fd);
    stop_server(pid);
}

void bench_serve(const char *glint, const char *guest, int iters)
{
    loopback_row(iters);
    unsigned port;
    pid_t pid = start_server(glint, guest, false, &port);
    int conn[2] = {connect_to(port), connect_to(port)};
    static const char req[] = "POST /v1/functions/Echo HTTP/1.1\r\nHost: bench\r\n"
                              "Content-Type: application/json\r\nContent-Length: 9\r\n\r\n"
                              "[\"bench\"]";
    const char *want = "{\"result\":\"bench\"}";
    struct row *r = row_new("serve_http_echo_p50",
                            "glint serve: HTTP POST Echo, loopback keep-alive, 2 connections, "
                            "one request at a time (pool of 2, no access log)");
    if (floors.pool_dirty_16)
        row_floor(r, floors.pool_dirty_16, 1, 0, "pool_call_dirty_16");
    double *lat = malloc((size_t)iters * sizeof *lat);
    if (!lat)
        die("out of memory");
    for (int i = 0; i < iters + 100; i++) {
        double t = now_us();
        post(conn[i & 1], req, sizeof req - 1, want);
        double dt = now_us() - t;
        if (i >= 100) {
            row_add(r, dt);
            lat[i - 100] = dt;
        }
    }
    close(conn[0]);
    close(conn[1]);
    row_median(r);
    struct row *p99 = row_value("serve_http_echo_p99", "glint serve: the same requests' p99",
                                percentile(lat, (size_t)iters, 0.99), "us");
    row_floor(p99, r, 1, 0, "serve_http_echo_p50");
    free(lat);
    double rps = wrk_rps(port);
    if (rps > 0)
        row_value("serve_http_rps", "glint serve: wrk -t2 -c2 -d3s POST Echo, requests/s", rps,
                  "req/s");
    else
        printf("serve_http_rps: skipped (wrk missing or its run failed)\n");
    stop_server(pid);
    hot_row(glint, guest, iters, req, sizeof req - 1, want);
}

/* glint serve --nats rows: Echo by NATS request/reply through one worker, and as a JetStream
 * job (publish, fetch, result, ack), each against its own nats-server on loopback. */
#include <fcntl.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "child.h"

extern char **environ;

/* The processes started here, killed if the run dies (die() exits). */
static pid_t children[3];

static void kill_children(void)
{
    for (int i = 0; i < 3; i++)
        if (children[i] > 0)
            kill(children[i], SIGKILL);
}

static pid_t spawn(char *const argv[], int stderr_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* Not the benchmark's stdout: a pipe reading it must end when the benchmark does. */
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    if (stderr_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, stderr_fd, STDERR_FILENO);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

static void stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* nats-server with JetStream in dir, on a free port; its log is polled (at most 10 s) for the
 * port and readiness. */
static pid_t start_nats(const char *server, const char *dir, unsigned *port)
{
    char store[300], log[300];
    snprintf(store, sizeof store, "%s/js", dir);
    snprintf(log, sizeof log, "%s/nats.log", dir);
    char srv[300];
    snprintf(srv, sizeof srv, "%s", server);
    char *argv[] = {srv, "-a", "127.0.0.1", "-p", "-1", "-js", "-sd", store, "-l", log, NULL};
    pid_t pid = spawn(argv, -1);
    if (pid < 0)
        die("cannot start nats-server");
    *port = 0;
    for (int i = 0; i < 200 && !*port; i++) {
        sleep_ms(50);
        FILE *f = fopen(log, "r");
        char line[512];
        unsigned p = 0;
        int ready = 0;
        while (f && fgets(line, sizeof line, f)) {
            static const char listening[] = "Listening for client connections on 127.0.0.1:";
            const char *at = strstr(line, listening);
            if (at)
                p = (unsigned)strtoul(at + sizeof listening - 1, NULL, 10);
            if (strstr(line, "Server is ready"))
                ready = 1;
        }
        if (f)
            fclose(f);
        if (ready)
            *port = p;
    }
    if (!*port)
        die("nats-server did not start (see its log)");
    return pid;
}

/* glint serve --nats URL [--jetstream] on guest, one sandbox (with waiting room for the rps
 * rows' concurrent requests: queue 16, wait 2 s); its stderr is read up to the "worker on" line
 * (nothing more is written unless the connection breaks; the pipe stays open). */
static pid_t start_worker(const char *glint, const char *guest, const char *url, int jetstream,
                          int *pipe_keep)
{
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe");
    char g[300], u[100], e[300];
    snprintf(g, sizeof g, "%s", glint);
    snprintf(u, sizeof u, "%s", url);
    snprintf(e, sizeof e, "%s", guest);
    char *argv[] = {g,
                    "serve",
                    "--nats",
                    u,
                    "--guest",
                    e,
                    "--pool",
                    "1",
                    "--queue",
                    "16",
                    "--wait-ms",
                    "2000",
                    "--no-access-log",
                    jetstream ? "--jetstream" : NULL,
                    NULL};
    pid_t pid = spawn(argv, fds[1]);
    close(fds[1]);
    if (pid < 0)
        die("cannot start glint serve --nats (build/bin/glint; see --glint)");
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    int up = 0;
    while (f && !up && fgets(line, sizeof line, f))
        up = strstr(line, "worker on nats://") != NULL;
    if (!up)
        die("glint serve --nats did not start");
    *pipe_keep = fds[0]; /* f is not closed: the worker must never see EPIPE */
    return pid;
}

static const char body[] = "[\"bench\"]", want[] = "{\"result\":\"bench\"}";

static void check_answer(natsMsg *m, const char *what)
{
    if (natsMsg_GetDataLength(m) != (int)strlen(want) ||
        memcmp(natsMsg_GetData(m), want, strlen(want)) != 0) {
        fprintf(stderr, "bench: got %.*s\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
        die(what);
    }
}

static void echo_back(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *closure)
{
    (void)sub;
    (void)closure;
    natsConnection_Publish(nc, natsMsg_GetReply(m), natsMsg_GetData(m), natsMsg_GetDataLength(m));
    natsMsg_Destroy(m);
}

/* What NATS request/reply costs without glint: a libnats responder in this process (its own
 * connection, answers sent at once as the worker's are) echoing the same body. */
static void roundtrip_row(const char *url, natsConnection *nc, int iters)
{
    natsOptions *o = NULL;
    natsConnection *responder = NULL;
    natsSubscription *sub = NULL;
    if (natsOptions_Create(&o) != NATS_OK || natsOptions_SetURL(o, url) != NATS_OK ||
        natsOptions_SetSendAsap(o, true) != NATS_OK ||
        natsConnection_Connect(&responder, o) != NATS_OK ||
        natsConnection_Subscribe(&sub, responder, "bench.echo", echo_back, NULL) != NATS_OK ||
        natsConnection_FlushTimeout(responder, 5000) != NATS_OK)
        die("NATS echo responder");
    natsOptions_Destroy(o);
    struct row *r = row_new("nats_loopback_roundtrip",
                            "NATS request/reply to a bare libnats echo responder (no glint), "
                            "loopback");
    for (int i = 0; i < iters + 100; i++) {
        natsMsg *m = NULL;
        double t0 = now_us();
        if (natsConnection_Request(&m, nc, "bench.echo", body, (int)strlen(body), 5000) != NATS_OK)
            die("NATS echo request failed");
        double dt = now_us() - t0;
        natsMsg_Destroy(m);
        if (i >= 100)
            row_add(r, dt);
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(responder);
}

static struct row *core_row(natsConnection *nc, int iters)
{
    struct row *r = row_new("nats_echo_p50", "glint serve --nats: Echo by NATS request/reply "
                                             "through one worker (pool of 1), loopback");
    if (floors.pool_dirty_16)
        row_floor(r, floors.pool_dirty_16, 1, 0, "pool_call_dirty_16");
    for (int i = 0; i < iters + 100; i++) {
        natsMsg *m = NULL;
        double t0 = now_us();
        if (natsConnection_Request(&m, nc, "glint.fn.Echo", body, (int)strlen(body), 5000) !=
            NATS_OK)
            die("NATS request to glint.fn.Echo failed");
        double dt = now_us() - t0;
        check_answer(m, "the NATS worker gave an unexpected Echo result");
        natsMsg_Destroy(m);
        if (i >= 100)
            row_add(r, dt);
    }
    row_median(r);
    return r;
}

static void jetstream_row(natsConnection *nc, const struct row *core, int iters)
{
    jsCtx *js = NULL;
    natsSubscription *sub = NULL;
    const char *inbox = "glint.results.bench";
    if (natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
        natsConnection_SubscribeSync(&sub, nc, inbox) != NATS_OK ||
        natsConnection_FlushTimeout(nc, 5000) != NATS_OK)
        die("JetStream client setup");
    struct row *r = row_new("nats_jetstream_echo_p50",
                            "glint serve --nats --jetstream: Echo as a job (publish with ack, "
                            "fetch, result on Glint-Reply, ack), one worker, loopback");
    row_floor(r, core, 1, 0, "nats_echo_p50");
    for (int i = 0; i < iters + 20; i++) {
        char id[32];
        snprintf(id, sizeof id, "bench-%d", i);
        natsMsg *m = NULL, *res = NULL;
        jsPubAck *pa = NULL;
        double t0 = now_us();
        if (natsMsg_Create(&m, "glint.jobs.Echo", NULL, body, (int)strlen(body)) != NATS_OK ||
            natsMsgHeader_Set(m, "Nats-Msg-Id", id) != NATS_OK ||
            natsMsgHeader_Set(m, "Glint-Reply", inbox) != NATS_OK ||
            js_PublishMsg(&pa, js, m, NULL, NULL) != NATS_OK)
            die("publishing a JetStream job");
        if (natsSubscription_NextMsg(&res, sub, 10000) != NATS_OK)
            die("no JetStream result within 10 s");
        double dt = now_us() - t0;
        const char *job = NULL;
        if (natsMsgHeader_Get(res, "Glint-Job", &job) != NATS_OK || strcmp(job, id) != 0)
            die("a JetStream result for another job");
        check_answer(res, "the JetStream worker gave an unexpected Echo result");
        natsMsg_Destroy(res);
        natsMsg_Destroy(m);
        jsPubAck_Destroy(pa);
        if (i >= 20)
            row_add(r, dt);
    }
    row_median(r);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
}

/* The rps rows' client threads: Echo requests on one shared connection until the deadline. */
struct rps_run {
    natsConnection *nc;
    double until_us;
    atomic_ulong ok, other;
};

static void *rps_thread(void *arg)
{
    struct rps_run *run = arg;
    while (now_us() < run->until_us) {
        natsMsg *m = NULL;
        natsStatus st =
            natsConnection_Request(&m, run->nc, "glint.fn.Echo", body, (int)strlen(body), 5000);
        int good = st == NATS_OK && natsMsg_GetDataLength(m) == (int)strlen(want) &&
                   memcmp(natsMsg_GetData(m), want, strlen(want)) == 0;
        atomic_fetch_add(good ? &run->ok : &run->other, 1);
        natsMsg_Destroy(m);
    }
    return NULL;
}

/* CPU seconds (user + system) a process has used so far, from /proc/PID/stat; 0 if unknown. */
static double cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* after the command name, which may hold spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

#define RPS_THREADS 8
#define RPS_SECONDS 3

/* Right answers per second from RPS_THREADS concurrent requesters for RPS_SECONDS; prints
 * where the CPU time went (this process, nats-server, the workers), since on a small host the
 * processes share the cores. */
static double rps(natsConnection *nc, const char *label)
{
    double before[3], self0 = cpu_s(getpid());
    for (int i = 0; i < 3; i++)
        before[i] = children[i] > 0 ? cpu_s(children[i]) : 0;
    struct rps_run run = {.nc = nc, .until_us = now_us() + RPS_SECONDS * 1e6};
    pthread_t t[RPS_THREADS];
    double t0 = now_us();
    for (int i = 0; i < RPS_THREADS; i++)
        if (pthread_create(&t[i], NULL, rps_thread, &run) != 0)
            die("rps thread");
    for (int i = 0; i < RPS_THREADS; i++)
        pthread_join(t[i], NULL);
    double s = (now_us() - t0) / 1e6;
    if (atomic_load(&run.other) > atomic_load(&run.ok) / 100)
        fprintf(stderr, "bench: nats rps: %lu answers of %lu were not the Echo result\n",
                (unsigned long)atomic_load(&run.other),
                (unsigned long)(atomic_load(&run.ok) + atomic_load(&run.other)));
    double workers = 0;
    for (int i = 1; i < 3; i++)
        workers += children[i] > 0 ? cpu_s(children[i]) - before[i] : 0;
    printf("%s: CPU used per second: client %.2f, nats-server %.2f, workers %.2f (of %ld "
           "CPUs)\n",
           label, (cpu_s(getpid()) - self0) / s, (cpu_s(children[0]) - before[0]) / s, workers / s,
           sysconf(_SC_NPROCESSORS_ONLN));
    return (double)atomic_load(&run.ok) / s;
}

void bench_nats(const char *glint, const char *guest, int iters)
{
    const char *server = bench_on_path("nats-server")                 ? "nats-server"
                         : access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server"
                                                                      : NULL;
    if (!server) {
        printf("nats rows (nats_echo_p50, nats_jetstream_echo_p50, nats_rps_*): SKIPPED: "
               "nats-server is missing "
               "(Debian package nats-server)\n");
        return;
    }
    char path[512] = "";
    if (server[0] != '/') { /* posix_spawn does not search PATH */
        char *argv[] = {"sh", "-c", "command -v nats-server", NULL};
        if (bench_run_capture(argv, path, sizeof path) != 0)
            die("nats-server");
        path[strcspn(path, "\n")] = 0;
        server = path;
    }
    char dir[] = "/tmp/glint-bench-nats-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp");
    unsigned port;
    atexit(kill_children);
    pid_t ns = start_nats(server, dir, &port);
    children[0] = ns;
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%u", port);
    natsConnection *nc = NULL;
    if (natsConnection_ConnectTo(&nc, url) != NATS_OK)
        die("cannot connect to the benchmark's nats-server");
    roundtrip_row(url, nc, iters);
    int keep;
    pid_t w = children[1] = start_worker(glint, guest, url, 0, &keep);
    struct row *core = core_row(nc, iters);
    stop(w);
    close(keep);
    w = children[1] = start_worker(glint, guest, url, 1, &keep);
    jetstream_row(nc, core, iters / 4 > 50 ? iters / 4 : 50);
    stop(w);
    close(keep);
    /* Requests/s through one worker, then two (one sandbox each). */
    int keep2;
    w = children[1] = start_worker(glint, guest, url, 0, &keep);
    struct row *one = row_value("nats_rps_1_worker",
                                "glint serve --nats: Echo requests/s, 8 concurrent requesters, "
                                "one worker of 1 sandbox",
                                rps(nc, "nats_rps_1_worker"), "req/s");
    pid_t w2 = children[2] = start_worker(glint, guest, url, 0, &keep2);
    struct row *two = row_value("nats_rps_2_workers",
                                "glint serve --nats: the same through two workers of 1 sandbox "
                                "(queue group)",
                                rps(nc, "nats_rps_2_workers"), "req/s");
    row_floor(two, one, 1, 0, "nats_rps_1_worker");
    stop(w2);
    close(keep2);
    stop(w);
    close(keep);
    children[1] = children[2] = 0;
    natsConnection_Destroy(nc);
    stop(ns);
    children[0] = 0;
    char *rm[] = {"rm", "-rf", dir, NULL};
    char out[64];
    bench_run_capture(rm, out, sizeof out);
}

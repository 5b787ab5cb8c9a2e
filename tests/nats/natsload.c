/* natsload: a load client for glint's NATS workers (tests/nats): N requests or JetStream jobs
 * with concurrency C, every answer checked against the expected result, counts printed. */
#include <errno.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: natsload --url nats://HOST:PORT [--jetstream] [--count N] [--concurrency C]\n"
    "                [--timeout-ms T] [--linger-ms L] [--spin BASE] [--tag TEXT]\n"
    "Sends N requests to glint.fn.Echo (body [\"TAG-i\"], expects {\"result\":\"TAG-i\"}) or, "
    "with\n"
    "--spin BASE, to glint.fn.SpinLoops (body [BASE+i], expects {\"result\":BASE+i}); with\n"
    "--jetstream, as jobs on glint.jobs.NAME with Nats-Msg-Id TAG-i and a Glint-Reply inbox.\n"
    "Core: each request waits T ms (default 5000). JetStream: after the last job, answers are\n"
    "awaited for T ms, then L ms more (default 500) for duplicates.\n"
    "Prints: natsload: sent=N ok=N wrong=N timeout=N overloaded=N error=N duplicate=N\n"
    "        noresponders=N max_ms=N\n";

static const char *url, *tag = "m";
static bool jetstream;
static long count = 100, concurrency = 4, timeout_ms = 5000, linger_ms = 500;
static long long spin = -1;
static natsConnection *nc;

static atomic_long next_index, ok, wrong, timeouts, overloaded, errors, duplicates, noresp;
static atomic_long max_us;
static atomic_bool shown_error, shown_wrong;
static atomic_uchar *answered; /* JetStream: answers seen per job */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const char *function(void)
{
    return spin >= 0 ? "SpinLoops" : "Echo";
}

static int body_of(long i, char *buf, size_t n)
{
    return spin >= 0 ? snprintf(buf, n, "[%lld]", spin + i)
                     : snprintf(buf, n, "[\"%s-%ld\"]", tag, i);
}

static int expected_of(long i, char *buf, size_t n)
{
    return spin >= 0 ? snprintf(buf, n, "{\"result\":%lld}", spin + i)
                     : snprintf(buf, n, "{\"result\":\"%s-%ld\"}", tag, i);
}

/* Count one answer to request i. */
static void classify(long i, const char *data, int len)
{
    char want[128];
    int wl = expected_of(i, want, sizeof want);
    if (len == wl && memcmp(data, want, (size_t)wl) == 0) {
        atomic_fetch_add(&ok, 1);
        return;
    }
    bool is_error = len > 9 && memcmp(data, "{\"error\":", 9) == 0;
    if (is_error && memmem(data, (size_t)len, "\"kind\":\"overloaded\"", 19)) {
        atomic_fetch_add(&overloaded, 1);
        return;
    }
    atomic_bool *shown = is_error ? &shown_error : &shown_wrong;
    atomic_fetch_add(is_error ? &errors : &wrong, 1);
    if (!atomic_exchange(shown, true))
        fprintf(stderr, "natsload: %s answer to %ld: %.*s (expected %s)\n",
                is_error ? "error" : "WRONG", i, len > 300 ? 300 : len, data, want);
}

static void note_latency(uint64_t us)
{
    long v = (long)us, m = atomic_load(&max_us);
    while (v > m && !atomic_compare_exchange_weak(&max_us, &m, v))
        ;
}

/* Core request/reply: each thread takes the next request until N are sent. */
static void *core_thread(void *arg)
{
    (void)arg;
    char subject[64], body[128];
    snprintf(subject, sizeof subject, "glint.fn.%s", function());
    for (;;) {
        long i = atomic_fetch_add(&next_index, 1);
        if (i >= count)
            break;
        int bl = body_of(i, body, sizeof body);
        natsMsg *reply = NULL;
        uint64_t t0 = now_us();
        natsStatus s = natsConnection_Request(&reply, nc, subject, body, bl, timeout_ms);
        note_latency(now_us() - t0);
        if (s == NATS_OK)
            classify(i, natsMsg_GetData(reply), natsMsg_GetDataLength(reply));
        else if (s == NATS_TIMEOUT)
            atomic_fetch_add(&timeouts, 1);
        else if (s == NATS_NO_RESPONDERS) {
            atomic_fetch_add(&noresp, 1);
            struct timespec ts = {0, 20 * 1000000L}; /* no worker yet: do not spin */
            nanosleep(&ts, NULL);
        } else {
            atomic_fetch_add(&errors, 1);
            if (!atomic_exchange(&shown_error, true))
                fprintf(stderr, "natsload: request %ld: %s\n", i, natsStatus_GetText(s));
        }
        natsMsg_Destroy(reply);
    }
    return NULL;
}

static pthread_mutex_t js_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t js_cond = PTHREAD_COND_INITIALIZER;
static long js_outstanding, js_answered;

/* A JetStream result on the inbox: Glint-Job names the job. */
static void on_result(natsConnection *c, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)c;
    (void)sub;
    (void)closure;
    const char *job = NULL;
    size_t tl = strlen(tag);
    long i = -1;
    if (natsMsgHeader_Get(msg, "Glint-Job", &job) == NATS_OK && !strncmp(job, tag, tl) &&
        job[tl] == '-') {
        char *end;
        i = strtol(job + tl + 1, &end, 10);
        if (*end || i < 0 || i >= count)
            i = -1;
    }
    if (i < 0) {
        atomic_fetch_add(&wrong, 1);
        fprintf(stderr, "natsload: WRONG: a result for no job of ours (Glint-Job %s)\n",
                job ? job : "missing");
    } else if (atomic_fetch_add(&answered[i], 1) > 0) {
        atomic_fetch_add(&duplicates, 1);
        char want[128];
        int wl = expected_of(i, want, sizeof want);
        if (natsMsg_GetDataLength(msg) != wl || memcmp(natsMsg_GetData(msg), want, (size_t)wl))
            classify(i, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    } else {
        classify(i, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
        pthread_mutex_lock(&js_lock);
        js_outstanding--;
        js_answered++;
        pthread_cond_broadcast(&js_cond);
        pthread_mutex_unlock(&js_lock);
    }
    natsMsg_Destroy(msg);
}

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int run_jetstream(void)
{
    jsCtx *js = NULL;
    natsSubscription *sub = NULL;
    char inbox[96], subject[64], body[128], id[96];
    snprintf(inbox, sizeof inbox, "glint.results.natsload.%d.%s", (int)getpid(), tag);
    snprintf(subject, sizeof subject, "glint.jobs.%s", function());
    if (!(answered = calloc((size_t)count, sizeof *answered)) ||
        natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
        natsConnection_Subscribe(&sub, nc, inbox, on_result, NULL) != NATS_OK ||
        natsConnection_FlushTimeout(nc, 5000) != NATS_OK) {
        fprintf(stderr, "natsload: cannot set up JetStream publishing: %s\n",
                nats_GetLastError(NULL));
        return 2;
    }
    uint64_t t0 = now_us();
    for (long i = 0; i < count; i++) {
        pthread_mutex_lock(&js_lock);
        struct timespec until;
        deadline_in(&until, timeout_ms);
        while (js_outstanding >= concurrency &&
               pthread_cond_timedwait(&js_cond, &js_lock, &until) != ETIMEDOUT)
            ;
        js_outstanding++;
        pthread_mutex_unlock(&js_lock);
        natsMsg *m = NULL;
        int bl = body_of(i, body, sizeof body);
        snprintf(id, sizeof id, "%s-%ld", tag, i);
        natsStatus s = natsMsg_Create(&m, subject, NULL, body, bl);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
        if (s == NATS_OK)
            s = natsMsgHeader_Set(m, "Glint-Reply", inbox);
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        if (s == NATS_OK)
            s = js_PublishMsg(&pa, js, m, NULL, &jerr);
        jsPubAck_Destroy(pa);
        natsMsg_Destroy(m);
        if (s != NATS_OK) {
            fprintf(stderr, "natsload: publishing job %s: %s (%d)\n", id, natsStatus_GetText(s),
                    (int)jerr);
            return 2;
        }
    }
    /* Every answer, within the timeout after the last job. */
    pthread_mutex_lock(&js_lock);
    struct timespec until;
    deadline_in(&until, timeout_ms);
    while (js_answered < count && pthread_cond_timedwait(&js_cond, &js_lock, &until) != ETIMEDOUT)
        ;
    long got = js_answered;
    pthread_mutex_unlock(&js_lock);
    note_latency(now_us() - t0);
    usleep((useconds_t)linger_ms * 1000u); /* late duplicates */
    atomic_store(&timeouts, count - got);
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    return 0;
}

static long number(const char *flag, const char *v, long min, long max)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max) {
        fprintf(stderr, "natsload: %s: '%s' is not a number %ld..%ld\n", flag, v, min, max);
        exit(2);
    }
    return (long)n;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--jetstream")) {
            jetstream = true;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "%s", usage);
            return 2;
        }
        i++;
        if (!strcmp(a, "--url"))
            url = v;
        else if (!strcmp(a, "--tag"))
            tag = v;
        else if (!strcmp(a, "--count"))
            count = number(a, v, 1, 10000000);
        else if (!strcmp(a, "--concurrency"))
            concurrency = number(a, v, 1, 1024);
        else if (!strcmp(a, "--timeout-ms"))
            timeout_ms = number(a, v, 1, 3600000);
        else if (!strcmp(a, "--linger-ms"))
            linger_ms = number(a, v, 0, 3600000);
        else if (!strcmp(a, "--spin"))
            spin = number(a, v, 0, 1L << 50);
        else {
            fprintf(stderr, "natsload: unknown option %s\n%s", a, usage);
            return 2;
        }
    }
    if (!url) {
        fprintf(stderr, "%s", usage);
        return 2;
    }
    natsStatus s = natsConnection_ConnectTo(&nc, url);
    if (s != NATS_OK) {
        fprintf(stderr, "natsload: cannot connect to %s: %s\n", url, natsStatus_GetText(s));
        return 2;
    }
    int rc = 0;
    if (jetstream)
        rc = run_jetstream();
    else {
        pthread_t *t = calloc((size_t)concurrency, sizeof *t);
        long started = 0;
        for (long i = 0; t && i < concurrency; i++)
            if (pthread_create(&t[i], NULL, core_thread, NULL) == 0)
                started++;
        for (long i = 0; i < started; i++)
            pthread_join(t[i], NULL);
        free(t);
        if (!started)
            rc = 2;
    }
    printf("natsload: sent=%ld ok=%ld wrong=%ld timeout=%ld overloaded=%ld error=%ld "
           "duplicate=%ld noresponders=%ld max_ms=%ld\n",
           count, atomic_load(&ok), atomic_load(&wrong), atomic_load(&timeouts),
           atomic_load(&overloaded), atomic_load(&errors), atomic_load(&duplicates),
           atomic_load(&noresp), atomic_load(&max_us) / 1000);
    fflush(stdout);
    natsConnection_Destroy(nc);
    nats_Close();
    free(answered);
    return rc;
}

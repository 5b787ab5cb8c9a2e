/* glint serve's function table: images loaded (and pre-initialised with --load), pools, lookup. */
#include "functions.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

/* A --load script: a regular file of UTF-8 text without NUL, at most limit bytes. */
static int read_script(const char *path, uint64_t limit, char **text, size_t *len, char *err,
                       size_t errsize)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return serve_fail(err, errsize, "load %s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    *text = NULL;
    if (fstat(fd, &st) != 0)
        rc = serve_fail(err, errsize, "load %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = serve_fail(err, errsize, "load %s: not a regular file", path);
    else if ((uint64_t)st.st_size > limit)
        rc = serve_fail(err, errsize,
                        "load %s: %lld bytes; at most %llu fit the input buffer (see input_size)",
                        path, (long long)st.st_size, (unsigned long long)limit);
    else if (!(*text = malloc((size_t)st.st_size + 1)))
        rc = serve_fail(err, errsize, "load %s: out of memory", path);
    size_t got = 0;
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t n = read(fd, *text + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = serve_fail(err, errsize, "load %s: %s", path,
                            n < 0 ? strerror(errno) : "short read");
        else
            got += (size_t)n;
    }
    close(fd);
    if (rc == 0 && !glint__utf8_valid((const uint8_t *)*text, got))
        rc = serve_fail(err, errsize, "load %s: not UTF-8 text without NUL bytes", path);
    if (rc != 0) {
        free(*text);
        *text = NULL;
        return -1;
    }
    (*text)[got] = 0;
    *len = got;
    return 0;
}

/* Load(script) in a sandbox on a helper thread confined to that sandbox's VM. */
struct load_job {
    glint_sandbox *sb;
    const char *text;
    size_t len;
    bool confine;
    int err;
    char msg[300];
};

static void *load_thread(void *arg)
{
    struct load_job *j = arg;
    if (j->confine && (j->err = glint_confine_thread_to_sandboxes(&j->sb, 1)) != 0) {
        snprintf(j->msg, sizeof j->msg, "cannot confine the load thread: %s", glint_errmsg());
        return NULL;
    }
    glint_value a = glint_string_n(j->text, j->len);
    if ((j->err = glint_sandbox_call(j->sb, "Load", &a, 1, NULL)) != 0) {
        glint_failure f;
        memset(&f, 0, sizeof f);
        glint_sandbox_last_failure(j->sb, &f);
        f.message[sizeof f.message - 1] = 0;
        snprintf(j->msg, sizeof j->msg, "Load failed: %s: %s",
                 f.kind == GLINT_FAIL_NONE || f.kind == GLINT_FAIL_USAGE
                     ? glint_strerror(j->err)
                     : glint_failure_kind_name(f.kind),
                 f.message[0] ? f.message : glint_errmsg());
    }
    return NULL;
}

/* Replace *img by an image derived after Load(script). */
static int preload(const struct serve_function_config *fc, bool confine, glint_image **img,
                   char *err, size_t errsize)
{
    glint_function_info fi;
    if (glint_exports_find(glint_image_exports(*img), "Load", &fi) != 0 || fi.ret != GLINT_VOID ||
        fi.nparams != 1 || fi.params[0] != GLINT_STRING)
        return serve_fail(err, errsize, "load %s: %s exports no Load(string) -> void", fc->load,
                          fc->path);
    glint_config used;
    glint_config_init(&used);
    if (glint_image_config(*img, &used) != 0)
        return serve_fail(err, errsize, "load %s: %s", fc->load, glint_errmsg());
    struct load_job j = {.confine = confine};
    char *text = NULL;
    if (read_script(fc->load, used.input_size > 64 ? used.input_size - 64 : 0, &text, &j.len, err,
                    errsize) != 0)
        return -1;
    j.text = text;
    int rc = glint_sandbox_create(*img, NULL, &j.sb);
    if (rc != 0) {
        free(text);
        return serve_fail(err, errsize, "%s: cannot create a sandbox: %s: %s", fc->path,
                          glint_strerror(rc), glint_errmsg());
    }
    pthread_t t;
    if ((rc = pthread_create(&t, NULL, load_thread, &j)) != 0) {
        j.err = -1;
        snprintf(j.msg, sizeof j.msg, "cannot start a thread: %s", strerror(rc));
    } else {
        pthread_join(t, NULL);
    }
    free(text);
    glint_image *derived = NULL;
    if (j.err == 0 && (rc = glint_image_derive(j.sb, &derived)) != 0) {
        j.err = rc;
        snprintf(j.msg, sizeof j.msg, "cannot derive an image: %s", glint_errmsg());
    }
    glint_sandbox_destroy(j.sb);
    if (j.err != 0)
        return serve_fail(err, errsize, "load %s into %s: %s", fc->load, fc->path, j.msg);
    glint_image_destroy(*img);
    *img = derived;
    return 0;
}

static uint32_t cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > SERVE_POOL_MAX ? SERVE_POOL_MAX : (uint32_t)n;
}

static int load_pool(const struct serve_function_config *fc, bool confine, struct serve_pool *p,
                     char *err, size_t errsize)
{
    glint_host_fns *fns = NULL;
    int rc = glint_host_fns_create(&fns);
    if (rc == 0) /* guest text is not the server's output: dropped */
        rc = glint_host_fns_set_print(fns, NULL, NULL);
    if (rc != 0) {
        glint_host_fns_destroy(fns);
        return serve_fail(err, errsize, "cannot set up host functions: %s", glint_errmsg());
    }
    glint_config cfg = fc->cfg;
    cfg.confine_init = confine;
    rc = glint_image_load_file(fc->path, &cfg, fns, &p->img);
    glint_host_fns_destroy(fns);
    if (rc != 0)
        return serve_fail(err, errsize, "cannot load %s: %s: %s", fc->path, glint_strerror(rc),
                          glint_errmsg());
    if (fc->load && preload(fc, confine, &p->img, err, errsize) != 0)
        return -1;
    glint_pool_config pc;
    glint_pool_config_init(&pc);
    p->size = fc->pool ? fc->pool : cpus();
    pc.size = p->size;
    /* Calls run on the pool's confined worker threads, never on a connection thread (which
     * does socket I/O and cannot be confined); without confinement they run on the
     * connection thread itself, saving the hand-off. */
    pc.workers = confine ? p->size : 0;
    pc.wait_ms = fc->wait_ms;
    pc.confine = confine;
    pc.hot = fc->hot ? p->size : 0; /* admission may leave some, or all, in exit mode */
    p->limit = p->size + (fc->queue == UINT32_MAX ? 4 * p->size : fc->queue);
    if ((rc = glint_pool_create(p->img, NULL, &pc, &p->pool)) != 0)
        return serve_fail(err, errsize, "cannot create a pool of %u sandboxes of %s: %s: %s",
                          p->size, fc->path, glint_strerror(rc), glint_errmsg());
    return 0;
}

static int add_fn(struct serve_table *t, size_t cap, struct serve_pool *p, const char *served,
                  const char *export_name, const char *handler, const char *path, char *err,
                  size_t errsize)
{
    if (serve_table_find(t, served, strlen(served)))
        return serve_fail(err, errsize, "two functions are served as '%s' (the second from %s)",
                          served, path);
    if (t->nfns >= cap)
        return serve_fail(err, errsize, "too many functions");
    struct serve_fn *f = &t->fns[t->nfns];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", served);
    f->pool = p;
    if (handler) {
        if (glint_exports_find(glint_image_exports(p->img), "Call", &f->info) != 0 ||
            f->info.ret != GLINT_STRING || f->info.nparams != 2 ||
            f->info.params[0] != GLINT_STRING || f->info.params[1] != GLINT_STRING)
            return serve_fail(
                err, errsize,
                "handler %s: %s exports no Call(string, string) -> string (a Lua or JS "
                "runtime guest does)",
                handler, path);
        if (!(f->handler = strdup(handler)))
            return serve_fail(err, errsize, "out of memory");
    } else if (glint_exports_find(glint_image_exports(p->img), export_name, &f->info) != 0) {
        return serve_fail(err, errsize, "%s exports no function named '%s'", path, export_name);
    }
    f->export_name = f->info.name;
    t->nfns++;
    return 0;
}

int serve_table_load(const struct serve_config *c, struct serve_table **out, char *err,
                     size_t errsize)
{
    *out = NULL;
    struct serve_table *t = calloc(1, sizeof *t);
    if (!t || !(t->pools = calloc(c->nfns, sizeof *t->pools))) {
        free(t);
        return serve_fail(err, errsize, "out of memory");
    }
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->nfns; i++) {
        struct serve_pool *p = &t->pools[i];
        t->npools++;
        rc = load_pool(&c->fns[i], c->confine, p, err, errsize);
        if (rc != 0)
            break;
        const struct serve_function_config *fc = &c->fns[i];
        size_t more =
            fc->export_name || fc->handler ? 1 : glint_exports_count(glint_image_exports(p->img));
        struct serve_fn *fns = realloc(t->fns, (cap + more) * sizeof *fns);
        if (!fns) {
            rc = serve_fail(err, errsize, "out of memory");
            break;
        }
        t->fns = fns;
        cap += more;
        if (fc->handler || fc->export_name) {
            rc = add_fn(t, cap, p,
                        fc->name      ? fc->name
                        : fc->handler ? fc->handler
                                      : fc->export_name,
                        fc->export_name, fc->handler, fc->path, err, errsize);
            continue;
        }
        for (size_t k = 0; rc == 0 && k < more; k++) {
            glint_function_info fi;
            glint_exports_get(glint_image_exports(p->img), k, &fi);
            rc = add_fn(t, cap, p, fi.name, fi.name, NULL, fc->path, err, errsize);
        }
    }
    if (rc != 0) {
        serve_table_destroy(t);
        return -1;
    }
    *out = t;
    return 0;
}

struct serve_fn *serve_table_find(struct serve_table *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->nfns; i++) {
        if (strlen(t->fns[i].name) == len && memcmp(t->fns[i].name, name, len) == 0)
            return &t->fns[i];
    }
    return NULL;
}

char *serve_table_list(const struct serve_table *t, size_t *len)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < t->nfns; i++) {
        const struct serve_fn *f = &t->fns[i];
        json_t *o = json_object();
        if (!o) {
            json_decref(list);
            return NULL;
        }
        json_object_set_new(o, "name", json_string(f->name));
        if (f->handler) {
            json_object_set_new(o, "handler", json_string(f->handler));
            json_object_set_new(o, "params", json_string("json"));
            json_object_set_new(o, "result", json_string("json"));
        } else {
            json_t *params = json_array();
            for (size_t k = 0; params && k < f->info.nparams; k++)
                json_array_append_new(params, json_string(glint_type_name(f->info.params[k])));
            json_object_set_new(o, "params", params);
            json_object_set_new(o, "result", json_string(glint_type_name(f->info.ret)));
        }
        json_object_set_new(o, "pool", json_integer(f->pool->size));
        json_array_append_new(list, o);
    }
    json_t *root = json_pack("{s:o}", "functions", list);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (text)
        *len = strlen(text);
    return text;
}

char *serve_table_metrics(struct serve_table *t, size_t *len)
{
    struct serve_metrics_view *v = calloc(t->nfns + 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < t->nfns; i++) {
        struct serve_pool *p = t->fns[i].pool;
        v[i] = (struct serve_metrics_view){
            .function = t->fns[i].name,
            .m = &t->fns[i].metrics,
            .has_pool = 1,
            .ready = glint_pool_ready(p->pool),
            .busy = atomic_load(&p->busy),
            .size = p->size,
            .hot = glint_pool_hot(p->pool),
        };
        glint_pool_calls(p->pool, &v[i].hot_calls, &v[i].exit_calls);
    }
    v[t->nfns] = (struct serve_metrics_view){.function = "-", .m = &t->unrouted};
    char *text = serve_metrics_text(v, t->nfns + 1, len);
    free(v);
    static const char *const transports[] = {"http", "nats", "jetstream"};
    char by[512];
    int n = snprintf(by, sizeof by,
                     "# HELP glint_transport_requests_total Requests answered, by transport.\n"
                     "# TYPE glint_transport_requests_total counter\n");
    for (int i = 0; i < SERVE_NTRANSPORTS; i++)
        n += snprintf(by + n, sizeof by - (size_t)n,
                      "glint_transport_requests_total{transport=\"%s\"} %llu\n", transports[i],
                      (unsigned long long)atomic_load(&t->by_transport[i]));
    size_t more_len = 0;
    char *more = t->more_metrics ? t->more_metrics(t->more_metrics_ctx, &more_len) : NULL;
    char *all = text ? realloc(text, *len + (size_t)n + more_len + 1) : NULL;
    if (!all || (t->more_metrics && !more)) {
        free(all ? all : text);
        free(more);
        return NULL;
    }
    memcpy(all + *len, by, (size_t)n);
    if (more)
        memcpy(all + *len + (size_t)n, more, more_len);
    *len += (size_t)n + more_len;
    all[*len] = 0;
    free(more);
    return all;
}

void serve_table_destroy(struct serve_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nfns; i++)
        free(t->fns[i].handler);
    for (size_t i = 0; i < t->npools; i++) {
        glint_pool_destroy(t->pools[i].pool);
        glint_image_destroy(t->pools[i].img);
    }
    free(t->fns);
    free(t->pools);
    free(t);
}

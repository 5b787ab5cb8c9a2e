/* Demo host program: load a guest, create a sandbox, call both ways, time every step. */
#include <glint.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HOT_CALLS 1000

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* A host function the guest may call: Multiply(i64, i64) -> i64. */
static int multiply(void *user, const glint_value *args, size_t nargs, glint_value *ret)
{
    (void)user;
    (void)nargs;
    ret->as.i64 = args[0].as.i64 * args[1].as.i64;
    printf("  [host] Multiply(%" PRId64 ", %" PRId64 ") called by the guest\n", args[0].as.i64,
           args[1].as.i64);
    return 0;
}

static void print_from_guest(void *user, const char *text, size_t len)
{
    (void)user;
    printf("  [guest print] %.*s", (int)len, text);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "demo: %s: %s: %s\n", what, glint_strerror(rc), glint_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "build/guests/hello.elf";
    glint_host_fns *fns = NULL;
    glint_image *img = NULL;
    glint_sandbox *sb = NULL;
    int rc, status = 1;
    double t;

    printf("glint %s demo: one function, one micro-VM\n\n", GLINT_VERSION_STRING);
    static const glint_type mul_params[] = {GLINT_I64, GLINT_I64};
    if ((rc = glint_host_fns_create(&fns)) ||
        (rc = glint_host_fns_add(fns, "Multiply", GLINT_I64, mul_params, 2, multiply, NULL)) ||
        (rc = glint_host_fns_set_print(fns, print_from_guest, NULL))) {
        status = fail("registering host functions", rc);
        goto out;
    }

    t = now_us();
    if ((rc = glint_image_load_file(path, NULL, fns, &img))) {
        status = fail(path, rc);
        goto out;
    }
    printf("%-44s %9.1f us\n", "load + validate + initialise image", now_us() - t);

    const glint_exports *ex = glint_image_exports(img);
    printf("  exports:");
    for (size_t i = 0; i < glint_exports_count(ex); i++) {
        glint_function_info fi;
        glint_exports_get(ex, i, &fi);
        printf(" %s", fi.name);
    }
    printf("\n");

    t = now_us();
    if ((rc = glint_sandbox_create(img, NULL, &sb))) {
        status = fail("creating sandbox", rc);
        goto out;
    }
    printf("%-44s %9.1f us\n", "create sandbox (VM + vCPU) from image", now_us() - t);

    glint_value ret;
    glint_value echo_arg = glint_string("hello from the host");
    t = now_us();
    if ((rc = glint_sandbox_call(sb, "Echo", &echo_arg, 1, &ret))) {
        status = fail("Echo", rc);
        goto out;
    }
    printf("%-44s %9.1f us  -> \"%s\"\n", "first call: Echo(\"hello from the host\")", now_us() - t,
           ret.as.str.ptr);

    t = now_us();
    rc = glint_sandbox_call(sb, "Echo", &echo_arg, 1, &ret);
    printf("%-44s %9.1f us  -> \"%s\"\n", "warm call: Echo again", now_us() - t,
           rc ? "(failed)" : ret.as.str.ptr);

    /* Hot mode: the guest waits inside the hypervisor, the call goes through
     * shared memory; no VM exit. Refused (and said) where no CPU is free. */
    glint_hot_config hot;
    glint_hot_config_init(&hot);
    if ((rc = glint_sandbox_set_hot(sb, &hot)) == 0) {
        for (int i = 0; i < 10 && rc == 0; i++) /* the guest settles into its wait loop */
            rc = glint_sandbox_call(sb, "Echo", &echo_arg, 1, &ret);
        t = now_us();
        for (int i = 0; i < HOT_CALLS && rc == 0; i++)
            rc = glint_sandbox_call(sb, "Echo", &echo_arg, 1, &ret);
        printf("%-44s %9.1f us  -> \"%s\" (mean of %d)\n", "hot call: Echo without a VM exit",
               (now_us() - t) / HOT_CALLS, rc ? "(failed)" : ret.as.str.ptr, HOT_CALLS);
        if ((rc = glint_sandbox_set_hot(sb, NULL))) {
            status = fail("leaving hot mode", rc);
            goto out;
        }
    } else {
        printf("%-44s   (not admitted here: %s)\n", "hot call", glint_errmsg());
    }

    glint_value add_args[] = {glint_i32(40), glint_i32(2)};
    t = now_us();
    if ((rc = glint_sandbox_call(sb, "Add", add_args, 2, &ret))) {
        status = fail("Add", rc);
        goto out;
    }
    printf("%-44s %9.1f us  -> %d\n", "Add(40, 2)", now_us() - t, ret.as.i32);

    glint_value mul_args[] = {glint_i64(6), glint_i64(7)};
    t = now_us();
    if ((rc = glint_sandbox_call(sb, "MultiplyOnHost", mul_args, 2, &ret))) {
        status = fail("MultiplyOnHost", rc);
        goto out;
    }
    printf("%-44s %9.1f us  -> %" PRId64 "\n", "MultiplyOnHost(6, 7): guest -> host -> guest",
           now_us() - t, ret.as.i64);

    glint_value who = glint_string("demo");
    t = now_us();
    if ((rc = glint_sandbox_call(sb, "Greet", &who, 1, NULL))) {
        status = fail("Greet", rc);
        goto out;
    }
    printf("%-44s %9.1f us\n", "Greet(\"demo\"): guest prints via the host", now_us() - t);

    t = now_us();
    if ((rc = glint_sandbox_restore(sb, NULL))) {
        status = fail("restore", rc);
        goto out;
    }
    printf("%-44s %9.1f us\n", "restore to the pristine image state", now_us() - t);

    /* Per-request isolation: every pool call runs in a restored sandbox. */
    glint_pool *pool = NULL;
    if ((rc = glint_pool_create(img, NULL, NULL, &pool))) {
        status = fail("pool", rc);
        goto out;
    }
    enum { N = 1000 };
    t = now_us();
    for (int i = 0; i < N && rc == 0; i++)
        rc = glint_pool_call(pool, "Add", add_args, 2, &ret, NULL);
    double per_call = (now_us() - t) / N;
    glint_pool_destroy(pool);
    if (rc) {
        status = fail("pool call", rc);
        goto out;
    }
    printf("%-44s %9.1f us  (mean of %d)\n", "isolated call through a pool (call + restore)",
           per_call, N);

    /* A wrong call is refused by the host before the guest runs. */
    rc = glint_sandbox_call(sb, "Add", &who, 1, &ret);
    printf("Add(\"demo\") is refused: %s (%s)\n", glint_strerror(rc), glint_errmsg());

    t = now_us();
    glint_sandbox_destroy(sb);
    sb = NULL;
    printf("%-44s %9.1f us\n", "destroy sandbox", now_us() - t);
    status = 0;
out:
    glint_sandbox_destroy(sb);
    glint_image_destroy(img);
    glint_host_fns_destroy(fns);
    return status;
}

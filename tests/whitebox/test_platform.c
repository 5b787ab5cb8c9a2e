/* VM tests: host-platform behaviour — KVM availability errors, XCR0, hypercall patching, TSC_AUX.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "glint/abi.h"
#include "helpers.h"
#include "integrity.h"
#include "whitebox.h"

/* ---- "KVM is not available" keeps the reason ------------------------------------------------
 *
 * glint opens /dev/kvm once per process, so each scenario runs in its own forked child (fork
 * before any glint call), in a private mount namespace where /dev is an empty tmpfs. The child
 * reports glint_host_info_get()'s code and glint_errmsg() through a pipe. */

struct kvm_open_result {
    int setup_errno; /* non-zero: the scenario could not be built (step in `msg`) */
    int rc;
    char msg[512];
};

enum scenario { NO_DEV_KVM, DEV_KVM_0600_AS_NOBODY };

static void child_scenario(enum scenario sc, int fd)
{
    struct kvm_open_result res;
    memset(&res, 0, sizeof res);
    const char *step = NULL;
    if (unshare(CLONE_NEWNS) < 0)
        step = "unshare(CLONE_NEWNS)";
    else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        step = "mount --make-rprivate /";
    else if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
        step = "mount tmpfs on /dev";
    else if (sc == DEV_KVM_0600_AS_NOBODY &&
             (mknod("/dev/kvm", S_IFCHR | 0600, makedev(10, 232)) < 0 ||
              chmod("/dev/kvm", 0600) < 0))
        step = "mknod /dev/kvm";
    else if (sc == DEV_KVM_0600_AS_NOBODY &&
             (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
        step = "setuid(65534)";
    if (step) {
        res.setup_errno = errno ? errno : EINVAL;
        snprintf(res.msg, sizeof res.msg, "%s: %s", step, strerror(errno));
    } else {
        glint_host_info info = {.struct_size = sizeof info};
        res.rc = glint_host_info_get(&info);
        snprintf(res.msg, sizeof res.msg, "%s", glint_errmsg());
    }
    ssize_t w = write(fd, &res, sizeof res);
    _exit(w == (ssize_t)sizeof res ? 0 : 1);
}

static struct kvm_open_result run_scenario(enum scenario sc)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(p[0]);
        child_scenario(sc, p[1]);
    }
    close(p[1]);
    struct kvm_open_result res;
    memset(&res, 0, sizeof res);
    ssize_t n = read(p[0], &res, sizeof res);
    close(p[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == (ssize_t)sizeof res,
              "scenario child failed (status %#x, %zd bytes)", status, n);
    if (res.setup_errno == EPERM || res.setup_errno == EACCES)
        cr_skip_test("cannot build the scenario without privileges (%s)", res.msg);
    cr_assert_eq(res.setup_errno, 0, "scenario setup: %s", res.msg);
    return res;
}

Test(platform, kvm_missing_says_so, .timeout = 30)
{
    struct kvm_open_result r = run_scenario(NO_DEV_KVM);
    printf("no /dev/kvm: %s\n", r.msg);
    fflush(stdout);
    cr_assert_eq(r.rc, GLINT_ENOKVM, "rc %d (%s)", r.rc, r.msg);
    cr_assert(vm_contains(r.msg, "No such file") && vm_contains(r.msg, "missing"),
              "message does not say /dev/kvm is missing: '%s'", r.msg);
}

Test(platform, kvm_not_permitted_says_so, .timeout = 30)
{
    struct kvm_open_result r = run_scenario(DEV_KVM_0600_AS_NOBODY);
    printf("/dev/kvm 0600 root, opened as nobody: %s\n", r.msg);
    fflush(stdout);
    cr_assert_eq(r.rc, GLINT_ENOKVM, "rc %d (%s)", r.rc, r.msg);
    cr_assert(vm_contains(r.msg, "Permission denied"), "no errno text: '%s'", r.msg);
    cr_assert(vm_contains(r.msg, "kvm group"), "no hint at the kvm group: '%s'", r.msg);
}

/* ---- helpers for the guest-behaviour tests ------------------------------------------------- */

/* Under PVM (kvm_pvm), CPL3 guest code runs natively in a host process: cpuid, rdpid and rdtscp
 * are not intercepted. Elsewhere (hardware VMX/SVM) KVM applies glint's CPUID and MSRs. */
static bool host_is_pvm(void)
{
    return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static glint_host_info host_info(void)
{
    glint_host_info info = {.struct_size = sizeof info};
    cr_assert_eq(glint_host_info_get(&info), 0, "%s", glint_errmsg());
    cr_assert_eq(info.struct_size, sizeof info);
    return info;
}

static int call(glint_sandbox *sb, const char *fn, const glint_value *args, size_t n,
                glint_value *ret, glint_failure *f)
{
    memset(ret, 0, sizeof *ret);
    int rc = glint_sandbox_call(sb, fn, args, n, ret);
    glint_sandbox_last_failure(sb, f);
    return rc;
}

/* After a failed call the sandbox must be restorable, then pristine and working. */
static void expect_recovers(glint_sandbox *sb, const char *who)
{
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s: restore: %s", who, glint_errmsg());
    vm_expect_system_pages_intact(sb, who);
    glint_value r, a = glint_i64(41);
    glint_failure f;
    cr_assert_eq(call(sb, "Benign", &a, 1, &r, &f), 0, "%s: benign call: %s", who, f.message);
    cr_assert_eq(r.as.i64, 124);
}

static uint64_t xcr0_of(glint_sandbox *sb, bool *present)
{
    uint64_t x = 0;
    int rc = glint__vm_xcr0(sb->vm, &x);
    cr_assert_geq(rc, 0, "%s", glint_errmsg());
    *present = rc == 0;
    return x;
}

/* The guest-behaviour tests run the hostile guest (with the test host functions it imports): one
 * sandbox of it per test, opened by the test's .init and closed by its .fini. */
static glint_host_fns *fns;
static glint_image *img;
static glint_sandbox *sb;

static void open_hostile(void)
{
    fns = vm_host_fns(NULL);
    vm_open("hostile", NULL, fns, &img, &sb);
}

static void close_hostile(void)
{
    vm_close(&img, &sb);
    glint_host_fns_destroy(fns);
    fns = NULL;
}

/* ---- hypercall instructions never patch the guest's code ------------------------------------ */

static void hypercall_site(const char *fn)
{
    vm_require_kvm();
    glint_host_info info = host_info();
    glint_value r;
    glint_failure f;
    int rc = call(sb, fn, NULL, 0, &r, &f);
    printf("%s at CPL3: %s%s (hypercall patching %s)\n", fn, rc ? "" : "returned, rax ",
           rc ? f.message : "", info.no_hypercall_patching ? "disabled" : "not disableable");
    if (rc == 0)
        printf("    rax 0x%08" PRIx64 ", instruction bytes %06" PRIx64 "\n", r.as.u64 >> 32,
               r.as.u64 & 0xffffff);
    fflush(stdout);
    /* The outcome is one of the documented set (docs/security.md, "Platform differences"). */
    if (rc == 0) {
        /* KVM's answer to a hypercall from CPL3: -KVM_EPERM. The guest read its own bytes. */
        cr_assert_eq(r.as.u64 >> 32, 0xffffffffu, "rax after the hypercall");
        uint32_t want = strcmp(fn, "VmcallSite") == 0 ? 0xc1010f : 0xd9010f;
        cr_assert_eq(r.as.u64 & 0xffffff, want, "the guest sees its code patched");
    } else {
        cr_assert_eq(rc, GLINT_EFAULT, "%s", f.message);
        cr_assert(f.vector == 6 || f.vector == 13 || f.vector == 14, "vector %u: %s", f.vector,
                  f.message);
        /* #PF only from KVM's attempt to patch the instruction (expected only while the quirk
         * is on; not asserted: that is the host's behaviour, not a property): at it. */
        if (f.vector == 14)
            cr_assert_eq(f.fault_addr, f.rip, "#PF elsewhere than at the instruction");
        cr_assert(glint_sandbox_poisoned(sb));
    }
    /* The property: guest code byte-identical to the image, as are all system pages. */
    vm_expect_system_pages_intact(sb, fn);
    const glint_image *im = sb->img;
    uint64_t diff = vm_first_difference(sb, 0, im->layout.mem_size);
    if (diff != UINT64_MAX)
        cr_assert(
            im->writable[diff / GLINT_ABI_PAGE_SIZE / 64] >> (diff / GLINT_ABI_PAGE_SIZE % 64) & 1,
            "byte 0x%" PRIx64 " of a read-only page changed", diff);
    expect_recovers(sb, fn);
}

Test(platform, vmcall_leaves_code_intact, .init = open_hostile, .fini = close_hostile,
     .timeout = 30)
{
    hypercall_site("VmcallSite");
}

Test(platform, vmmcall_leaves_code_intact, .init = open_hostile, .fini = close_hostile,
     .timeout = 30)
{
    hypercall_site("VmmcallSite");
}

/* The quirk is disabled wherever the kernel offers KVM_CAP_DISABLE_QUIRKS2 with it. */
Test(platform, hypercall_patching_disabled_when_offered)
{
    vm_require_kvm();
    glint_host_info info = host_info();
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    int q = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2);
    close(fd);
    bool offered = q > 0 && (q & KVM_X86_QUIRK_FIX_HYPERCALL_INSN);
    printf("KVM_CAP_DISABLE_QUIRKS2: %#x; glint disables hypercall patching: %d\n", q > 0 ? q : 0,
           info.no_hypercall_patching);
    fflush(stdout);
    cr_assert_eq(info.no_hypercall_patching, offered);
}

/* ---- XCR0 and AVX ---------------------------------------------------------------------------- */

/* xsetbv at CPL3 faults whatever it asks for, and XCR0 stays what glint set. */
static void xsetbv_attempt(const char *fn)
{
    vm_require_kvm();
    glint_host_info info = host_info();
    glint_value r, a = glint_i64(1);
    glint_failure f;
    cr_assert_eq(call(sb, "Benign", &a, 1, &r, &f), 0, "%s", f.message);
    bool had, has;
    uint64_t before = xcr0_of(sb, &had);
    int rc = call(sb, fn, NULL, 0, &r, &f);
    printf("%s: %s; XCR0 %s0x%" PRIx64 " (glint's choice 0x%" PRIx64 ", CR4.OSXSAVE %d)\n", fn,
           rc ? f.message : "returned", had ? "" : "not exposed by KVM, ", before, info.xcr0,
           info.osxsave);
    fflush(stdout);
    cr_assert_eq(rc, GLINT_EFAULT, "xsetbv at CPL3 did not fault");
    cr_assert(f.vector == 13 || f.vector == 6, "vector %u", f.vector);
    uint64_t after = xcr0_of(sb, &has);
    cr_assert_eq(has, had);
    cr_assert_eq(after, before, "XCR0 0x%" PRIx64 " after xsetbv, was 0x%" PRIx64, after, before);
    if (info.osxsave)
        cr_assert_eq(after, info.xcr0, "XCR0 is not glint's");
    expect_recovers(sb, fn);
    cr_assert_eq(xcr0_of(sb, &has), before, "XCR0 changed by restore");
}

Test(platform, xsetbv_faults_xcr0_unchanged, .init = open_hostile, .fini = close_hostile,
     .timeout = 30)
{
    xsetbv_attempt("Xsetbv");
}

Test(platform, xsetbv_all_bits_faults_xcr0_unchanged, .init = open_hostile, .fini = close_hostile,
     .timeout = 30)
{
    xsetbv_attempt("XsetbvAll");
}

/* glint's XCR0 choice: x87 and SSE always, AVX when offered, never beyond what glint saves. */
Test(platform, xcr0_choice, .init = open_hostile, .fini = close_hostile)
{
    vm_require_kvm();
    glint_host_info info = host_info();
    if (!info.osxsave) {
        cr_assert_eq(info.xcr0, 0);
        printf("XCR0 not set by glint (no XSAVE in KVM's CPUID or no KVM_CAP_XCRS)\n");
        return;
    }
    cr_assert_eq(info.xcr0 & 3, 3, "XCR0 0x%" PRIx64 " lacks x87|SSE", info.xcr0);
    cr_assert_eq(info.xcr0 & ~0xe7ull, 0, "XCR0 0x%" PRIx64 " beyond x87|SSE|AVX|AVX-512",
                 info.xcr0);
    bool has;
    cr_assert_eq(xcr0_of(sb, &has), info.xcr0);
    cr_assert(has);
}

/* AVX works in a guest (or, where glint could not enable it, fails with #UD, never silently
 * wrong); AVX register state does not survive a restore. */
Test(platform, avx_works_and_restores, .init = open_hostile, .fini = close_hostile, .timeout = 30)
{
    vm_require_kvm();
    glint_host_info info = host_info();
    glint_value r, a = glint_i64(100);
    glint_failure f;
    int rc = call(sb, "AvxAdd", &a, 1, &r, &f);
    printf("AVX in a guest: %s (XCR0 set by glint 0x%" PRIx64 ")\n", rc ? f.message : "works",
           info.xcr0);
    fflush(stdout);
    if (rc) {
        cr_assert(!(info.xcr0 & 4) && !host_is_pvm(), "AVX failed although enabled: %s", f.message);
        cr_assert_eq(rc, GLINT_EFAULT);
        cr_assert_eq(f.vector, 6, "%s", f.message);
        expect_recovers(sb, "AvxAdd");
        return;
    }
    cr_assert_eq(r.as.i64, 100 + 10, "AvxAdd(100) = %" PRId64, r.as.i64);
    glint_value v = glint_u64(0x5a5a5a5a5a5a5a5aull);
    cr_assert_eq(call(sb, "AvxDirty", &v, 1, &r, &f), 0, "%s", f.message);
    cr_assert_eq(call(sb, "AvxUpper", NULL, 0, &r, &f), 0, "%s", f.message);
    cr_assert_eq(r.as.u64, 0x5a5a5a5a5a5a5a5aull, "AVX state lost between calls");
    cr_assert_eq(glint_sandbox_restore(sb, NULL), 0, "%s", glint_errmsg());
    cr_assert_eq(call(sb, "AvxUpper", NULL, 0, &r, &f), 0, "%s", f.message);
    cr_assert_eq(r.as.u64, 0, "upper ymm halves survived restore: 0x%" PRIx64, r.as.u64);
    glint_sandbox *fresh = vm_sandbox(img, NULL);
    cr_assert_eq(call(fresh, "AvxUpper", NULL, 0, &r, &f), 0, "%s", f.message);
    cr_assert_eq(r.as.u64, 0, "a new sandbox starts with ymm upper halves 0x%" PRIx64, r.as.u64);
    glint_sandbox_destroy(fresh);
}

/* ---- rdpid / rdtscp (IA32_TSC_AUX) ----------------------------------------------------------
 *
 * Documented outcomes: #UD where KVM hides the instruction; the value 0 (glint's TSC_AUX) where
 * KVM runs it for the guest; under PVM it runs natively and reads the host's TSC_AUX (the host
 * CPU number on Linux): any value. */
static void tsc_aux_read(const char *fn)
{
    vm_require_kvm();
    glint_value r;
    glint_failure f;
    int rc = call(sb, fn, NULL, 0, &r, &f);
    bool pvm = host_is_pvm();
    if (rc == 0)
        printf("%s at CPL3 (%s): TSC_AUX reads %" PRIu64 "\n", fn, pvm ? "PVM" : "not PVM",
               r.as.u64);
    else
        printf("%s at CPL3 (%s): %s\n", fn, pvm ? "PVM" : "not PVM", f.message);
    fflush(stdout);
    if (rc == 0) {
        cr_assert_leq(r.as.u64, 0xffffffffu, "TSC_AUX is 32 bits");
        if (!pvm)
            cr_assert_eq(r.as.u64, 0, "%s revealed TSC_AUX %" PRIu64 " (glint sets 0)", fn,
                         r.as.u64);
        cr_assert_eq(call(sb, "Seven", NULL, 0, &r, &f), 0, "%s", f.message);
    } else {
        cr_assert_eq(rc, GLINT_EFAULT, "%s", f.message);
        cr_assert_eq(f.vector, 6, "%s: %s", fn, f.message);
        expect_recovers(sb, fn);
    }
    vm_expect_system_pages_intact(sb, fn);
}

Test(platform, rdpid_outcome_documented, .init = open_hostile, .fini = close_hostile, .timeout = 30)
{
    tsc_aux_read("Rdpid");
}

Test(platform, rdtscp_outcome_documented, .init = open_hostile, .fini = close_hostile,
     .timeout = 30)
{
    tsc_aux_read("Rdtscp");
}

/* The integrity check used across the suites does see a changed read-only byte. */
Test(platform, integrity_check_sees_a_patched_code_byte, .init = open_hostile,
     .fini = close_hostile)
{
    vm_require_kvm();
    uint64_t at = GLINT_ABI_IMAGE_BASE + 3;
    cr_assert_eq(vm_first_difference(sb, 0, sb->mem_size), UINT64_MAX);
    sb->mem[at] ^= 0xff;
    cr_assert_eq(vm_first_difference(sb, 0, sb->mem_size), at);
    sb->mem[at] ^= 0xff;
}

/* KVM backend, generic half: device and capabilities, VM, memory slot, vCPU, run loop, dirty log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "glint/abi.h"
#include "hv/kvm_private.h"
#include "hv/pvm_host_selectors.h"
#include "runtime/error.h"

struct glint__kvm glint__kvm = {.once = PTHREAD_ONCE_INIT, .kvm_fd = -1};

int glint__kvm_ioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR && req != KVM_RUN);
    return r;
}

int glint__kvm_fail(const char *what)
{
    return glint__fail(GLINT_EHV, "%s failed: %s", what, strerror(errno));
}

int glint__kvm_check(long cap)
{
    return ioctl(glint__kvm.kvm_fd, KVM_CHECK_EXTENSION, cap);
}

int glint__kvm_require(const struct glint__kvm_required *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (glint__kvm_check(t[i].cap) <= 0)
            return glint__fail(GLINT_ENOKVM, "KVM lacks required capability %s (glint needs it %s)",
                               t[i].name, t[i].need);
    return 0;
}

/* ---- opening /dev/kvm, once per process ------------------------------------------ */

/* Why /dev/kvm could not be opened, in words a user can act on. */
static int open_failed(int err)
{
    const char *e = strerror(err);
    if (err == ENOENT || err == ENODEV || err == ENXIO)
        return glint__fail(GLINT_ENOKVM,
                           "/dev/kvm is missing (%s): this host offers no KVM, or the kvm module "
                           "(kvm_intel, kvm_amd or kvm_pvm) is not loaded",
                           e);
    if (err == EACCES || err == EPERM)
        return glint__fail(GLINT_ENOKVM,
                           "no permission to open /dev/kvm read-write (%s): add yourself to the "
                           "kvm group (then log in again) or ask for access",
                           e);
    return glint__fail(GLINT_ENOKVM, "cannot open /dev/kvm: %s", e);
}

static int open_device(void)
{
    glint__kvm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    return glint__kvm.kvm_fd < 0 ? open_failed(errno) : 0;
}

static int check_api_version(void)
{
    int ver = ioctl(glint__kvm.kvm_fd, KVM_GET_API_VERSION, 0);
    if (ver != KVM_API_VERSION)
        return glint__fail(GLINT_ENOKVM, "KVM API version %d, want %d", ver, KVM_API_VERSION);
    return 0;
}

/* What every architecture needs (x86's own list is in kvm_x86.c). */
static int check_generic_capabilities(void)
{
    static const struct glint__kvm_required required[] = {
        {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "to back guest memory with host memory"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT",
         "to stop a guest on a deadline or interrupt without a race"},
    };
    return glint__kvm_require(required, sizeof required / sizeof required[0]);
}

static int probe_run_size(void)
{
    glint__kvm.run_size = ioctl(glint__kvm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (glint__kvm.run_size < (int)sizeof(struct kvm_run))
        return glint__fail(GLINT_ENOKVM, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
    return 0;
}

/* Optional: without it, restore copies every writable page (mem/regions.h). */
static void probe_dirty_tracking(void)
{
    int md = glint__kvm_check(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
    glint__kvm.manual_dirty = md > 0 && (md & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
}

static void open_once(void)
{
    int rc;
    if ((rc = open_device()))
        goto fail;
    if ((rc = check_api_version()) || (rc = check_generic_capabilities()) ||
        (rc = probe_run_size()))
        goto close;
    probe_dirty_tracking();
    if ((rc = glint__kvm_x86_probe())) {
        glint__kvm_x86_unprobe();
        goto close;
    }
    return;
close:
    close(glint__kvm.kvm_fd);
    glint__kvm.kvm_fd = -1;
fail:
    glint__kvm.err = rc;
    snprintf(glint__kvm.why, sizeof glint__kvm.why, "%s", glint_errmsg());
}

int glint__hv_open(void)
{
    pthread_once(&glint__kvm.once, open_once);
    if (glint__kvm.err)
        return glint__fail(glint__kvm.err, "KVM is not available: %s", glint__kvm.why);
    return 0;
}

/* ---- VM creation, step by step ---------------------------------------------------- */

static int new_vm(void *mem, uint64_t size, glint__vm **out)
{
    glint__vm *vm = calloc(1, sizeof *vm);
    if (!vm)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    vm->vm_fd = vm->vcpu_fd = -1;
    vm->run = MAP_FAILED;
    vm->mem = mem;
    vm->mem_size = size;
    *out = vm;
    return 0;
}

static int create_vm_fd(glint__vm *vm)
{
    vm->vm_fd = glint__kvm_ioctl(glint__kvm.kvm_fd, KVM_CREATE_VM, 0);
    return vm->vm_fd < 0 ? glint__kvm_fail("KVM_CREATE_VM") : 0;
}

/* Start dirty logging in manual-protect mode where KVM offers it: every page
 * starts write-protected and clean; a written page is reported by
 * KVM_GET_DIRTY_LOG from then on and stays writable until
 * glint__vm_reprotect() (the "sticky working set"). Adds the flag to slot. */
static void enable_tracking(glint__vm *vm, struct kvm_userspace_memory_region *slot)
{
    if (!glint__kvm.manual_dirty)
        return;
    struct kvm_enable_cap cap = {.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2};
    cap.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
    if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
        return; /* restore falls back to copying every writable page */
    slot->flags |= KVM_MEM_LOG_DIRTY_PAGES;
    vm->tracking = true;
}

/* Slot 0: guest physical [0, size) = mem. */
static int add_memory_slot(glint__vm *vm)
{
    struct kvm_userspace_memory_region slot = {
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = vm->mem_size,
        .userspace_addr = (uint64_t)(uintptr_t)vm->mem,
    };
    enable_tracking(vm, &slot);
    if (glint__kvm_ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
        return glint__kvm_fail("KVM_SET_USER_MEMORY_REGION");
    return 0;
}

static int create_vcpu(glint__vm *vm)
{
    vm->vcpu_fd = glint__kvm_ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu_fd < 0)
        return glint__kvm_fail("KVM_CREATE_VCPU");
    vm->run =
        mmap(NULL, (size_t)glint__kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED)
        return glint__kvm_fail("mmap of kvm_run");
    return 0;
}

int glint__vm_create(void *mem, uint64_t size, const glint__vcpu_state *state, uint64_t rip,
                     uint64_t rsp, glint__vm **out)
{
    glint__vm *vm = NULL;
    int rc;
    if ((rc = glint__hv_open()) || (rc = new_vm(mem, size, &vm)))
        return rc;
    /* Order: VM-wide settings before the slot (KVM wants manual-protect
     * before dirty logging starts), the vCPU's CPUID before its XCR0, and
     * its registers last. */
    if ((rc = create_vm_fd(vm)) || (rc = glint__kvm_x86_vm_setup(vm)) ||
        (rc = add_memory_slot(vm)) || (rc = create_vcpu(vm)) ||
        (rc = glint__kvm_x86_vcpu_setup(vm)) ||
        (rc = state ? glint__vm_load(vm, state) : glint__kvm_x86_initial_state(vm, rip, rsp))) {
        glint__vm_destroy(vm);
        return rc;
    }
    *out = vm;
    return 0;
}

void glint__vm_destroy(glint__vm *vm)
{
    if (!vm)
        return;
    if (vm->run != MAP_FAILED)
        munmap(vm->run, (size_t)glint__kvm.run_size);
    if (vm->vcpu_fd >= 0)
        close(vm->vcpu_fd);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    free(vm);
}

volatile uint8_t *glint__vm_kick_flag(glint__vm *vm)
{
    return &vm->run->immediate_exit;
}

void glint__vm_fds(const glint__vm *vm, int *vm_fd, int *vcpu_fd)
{
    *vm_fd = vm->vm_fd;
    *vcpu_fd = vm->vcpu_fd;
}

/* ---- running ------------------------------------------------------------------------- */

static const char *exit_name(uint32_t r)
{
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "UNKNOWN",
        [KVM_EXIT_EXCEPTION] = "EXCEPTION",
        [KVM_EXIT_IO] = "IO",
        [KVM_EXIT_HYPERCALL] = "HYPERCALL",
        [KVM_EXIT_DEBUG] = "DEBUG",
        [KVM_EXIT_HLT] = "HLT",
        [KVM_EXIT_MMIO] = "MMIO",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
        [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
        [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
        [KVM_EXIT_INTR] = "INTR",
        [KVM_EXIT_SET_TPR] = "SET_TPR",
        [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
        [KVM_EXIT_NMI] = "NMI",
        [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
        [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
    };
    if (r < sizeof names / sizeof names[0] && names[r])
        return names[r];
    return "(unnamed)";
}

/* KVM_RUN, with the host thread's selectors repaired (hv/pvm_host_selectors.h). */
static int kvm_run(glint__vm *vm)
{
    struct glint__pvm_host_selectors sel;
    glint__pvm_host_selectors_save(&sel);
    int r = ioctl(vm->vcpu_fd, KVM_RUN, 0);
    int saved_errno = errno;
    glint__pvm_host_selectors_repair(&sel);
    errno = saved_errno;
    return r;
}

/* Fill *ex from the exit KVM reported in run. */
static void classify_exit(const struct kvm_run *run, struct glint__exit *ex)
{
    ex->reason = run->exit_reason;
    ex->reason_name = exit_name(run->exit_reason);
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        ex->kind = GLINT__EXIT_IO;
        ex->port = run->io.port;
        ex->size = run->io.size;
        ex->out = run->io.direction == KVM_EXIT_IO_OUT;
        if (run->io.size <= 4 && run->io.data_offset <= (uint64_t)glint__kvm.run_size - 4)
            memcpy(&ex->data, (const uint8_t *)run + run->io.data_offset, run->io.size);
        break;
    case KVM_EXIT_SHUTDOWN:
        ex->kind = GLINT__EXIT_SHUTDOWN;
        break;
    case KVM_EXIT_INTR:
        ex->kind = GLINT__EXIT_INTR;
        break;
    case KVM_EXIT_HLT:
        ex->kind = GLINT__EXIT_HLT;
        break;
    case KVM_EXIT_MMIO:
        ex->kind = GLINT__EXIT_MMIO;
        ex->addr = run->mmio.phys_addr;
        break;
    case KVM_EXIT_FAIL_ENTRY:
        ex->kind = GLINT__EXIT_FAIL_ENTRY;
        ex->hw_reason = run->fail_entry.hardware_entry_failure_reason;
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        ex->kind = GLINT__EXIT_INTERNAL;
        ex->hw_reason = run->internal.suberror;
        break;
    default:
        ex->kind = GLINT__EXIT_OTHER;
        break;
    }
}

int glint__vm_run(glint__vm *vm, struct glint__exit *ex)
{
    memset(ex, 0, sizeof *ex);
    if (kvm_run(vm) < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            ex->kind = GLINT__EXIT_INTR;
            ex->reason = KVM_EXIT_INTR;
            ex->reason_name = "INTR";
            return 0;
        }
        return glint__kvm_fail("KVM_RUN");
    }
    classify_exit(vm->run, ex);
    return 0;
}

/* Finish a pending I/O exit and apply registers queued in kvm_run, without
 * running guest code: immediate_exit makes KVM_RUN do exactly that (api.rst). */
int glint__vm_settle(glint__vm *vm)
{
    /* A string I/O instruction may need several completions. */
    for (int i = 0; i < 100000; i++) {
        vm->run->immediate_exit = 1;
        int r = kvm_run(vm);
        vm->run->immediate_exit = 0;
        if (r < 0 && errno == EINTR)
            return 0;
        if (r < 0)
            return glint__kvm_fail("settling the vCPU");
        if (vm->run->exit_reason != KVM_EXIT_IO)
            break;
    }
    return glint__fail(GLINT_EHV, "settling the vCPU failed: exit %u instead of EINTR",
                       vm->run->exit_reason);
}

/* ---- dirty log ------------------------------------------------------------------------ */

int glint__vm_dirty_log(glint__vm *vm, uint64_t *bitmap)
{
    if (!vm->tracking)
        return 1;
    struct kvm_dirty_log log = {.slot = 0, .dirty_bitmap = bitmap};
    if (glint__kvm_ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
        return glint__kvm_fail("KVM_GET_DIRTY_LOG");
    return 0;
}

int glint__vm_tracks_writes(const glint__vm *vm)
{
    return vm->tracking;
}

int glint__vm_reprotect(glint__vm *vm, const uint64_t *bitmap)
{
    if (!vm->tracking)
        return 0;
    uint64_t pages = vm->mem_size / GLINT_ABI_PAGE_SIZE;
    struct kvm_clear_dirty_log c = {
        .slot = 0,
        .num_pages = (uint32_t)pages,
        .first_page = 0,
        .dirty_bitmap = (void *)(uintptr_t)bitmap,
    };
    if (glint__kvm_ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &c) < 0)
        return glint__kvm_fail("KVM_CLEAR_DIRTY_LOG");
    return 0;
}

void glint__vm_test_untracked(glint__vm *vm)
{
    vm->tracking = false;
}

/* ---- host information --------------------------------------------------------------- */

/* sizeof(glint_host_info) in 0.1.0: the fields before no_hypercall_patching. */
#define HOST_INFO_V0_SIZE offsetof(glint_host_info, no_hypercall_patching)

int glint_host_info_get(glint_host_info *info)
{
    if (!info)
        return glint__fail(GLINT_EINVAL, "glint_host_info_get: NULL argument");
    size_t size = info->struct_size;
    if (size < HOST_INFO_V0_SIZE)
        return glint__fail(GLINT_EINVAL,
                           "glint_host_info_get: struct_size %zu, want at least %zu (set it to "
                           "sizeof(glint_host_info) before the call)",
                           size, (size_t)HOST_INFO_V0_SIZE);
    /* Never past the caller's struct, never past ours. */
    if (size > sizeof *info)
        size = sizeof *info;
    glint_host_info h;
    memset(&h, 0, sizeof h);
    h.struct_size = (uint32_t)size; /* the bytes glint filled */
    int rc = glint__hv_open();
    if (rc == 0) {
        h.kvm = true;
        h.msr_filter = glint__kvm.msr_filter;
        h.dirty_tracking = glint__kvm.manual_dirty;
        h.sync_regs = glint__kvm.sync_regs;
        h.xsave = glint__kvm.xsave_size != 0;
        h.xsave_bytes = (uint32_t)glint__kvm.xsave_size;
        h.no_hypercall_patching = glint__kvm.no_patching;
        h.osxsave = glint__kvm.osxsave;
        h.xcr0 = glint__kvm.xcr0;
    }
    memcpy(info, &h, size);
    return rc;
}

/* Raw-KVM floors for the benchmarks: the least KVM work each glint operation must do. */
#include "raw_kvm.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem/layout.h"
#include "mem/regions.h"
#include "x86/tables.h"

#define CODE_ADDR GLINT_ABI_IMAGE_BASE

static int kvm_fd = -1, run_size;
static struct kvm_cpuid2 *cpuid;
static uint8_t *image;
static struct glint__layout layout;

int raw_prepare(void)
{
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0)
        return -1;
    run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    cpuid = calloc(1, sizeof *cpuid + 256 * sizeof cpuid->entries[0]);
    if (!cpuid)
        return -1;
    cpuid->nent = 256;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        return -1;
    /* The smallest memory glint accepts, with one code page. */
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 4096;
    cfg.stack_size = 8192;
    cfg.input_size = cfg.output_size = 4096;
    struct glint__elf elf;
    memset(&elf, 0, sizeof elf);
    elf.nsegs = 1;
    elf.segs[0] = (struct glint__segment){.vaddr = CODE_ADDR, .memsz = 4096, .flags = 5};
    elf.image_end = CODE_ADDR + 4096;
    if (glint__layout_compute(&elf, &cfg, &layout) != 0)
        return -1;
    image = calloc(1, layout.mem_size);
    if (!image)
        return -1;
    struct glint__regions regions;
    if (glint__mem_regions_build(&layout, &elf, &regions) != 0)
        return -1;
    glint__x86_build(image, &regions, &layout, 0);
    static const uint8_t code[] = {0xe6, GLINT_ABI_PORT_DONE, 0xeb, 0xfc}; /* out; jmp .-4 */
    memcpy(image + CODE_ADDR, code, sizeof code);
    return 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
    memset(s, 0, sizeof *s);
    s->limit = 0xffffffff;
    s->selector = sel;
    s->type = type;
    s->present = 1;
    s->dpl = 3;
    s->s = 1;
    s->g = 1;
    s->l = code;
    s->db = !code;
}

int raw_create(struct raw_vm *vm)
{
    memset(vm, 0, sizeof *vm);
    vm->mem_size = layout.mem_size;
    vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (vm->mem == MAP_FAILED)
        return -1;
    /* Populate only the pages that hold something, as glint does. */
    static const uint8_t zero[4096];
    for (uint64_t off = 0; off < vm->mem_size; off += 4096)
        if (memcmp(image + off, zero, 4096) != 0)
            memcpy(vm->mem + off, image + off, 4096);
    vm->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    struct kvm_userspace_memory_region r = {
        .slot = 0, .memory_size = vm->mem_size, .userspace_addr = (uint64_t)(uintptr_t)vm->mem};
    if (vm->vm_fd < 0 || ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
        return -1;
    vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
    if (vm->vcpu_fd < 0)
        return -1;
    vm->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED || ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
        return -1;
    struct kvm_sregs s;
    if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
        return -1;
    seg(&s.cs, GLINT__SEL_UCODE | 3, 0xb, 1);
    seg(&s.ds, GLINT__SEL_UDATA | 3, 0x3, 0);
    s.es = s.fs = s.gs = s.ss = s.ds;
    memset(&s.tr, 0, sizeof s.tr);
    s.tr.base = GLINT_ABI_TSS_ADDR;
    s.tr.limit = GLINT__TSS_LIMIT;
    s.tr.selector = GLINT__SEL_TSS;
    s.tr.type = 0xb;
    s.tr.present = 1;
    s.gdt.base = GLINT_ABI_GDT_ADDR;
    s.gdt.limit = GLINT__GDT_LIMIT;
    s.idt.base = GLINT_ABI_IDT_ADDR;
    s.idt.limit = 4095;
    s.cr0 = GLINT__CR0;
    s.cr3 = GLINT_ABI_PT_ADDR;
    s.cr4 = GLINT__CR4;
    s.efer = GLINT__EFER;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0)
        return -1;
    struct kvm_regs regs = {
        .rip = CODE_ADDR, .rsp = layout.stack_addr + layout.stack_size, .rflags = 2};
    return ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0 ? -1 : 0;
}

static int run_to_out(struct raw_vm *vm)
{
    if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0)
        return -1;
    return vm->run->exit_reason == KVM_EXIT_IO && vm->run->io.port == GLINT_ABI_PORT_DONE ? 0 : -1;
}

int raw_call(struct raw_vm *vm)
{
    struct kvm_regs regs = {
        .rip = CODE_ADDR, .rsp = layout.stack_addr + layout.stack_size, .rflags = 2};
    if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return -1;
    return run_to_out(vm);
}

int raw_resume(struct raw_vm *vm)
{
    return run_to_out(vm);
}

void raw_destroy(struct raw_vm *vm)
{
    if (vm->run && vm->run != MAP_FAILED)
        munmap(vm->run, (size_t)run_size);
    if (vm->vcpu_fd > 0)
        close(vm->vcpu_fd);
    if (vm->vm_fd > 0)
        close(vm->vm_fd);
    if (vm->mem && vm->mem != MAP_FAILED)
        munmap(vm->mem, vm->mem_size);
}

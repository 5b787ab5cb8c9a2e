/* PVM does not switch the host's data segment selectors: save them before KVM_RUN, repair after. */
#include "hv/pvm_host_selectors.h"

#include <asm/prctl.h>
#include <sys/syscall.h>

/* arch_prctl without touching errno (TLS) while FS may be wrong. */
static long raw_arch_prctl(long code, unsigned long addr)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"((long)SYS_arch_prctl), "D"(code), "S"(addr)
                     : "rcx", "r11", "memory");
    return ret;
}

/* Reload a segment register with sel, keeping its base (FS/GS hold the TLS
 * and per-thread bases in 64-bit mode; loading a selector may clear them). */
static void reload_base_seg(int is_fs, uint16_t sel)
{
    unsigned long base = 0;
    raw_arch_prctl(is_fs ? ARCH_GET_FS : ARCH_GET_GS, (unsigned long)&base);
    if (is_fs)
        __asm__ volatile("mov %0, %%fs" : : "r"(sel));
    else
        __asm__ volatile("mov %0, %%gs" : : "r"(sel));
    raw_arch_prctl(is_fs ? ARCH_SET_FS : ARCH_SET_GS, base);
}

int glint__pvm_host_selectors_repair(const struct glint__pvm_host_selectors *s)
{
    struct glint__pvm_host_selectors now;
    glint__pvm_host_selectors_save(&now);
    if (now.ds == s->ds && now.es == s->es && now.fs == s->fs && now.gs == s->gs)
        return 0;
    if (now.ds != s->ds)
        __asm__ volatile("mov %0, %%ds" : : "r"(s->ds));
    if (now.es != s->es)
        __asm__ volatile("mov %0, %%es" : : "r"(s->es));
    if (now.fs != s->fs)
        reload_base_seg(1, s->fs);
    if (now.gs != s->gs)
        reload_base_seg(0, s->gs);
    return 1;
}

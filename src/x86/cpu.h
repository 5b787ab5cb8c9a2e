/* Named x86-64 architectural bits glint uses, each cited to the Intel SDM; constants only. */
#ifndef GLINT_X86_CPU_H
#define GLINT_X86_CPU_H

/*
 * This header defines constants and nothing else, so any file of the library
 * (mem/, x86/, hv/, runtime/) and the benchmarks may include it. Section
 * numbers are those of the Intel SDM (order no. 325462, 2023 editions).
 */

/* ---- control registers (Vol. 3A 2.5) ------------------------------------------ */
#define GLINT__CR0_PE (1ull << 0)  /* protected mode */
#define GLINT__CR0_MP (1ull << 1)  /* monitor coprocessor (wait honours TS) */
#define GLINT__CR0_ET (1ull << 4)  /* extension type, hard-wired 1 on modern CPUs */
#define GLINT__CR0_NE (1ull << 5)  /* native x87 error reporting (#MF) */
#define GLINT__CR0_WP (1ull << 16) /* write protect: CPL0 honours read-only pages */
#define GLINT__CR0_PG (1ull << 31) /* paging */

#define GLINT__CR4_PAE        (1ull << 5)  /* physical address extension (4-level paging) */
#define GLINT__CR4_OSFXSR     (1ull << 9)  /* fxsave/fxrstor and SSE enabled */
#define GLINT__CR4_OSXMMEXCPT (1ull << 10) /* unmasked SSE exceptions raise #XM */
#define GLINT__CR4_OSXSAVE    (1ull << 18) /* xsave/xgetbv enabled, XCR0 in effect */

/* ---- IA32_EFER (Vol. 3A 2.2.1, Vol. 4 MSR 0xc0000080) ----------------------------- */
#define GLINT__EFER_SCE (1ull << 0)  /* syscall/sysret enabled */
#define GLINT__EFER_LME (1ull << 8)  /* long mode enable */
#define GLINT__EFER_LMA (1ull << 10) /* long mode active */
#define GLINT__EFER_NXE (1ull << 11) /* execute-disable bit in page-table entries */

/* ---- XCR0 state components (Vol. 1 13.1) ------------------------------------------ */
#define GLINT__XCR0_X87    (1ull << 0)
#define GLINT__XCR0_SSE    (1ull << 1)
#define GLINT__XCR0_AVX    (1ull << 2)
#define GLINT__XCR0_AVX512 (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM: always together */

/* ---- CPUID feature flags (Vol. 2A, CPUID; AMD APM Vol. 3 for leaf 0x80000001) ------- */
#define GLINT__CPUID1_ECX_VMX     (1u << 5)
#define GLINT__CPUID1_ECX_XSAVE   (1u << 26)
#define GLINT__CPUID1_ECX_OSXSAVE (1u << 27)
#define GLINT__CPUID7_ECX_RDPID   (1u << 22)
#define GLINT__CPUID81_ECX_SVM    (1u << 2)
#define GLINT__CPUID81_EDX_RDTSCP (1u << 27)

/* ---- model-specific registers (Vol. 4 2.1) ---------------------------------------- */
#define GLINT__MSR_SYSENTER_CS  0x174u
#define GLINT__MSR_SYSENTER_ESP 0x175u
#define GLINT__MSR_SYSENTER_EIP 0x176u
#define GLINT__MSR_STAR         0xc0000081u
#define GLINT__MSR_LSTAR        0xc0000082u
#define GLINT__MSR_CSTAR        0xc0000083u
#define GLINT__MSR_SYSCALL_MASK 0xc0000084u
#define GLINT__MSR_TSC_AUX      0xc0000103u

/* ---- RFLAGS (Vol. 1 3.4.3) -------------------------------------------------------- */
#define GLINT__RFLAGS_FIXED (1ull << 1) /* bit 1 always reads 1 */

/* ---- 4-level paging entries (Vol. 3A 4.5, tables 4-15 to 4-20) --------------------- */
#define GLINT__PTE_P    (1ull << 0)           /* present */
#define GLINT__PTE_RW   (1ull << 1)           /* writable */
#define GLINT__PTE_US   (1ull << 2)           /* user (CPL3) access allowed */
#define GLINT__PTE_A    (1ull << 5)           /* accessed, set by the CPU */
#define GLINT__PTE_D    (1ull << 6)           /* dirty (leaf entries), set by the CPU */
#define GLINT__PTE_PS   (1ull << 7)           /* page size: a 1 GiB / 2 MiB leaf in PDPT / PD */
#define GLINT__PTE_NX   (1ull << 63)          /* execute disable (EFER.NXE) */
#define GLINT__PTE_ADDR 0x000ffffffffff000ull /* bits 51:12: next table or page frame */

/* ---- page-fault error code (Vol. 3A 4.7) ------------------------------------------ */
#define GLINT__PF_P    (1u << 0) /* the page was present: a protection violation */
#define GLINT__PF_W    (1u << 1) /* write access */
#define GLINT__PF_U    (1u << 2) /* CPL3 access */
#define GLINT__PF_RSVD (1u << 3) /* reserved bit set in a paging entry */
#define GLINT__PF_I    (1u << 4) /* instruction fetch */

/* ---- segment descriptors (Vol. 3A 3.4.5, 3.5, 8.2.3) -------------------------------- */
/* Type field of code/data descriptors (S = 1), accessed bit included. */
#define GLINT__SEG_TYPE_DATA_RW_A 0x3u /* read/write data, accessed */
#define GLINT__SEG_TYPE_CODE_RX_A 0xbu /* execute/read code, accessed */
/* Type field of system descriptors (S = 0) in IA-32e mode (table 3-2). */
#define GLINT__SEG_TYPE_LDT        0x2u
#define GLINT__SEG_TYPE_TSS64_BUSY 0xbu
/* Bit positions in the 8-byte descriptor (as a little-endian uint64_t). */
#define GLINT__DESC_TYPE_SHIFT 40           /* 4 bits */
#define GLINT__DESC_S          (1ull << 44) /* code/data (1) or system (0) */
#define GLINT__DESC_DPL_SHIFT  45           /* 2 bits */
#define GLINT__DESC_P          (1ull << 47) /* present */
#define GLINT__DESC_AVL        (1ull << 52)
#define GLINT__DESC_L          (1ull << 53) /* 64-bit code segment */
#define GLINT__DESC_DB         (1ull << 54) /* default operand size / big */
#define GLINT__DESC_G          (1ull << 55) /* limit in 4 KiB units */
/* IDT gate (Vol. 3A 6.14.1). */
#define GLINT__GATE_TYPE_INT64 0xeu /* 64-bit interrupt gate: IF cleared on entry */

/* ---- TSS (Vol. 3A 8.7) ------------------------------------------------------------ */
#define GLINT__TSS_RSP0_OFFSET 0x04u
#define GLINT__TSS_IST1_OFFSET 0x24u
#define GLINT__TSS_IOPB_FIELD  0x66u /* 16-bit offset of the I/O permission bitmap */

/* ---- exception vectors (Vol. 3A 6.3.1, table 6-1; #VC from the AMD APM) ------------ */
enum {
    GLINT__VEC_DE = 0,  /* divide error */
    GLINT__VEC_DB = 1,  /* debug */
    GLINT__VEC_NMI = 2, /* non-maskable interrupt */
    GLINT__VEC_BP = 3,  /* breakpoint (int3) */
    GLINT__VEC_OF = 4,  /* overflow (into) */
    GLINT__VEC_BR = 5,  /* bound range */
    GLINT__VEC_UD = 6,  /* invalid opcode */
    GLINT__VEC_NM = 7,  /* device not available */
    GLINT__VEC_DF = 8,  /* double fault (error code 0) */
    GLINT__VEC_TS = 10, /* invalid TSS (error code) */
    GLINT__VEC_NP = 11, /* segment not present (error code) */
    GLINT__VEC_SS = 12, /* stack-segment fault (error code) */
    GLINT__VEC_GP = 13, /* general protection (error code) */
    GLINT__VEC_PF = 14, /* page fault (error code, CR2) */
    GLINT__VEC_MF = 16, /* x87 floating-point error */
    GLINT__VEC_AC = 17, /* alignment check (error code) */
    GLINT__VEC_MC = 18, /* machine check */
    GLINT__VEC_XM = 19, /* SIMD floating-point exception */
    GLINT__VEC_VE = 20, /* virtualisation exception */
    GLINT__VEC_CP = 21, /* control protection (error code) */
    GLINT__VEC_VC = 29, /* VMM communication, AMD SEV-ES (error code) */
    GLINT__VEC_SX = 30, /* security exception, AMD (error code) */
};

#endif

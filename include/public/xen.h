/*
 * enso's guest ABI, core part: hypercall numbers, the memory-management and multicall
 * argument records, the shared info page, start info, and the x86-64 register and vCPU
 * context layouts. Numbers and layouts follow the 64-bit x86 PV interface of Xen 4.17
 * (interface version 0x00040e00) so unmodified Xen PV guests run on enso; the names are
 * Xen's unless a note says otherwise. 64-bit guests only: there is no 32-bit compat
 * layout here.
 *
 * Byte offsets in the comments are for x86-64 and are checked by abi_check.c.
 */
#ifndef ENSO_PUBLIC_XEN_H
#define ENSO_PUBLIC_XEN_H

#include <public/xen_types.h>

/* The interface version these headers implement (Xen 4.17's latest). */
#define ENSO_XEN_INTERFACE_VERSION 0x00040e00

/*
 * Hypercall numbers. A guest calls hypercall n at hypercall_page + n * 32: the page (at
 * XEN_ELFNOTE_HYPERCALL_PAGE for a PV guest; HVM guests write the MSR CPUID names) holds
 * one 32-byte stub per number. Arguments go in rdi, rsi, rdx, r10, r8 (then r9), the
 * result comes back in rax. Numbers marked "compat" are older forms of a later call.
 */
#define __HYPERVISOR_set_trap_table 0
#define __HYPERVISOR_mmu_update 1
#define __HYPERVISOR_set_gdt 2
#define __HYPERVISOR_stack_switch 3
#define __HYPERVISOR_set_callbacks 4
#define __HYPERVISOR_fpu_taskswitch 5
#define __HYPERVISOR_sched_op_compat 6 /* compat: use sched_op (29) */
#define __HYPERVISOR_platform_op 7
#define __HYPERVISOR_set_debugreg 8
#define __HYPERVISOR_get_debugreg 9
#define __HYPERVISOR_update_descriptor 10
/* 11 is unused. */
#define __HYPERVISOR_memory_op 12
#define __HYPERVISOR_multicall 13
#define __HYPERVISOR_update_va_mapping 14
#define __HYPERVISOR_set_timer_op 15
#define __HYPERVISOR_event_channel_op_compat 16 /* compat: use event_channel_op (32) */
#define __HYPERVISOR_xen_version 17
#define __HYPERVISOR_console_io 18
#define __HYPERVISOR_physdev_op_compat 19 /* compat: use physdev_op (33) */
#define __HYPERVISOR_grant_table_op 20
#define __HYPERVISOR_vm_assist 21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret 23
#define __HYPERVISOR_vcpu_op 24
#define __HYPERVISOR_set_segment_base 25
#define __HYPERVISOR_mmuext_op 26
#define __HYPERVISOR_xsm_op 27
#define __HYPERVISOR_nmi_op 28
#define __HYPERVISOR_sched_op 29
#define __HYPERVISOR_callback_op 30
#define __HYPERVISOR_xenoprof_op 31
#define __HYPERVISOR_event_channel_op 32
#define __HYPERVISOR_physdev_op 33
#define __HYPERVISOR_hvm_op 34
#define __HYPERVISOR_sysctl 35
#define __HYPERVISOR_domctl 36
#define __HYPERVISOR_kexec_op 37
#define __HYPERVISOR_tmem_op 38
#define __HYPERVISOR_argo_op 39
#define __HYPERVISOR_xenpmu_op 40
#define __HYPERVISOR_dm_op 41
#define __HYPERVISOR_hypfs_op 42
/* 48-55 are left to each architecture. */
#define __HYPERVISOR_arch_0 48
#define __HYPERVISOR_arch_1 49
#define __HYPERVISOR_arch_2 50
#define __HYPERVISOR_arch_3 51
#define __HYPERVISOR_arch_4 52
#define __HYPERVISOR_arch_5 53
#define __HYPERVISOR_arch_6 54
#define __HYPERVISOR_arch_7 55

/* Size of each stub in the hypercall page; the page holds 4096 / 32 = 128 of them. */
#define ENSO_HYPERCALL_STUB_SIZE 32

/*
 * Virtual interrupts, bound to event channels with EVTCHNOP_bind_virq. "Per vCPU" ones
 * are bound separately on each vCPU; the others are global, bound once per domain.
 */
#define VIRQ_TIMER 0      /* per vCPU: the vCPU's timer fired or time was updated */
#define VIRQ_DEBUG 1      /* per vCPU: asks the guest to dump debug state */
#define VIRQ_CONSOLE 2    /* global, dom0: input on the hypervisor's console */
#define VIRQ_DOM_EXC 3    /* global, dom0: some domain needs attention (e.g. died) */
#define VIRQ_TBUF 4       /* global, dom0: trace buffers have data */
#define VIRQ_DEBUGGER 6   /* global, dom0: a domain stopped for the debugger */
#define VIRQ_XENOPROF 7   /* per vCPU: profiling sample available */
#define VIRQ_CON_RING 8   /* global, dom0: hypervisor console ring has new output */
#define VIRQ_PCPU_STATE 9 /* global, dom0: a physical CPU came or went */
#define VIRQ_MEM_EVENT 10 /* global, dom0: a memory event was raised */
#define VIRQ_ARGO 11      /* global: Argo message arrived */
#define VIRQ_ENOMEM 12    /* global, dom0: the hypervisor is short of memory */
#define VIRQ_XENPMU 13    /* per vCPU: performance counter interrupt */
#define VIRQ_ARCH_0 16    /* 16-23: architecture specific */
#define VIRQ_ARCH_1 17
#define VIRQ_ARCH_2 18
#define VIRQ_ARCH_3 19
#define VIRQ_ARCH_4 20
#define VIRQ_ARCH_5 21
#define VIRQ_ARCH_6 22
#define VIRQ_ARCH_7 23
#define NR_VIRQS 24

/*
 * HYPERVISOR_mmu_update(const struct mmu_update *reqs, unsigned int count,
 *                       unsigned int *done, domid_t foreign_dom)
 * The low 2 bits of ptr select the command; the rest is a machine address (8-aligned).
 */
#define MMU_NORMAL_PT_UPDATE 0       /* *ptr = val, checked; ptr is a PTE's machine addr */
#define MMU_MACHPHYS_UPDATE 1        /* M2P[ptr >> PAGE_SHIFT] = val (a guest pfn) */
#define MMU_PT_UPDATE_PRESERVE_AD 2  /* as NORMAL, but keeps the old Accessed/Dirty bits */
#define MMU_PT_UPDATE_NO_TRANSLATE 3 /* as NORMAL, val's frame is never translated */

struct mmu_update {
    uint64_t ptr; /* 0: machine address of the entry, command in bits 0-1 */
    uint64_t val; /* 8: new contents */
};                /* 16 bytes */

/* HYPERVISOR_mmuext_op(struct mmuext_op *ops, unsigned int count, unsigned int *done,
 *                      domid_t foreign_dom): extended MMU operations, by cmd. */
#define MMUEXT_PIN_L1_TABLE 0       /* arg1.mfn: pin (validate and keep) a page table */
#define MMUEXT_PIN_L2_TABLE 1
#define MMUEXT_PIN_L3_TABLE 2
#define MMUEXT_PIN_L4_TABLE 3
#define MMUEXT_UNPIN_TABLE 4        /* arg1.mfn */
#define MMUEXT_NEW_BASEPTR 5        /* arg1.mfn: new kernel L4 (cr3) */
#define MMUEXT_TLB_FLUSH_LOCAL 6
#define MMUEXT_INVLPG_LOCAL 7       /* arg1.linear_addr */
#define MMUEXT_TLB_FLUSH_MULTI 8    /* arg2.vcpumask */
#define MMUEXT_INVLPG_MULTI 9       /* arg1.linear_addr, arg2.vcpumask */
#define MMUEXT_TLB_FLUSH_ALL 10
#define MMUEXT_INVLPG_ALL 11        /* arg1.linear_addr */
#define MMUEXT_FLUSH_CACHE 12
#define MMUEXT_SET_LDT 13           /* arg1.linear_addr, arg2.nr_ents */
/* 14 is unused. */
#define MMUEXT_NEW_USER_BASEPTR 15  /* arg1.mfn: L4 used in guest user mode */
#define MMUEXT_CLEAR_PAGE 16        /* arg1.mfn */
#define MMUEXT_COPY_PAGE 17         /* arg1.mfn <- arg2.src_mfn */
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER 19        /* arg1.mfn */
#define MMUEXT_UNMARK_SUPER 20      /* arg1.mfn */

ENSO_DEFINE_GUEST_HANDLE(mmu_update, struct mmu_update);

struct mmuext_op {
    uint32_t cmd;                 /* 0: MMUEXT_* */
    union {
        xen_pfn_t mfn;            /* 8 */
        uint64_t linear_addr;     /* 8 */
    } arg1;
    union {
        uint32_t nr_ents;         /* 16 */
        ENSO_GUEST_HANDLE(const_void) vcpumask; /* 16: bitmap of vCPUs */
        xen_pfn_t src_mfn;        /* 16 */
    } arg2;
};                                /* 24 bytes */

ENSO_DEFINE_GUEST_HANDLE(mmuext_op, struct mmuext_op);

/*
 * HYPERVISOR_update_va_mapping(va, pte, flags): what to flush afterwards in bits 0-1,
 * where in the rest: UVMF_LOCAL (this vCPU), UVMF_ALL, or UVMF_MULTI with the address
 * of a vCPU bitmap ORed into flags (so the bitmap must be at least 4-byte aligned).
 */
#define UVMF_NONE 0UL
#define UVMF_TLB_FLUSH 1UL
#define UVMF_INVLPG 2UL
#define UVMF_FLUSHTYPE_MASK 3UL
#define UVMF_MULTI 0UL
#define UVMF_LOCAL 0UL
#define UVMF_ALL 4UL

/* HYPERVISOR_console_io(int cmd, unsigned int count, char *buffer). */
#define CONSOLEIO_write 0
#define CONSOLEIO_read 1

/* HYPERVISOR_vm_assist(unsigned int cmd, unsigned int type). */
#define VMASST_CMD_enable 0
#define VMASST_CMD_disable 1
#define VMASST_TYPE_4gb_segments 0
#define VMASST_TYPE_4gb_segments_notify 1
#define VMASST_TYPE_writable_pagetables 2
#define VMASST_TYPE_pae_extended_cr3 3
#define VMASST_TYPE_architectural_iopl 4
#define VMASST_TYPE_runstate_update_flag 5
#define VMASST_TYPE_m2p_strict 32

/* Domain ids from 0x7ff0 up are not domains but names for special owners. */
#define DOMID_FIRST_RESERVED 0x7ff0U
#define DOMID_SELF 0x7ff0U    /* the calling domain */
#define DOMID_IO 0x7ff1U      /* owner of I/O memory */
#define DOMID_XEN 0x7ff2U     /* the hypervisor itself */
#define DOMID_COW 0x7ff3U     /* shared copy-on-write pages */
#define DOMID_INVALID 0x7ff4U
#define DOMID_IDLE 0x7fffU
#define DOMID_MASK 0x7fffU

/* HYPERVISOR_multicall(struct multicall_entry *calls, uint32_t nr_calls). */
struct multicall_entry {
    xen_ulong_t op;      /* 0: __HYPERVISOR_* */
    xen_ulong_t result;  /* 8: written back by the hypervisor */
    xen_ulong_t args[6]; /* 16 */
};                       /* 64 bytes */

ENSO_DEFINE_GUEST_HANDLE(multicall_entry, struct multicall_entry);

/*
 * x86-64 segment selectors. The hypervisor owns GDT entries from byte 0xe000 up (the
 * last two pages of a 16-page GDT); a PV guest runs its kernel and user code in ring 3
 * on these flat selectors.
 */
#define FIRST_RESERVED_GDT_PAGE 14
/* Spelled exactly as in enso's asm/desc.h, so either header may come first. */
#define FIRST_RESERVED_GDT_BYTE 0xe000
#define FIRST_RESERVED_GDT_ENTRY (FIRST_RESERVED_GDT_BYTE / 8)

#define FLAT_RING3_CS32 0xe023 /* GDT entry 260 */
#define FLAT_RING3_CS64 0xe033 /* GDT entry 262 */
#define FLAT_RING3_DS32 0xe02b /* GDT entry 261 */
#define FLAT_RING3_DS64 0x0000 /* the null selector */
#define FLAT_RING3_SS32 0xe02b
#define FLAT_RING3_SS64 0xe02b

#define FLAT_KERNEL_CS64 FLAT_RING3_CS64
#define FLAT_KERNEL_CS32 FLAT_RING3_CS32
#define FLAT_KERNEL_CS FLAT_KERNEL_CS64
#define FLAT_KERNEL_DS64 FLAT_RING3_DS64
#define FLAT_KERNEL_DS32 FLAT_RING3_DS32
#define FLAT_KERNEL_DS FLAT_KERNEL_DS64
#define FLAT_KERNEL_SS64 FLAT_RING3_SS64
#define FLAT_KERNEL_SS32 FLAT_RING3_SS32
#define FLAT_KERNEL_SS FLAT_KERNEL_SS64
#define FLAT_USER_CS64 FLAT_RING3_CS64
#define FLAT_USER_CS32 FLAT_RING3_CS32
#define FLAT_USER_CS FLAT_USER_CS64
#define FLAT_USER_DS64 FLAT_RING3_DS64
#define FLAT_USER_DS32 FLAT_RING3_DS32
#define FLAT_USER_DS FLAT_USER_DS64
#define FLAT_USER_SS64 FLAT_RING3_SS64
#define FLAT_USER_SS32 FLAT_RING3_SS32
#define FLAT_USER_SS FLAT_USER_SS64

/*
 * The hypervisor's hole in every 64-bit PV address space: PML4 slots 256-271. Its first
 * 256 GiB hold the read-only machine-to-phys table (one 8-byte guest pfn per machine
 * frame). HYPERVISOR_VIRT_START/END are only defined here if nobody (enso's
 * asm/layout.h) did already; the __ forms are always available.
 */
#define __HYPERVISOR_VIRT_START 0xffff800000000000UL
#define __HYPERVISOR_VIRT_END 0xffff880000000000UL
#define __MACH2PHYS_VIRT_START 0xffff800000000000UL
#define __MACH2PHYS_VIRT_END 0xffff804000000000UL
#ifndef HYPERVISOR_VIRT_START
#define HYPERVISOR_VIRT_START __HYPERVISOR_VIRT_START
#define HYPERVISOR_VIRT_END __HYPERVISOR_VIRT_END
#endif
#define MACH2PHYS_VIRT_START __MACH2PHYS_VIRT_START
#define MACH2PHYS_VIRT_END __MACH2PHYS_VIRT_END
#define MACH2PHYS_NR_ENTRIES ((MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) / 8)

/* HYPERVISOR_set_segment_base(unsigned int which, unsigned long base). */
#define SEGBASE_FS 0
#define SEGBASE_GS_USER 1
#define SEGBASE_GS_KERNEL 2
#define SEGBASE_GS_USER_SEL 3 /* load user %gs with the selector in base[15:0] */

/* A cr3 value holds the frame number shifted up by 12 (no other bits on x86-64). */
#define xen_pfn_to_cr3(pfn) ((uint64_t)(pfn) << 12)
#define xen_cr3_to_pfn(cr3) ((uint64_t)(cr3) >> 12)

/*
 * The legacy vcpu_info array in the shared info page has room for this many vCPUs;
 * others must place their vcpu_info with VCPUOP_register_vcpu_info. MAX_VIRT_CPUS is
 * the old public name of the same number (Xen 4.17's headers only keep
 * XEN_LEGACY_MAX_VCPUS; inside Xen, MAX_VIRT_CPUS now means the per-domain vCPU limit,
 * 8192, which is not what it means here).
 */
#define XEN_LEGACY_MAX_VCPUS 32
#define MAX_VIRT_CPUS XEN_LEGACY_MAX_VCPUS

/*
 * HYPERVISOR_set_trap_table(const struct trap_info *table): the guest's virtual IDT,
 * terminated by an entry whose address is 0. flags bits 0-1 give the lowest privilege
 * level allowed to raise the vector with "int n"; bit 2 asks for event delivery to be
 * masked on entry (what an interrupt gate does to EFLAGS.IF).
 */
#define TI_DPL_MASK 0x3
#define TI_MASK_EVENTS 0x4
#define TI_GET_DPL(ti) ((ti)->flags & TI_DPL_MASK)
#define TI_GET_IF(ti) ((ti)->flags & TI_MASK_EVENTS)

struct trap_info {
    uint8_t vector;   /* 0: exception or interrupt vector */
    uint8_t flags;    /* 1: TI_DPL_MASK | TI_MASK_EVENTS */
    uint16_t cs;      /* 2: code selector of the handler */
    uint32_t pad_;    /* 4: implicit padding in Xen's layout */
    uint64_t address; /* 8: handler address */
};                    /* 16 bytes */

ENSO_DEFINE_GUEST_HANDLE(trap_info, struct trap_info);

/*
 * A guest's general registers as the x86-64 PV ABI exchanges them (vCPU context, crash
 * notes). Xen calls this struct cpu_user_regs; enso's own trap frame in asm/regs.h
 * already has that name with a different layout, so the guest-visible one is named
 * xen_cpu_user_regs. error_code and entry_vector belong to the hypervisor.
 */
struct xen_cpu_user_regs {
    uint64_t r15;              /* 0x00 */
    uint64_t r14;              /* 0x08 */
    uint64_t r13;              /* 0x10 */
    uint64_t r12;              /* 0x18 */
    uint64_t rbp;              /* 0x20 */
    uint64_t rbx;              /* 0x28 */
    uint64_t r11;              /* 0x30 */
    uint64_t r10;              /* 0x38 */
    uint64_t r9;               /* 0x40 */
    uint64_t r8;               /* 0x48 */
    uint64_t rax;              /* 0x50 */
    uint64_t rcx;              /* 0x58 */
    uint64_t rdx;              /* 0x60 */
    uint64_t rsi;              /* 0x68 */
    uint64_t rdi;              /* 0x70 */
    uint32_t error_code;       /* 0x78 */
    uint32_t entry_vector;     /* 0x7c */
    uint64_t rip;              /* 0x80 */
    uint16_t cs;               /* 0x88 */
    uint16_t _pad0[1];         /* 0x8a */
    uint8_t saved_upcall_mask; /* 0x8c: event mask to restore; EFLAGS.IF is its inverse */
    uint8_t _pad1[3];          /* 0x8d */
    uint64_t rflags;           /* 0x90 */
    uint64_t rsp;              /* 0x98 */
    uint16_t ss;               /* 0xa0 */
    uint16_t _pad2[3];         /* 0xa2 */
    uint16_t es;               /* 0xa8 */
    uint16_t _pad3[3];         /* 0xaa */
    uint16_t ds;               /* 0xb0 */
    uint16_t _pad4[3];         /* 0xb2 */
    uint16_t fs;               /* 0xb8 */
    uint16_t _pad5[3];         /* 0xba */
    uint16_t gs;               /* 0xc0 */
    uint16_t _pad6[3];         /* 0xc2 */
};                             /* 0xc8 = 200 bytes */

/* vcpu_guest_context.flags (and iret_context.flags for VGCF_in_syscall). */
#define _VGCF_i387_valid 0
#define VGCF_i387_valid (1 << _VGCF_i387_valid)
#define _VGCF_in_kernel 2
#define VGCF_in_kernel (1 << _VGCF_in_kernel)
#define _VGCF_failsafe_disables_events 3
#define VGCF_failsafe_disables_events (1 << _VGCF_failsafe_disables_events)
#define _VGCF_syscall_disables_events 4
#define VGCF_syscall_disables_events (1 << _VGCF_syscall_disables_events)
#define _VGCF_online 5
#define VGCF_online (1 << _VGCF_online)
#define _VGCF_in_syscall 8
#define VGCF_in_syscall (1 << _VGCF_in_syscall)
#define VGCF_I387_VALID VGCF_i387_valid
#define VGCF_IN_KERNEL VGCF_in_kernel
#define VGCF_IN_SYSCALL VGCF_in_syscall

/*
 * A vCPU's whole state, as VCPUOP_initialise takes it (and the toolstack saves it).
 * The user page table of a 64-bit guest goes in ctrlreg[1].
 */
struct vcpu_guest_context {
    struct { char x[512]; } fpu_ctxt;       /* 0: FXSAVE image */
    uint64_t flags;                         /* 512: VGCF_* */
    struct xen_cpu_user_regs user_regs;     /* 520 */
    struct trap_info trap_ctxt[256];        /* 720: the virtual IDT */
    uint64_t ldt_base;                      /* 4816: linear address */
    uint64_t ldt_ents;                      /* 4824 */
    uint64_t gdt_frames[16];                /* 4832: machine frames of the GDT */
    uint64_t gdt_ents;                      /* 4960 */
    uint64_t kernel_ss;                     /* 4968: the virtual TSS's ring-1 stack */
    uint64_t kernel_sp;                     /* 4976 */
    uint64_t ctrlreg[8];                    /* 4984: cr0-cr7 */
    uint64_t debugreg[8];                   /* 5048: dr0-dr7 */
    uint64_t event_callback_eip;            /* 5112 */
    uint64_t failsafe_callback_eip;         /* 5120 */
    uint64_t syscall_callback_eip;          /* 5128 */
    uint64_t vm_assist;                     /* 5136: bitmap of VMASST_TYPE_* */
    uint64_t fs_base;                       /* 5144 */
    uint64_t gs_base_kernel;                /* 5152 */
    uint64_t gs_base_user;                  /* 5160 */
};                                          /* 5168 bytes */

ENSO_DEFINE_GUEST_HANDLE(vcpu_guest_context, struct vcpu_guest_context);

/*
 * HYPERVISOR_iret: the guest pushes this frame (rax at the lowest address, where rsp
 * points at the call) and makes the hypercall instead of executing iretq. rax is always
 * restored; r11 and rcx are restored unless flags has VGCF_in_syscall, i.e. unless the
 * frame was made on the way out of a system call.
 */
struct iret_context {
    uint64_t rax;    /* 0x00 */
    uint64_t r11;    /* 0x08 */
    uint64_t rcx;    /* 0x10 */
    uint64_t flags;  /* 0x18: VGCF_in_syscall */
    uint64_t rip;    /* 0x20 */
    uint64_t cs;     /* 0x28 */
    uint64_t rflags; /* 0x30 */
    uint64_t rsp;    /* 0x38 */
    uint64_t ss;     /* 0x40 */
};                   /* 0x48 = 72 bytes */

/* The x86 part of each vcpu_info. */
struct arch_vcpu_info {
    uint64_t cr2; /* 0: faulting address of the last page fault delivered */
    uint64_t pad; /* 8: keeps vcpu_info at 64 bytes */
};                /* 16 bytes */

/* The x86 part of the shared info page. */
struct arch_shared_info {
    uint64_t max_pfn;                    /* 0: entries in the guest's p2m */
    xen_pfn_t pfn_to_mfn_frame_list_list; /* 8: top of the 3-level p2m frame tree;
                                            0 = not set up, ~0 = use p2m_vaddr */
    uint64_t nmi_reason;                 /* 16 */
    uint64_t p2m_cr3;                    /* 24: address space of p2m_vaddr; 0 = none */
    uint64_t p2m_vaddr;                  /* 32: virtual address of the linear p2m */
    uint64_t p2m_generation;             /* 40: odd while the guest changes the p2m */
};                                       /* 48 bytes */

/*
 * Per-vCPU time, updated by the hypervisor. version is odd while an update is in
 * progress and changes on every update: read version, the fields, then version again,
 * and retry if it was odd or changed. Current system time in ns is
 *     system_time + scale(rdtsc() - tsc_timestamp)
 * where scale(d) shifts d left by tsc_shift (right if negative), multiplies by
 * tsc_to_system_mul and keeps bits 32-95 of the 96-bit product.
 */
struct vcpu_time_info {
    uint32_t version;           /* 0 */
    uint32_t pad0;              /* 4 */
    uint64_t tsc_timestamp;     /* 8: TSC at the last update */
    uint64_t system_time;       /* 16: ns since boot at tsc_timestamp */
    uint32_t tsc_to_system_mul; /* 24: 32.32 fixed point ns per (shifted) tick */
    int8_t tsc_shift;           /* 28 */
    uint8_t flags;              /* 29: XEN_PVCLOCK_* */
    uint8_t pad1[2];            /* 30 */
};                              /* 32 bytes */

#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0)
#define XEN_PVCLOCK_GUEST_STOPPED (1 << 1)

ENSO_DEFINE_GUEST_HANDLE(vcpu_time_info, struct vcpu_time_info);

/*
 * Per-vCPU event state. The hypervisor sets evtchn_upcall_pending (and a bit in
 * evtchn_pending_sel for each word of shared_info.evtchn_pending with a newly pending
 * port); the guest clears the flag before scanning. evtchn_upcall_mask is the guest's
 * "interrupts disabled" flag: while non-zero no upcall is delivered to this vCPU.
 */
struct vcpu_info {
    uint8_t evtchn_upcall_pending; /* 0 */
    uint8_t evtchn_upcall_mask;    /* 1 */
    uint8_t pad_[6];               /* 2: implicit padding in Xen's layout */
    xen_ulong_t evtchn_pending_sel; /* 8 */
    struct arch_vcpu_info arch;    /* 16 */
    struct vcpu_time_info time;    /* 32 */
};                                 /* 64 bytes */

/*
 * The shared info page, one per domain. The 2-level event channel ABI keeps one pending
 * and one mask bit per port here: 64 words of 64 bits, 4096 ports. Wall-clock time at
 * system time 0 is wc_sec_hi:wc_sec seconds plus wc_nsec, versioned like vcpu_time_info.
 */
struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS]; /* 0 */
    xen_ulong_t evtchn_pending[64];                   /* 2048 */
    xen_ulong_t evtchn_mask[64];                      /* 2560 */
    uint32_t wc_version;                              /* 3072 */
    uint32_t wc_sec;                                  /* 3076 */
    uint32_t wc_nsec;                                 /* 3080 */
    uint32_t wc_sec_hi;                               /* 3084 */
    struct arch_shared_info arch;                     /* 3088 */
};                                                    /* 3136 bytes */

/*
 * Start info: the page a PV guest finds at rsi on entry. The first block is rewritten on
 * resume too; the rest only at boot. magic is "xen-<version>-<platform>", e.g.
 * "xen-3.0-x86_64". Addresses marked "virtual" are in the guest's initial mappings.
 */
#define MAX_GUEST_CMDLINE 1024

struct start_info {
    char magic[32];            /* 0 */
    uint64_t nr_pages;         /* 32: pages given to the domain */
    uint64_t shared_info;      /* 40: machine address of the shared info page */
    uint32_t flags;            /* 48: SIF_* */
    xen_pfn_t store_mfn;       /* 56: xenstore ring page (machine frame) */
    uint32_t store_evtchn;     /* 64 */
    union {
        struct {
            xen_pfn_t mfn;     /* 72: console ring page (machine frame) */
            uint32_t evtchn;   /* 80 */
        } domU;
        struct {
            uint32_t info_off;  /* 72: offset of a dom0_vga_console_info in this page */
            uint32_t info_size; /* 76 */
        } dom0;
    } console;                 /* 72 */
    uint64_t pt_base;          /* 88: virtual address of the top-level page table */
    uint64_t nr_pt_frames;     /* 96: frames of the bootstrap page tables */
    uint64_t mfn_list;         /* 104: virtual address of the p2m array */
    uint64_t mod_start;        /* 112: virtual address (or pfn, SIF_MOD_START_PFN) of
                                       the initial ramdisk / module */
    uint64_t mod_len;          /* 120: its size in bytes */
    int8_t cmd_line[MAX_GUEST_CMDLINE]; /* 128 */
    uint64_t first_p2m_pfn;    /* 1152: first pfn of the initial p2m and page tables */
    uint64_t nr_p2m_frames;    /* 1160 */
};                             /* 1168 bytes */

#define SIF_PRIVILEGED (1 << 0)      /* may use privileged operations */
#define SIF_INITDOMAIN (1 << 1)      /* is the initial domain (dom0) */
#define SIF_MULTIBOOT_MOD (1 << 2)   /* mod_start points at xen_multiboot_mod_list */
#define SIF_MOD_START_PFN (1 << 3)   /* mod_start is a pfn, not a virtual address */
#define SIF_VIRT_P2M_4TOOLS (1 << 4) /* toolstack understands the linear p2m */
#define SIF_PM_MASK (0xff << 8)      /* reserved for power management */

/* With SIF_MULTIBOOT_MOD: an array of these, ended by one with mod_start == 0. */
struct xen_multiboot_mod_list {
    uint32_t mod_start; /* 0: first byte, relative to the list */
    uint32_t mod_end;   /* 4: last byte (inclusive) */
    uint32_t cmdline;   /* 8: zero-terminated command line */
    uint32_t pad;       /* 12: must be 0 */
};                      /* 16 bytes */

/* The firmware console dom0 is handed (start_info.console.dom0). */
#define XEN_VGATYPE_TEXT_MODE_3 0x03
#define XEN_VGATYPE_VESA_LFB 0x23
#define XEN_VGATYPE_EFI_LFB 0x70

struct dom0_vga_console_info {
    uint8_t video_type;           /* 0: XEN_VGATYPE_* */
    union {
        struct {
            uint16_t font_height; /* 4 */
            uint16_t cursor_x;    /* 6 */
            uint16_t cursor_y;    /* 8 */
            uint16_t rows;        /* 10 */
            uint16_t columns;     /* 12 */
        } text_mode_3;
        struct {
            uint16_t width;          /* 4: pixels */
            uint16_t height;         /* 6 */
            uint16_t bytes_per_line; /* 8 */
            uint16_t bits_per_pixel; /* 10 */
            uint32_t lfb_base;       /* 12: low 32 bits of the framebuffer address */
            uint32_t lfb_size;       /* 16: in 64 KiB units */
            uint8_t red_pos, red_size;     /* 20 */
            uint8_t green_pos, green_size; /* 22 */
            uint8_t blue_pos, blue_size;   /* 24 */
            uint8_t rsvd_pos, rsvd_size;   /* 26 */
            uint32_t gbl_caps;       /* 28: VBE capabilities */
            uint16_t mode_attrs;     /* 32: VBE mode attributes */
            uint16_t pad;            /* 34 */
            uint32_t ext_lfb_base;   /* 36: high 32 bits of the framebuffer address */
        } vesa_lfb;
    } u;                          /* 4 */
};                                /* 40 bytes */

/* A domain's 16-byte handle (a UUID chosen by the toolstack); see XENVER_guest_handle. */
typedef uint8_t xen_domain_handle_t[16];

/*
 * The forced-emulation prefix: ud2 followed by the bytes "xen". A PV guest puts it in
 * front of cpuid to get the hypervisor's filtered view of CPUID.
 */
#define XEN_EMULATE_PREFIX_BYTES 0x0f, 0x0b, 0x78, 0x65, 0x6e

#endif

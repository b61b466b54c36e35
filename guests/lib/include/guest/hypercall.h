/*
 * Hypercalls from a 64-bit PV test kernel.
 *
 * Two ways in, both with the number in rax and arguments in rdi, rsi, rdx, r10, r8:
 * a call to the builder's stub at hypercall_page + nr * 32, or a bare syscall from
 * guest kernel mode (what Linux 6.1.121+ does). hypercall() takes whichever hc_mode
 * selects; the typed wrappers below all go through it, so a test can rerun the same
 * checks both ways. Every argument is a plain integer, so hostile tests can pass any
 * address at all.
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <public/xen.h>
#include <public/sched.h>
#include <public/version.h>
#include <public/event_channel.h>
#include <public/physdev.h>
#include <public/memory.h>
#include <public/vcpu.h>
#include <public/callback.h>

typedef unsigned long ulong;

extern unsigned char hypercall_page[4096];

long hypercall_via_page(ulong nr, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5);
long hypercall_via_syscall(ulong nr, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5);

enum hc_mode { HC_PAGE, HC_SYSCALL };
extern enum hc_mode hc_mode;

static inline long hypercall(ulong nr, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
{
    if (hc_mode == HC_SYSCALL)
        return hypercall_via_syscall(nr, a1, a2, a3, a4, a5);
    return hypercall_via_page(nr, a1, a2, a3, a4, a5);
}

#define HC_PTR(p) ((ulong)(p))

static inline long HYPERVISOR_set_trap_table(const struct trap_info *table)
{
    return hypercall(__HYPERVISOR_set_trap_table, HC_PTR(table), 0, 0, 0, 0);
}

static inline long HYPERVISOR_mmu_update(const struct mmu_update *req, unsigned int count,
                                         unsigned int *done, domid_t dom)
{
    return hypercall(__HYPERVISOR_mmu_update, HC_PTR(req), count, HC_PTR(done), dom, 0);
}

static inline long HYPERVISOR_mmuext_op(struct mmuext_op *op, unsigned int count,
                                        unsigned int *done, domid_t dom)
{
    return hypercall(__HYPERVISOR_mmuext_op, HC_PTR(op), count, HC_PTR(done), dom, 0);
}

/* The kernel stack the hypervisor switches to on entry from guest user mode. */
static inline long HYPERVISOR_stack_switch(ulong ss, ulong sp)
{
    return hypercall(__HYPERVISOR_stack_switch, ss, sp, 0, 0, 0);
}

static inline long HYPERVISOR_fpu_taskswitch(int set)
{
    return hypercall(__HYPERVISOR_fpu_taskswitch, (ulong)set, 0, 0, 0, 0);
}

static inline long HYPERVISOR_set_debugreg(int reg, ulong value)
{
    return hypercall(__HYPERVISOR_set_debugreg, (ulong)reg, value, 0, 0, 0);
}

static inline long HYPERVISOR_get_debugreg(int reg)
{
    return hypercall(__HYPERVISOR_get_debugreg, (ulong)reg, 0, 0, 0, 0);
}

static inline long HYPERVISOR_multicall(struct multicall_entry *calls, unsigned int n)
{
    return hypercall(__HYPERVISOR_multicall, HC_PTR(calls), n, 0, 0, 0);
}

static inline long HYPERVISOR_update_va_mapping(ulong va, uint64_t pte, ulong flags)
{
    return hypercall(__HYPERVISOR_update_va_mapping, va, pte, flags, 0, 0);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_xen_version, (ulong)cmd, HC_PTR(arg), 0, 0, 0);
}

static inline long HYPERVISOR_console_io(int cmd, unsigned int count, const void *buf)
{
    return hypercall(__HYPERVISOR_console_io, (ulong)cmd, count, HC_PTR(buf), 0, 0);
}

static inline long HYPERVISOR_vm_assist(unsigned int cmd, unsigned int type)
{
    return hypercall(__HYPERVISOR_vm_assist, cmd, type, 0, 0, 0);
}

static inline long HYPERVISOR_set_segment_base(unsigned int which, ulong base)
{
    return hypercall(__HYPERVISOR_set_segment_base, which, base, 0, 0, 0);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_sched_op, (ulong)cmd, HC_PTR(arg), 0, 0, 0);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_event_channel_op, (ulong)cmd, HC_PTR(arg), 0, 0, 0);
}

static inline long HYPERVISOR_physdev_op(int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_physdev_op, (ulong)cmd, HC_PTR(arg), 0, 0, 0);
}

static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_memory_op, cmd, HC_PTR(arg), 0, 0, 0);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
    return hypercall(__HYPERVISOR_vcpu_op, (ulong)cmd, vcpu, HC_PTR(arg), 0, 0);
}

static inline long HYPERVISOR_callback_op(int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_callback_op, (ulong)cmd, HC_PTR(arg), 0, 0, 0);
}

#endif

/*
 * Hypercall handlers. Arguments arrive as the guest passed them in rdi, rsi, rdx, r10,
 * r8; pointers are guest virtual addresses, only ever used through <enso/guest_access.h>.
 * A handler returns the value the guest sees in rax: 0 or a result, or -errno as Xen
 * defines them. -ERESTART asks for the hypercall to be re-issued (a continuation): the
 * guest re-executes it with the arguments the handler left in hypercall_args().
 */
#ifndef ENSO_HYPERCALL_H
#define ENSO_HYPERCALL_H

#include <enso/types.h>

#define NR_HYPERCALLS 64

typedef unsigned long hc_arg_t;

/* The current hypercall's arguments, which a handler may update before -ERESTART. */
hc_arg_t *hypercall_args(void);
/* Make args the current arguments (a call inside a multicall); returns the old ones. */
hc_arg_t *hypercall_swap_args(hc_arg_t *args);
/* True if the handler should stop and continue later (work waits on this CPU). */
bool hypercall_preempt_check(void);

long do_set_trap_table(hc_arg_t traps);
long do_stack_switch(hc_arg_t ss, hc_arg_t sp);
long do_set_callbacks(hc_arg_t event, hc_arg_t failsafe, hc_arg_t syscall);
long do_fpu_taskswitch(hc_arg_t set);
long do_set_debugreg(hc_arg_t reg, hc_arg_t value);
long do_get_debugreg(hc_arg_t reg);
long do_multicall(hc_arg_t list, hc_arg_t nr);
long do_xen_version(hc_arg_t cmd, hc_arg_t arg);
long do_console_io(hc_arg_t cmd, hc_arg_t count, hc_arg_t buf);
long do_vm_assist(hc_arg_t cmd, hc_arg_t type);
long do_iret(void);
long do_set_segment_base(hc_arg_t which, hc_arg_t base);
long do_sched_op(hc_arg_t cmd, hc_arg_t arg);
long do_sched_op_compat(hc_arg_t cmd, hc_arg_t arg);
long do_callback_op(hc_arg_t cmd, hc_arg_t arg);
long do_vcpu_op(hc_arg_t cmd, hc_arg_t vcpuid, hc_arg_t arg);
long do_event_channel_op(hc_arg_t cmd, hc_arg_t arg);
long do_physdev_op(hc_arg_t cmd, hc_arg_t arg);
long do_memory_op(hc_arg_t cmd, hc_arg_t arg);
long do_mmu_update(hc_arg_t ureqs, hc_arg_t count, hc_arg_t pdone, hc_arg_t foreigndom);
long do_update_va_mapping(hc_arg_t va, hc_arg_t val, hc_arg_t flags);
long do_update_va_mapping_otherdomain(hc_arg_t va, hc_arg_t val, hc_arg_t flags,
                                      hc_arg_t dom);
long do_mmuext_op(hc_arg_t uops, hc_arg_t count, hc_arg_t pdone, hc_arg_t foreigndom);
long do_set_timer_op(hc_arg_t timeout);
long do_platform_op(hc_arg_t op);

#endif

/*
 * The debug registers of a PV vCPU. Breakpoints may only cover guest addresses (a
 * breakpoint on enso's code would stop enso); reserved bits are forced as the CPU
 * defines them; GD and I/O breakpoints are refused. Errnos as Xen 4.17: -EPERM for a
 * value the guest may not use, -EINVAL for a reserved bit, -ENODEV for a register that
 * does not exist.
 *
 * A vCPU's breakpoints stay armed while enso runs on its behalf, so a data breakpoint
 * also fires when enso copies to or from the watched guest memory. Such a #DB belongs
 * to enso, not to the guest (arch/x86/traps.c ignores it, as Xen does); only a #DB the
 * guest itself raised reaches pv_debug_exception and the guest's virtual DR6.
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <asm/layout.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_vcpu.h>

#define DR6_RESERVED_ONE DR6_DEFAULT
#define DR6_RESERVED_ZERO 0x1000UL
#define DR7_RESERVED_ONE DR7_DEFAULT
#define DR7_RESERVED_ZERO 0xd800UL
#define DR7_GD (1UL << 13)
#define DR7_ENABLES 0xffUL

/* A breakpoint may cover any guest address, and never the hypervisor's range. */
static bool breakpoint_ok(uint64_t a)
{
    return guest_range_ok(a, 1);
}

static void load_dr(unsigned int reg, uint64_t value)
{
    switch (reg) {
    case 0: write_dr0(value); break;
    case 1: write_dr1(value); break;
    case 2: write_dr2(value); break;
    case 3: write_dr3(value); break;
    case 6: write_dr6(value); break;
    case 7: write_dr7(value); break;
    }
}

static bool dr7_has_io_breakpoint(uint64_t value)
{
    for (unsigned int i = 16; i < 32; i += 4)
        if (((value >> i) & 3) == 2)
            return true;
    return false;
}

long pv_set_debugreg(struct vcpu *v, unsigned long reg, uint64_t value)
{
    /* Without CR4.DE (never set for PV guests) DR4 and DR5 are DR6 and DR7. */
    if (reg == 4 || reg == 5)
        reg += 2;
    switch ((int)reg) {
    case 0 ... 3:
        if (!breakpoint_ok(value))
            return -EPERM;
        break;
    case 6:
        if (value != (uint32_t)value)
            return -EINVAL;
        value = (value & ~DR6_RESERVED_ZERO) | DR6_RESERVED_ONE;
        break;
    case 7:
        if (value != (uint32_t)value)
            return -EINVAL;
        value = (value & ~DR7_RESERVED_ZERO) | DR7_RESERVED_ONE;
        if (value & DR7_GD)
            return -EPERM;
        /* I/O breakpoints need CR4.DE, which PV guests do not have. */
        if ((value & DR7_ENABLES) && dr7_has_io_breakpoint(value))
            return -EPERM;
        /*
         * Switched in with no breakpoint enabled, the vCPU got none of its debug
         * registers loaded (pv_debugregs_switch): the CPU may hold another vCPU's
         * DR0-3 and DR6 until they are loaded here.
         */
        if (v == current && (value & DR7_ENABLES) && !(v->arch.dr[7] & DR7_ENABLES)) {
            for (unsigned int i = 0; i < 4; i++)
                load_dr(i, v->arch.dr[i]);
            load_dr(6, v->arch.dr[6]);
        }
        break;
    default:
        return -ENODEV;
    }
    v->arch.dr[reg] = value;
    if (v == current)
        load_dr((unsigned int)reg, value);
    return 0;
}

/*
 * As Xen: the CPU's DR6 is folded into the virtual one, which keeps accumulating until
 * the guest writes it with set_debugreg (so two watchpoints hit in a row both show):
 * status bits the CPU sets are added, and the bits that report by being clear (RTM)
 * are cleared.
 */
void pv_debug_exception(struct cpu_user_regs *regs, uint64_t dr6)
{
    struct vcpu *v = current;

    v->arch.dr[6] |= dr6 & ~DR6_DEFAULT;
    v->arch.dr[6] &= dr6 | ~DR6_DEFAULT;
    pv_inject_exception(regs, 1, -1);
}

long do_set_debugreg(hc_arg_t reg, hc_arg_t value)
{
    return pv_set_debugreg(current, reg, value);
}

/*
 * Breakpoints belong to their vCPU: an outgoing vCPU's are switched off (DR7 back to
 * its reset value) and an incoming one's loaded, when it has any enabled. DR0-3 of a
 * vCPU without enabled breakpoints only need to be right for the guest's reads, which
 * come from struct arch_vcpu.
 */
void pv_debugregs_switch(const struct vcpu *prev, const struct vcpu *next)
{
    if (prev && (prev->arch.dr[7] & DR7_ENABLES))
        write_dr7(DR7_RESERVED_ONE);
    if (next && (next->arch.dr[7] & DR7_ENABLES)) {
        for (unsigned int i = 0; i < 4; i++)
            load_dr(i, next->arch.dr[i]);
        write_dr6(next->arch.dr[6]);
        write_dr7(next->arch.dr[7]);
    }
}

long do_get_debugreg(hc_arg_t reg)
{
    struct vcpu *v = current;

    if (reg == 4 || reg == 5)
        reg += 2;
    switch ((int)reg) {
    case 0 ... 3:
    case 6:
    case 7:
        return (long)v->arch.dr[reg];
    default:
        return -ENODEV;
    }
}

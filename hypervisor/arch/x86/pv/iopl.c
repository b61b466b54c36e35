/*
 * What a virtual I/O privilege level lets a PV guest do: port I/O, and cli/sti.
 *
 * Port I/O by PV guests. Guests run in ring 3 with the real IOPL 0, so every in/out
 * raises #GP. A guest that asked for a virtual I/O privilege level (PHYSDEVOP_set_iopl)
 * gets the access emulated, as on Xen: the guest kernel counts as ring 1, its user mode
 * as ring 3. No domain has been granted real ports yet, so reads give all ones and
 * writes are dropped, which is what Xen does for ports a domain may not touch (Linux
 * probes PCI configuration, the CMOS and legacy devices this way at boot).
 *
 * Handled: in/out with an 8-bit immediate port or DX, 8/16/32 bits. String forms
 * (ins/outs) stay #GP: Xen emulates them, no PV kernel we run uses them.
 *
 * cli and sti, with the same privilege, are skipped and change nothing, as on Xen 4.17
 * (which deliberately leaves the event mask alone: a later popf could not undo it).
 * Linux runs such code before it patches its alternatives (this_cpu_cmpxchg16b_emu).
 */
#include <enso/guest_access.h>
#include <enso/sched.h>
#include <asm/pv.h>

#define OP_SIZE 0x66
#define OP_CLI 0xfa
#define OP_STI 0xfb

static bool iopl_allows(const struct vcpu *v)
{
    unsigned int cpl = v->arch.kernel_mode ? 1 : 3;

    return v->arch.iopl >= cpl;
}

/* What a port the domain has no right to reads as. */
static uint32_t unowned_port_read(unsigned int bytes)
{
    return bytes == 4 ? 0xffffffffU : (1U << (bytes * 8)) - 1;
}

static void set_accumulator(struct cpu_user_regs *regs, unsigned int bytes, uint32_t val)
{
    if (bytes == 4)
        regs->rax = val;    /* a 32-bit result clears the upper half, as on hardware */
    else if (bytes == 2)
        regs->rax = (regs->rax & ~0xffffUL) | (val & 0xffff);
    else
        regs->rax = (regs->rax & ~0xffUL) | (val & 0xff);
}

/*
 * bytes: the instruction, prefixes included (a REX prefix may sit just before the
 * opcode). True if it was a port access the guest may make, now done.
 */
bool pv_emulate_iopl_insn(struct cpu_user_regs *regs, const uint8_t *bytes, unsigned int len)
{
    unsigned int pos = 0, size = 4, insn_len;
    uint8_t op;

    while (pos < len && (bytes[pos] == OP_SIZE || (bytes[pos] & 0xf0) == 0x40)) {
        if (bytes[pos] == OP_SIZE)
            size = 2;
        pos++;
    }
    if (pos >= len)
        return false;
    op = bytes[pos];
    if (op == OP_CLI || op == OP_STI) {
        if (!iopl_allows(current))
            return false;
        regs->rip += pos + 1;
        return true;
    }
    if ((op & 0xf4) != 0xe4)     /* e4-e7: imm8 port; ec-ef: DX */
        return false;
    /* The port (an imm8, or dx) does not matter yet: no domain owns any. */
    insn_len = op & 0x08 ? pos + 1 : pos + 2;
    if (insn_len > len)
        return false;
    if (!(op & 1))
        size = 1;
    /* As on Xen, the IOPL alone decides: an access running past port 0xffff included. */
    if (!iopl_allows(current))
        return false;
    if (!(op & 2))
        set_accumulator(regs, size, unowned_port_read(size));
    /* else: an out to a port the domain does not own is dropped */
    regs->rip += insn_len;
    return true;
}

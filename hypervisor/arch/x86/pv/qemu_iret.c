/*
 * IRETQ executed by a PV guest itself, under QEMU with SMAP on.
 *
 * Guests run in ring 3, where iretq to ring 3 is an ordinary instruction (Linux uses
 * it to serialise, sync_core()'s iret-to-self). QEMU 7.2's TCG, though, reads the iret
 * frame with supervisor rights; with SMAP on, reading a user page that way faults, and
 * the #PF arrives with the user bit clear although the CPU was in ring 3. Hardware
 * never does that for an instruction running in ring 3, so such a fault at an iret is
 * QEMU's, and enso does what the instruction would have done.
 *
 * At CPL 3 (and the guest's real IOPL 0) iret cannot change IF or IOPL; the frame goes
 * through the same checks as every return to the guest (pv_exit_work).
 */
#include <enso/guest_access.h>
#include <enso/sched.h>
#include <asm/processor.h>
#include <asm/pv.h>

#define REX_W 0x48
#define OP_IRET 0xcf
/* What iret may change at CPL 3 with IOPL 0 (CF PF AF ZF SF TF DF OF NT RF AC ID; IF, IOPL, VM, VIF and VIP stay). */
#define IRET_CPL3_FLAGS 0x00254dd5UL

bool pv_emulate_qemu_iret(struct cpu_user_regs *regs, uint32_t error_code)
{
    uint8_t insn[2];
    uint64_t frame[5];
    uint32_t frame32[5];
    bool wide;

    if (error_code & PFEC_user)
        return false;
    if (copy_from_guest(insn, regs->rip, sizeof(insn)))
        return false;
    wide = insn[0] == REX_W && insn[1] == OP_IRET;
    if (!wide && insn[0] != OP_IRET)
        return false;
    if (wide) {
        if (copy_from_guest(frame, regs->rsp, sizeof(frame)))
            return false;
    } else {
        if (copy_from_guest(frame32, regs->rsp, sizeof(frame32)))
            return false;
        for (unsigned int i = 0; i < 5; i++)
            frame[i] = frame32[i];
    }
    regs->rip = frame[0];
    regs->cs = frame[1] & 0xffff;
    regs->rflags = (regs->rflags & ~IRET_CPL3_FLAGS) | (frame[2] & IRET_CPL3_FLAGS);
    regs->rsp = frame[3];
    regs->ss = frame[4] & 0xffff;
    return true;
}

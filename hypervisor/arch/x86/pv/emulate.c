/*
 * Emulation of the privileged instructions PV kernels execute. They run in ring 3, so
 * RDMSR, WRMSR, MOV to/from control and debug registers, CLTS, WBINVD and XSETBV raise
 * #GP, and CPUID is requested through Xen's forced-emulation prefix (ud2; "xen";
 * cpuid), which raises #UD. Anything not emulated here is bounced to the guest as the
 * fault it was.
 * Port I/O and CLI/STI go to pv/iopl.c (#GP without a virtual IOPL); HLT is refused.
 */
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/lib.h>
#include <enso/sched.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_policy.h>
#include <asm/xstate.h>

#define MAX_INSN_LEN 15

struct insn {
    uint8_t bytes[MAX_INSN_LEN];
    unsigned int len;       /* bytes available */
    unsigned int pos;       /* next byte to decode */
    uint8_t rex;
};

static uint64_t *gpr(struct cpu_user_regs *r, unsigned int n)
{
    switch (n & 15) {
    case 0: return &r->rax;
    case 1: return &r->rcx;
    case 2: return &r->rdx;
    case 3: return &r->rbx;
    case 4: return &r->rsp;
    case 5: return &r->rbp;
    case 6: return &r->rsi;
    case 7: return &r->rdi;
    case 8: return &r->r8;
    case 9: return &r->r9;
    case 10: return &r->r10;
    case 11: return &r->r11;
    case 12: return &r->r12;
    case 13: return &r->r13;
    case 14: return &r->r14;
    default: return &r->r15;
    }
}

static bool fetch(struct cpu_user_regs *regs, struct insn *in)
{
    unsigned int n = MAX_INSN_LEN;

    /* Fewer bytes may be mapped near the end of a page: take what can be read. */
    while (n && copy_from_guest(in->bytes, regs->rip, n))
        n--;
    in->len = n;
    in->pos = 0;
    in->rex = 0;
    return n > 0;
}

/* Skip legacy prefixes and a REX prefix; false if the instruction is cut short. */
static bool skip_prefixes(struct insn *in)
{
    while (in->pos < in->len) {
        uint8_t b = in->bytes[in->pos];
        if (b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 || b == 0x26 || b == 0x2e ||
            b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65) {
            in->pos++;
            continue;
        }
        if ((b & 0xf0) == 0x40) {
            in->rex = b;
            in->pos++;
        }
        return in->pos < in->len;
    }
    return false;
}

static bool emulate_rdmsr(struct cpu_user_regs *regs)
{
    uint64_t val;

    if (pv_guest_rdmsr(current, (uint32_t)regs->rcx, &val))
        return false;
    regs->rax = (uint32_t)val;
    regs->rdx = val >> 32;
    return true;
}

static bool emulate_wrmsr(struct cpu_user_regs *regs)
{
    uint64_t val = (regs->rdx << 32) | (uint32_t)regs->rax;

    return pv_guest_wrmsr(current, (uint32_t)regs->rcx, val) == 0;
}

/* mov %crN, reg / mov reg, %crN (and debug registers): register operands only. */
static bool emulate_mov_cr_dr(struct cpu_user_regs *regs, struct insn *in, uint8_t op)
{
    struct vcpu *v = current;
    uint8_t modrm;
    unsigned int reg, rm;
    uint64_t *val;

    if (in->pos >= in->len)
        return false;
    modrm = in->bytes[in->pos++];
    reg = ((modrm >> 3) & 7) | (in->rex & 4 ? 8 : 0);
    rm = (modrm & 7) | (in->rex & 1 ? 8 : 0);
    val = gpr(regs, rm);
    switch (op) {
    case 0x20: /* read CRn */
        return pv_guest_read_cr(v, reg, val) == 0;
    case 0x22: /* write CRn */
        return pv_guest_write_cr(v, reg, *val) == 0;
    case 0x21: { /* read DRn */
        long r = do_get_debugreg(reg);
        if (r < 0 && r >= -4095)
            return false;
        *val = (uint64_t)r;
        return true;
    }
    case 0x23: /* write DRn */
        return do_set_debugreg(reg, *val) == 0;
    }
    return false;
}

/*
 * xsetbv (0f 01 d1), in Xen's order of checks: a 66/f2/f3 prefix or a clear CR4.OSXSAVE
 * in the guest's own CR4 is #UD (in user mode too); then user mode (CPL 3), an XCR
 * other than XCR0 or a value the guest may not have is #GP(0).
 */
static bool emulate_xsetbv(struct cpu_user_regs *regs, const struct insn *in,
                           unsigned int opcode_pos)
{
    struct vcpu *v = current;
    uint64_t val = (regs->rdx << 32) | (uint32_t)regs->rax;
    bool ud = !(v->arch.cr4_guest & X86_CR4_OSXSAVE);

    for (unsigned int i = 0; i < opcode_pos; i++)
        ud |= in->bytes[i] == 0x66 || in->bytes[i] == 0xf2 || in->bytes[i] == 0xf3;
    if (ud) {
        pv_inject_exception(regs, 6, -1);
        return true;
    }
    if (!v->arch.kernel_mode || xstate_guest_xsetbv(v, (uint32_t)regs->rcx, val))
        return false;
    regs->rip += in->pos;
    return true;
}

bool pv_emulate_privileged(struct cpu_user_regs *regs)
{
    struct insn in;
    unsigned int opcode_pos;
    uint8_t op;
    bool done = false;

    if (!fetch(regs, &in))
        return false;
    if (pv_emulate_iopl_insn(regs, in.bytes, in.len))
        return true;
    if (!skip_prefixes(&in) || in.bytes[in.pos] != 0x0f ||
        in.pos + 1 >= in.len)
        return false;
    opcode_pos = in.pos++;
    op = in.bytes[in.pos++];
    if (op == 0x01 && in.pos < in.len && in.bytes[in.pos] == 0xd1) {
        in.pos++;
        return emulate_xsetbv(regs, &in, opcode_pos);
    }
    /* Guest user mode is CPL 3 to the emulator: every other one is its #GP. */
    if (!current->arch.kernel_mode)
        return false;
    switch (op) {
    case 0x32:
        done = emulate_rdmsr(regs);
        break;
    case 0x30:
        done = emulate_wrmsr(regs);
        break;
    case 0x06: /* clts */
        done = do_fpu_taskswitch(0) == 0;
        break;
    case 0x09: /* wbinvd: no cache to flush on behalf of an unprivileged guest */
        done = true;
        break;
    case 0x20 ... 0x23:
        done = emulate_mov_cr_dr(regs, &in, op);
        break;
    }
    if (done)
        regs->rip += in.pos;
    return done;
}

/* ud2; .ascii "xen"; cpuid */
static const uint8_t forced_cpuid[] = { 0x0f, 0x0b, 'x', 'e', 'n', 0x0f, 0xa2 };

bool pv_emulate_forced_cpuid(struct cpu_user_regs *regs)
{
    uint8_t buf[sizeof(forced_cpuid)];
    uint32_t r[4];

    if (copy_from_guest(buf, regs->rip, sizeof(buf)) ||
        memcmp(buf, forced_cpuid, sizeof(buf)))
        return false;
    pv_guest_cpuid(current, (uint32_t)regs->rax, (uint32_t)regs->rcx, r);
    regs->rax = r[0];
    regs->rbx = r[1];
    regs->rcx = r[2];
    regs->rdx = r[3];
    regs->rip += sizeof(forced_cpuid);
    return true;
}

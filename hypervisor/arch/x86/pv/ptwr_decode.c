/*
 * The writable-page-table assist's decoder and executor; see <asm/ptwr_decode.h>.
 * Both work on copies (the bytes the caller fetched, a register frame it can throw
 * away), so a refused or retried instruction leaves the guest as it was. The bytes
 * are the guest's: every read is bounded by the length given.
 */
#include <enso/errno.h>
#include <asm/ptwr_decode.h>

#define REX_B 1
#define REX_X 2
#define REX_R 4
#define REX_W 8

/* ModRM/SIB register numbers to frame slots. */
static const uint8_t gpr_offset[16] = {
    offsetof(struct cpu_user_regs, rax), offsetof(struct cpu_user_regs, rcx),
    offsetof(struct cpu_user_regs, rdx), offsetof(struct cpu_user_regs, rbx),
    offsetof(struct cpu_user_regs, rsp), offsetof(struct cpu_user_regs, rbp),
    offsetof(struct cpu_user_regs, rsi), offsetof(struct cpu_user_regs, rdi),
    offsetof(struct cpu_user_regs, r8),  offsetof(struct cpu_user_regs, r9),
    offsetof(struct cpu_user_regs, r10), offsetof(struct cpu_user_regs, r11),
    offsetof(struct cpu_user_regs, r12), offsetof(struct cpu_user_regs, r13),
    offsetof(struct cpu_user_regs, r14), offsetof(struct cpu_user_regs, r15),
};

static uint64_t gpr(const struct cpu_user_regs *r, unsigned int n)
{
    return *(const uint64_t *)((const char *)r + gpr_offset[n & 15]);
}

static uint64_t *gpr_ptr(struct cpu_user_regs *r, unsigned int n)
{
    return (uint64_t *)((char *)r + gpr_offset[n & 15]);
}

static uint64_t low_bytes(uint64_t v, unsigned int size)
{
    return size >= 8 ? v : v & ((1UL << (size * 8)) - 1);
}

static int64_t sign_extend(uint64_t v, unsigned int size)
{
    unsigned int shift = 64 - size * 8;

    return (int64_t)(v << shift) >> shift;
}

/* An operand-sized register write, as the CPU does it: 32-bit writes zero-extend. */
static void reg_write(struct cpu_user_regs *r, unsigned int n, bool high, unsigned int size,
                      uint64_t val)
{
    uint64_t *p = gpr_ptr(r, n);

    switch (size) {
    case 1:
        if (high)
            *p = (*p & ~0xff00UL) | ((val & 0xff) << 8);
        else
            *p = (*p & ~0xffUL) | (val & 0xff);
        break;
    case 2:
        *p = (*p & ~0xffffUL) | (val & 0xffff);
        break;
    case 4:
        *p = (uint32_t)val;
        break;
    default:
        *p = val;
    }
}

struct cursor {
    const uint8_t *bytes;
    unsigned int len, pos;
};

/* The next n (1, 2 or 4) bytes, little-endian and sign-extended. */
static bool take(struct cursor *c, unsigned int n, int64_t *val)
{
    uint64_t v = 0;

    if (c->len - c->pos < n)
        return false;
    for (unsigned int i = 0; i < n; i++)
        v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
    c->pos += n;
    *val = sign_extend(v, n);
    return true;
}

static bool take_byte(struct cursor *c, uint8_t *b)
{
    if (c->pos >= c->len)
        return false;
    *b = c->bytes[c->pos++];
    return true;
}

/* How the opcode's operands look, once it is known to be one we accept. */
struct form {
    uint8_t op;
    bool byte_op;
    bool reg_src;       /* the source is ModRM.reg */
    uint8_t imm;        /* 0, 1, or 4 for "2 or 4 by operand size" */
    bool imm_sext;      /* an 8-bit immediate stands for an operand-sized one */
};

#define IMM_Z 4

/* One-byte opcodes; ModRM.reg selects the operation in 80/81/83 and C6/C7. */
static bool one_byte_form(uint8_t b, unsigned int regf, struct form *f)
{
    if (b < 0x40 && (b & 7) <= 1 && (b >> 3) != 7) {
        *f = (struct form){ .op = b >> 3, .byte_op = !(b & 1), .reg_src = true };
        return true;
    }
    switch (b) {
    case 0x80:
    case 0x81:
    case 0x83:
        if (regf == 7)      /* CMP: stores nothing */
            return false;
        *f = (struct form){ .op = (uint8_t)regf, .byte_op = b == 0x80,
                            .imm = b == 0x81 ? IMM_Z : 1, .imm_sext = b == 0x83 };
        return true;
    case 0x86:
    case 0x87:
        *f = (struct form){ .op = PTWR_XCHG, .byte_op = b == 0x86, .reg_src = true };
        return true;
    case 0x88:
    case 0x89:
        *f = (struct form){ .op = PTWR_MOV, .byte_op = b == 0x88, .reg_src = true };
        return true;
    case 0xc6:
    case 0xc7:
        if (regf != 0)
            return false;
        *f = (struct form){ .op = PTWR_MOV, .byte_op = b == 0xc6,
                            .imm = b == 0xc6 ? 1 : IMM_Z };
        return true;
    }
    return false;
}

/* Two-byte opcodes (0F xx). */
static bool two_byte_form(uint8_t b, unsigned int regf, struct form *f)
{
    switch (b) {
    case 0xb0:
    case 0xb1:
        *f = (struct form){ .op = PTWR_CMPXCHG, .byte_op = b == 0xb0, .reg_src = true };
        return true;
    case 0xc7:
        if (regf != 1)
            return false;
        *f = (struct form){ .op = PTWR_CMPXCHG8B };
        return true;
    case 0xab:
        *f = (struct form){ .op = PTWR_BTS, .reg_src = true };
        return true;
    case 0xb3:
        *f = (struct form){ .op = PTWR_BTR, .reg_src = true };
        return true;
    case 0xbb:
        *f = (struct form){ .op = PTWR_BTC, .reg_src = true };
        return true;
    case 0xba:
        if (regf < 5)       /* /4 is BT, which stores nothing */
            return false;
        *f = (struct form){ .op = (uint8_t)(PTWR_BTS + regf - 5), .imm = 1 };
        return true;
    }
    return false;
}

static bool form_of(bool two_byte, uint8_t b, unsigned int regf, struct form *f)
{
    return two_byte ? two_byte_form(b, regf, f) : one_byte_form(b, regf, f);
}

static bool lockable(unsigned int op)
{
    return op != PTWR_MOV;
}

/* ModRM (mod != 3) and SIB: base + index * scale + displacement. *riprel: relative to
 * the next instruction, whose address is known only once the immediate is read. */
static int effective_address(struct cursor *c, uint8_t modrm, uint8_t rex,
                             const struct cpu_user_regs *regs, uint64_t *ea, bool *riprel)
{
    unsigned int mod = modrm >> 6, rm = modrm & 7;
    int64_t disp = 0;

    *ea = 0;
    *riprel = false;
    if (rm == 4) {
        uint8_t sib;
        unsigned int index, base;

        if (!take_byte(c, &sib))
            return -ENODATA;
        index = ((sib >> 3) & 7) | (rex & REX_X ? 8 : 0);
        base = (sib & 7) | (rex & REX_B ? 8 : 0);
        if (index != 4)     /* 100b without REX.X: no index (r12 is one) */
            *ea = gpr(regs, index) << (sib >> 6);
        if ((base & 7) == 5 && mod == 0) {
            if (!take(c, 4, &disp))
                return -ENODATA;
        } else {
            *ea += gpr(regs, base);
        }
    } else if (rm == 5 && mod == 0) {
        *riprel = true;
        if (!take(c, 4, &disp))
            return -ENODATA;
    } else {
        *ea = gpr(regs, rm | (rex & REX_B ? 8 : 0));
    }
    if (mod == 1 && !take(c, 1, &disp))
        return -ENODATA;
    if (mod == 2 && !take(c, 4, &disp))
        return -ENODATA;
    *ea += (uint64_t)disp;
    return 0;
}

int ptwr_decode(struct ptwr_insn *in, const uint8_t *bytes, unsigned int len,
                const struct cpu_user_regs *regs, uint64_t fs_base, uint64_t gs_base)
{
    struct cursor c = { bytes, len < PTWR_MAX_INSN ? len : PTWR_MAX_INSN, 0 };
    bool opsize16 = false, addr32 = false, two_byte = false, riprel;
    uint8_t rex = 0, b, modrm;
    unsigned int regf;
    struct form f;
    uint64_t ea;
    int64_t imm = 0;
    int rc;

    *in = (struct ptwr_insn){ .reg = -1 };

    /* Prefixes. A REX prefix counts only right before the opcode. */
    for (;;) {
        if (!take_byte(&c, &b))
            return -ENODATA;
        switch (b) {
        case 0x66:
            opsize16 = true;
            break;
        case 0x67:
            addr32 = true;
            break;
        case 0xf0:
            in->lock = true;
            break;
        case 0x26:
        case 0x2e:
        case 0x36:
        case 0x3e:
            break;          /* ES, CS, SS, DS: no effect in long mode */
        case 0x64:
            in->seg = PTWR_SEG_FS;
            break;
        case 0x65:
            in->seg = PTWR_SEG_GS;
            break;
        default:
            if ((b & 0xf0) == 0x40) {
                rex = b;
                continue;
            }
            goto opcode;
        }
        rex = 0;
    }

opcode:
    if (b == 0x0f) {
        two_byte = true;
        if (!take_byte(&c, &b))
            return -ENODATA;
    }
    /* Every accepted form has a ModRM; its reg field selects some of them. */
    if (!take_byte(&c, &modrm)) {
        for (regf = 0; regf < 8; regf++)
            if (form_of(two_byte, b, regf, &f))
                return -ENODATA;
        return -EOPNOTSUPP;
    }
    regf = (modrm >> 3) & 7;
    if (!form_of(two_byte, b, regf, &f))
        return -EOPNOTSUPP;
    if ((modrm >> 6) == 3)  /* a register destination: nothing is stored */
        return -EOPNOTSUPP;
    if (in->lock && !lockable(f.op))
        return -EOPNOTSUPP;

    in->op = f.op;
    if (f.op == PTWR_CMPXCHG8B) {
        if (rex & REX_W)
            in->op = PTWR_CMPXCHG16B;
        in->size = rex & REX_W ? 16 : 8;
    } else {
        in->size = f.byte_op ? 1 : rex & REX_W ? 8 : opsize16 ? 2 : 4;
    }

    rc = effective_address(&c, modrm, rex, regs, &ea, &riprel);
    if (rc)
        return rc;
    if (f.imm && !take(&c, f.imm == IMM_Z ? (in->size == 2 ? 2 : 4) : 1, &imm))
        return -ENODATA;
    in->len = (uint8_t)c.pos;
    if (riprel)
        ea += regs->rip + in->len;

    if (f.reg_src) {
        unsigned int r = regf | (rex & REX_R ? 8 : 0);
        /* Without any REX, byte registers 4-7 are AH, CH, DH, BH. */
        in->high_byte = f.byte_op && !rex && r >= 4;
        in->reg = (int8_t)(in->high_byte ? r - 4 : r);
        in->src = low_bytes(gpr(regs, (unsigned int)in->reg) >> (in->high_byte ? 8 : 0), in->size);
    } else if (f.imm) {
        in->src = low_bytes((uint64_t)imm, in->size);
    }

    if (in->op >= PTWR_BTS) {
        unsigned int bits = in->size * 8;
        if (f.reg_src) {
            /* A register bit offset is signed and may reach outside the operand: the
             * CPU moves the address by whole operands. */
            int64_t off = sign_extend(in->src, in->size);
            ea += (uint64_t)((off >> (bits == 64 ? 6 : bits == 32 ? 5 : 4)) * in->size);
        }
        in->src &= bits - 1;
    }

    if (addr32)
        ea = (uint32_t)ea;
    if (in->seg == PTWR_SEG_FS)
        ea += fs_base;
    else if (in->seg == PTWR_SEG_GS)
        ea += gs_base;
    in->addr = ea;
    return 0;
}

static uint64_t szp_flags(uint64_t r, unsigned int size)
{
    uint8_t p = (uint8_t)r;
    uint64_t fl = 0;

    p ^= p >> 4;
    p ^= p >> 2;
    p ^= p >> 1;
    if (!(p & 1))
        fl |= FL_PF;
    if (!r)
        fl |= FL_ZF;
    if ((r >> (size * 8 - 1)) & 1)
        fl |= FL_SF;
    return fl;
}

/* ADD..XOR on size-byte operands: the result, and the six arithmetic flags in *fl. */
static uint64_t alu(unsigned int op, uint64_t a, uint64_t b, uint64_t carry,
                    unsigned int size, uint64_t *fl)
{
    unsigned int top = size * 8 - 1;
    uint64_t r, cf = 0, of = 0, af = 0;

    switch (op) {
    case PTWR_ADD:
    case PTWR_ADC:
        r = low_bytes(a + b + (op == PTWR_ADC ? carry : 0), size);
        cf = (((a & b) | ((a | b) & ~r)) >> top) & 1;
        of = (((a ^ r) & (b ^ r)) >> top) & 1;
        af = (a ^ b ^ r) & FL_AF;
        break;
    case PTWR_SUB:
    case PTWR_SBB:
        r = low_bytes(a - b - (op == PTWR_SBB ? carry : 0), size);
        cf = (((~a & b) | ((~a | b) & r)) >> top) & 1;
        of = (((a ^ b) & (a ^ r)) >> top) & 1;
        af = (a ^ b ^ r) & FL_AF;
        break;
    case PTWR_AND:
        r = a & b;
        break;
    case PTWR_OR:
        r = a | b;
        break;
    default:
        r = a ^ b;
        break;
    }
    *fl = (cf ? FL_CF : 0) | (of ? FL_OF : 0) | af | szp_flags(r, size);
    return r;
}

bool ptwr_execute(const struct ptwr_insn *in, const uint64_t old[2],
                  struct cpu_user_regs *regs, uint64_t store[2])
{
    unsigned int size = in->size;
    uint64_t fl;

    store[0] = store[1] = 0;
    switch (in->op) {
    case PTWR_MOV:
        store[0] = in->src;
        return true;
    case PTWR_XCHG:
        store[0] = in->src;
        reg_write(regs, (unsigned int)in->reg, in->high_byte, size, old[0]);
        return store[0] != old[0];
    case PTWR_CMPXCHG:
        /* The flags of CMP accumulator, operand: ZF says whether they matched. */
        alu(PTWR_SUB, low_bytes(regs->rax, size), old[0], 0, size, &fl);
        regs->rflags = (regs->rflags & ~FL_ARITH) | fl;
        if (fl & FL_ZF) {
            store[0] = in->src;
            return true;
        }
        reg_write(regs, 0, false, size, old[0]);
        return false;
    case PTWR_CMPXCHG8B:
        if (old[0] == ((regs->rdx << 32) | (uint32_t)regs->rax)) {
            regs->rflags |= FL_ZF;
            store[0] = (regs->rcx << 32) | (uint32_t)regs->rbx;
            return true;
        }
        regs->rflags &= ~FL_ZF;
        regs->rax = (uint32_t)old[0];
        regs->rdx = old[0] >> 32;
        return false;
    case PTWR_CMPXCHG16B:
        if (old[0] == regs->rax && old[1] == regs->rdx) {
            regs->rflags |= FL_ZF;
            store[0] = regs->rbx;
            store[1] = regs->rcx;
            return true;
        }
        regs->rflags &= ~FL_ZF;
        regs->rax = old[0];
        regs->rdx = old[1];
        return false;
    case PTWR_BTS:
    case PTWR_BTR:
    case PTWR_BTC: {
        uint64_t bit = 1UL << in->src;
        /* CF is the bit's old value; the other flags the CPU leaves undefined stay. */
        regs->rflags = (regs->rflags & ~FL_CF) | (old[0] & bit ? FL_CF : 0);
        store[0] = in->op == PTWR_BTS ? old[0] | bit
                 : in->op == PTWR_BTR ? old[0] & ~bit : old[0] ^ bit;
        return store[0] != old[0];
    }
    default:
        store[0] = alu(in->op, old[0], in->src, regs->rflags & FL_CF, size, &fl);
        regs->rflags = (regs->rflags & ~FL_ARITH) | fl;
        return store[0] != old[0];
    }
}

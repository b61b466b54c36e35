/*
 * Decoding and executing the stores a PV kernel makes to its own L1 page tables, for
 * the writable-page-table assist (arch/x86/pv/ptwr.c). Pure logic: the caller fetches
 * the instruction bytes and reads and writes the page-table entry; this file says what
 * the instruction addresses and what it does to that operand, the registers and flags.
 *
 * Accepted (64-bit mode, memory destination only): MOV r/m,r (88/89) and r/m,imm
 * (C6/C7 /0); XCHG (86/87); CMPXCHG (0F B0/B1); CMPXCHG8B/16B (0F C7 /1); ADD, OR, ADC,
 * SBB, AND, SUB, XOR r/m,r (00-31) and r/m,imm (80/81/83); BTS/BTR/BTC r/m,r
 * (0F AB/B3/BB) and r/m,imm8 (0F BA /5 /6 /7). Prefixes: 66, 67, F0, REX, segment
 * overrides (ES/CS/SS/DS are ignored in long mode, FS/GS add their base). Anything
 * else is refused.
 */
#ifndef ASM_PTWR_DECODE_H
#define ASM_PTWR_DECODE_H

#include <enso/types.h>
#include <asm/regs.h>

#define PTWR_MAX_INSN 15

/* ADD..XOR have the values of their ModRM /reg encoding in 80/81/83. */
enum ptwr_op {
    PTWR_ADD, PTWR_OR, PTWR_ADC, PTWR_SBB, PTWR_AND, PTWR_SUB, PTWR_XOR,
    PTWR_MOV, PTWR_XCHG, PTWR_CMPXCHG, PTWR_CMPXCHG8B, PTWR_CMPXCHG16B,
    PTWR_BTS, PTWR_BTR, PTWR_BTC,
};

enum ptwr_seg { PTWR_SEG_NONE, PTWR_SEG_FS, PTWR_SEG_GS };

struct ptwr_insn {
    uint8_t op;         /* enum ptwr_op */
    uint8_t size;       /* bytes of the memory operand: 1, 2, 4, 8 or 16 */
    uint8_t len;        /* bytes of the instruction */
    uint8_t seg;        /* enum ptwr_seg: the FS/GS override in effect */
    bool lock;
    bool high_byte;     /* the register operand is AH, CH, DH or BH */
    int8_t reg;         /* the register operand (0-15, as in ModRM.reg), or -1 */
    uint64_t src;       /* register or immediate source, zero-extended from size;
                           for BTx the bit number within the operand */
    uint64_t addr;      /* linear address of the memory operand */
};

/*
 * Decode the instruction at bytes[0..len) (len <= 15: what could be fetched) with the
 * registers and FS/GS bases it runs with. Returns 0, -ENODATA if the instruction goes
 * past len, or -EOPNOTSUPP for anything that is not one of the stores above.
 */
int ptwr_decode(struct ptwr_insn *in, const uint8_t *bytes, unsigned int len,
                const struct cpu_user_regs *regs, uint64_t fs_base, uint64_t gs_base);

/*
 * Execute a decoded instruction on a memory operand that holds old (in->size bytes,
 * zero-extended; old[1] is the upper half for CMPXCHG16B). Registers and rflags in
 * *regs change as the CPU would change them (rip is left alone). Returns true if the
 * operand is to be written, with the new value in store[] (same layout); false when the
 * CPU would leave memory as it is (a failed compare, an unchanged read-modify-write).
 */
bool ptwr_execute(const struct ptwr_insn *in, const uint64_t old[2],
                  struct cpu_user_regs *regs, uint64_t store[2]);

/* The size-byte field at byte offset off (off + size <= 8) of a 64-bit entry. */
static inline uint64_t ptwr_field(uint64_t entry, unsigned int off, unsigned int size)
{
    return size >= 8 ? entry : (entry >> (off * 8)) & ((1UL << (size * 8)) - 1);
}

/* The entry with that field replaced by val. */
static inline uint64_t ptwr_merge(uint64_t entry, unsigned int off, unsigned int size,
                                  uint64_t val)
{
    uint64_t mask;

    if (size >= 8)
        return val;
    mask = ((1UL << (size * 8)) - 1) << (off * 8);
    return (entry & ~mask) | ((val << (off * 8)) & mask);
}

/* The arithmetic flags the emulated instructions set (RFLAGS bits). */
#define FL_CF 0x001UL
#define FL_PF 0x004UL
#define FL_AF 0x010UL
#define FL_ZF 0x040UL
#define FL_SF 0x080UL
#define FL_OF 0x800UL
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#endif

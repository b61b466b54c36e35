/* Lookup of the exception-fixup table, and the accessors built on it. */
#include <enso/errno.h>
#include <enso/extable.h>

extern const struct exception_table_entry __start_ex_table[], __stop_ex_table[];

uint64_t search_exception_table(uint64_t rip)
{
    for (const struct exception_table_entry *e = __start_ex_table; e < __stop_ex_table; e++) {
        uint64_t insn = (uint64_t)&e->insn + (int64_t)e->insn;
        if (insn == rip)
            return (uint64_t)&e->fixup + (int64_t)e->fixup;
    }
    return 0;
}

int read_u64_safe(const void *p, uint64_t *val)
{
    int rc = 0;
    uint64_t v = 0;

    __asm__ volatile("1: mov (%2), %1\n"
                     "2:\n"
                     ".pushsection .fixup, \"ax\"\n"
                     "3: mov %3, %0\n"
                     "   jmp 2b\n"
                     ".popsection\n" _ASM_EXTABLE(1b, 3b)
                     : "+r"(rc), "+r"(v)
                     : "r"(p), "i"(-EFAULT)
                     : "memory");
    *val = v;
    return rc;
}

int write_u64_safe(void *p, uint64_t val)
{
    int rc = 0;

    __asm__ volatile("1: mov %2, (%1)\n"
                     "2:\n"
                     ".pushsection .fixup, \"ax\"\n"
                     "3: mov %3, %0\n"
                     "   jmp 2b\n"
                     ".popsection\n" _ASM_EXTABLE(1b, 3b)
                     : "+r"(rc)
                     : "r"(p), "r"(val), "i"(-EFAULT)
                     : "memory");
    return rc;
}

int rdmsr_safe(uint32_t msr, uint64_t *val)
{
    int rc = 0;
    uint32_t lo = 0, hi = 0;

    __asm__ volatile("1: rdmsr\n"
                     "2:\n"
                     ".pushsection .fixup, \"ax\"\n"
                     "3: mov %4, %0\n"
                     "   xor %1, %1\n"
                     "   xor %2, %2\n"
                     "   jmp 2b\n"
                     ".popsection\n" _ASM_EXTABLE(1b, 3b)
                     : "+r"(rc), "=a"(lo), "=d"(hi)
                     : "c"(msr), "i"(-EFAULT));
    *val = ((uint64_t)hi << 32) | lo;
    return rc;
}

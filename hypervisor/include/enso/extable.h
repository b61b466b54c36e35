/*
 * The exception-fixup table: an instruction that may fault on purpose (a read of guest
 * memory, an MSR probe) is listed with a fixup address; when it faults, enso resumes at
 * the fixup instead of crashing. Entries are 32-bit offsets relative to themselves.
 */
#ifndef ENSO_EXTABLE_H
#define ENSO_EXTABLE_H

#include <enso/types.h>

struct exception_table_entry {
    int32_t insn;
    int32_t fixup;
};

#define _ASM_EXTABLE(from, to)                                                         \
    ".pushsection .ex_table, \"a\"\n"                                                 \
    ".balign 4\n"                                                                      \
    ".long (" #from ") - .\n"                                                          \
    ".long (" #to ") - .\n"                                                            \
    ".popsection\n"

/* The fixup address for a faulting RIP, or 0 if the fault was not expected. */
uint64_t search_exception_table(uint64_t rip);

/* Fault-safe accesses, -EFAULT instead of a crash. */
int read_u64_safe(const void *p, uint64_t *val);
int write_u64_safe(void *p, uint64_t val);
int rdmsr_safe(uint32_t msr, uint64_t *val);

#endif

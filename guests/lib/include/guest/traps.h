/*
 * Exceptions in a test kernel.
 *
 * The library installs a trap table covering vectors 0-31 at DPL 0 and int $0x80 at
 * DPL 3; a test may change it with trap_set(), and it is reset after every test. A trap
 * that nobody expects fails the running test and the kernel goes on with the next one. To expect one, run the code under catch_trap():
 *
 *     static void do_ud2(void *arg) { __asm__ volatile("ud2"); }
 *     struct trap_record r;
 *     if (!catch_trap(do_ud2, NULL, &r)) ... no trap ...
 *     CHECK_EQ(r.vector, 6);
 *
 * The fixup is a longjmp: on a trap, the handler records it and resumes the interrupted
 * code at catch_trap()'s return (stack and callee-saved registers as they were when
 * catch_trap was called), with TF and AC cleared. Catches nest.
 */
#ifndef GUEST_TRAPS_H
#define GUEST_TRAPS_H

#include <guest/guest.h>

/* Registers of the interrupted context, as trap_common saved them (layout.h TF_*). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi;
    uint64_t vector, error;
    /* The rest of the bounce frame, in place. cs carries the saved event mask in
     * bits 32-39. */
    uint64_t rip, cs, rflags, rsp, ss;
};

struct trap_record {
    unsigned int vector;
    uint64_t error;      /* 0 for vectors without one */
    uint64_t rip, cs, rflags, rsp, ss;
    uint64_t rcx, r11;   /* the interrupted values, from the bounce frame */
    uint64_t cr2;        /* shared_info vcpu_info[0].arch.cr2, for #PF */
    uint64_t entry_rsp;  /* rsp when the handler was entered (start of the frame) */
};

struct trap_catch {
    uint64_t rsp, rbx, rbp, r12, r13, r14, r15; /* layout.h TC_* */
    struct trap_catch *outer;
    struct trap_record rec;
};

/* Returns true if fn(arg) trapped, with *r describing the trap. */
bool catch_trap(void (*fn)(void *), void *arg, struct trap_record *r);
/* The assembly underneath: 0 if fn returned, 1 if it trapped. */
int run_catching(struct trap_catch *c, void (*fn)(void *), void *arg);

/* Sets the trap-table entry of vector v (DPL dpl, our stub) or removes it (present
 * false), then reloads the whole table. Returns the set_trap_table result. */
long trap_set(unsigned int v, unsigned int dpl, bool present);
/* Back to the library's table: 0-31 at DPL 0, 0x80 at DPL 3. */
long traps_reset(void);
/* The handler address the library uses for vector v. */
uint64_t trap_handler(unsigned int v);

/* Vector names for messages ("#PF", "int 0x80", ...). */
const char *trap_name(unsigned int v);

void traps_init(void);


/*
 * One-instruction probes: PROBE(name, body) defines a function probe_<name> whose body
 * marks the instruction under test with INSN(name) and the point after it with
 * END(name); RUN runs it under catch_trap, AT_INSN says a trap hit that instruction.
 */
#define PROBE(name, body)                                                              \
    extern char probe_##name[], probe_##name##_insn[], probe_##name##_end[];          \
    __asm__(".pushsection .text\n"                                                     \
            ".globl probe_" #name "\n"                                                 \
            ".globl probe_" #name "_insn\n"                                            \
            ".globl probe_" #name "_end\n"                                             \
            "probe_" #name ":\n" body "\n\tret\n"                                      \
            ".popsection\n")
#define INSN(name) "probe_" #name "_insn: "
#define END(name) "probe_" #name "_end: "
#define RUN(name, arg, rec) catch_trap((void (*)(void *))probe_##name, (void *)(arg), rec)
#define AT_INSN(rec, name) ((rec).rip == (uint64_t)probe_##name##_insn)

#endif

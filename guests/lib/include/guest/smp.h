/*
 * More vCPUs in a test kernel (guests/lib/smp.c). vCPU 0 runs the tests; the others are
 * started with VCPUOP_initialise and VCPUOP_up, each with its own stack, GDT page, trap
 * table, event callback and kernel GS base (which points at its struct smp_vcpu, so
 * smp_self() is one %gs load). A started vCPU records its registers on arrival and then
 * waits (SCHEDOP_block, events masked while it looks) for work that vCPU 0 posts with
 * smp_call() or smp_post(), which also send it an event on its kick port.
 *
 *     smp_init();
 *     CHECK_EQ(smp_start(1), 0);
 *     CHECK(smp_call(1, fn, arg, MILLISECS(500)));   // fn(&smp_vcpus[1], arg) ran on vCPU 1
 *
 * Its event callback counts, in seen[], the ports smp_port_owner[] gives to it and
 * leaves every other port pending (in the 2-level ABI all vCPUs share the pending
 * words). Its traps: NMIs are counted and returned from; a trap while trap_resume is
 * set resumes there (one probe at a time); any other trap is recorded and the vCPU takes
 * itself down (parked). vCPU 0 keeps its events masked unless a test unmasks them.
 * Only vCPU 0 prints.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include <guest/guest.h>
#include <guest/traps.h>

#define SMP_MAX_VCPUS 8
#define SMP_STACK_SIZE (16 * 1024)
#define SMP_PORTS 256          /* ports a secondary vCPU's callback can own */
#define SMP_NO_OWNER 0xff

/* Registers on a started vCPU's first instruction (offsets used by smp.c's entry). */
struct smp_entry_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rflags, ds, es, fs, gs, cs, ss;
};

struct smp_vcpu;
typedef void (*smp_fn_t)(struct smp_vcpu *self, void *arg);

struct smp_vcpu {
    struct smp_vcpu *self;          /* %gs:0 */
    struct smp_entry_regs entry;    /* at offset 8 */
    unsigned int id;
    struct vcpu_info *vi;           /* its vcpu_info: shared_info's, or a registered one */
    evtchn_port_t kick_port;        /* an IPI port bound to it */
    volatile unsigned long started; /* set once entry is recorded */
    volatile smp_fn_t work;
    void *volatile work_arg;
    volatile unsigned long done;    /* works finished */
    volatile unsigned long upcalls;
    volatile uint32_t seen[SMP_PORTS];
    volatile unsigned long traps, nmis, parked;
    volatile uint64_t trap_vector, trap_error, trap_rip, trap_cr2;
    volatile uint64_t trap_resume;  /* where an expected trap resumes (0: none expected) */
    volatile unsigned long counter; /* free for tests */
};

extern struct smp_vcpu smp_vcpus[SMP_MAX_VCPUS];
/* Which vCPU's callback takes each port (SMP_NO_OWNER: none; vCPU 0 takes none). */
extern volatile uint8_t smp_port_owner[SMP_PORTS];

/* vCPU 0's part: its GS base and struct. Call before anything else here. */
void smp_init(void);
/* The running vCPU's struct (through the kernel GS base). */
static inline struct smp_vcpu *smp_self(void)
{
    struct smp_vcpu *s;

    __asm__ volatile("mov %%gs:0, %0" : "=r"(s));
    return s;
}

/* Page-aligned memory of vCPU id: its stack and its GDT frame. */
uint8_t *smp_stack(unsigned int id);
uint8_t *smp_gdt_page(unsigned int id);
/* The GDT page's selectors (entries 1 and 2, RPL 3): flat 64-bit code and data. */
#define SMP_GDT_CS 0x0b
#define SMP_GDT_DS 0x13

/*
 * Get vCPU id ready to start: its GDT page filled and mapped read-only, its kick port
 * bound (smp_port_owner updated). 0 or the failing hypercall's result. Idempotent.
 */
long smp_prepare(unsigned int id);
/* A complete, valid context for vCPU id (smp_prepare first), to use or spoil. */
void smp_context(struct vcpu_guest_context *c, unsigned int id);
long smp_initialise(unsigned int id, const struct vcpu_guest_context *c);
/* prepare, initialise with smp_context, up, and wait up to 1 s for it to arrive:
 * 0, a hypercall's result, or -ETIMEDOUT. */
long smp_start(unsigned int id);

/* Post fn(arg) to vCPU id (waiting for it to finish a previous work first, if any). */
bool smp_post(unsigned int id, smp_fn_t fn, void *arg, uint64_t timeout_ns);
/* Wait until vCPU id has finished all posted work; false on timeout. */
bool smp_wait(unsigned int id, uint64_t timeout_ns);
/* Both: true if fn ran to the end within the timeout. */
bool smp_call(unsigned int id, smp_fn_t fn, void *arg, uint64_t timeout_ns);

/* Wait up to timeout for *p to differ from old (or for cond to hold). */
bool smp_wait_change(volatile unsigned long *p, unsigned long old, uint64_t timeout_ns);

/* Bind an IPI port to vCPU id for its callback to count (owner recorded). */
long smp_bind_ipi(unsigned int id, evtchn_port_t *port);
/* The running vCPU's event mask, in its own vcpu_info. */
void smp_mask(void);
void smp_unmask(void);
/* System time from the running vCPU's own time record. */
uint64_t smp_time(void);

#endif

/*
 * The virtual IDT of a test kernel and what happens when a trap arrives.
 *
 * set_trap_table merges the entries it is given into the vCPU's table (an entry with
 * address 0 ends the list, a NULL list clears the table), so to remove an entry the
 * whole table is cleared and sent again. The table itself is kept here.
 */
#include <guest/test.h>

extern char trap_stubs[];
extern char catch_resume[];
extern struct trap_catch *catch_top;

/* dpl | TRAP_PRESENT per vector. */
#define TRAP_PRESENT 0x80
static uint8_t trap_flags[256];

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9",
    "#TS", "#NP", "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM",
    "#VE", "#CP", "vector 22", "vector 23", "vector 24", "vector 25", "vector 26",
    "vector 27", "#HV", "#VC", "#SX", "vector 31",
};

const char *trap_name(unsigned int v)
{
    static char buf[16];

    if (v < 32)
        return exc_names[v];
    snprintf(buf, sizeof(buf), "int %#x", v);
    return buf;
}

uint64_t trap_handler(unsigned int v)
{
    return (uint64_t)trap_stubs + (uint64_t)(v & 255) * 16;
}

static long load_table(void)
{
    static struct trap_info table[257];
    unsigned int n = 0;
    long rc;

    for (unsigned int v = 0; v < 256; v++) {
        if (!(trap_flags[v] & TRAP_PRESENT))
            continue;
        table[n++] = (struct trap_info){
            .vector = (uint8_t)v,
            .flags = trap_flags[v] & TI_DPL_MASK,
            .cs = FLAT_KERNEL_CS,
            .address = trap_handler(v),
        };
    }
    table[n] = (struct trap_info){ 0 };
    rc = HYPERVISOR_set_trap_table(NULL);
    if (rc)
        return rc;
    return HYPERVISOR_set_trap_table(table);
}

long trap_set(unsigned int v, unsigned int dpl, bool present)
{
    trap_flags[v & 255] = present ? (uint8_t)(TRAP_PRESENT | (dpl & 3)) : 0;
    return load_table();
}

long traps_reset(void)
{
    for (unsigned int v = 0; v < 256; v++)
        trap_flags[v] = v < 32 ? TRAP_PRESENT : 0;
    /* The system-call vector, open to user mode as Linux has it. */
    trap_flags[0x80] = TRAP_PRESENT | 3;
    return load_table();
}

void traps_init(void)
{
    long rc = traps_reset();

    if (rc) {
        printf("FAIL setup: set_trap_table returned %ld\n", rc);
        guest_shutdown(SHUTDOWN_crash);
    }
}

static void record(struct trap_record *r, const struct trap_frame *f)
{
    bool has_error = f->vector == 8 || (f->vector >= 10 && f->vector <= 14) ||
                     f->vector == 17 || f->vector == 21 || f->vector == 29 || f->vector == 30;

    *r = (struct trap_record){
        .vector = (unsigned int)f->vector,
        .error = f->error,
        .rip = f->rip,
        .cs = f->cs,
        .rflags = f->rflags,
        .rsp = f->rsp,
        .ss = f->ss,
        .rcx = f->rcx,
        .r11 = f->r11,
        .entry_rsp = (uint64_t)&f->rip - (has_error ? 24 : 16),
    };
    if (f->vector == 14 && shared_info)
        r->cr2 = READ_ONCE(shared_info->vcpu_info[0].arch.cr2);
}

/* Called by trap_common for every trap. */
void trap_dispatch(struct trap_frame *f)
{
    struct trap_catch *c = catch_top;

    if (!c) {
        printf("FAIL setup: %s (error %#lx) at rip %#lx outside any test\n",
               trap_name((unsigned int)f->vector), (unsigned long)f->error,
               (unsigned long)f->rip);
        guest_shutdown(SHUTDOWN_crash);
    }
    record(&c->rec, f);
    catch_top = c->outer;
    /* Resume as if run_catching returned 1. */
    f->rip = (uint64_t)catch_resume;
    f->rsp = c->rsp;
    f->rbx = c->rbx;
    f->rbp = c->rbp;
    f->r12 = c->r12;
    f->r13 = c->r13;
    f->r14 = c->r14;
    f->r15 = c->r15;
    f->rflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_AC);
    /*
     * A trap from guest user mode (cs with RPL 3; kernel-mode frames have it cleared)
     * resumes the kernel: an RPL 0 cs keeps the iret in kernel mode, and the kernel
     * goes on with events masked, as it runs everywhere else.
     */
    if ((f->cs & 3) == 3) {
        f->cs = FLAT_KERNEL_CS & ~3;
        f->ss = FLAT_KERNEL_SS;
        f->rflags &= ~X86_EFLAGS_IF;
    }
}

bool catch_trap(void (*fn)(void *), void *arg, struct trap_record *r)
{
    struct trap_catch c;

    memset(&c, 0, sizeof(c));
    if (!run_catching(&c, fn, arg)) {
        memset(r, 0, sizeof(*r));
        return false;
    }
    *r = c.rec;
    return true;
}

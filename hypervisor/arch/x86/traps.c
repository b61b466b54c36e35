/*
 * Exceptions and interrupts once they reach C. A fault in enso is either expected (its
 * RIP is in the exception-fixup table: resume at the fixup) or fatal: the vector, error
 * code, registers and a backtrace are printed and enso panics.
 */
#include <enso/console.h>
#include <enso/extable.h>
#include <enso/irq.h>
#include <enso/lib.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/smp.h>
#include <enso/symbols.h>
#include <asm/apic.h>
#include <asm/layout.h>
#include <asm/processor.h>
#include <asm/pv.h>
#include <asm/pv_vcpu.h>
#include <asm/regs.h>

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
    "invalid opcode", "device not available", "double fault", "coprocessor overrun",
    "invalid TSS", "segment not present", "stack-segment fault", "general protection",
    "page fault", "reserved", "x87 FPU error", "alignment check", "machine check",
    "SIMD error", "virtualization", "control protection", [28] = "hypervisor injection",
    [29] = "VMM communication", [30] = "security exception",
};

static irq_handler_t irq_handlers[256];

void set_irq_handler(unsigned int vector, irq_handler_t fn)
{
    irq_handlers[vector & 0xff] = fn;
}

static void print_symbol(const char *prefix, uint64_t addr)
{
    uint64_t off;
    const char *name = symbol_lookup(addr, &off);

    if (name)
        printk("%s[<%016lx>] %s+%#lx\n", prefix, addr, name, off);
    else
        printk("%s[<%016lx>] ?\n", prefix, addr);
}

void show_registers(const struct cpu_user_regs *r)
{
    printk("RIP:    %04lx:[<%016lx>]  RFLAGS: %016lx  CPU: %u\n", r->cs, r->rip, r->rflags,
           smp_processor_id());
    print_symbol("        ", r->rip);
    printk("rax: %016lx  rbx: %016lx  rcx: %016lx\n", r->rax, r->rbx, r->rcx);
    printk("rdx: %016lx  rsi: %016lx  rdi: %016lx\n", r->rdx, r->rsi, r->rdi);
    printk("rbp: %016lx  rsp: %016lx  r8:  %016lx\n", r->rbp, r->rsp, r->r8);
    printk("r9:  %016lx  r10: %016lx  r11: %016lx\n", r->r9, r->r10, r->r11);
    printk("r12: %016lx  r13: %016lx  r14: %016lx\n", r->r12, r->r13, r->r14);
    printk("r15: %016lx  ss:  %04lx\n", r->r15, r->ss);
    printk("CR0: %016lx  CR2: %016lx  CR3: %016lx  CR4: %016lx\n", read_cr0(), read_cr2(),
           read_cr3(), read_cr4());
}

/*
 * Walks the frame-pointer chain. Every frame must lie above the previous one and within
 * enso's half of the address space, so a corrupt chain ends the walk instead of faulting.
 */
void show_backtrace(uint64_t rbp, uint64_t rip)
{
    printk("Backtrace:\n");
    print_symbol("   ", rip);
    for (int depth = 0; depth < 32; depth++) {
        uint64_t next, ret;
        if (rbp < HYPERVISOR_VIRT_START || (rbp & 7) || read_u64_safe((void *)rbp, &next) ||
            read_u64_safe((void *)(rbp + 8), &ret) || !ret)
            break;
        print_symbol("   ", ret);
        if (next <= rbp)
            break;
        rbp = next;
    }
}

static void fatal_trap(struct cpu_user_regs *r)
{
    unsigned int v = (unsigned int)r->vector;
    const char *name = v < 32 && exception_names[v] ? exception_names[v] : "unknown";

    console_force_unlock();
    printk(LOG_ERR "FATAL TRAP: vector %u (%s), error code %#lx%s\n", v, name, r->error_code,
           v == 14 ? (r->error_code & 1 ? ", protection violation" : ", page not present") : "");
    if (v == 14)
        printk(LOG_ERR "faulting address (CR2): %016lx\n", read_cr2());
    show_registers(r);
    show_backtrace(r->rbp, r->rip);
    panic("fatal trap %u (%s) in enso at %016lx", v, name, r->rip);
}

/*
 * A #DB taken in enso (cs RPL 0) is not the guest's. The guest's data breakpoints stay
 * armed while enso works for it, so one fires when enso copies to or from the watched
 * guest memory (a hypercall argument, a bounce frame): a trap after the access, which
 * is complete, so enso goes on. Treating it as a fault of the copy (its fixup) would
 * fail the hypercall or crash the domain. As Xen 4.17 does, it is noted and dropped:
 * the guest's DR6 is left alone and the guest never sees the hit. What would repeat
 * forever is switched off: TF (enso never sets it) and an instruction breakpoint (a
 * fault; guests cannot put one on enso's code, but if one fires, DR7 goes off until
 * the vCPU's next switch-in).
 */
static unsigned long enso_debug_hits;

static void debug_in_enso(struct cpu_user_regs *r, uint64_t dr6)
{
    uint64_t dr7 = read_dr7();
    unsigned long n = ++enso_debug_hits;

    if (r->rflags & X86_EFLAGS_TF) {
        printk(LOG_WARNING "#DB: TF set in enso at %016lx, cleared\n", r->rip);
        r->rflags &= ~X86_EFLAGS_TF;
    }
    for (unsigned int bp = 0; bp < 4; bp++) {
        bool hit = dr6 & (1UL << bp), enabled = dr7 & (3UL << (bp * 2));
        bool execute = !((dr7 >> (16 + bp * 4)) & 3);

        if (hit && enabled && execute) {
            printk(LOG_ERR "#DB: instruction breakpoint %u in enso at %016lx, DR7 off\n",
                   bp, r->rip);
            write_dr7(DR7_DEFAULT);
            break;
        }
    }
    /* Guests can cause these at will: a line at the 1st, 2nd, 4th, 8th ... only. */
    if (!(n & (n - 1)))
        printk(LOG_DEBUG "#DB in enso at %016lx (dr6 %#lx), %lu so far\n", r->rip, dr6, n);
}

static void do_exception(struct cpu_user_regs *r)
{
    uint64_t fixup;

    if (r->vector == 1) {
        /* The CPU never clears DR6's status bits itself: taken and reset at once. */
        uint64_t dr6 = read_dr6();

        write_dr6(DR6_DEFAULT);
        if (!regs_from_guest(r)) {
            debug_in_enso(r, dr6);
            return;
        }
        local_irq_enable(); /* a guest trap, as below */
        pv_debug_exception(r, dr6);
        return;
    }
    if (r->vector == 2) {
        printk(LOG_WARNING "NMI received on CPU %u\n", smp_processor_id());
        return;
    }
    if (regs_from_guest(r) && r->vector != 18) {
        /*
         * The guest ran with interrupts on, and handling its fault may need other
         * CPUs (a TLB flush when a frame changes type waits for their IPIs), so they
         * go back on, as Xen has them, once CR2 is safe from a nested fault.
         */
        uint64_t cr2 = r->vector == 14 ? read_cr2() : 0;

        local_irq_enable();
        pv_guest_exception(r, cr2);
        return;
    }
    fixup = search_exception_table(r->rip);
    if (fixup && !regs_from_guest(r)) {
        r->rip = fixup;
        return;
    }
    fatal_trap(r);
}

void do_irq(struct cpu_user_regs *r)
{
    unsigned int v = (unsigned int)r->vector;

    this_cpu(cpu_info).irq_count++;
    if (irq_handlers[v])
        irq_handlers[v](r, v);
    else if (v != VECTOR_SPURIOUS)
        printk(LOG_WARNING "unexpected interrupt vector %#x on CPU %u\n", v, smp_processor_id());
    if (v != VECTOR_SPURIOUS)
        apic_eoi();
}

void do_entry(struct cpu_user_regs *r);
void do_entry(struct cpu_user_regs *r)
{
    if (r->vector == 0x80 && regs_from_guest(r)) {
        local_irq_enable(); /* a guest trap, like the exceptions above */
        pv_int80(r);
        return;
    }
    if (r->vector < 32)
        do_exception(r);
    else
        do_irq(r);
}

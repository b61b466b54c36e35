/*
 * More vCPUs in a test kernel (see <guest/smp.h>): the context a secondary vCPU starts
 * from, its entry, trap and event handlers, and the work hand-over with vCPU 0.
 */
#include <guest/events.h>
#include <guest/pt.h>
#include <guest/smp.h>
#include <stddef.h>

struct smp_vcpu smp_vcpus[SMP_MAX_VCPUS];
volatile uint8_t smp_port_owner[SMP_PORTS];

static uint8_t stacks[SMP_MAX_VCPUS][SMP_STACK_SIZE] __aligned(4096);
static uint8_t gdt_pages[SMP_MAX_VCPUS][4096] __aligned(4096);
static bool prepared[SMP_MAX_VCPUS];

_Static_assert(offsetof(struct smp_vcpu, entry) == 8, "smp_entry stores at %gs:8");
_Static_assert(offsetof(struct smp_entry_regs, rflags) == 128, "entry.rflags");
_Static_assert(offsetof(struct smp_entry_regs, ss) == 176, "entry.ss");
_Static_assert(__HYPERVISOR_iret == 23, "the callback below jumps to stub 23");

/*
 * First instruction of a started vCPU (rip of its context). Every register goes to
 * self->entry through the kernel GS base before anything changes it; then the vCPU's
 * C side runs on its own stack.
 */
#define E(off) "%gs:8+" #off
__asm__(".pushsection .text\n"
        ".balign 16\n"
        ".globl smp_entry\n"
        "smp_entry:\n"
        "    mov %rax, " E(0) "\n    mov %rbx, " E(8) "\n    mov %rcx, " E(16) "\n"
        "    mov %rdx, " E(24) "\n    mov %rsi, " E(32) "\n    mov %rdi, " E(40) "\n"
        "    mov %rbp, " E(48) "\n    mov %rsp, " E(56) "\n    mov %r8, " E(64) "\n"
        "    mov %r9, " E(72) "\n    mov %r10, " E(80) "\n    mov %r11, " E(88) "\n"
        "    mov %r12, " E(96) "\n    mov %r13, " E(104) "\n    mov %r14, " E(112) "\n"
        "    mov %r15, " E(120) "\n"
        "    pushfq\n    popq " E(128) "\n"
        "    xor %eax, %eax\n"
        "    mov %ds, %ax\n    mov %rax, " E(136) "\n"
        "    mov %es, %ax\n    mov %rax, " E(144) "\n"
        "    mov %fs, %ax\n    mov %rax, " E(152) "\n"
        "    mov %gs, %ax\n    mov %rax, " E(160) "\n"
        "    mov %cs, %ax\n    mov %rax, " E(168) "\n"
        "    mov %ss, %ax\n    mov %rax, " E(176) "\n"
        "    mov %gs:0, %rdi\n"
        "    and $-16, %rsp\n"
        "    call smp_vcpu_main\n"
        "    ud2\n"
        ".popsection\n");

/*
 * Vectors 0-31: a 16-byte stub each, shaped like the library's (rcx and r11 back, an
 * error code of 0 where the CPU gives none, the vector), then the same register save
 * and the same way out (trap_exit: the iret hypercall), with a dispatcher of our own.
 */
__asm__(".pushsection .text\n"
        ".balign 16\n"
        ".globl smp_trap_stubs\n"
        "smp_trap_stubs:\n"
        ".irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
        "    .balign 16\n"
        "    pop %rcx\n"
        "    pop %r11\n"
        "    .if (\\v == 8) || ((\\v >= 10) && (\\v <= 14)) || (\\v == 17) || (\\v == 21) || (\\v == 29) || (\\v == 30)\n"
        "    .else\n"
        "    push $0\n"
        "    .endif\n"
        "    push $\\v\n"
        "    jmp smp_trap_common\n"
        ".endr\n"
        "smp_trap_common:\n"
        "    push %rdi\n    push %rsi\n    push %rdx\n    push %rcx\n    push %rax\n"
        "    push %r8\n    push %r9\n    push %r10\n    push %r11\n    push %rbx\n"
        "    push %rbp\n    push %r12\n    push %r13\n    push %r14\n    push %r15\n"
        "    mov %rsp, %rdi\n"
        "    mov %rsp, %rbp\n"
        "    and $-16, %rsp\n"
        "    cld\n"
        "    call smp_trap_dispatch\n"
        "    mov %rbp, %rsp\n"
        "    jmp trap_exit\n"
        ".popsection\n");

/* The event callback: the library's frame handling, our scan (see events.c). */
__asm__(".pushsection .text\n"
        ".balign 16\n"
        ".globl smp_event_entry\n"
        "smp_event_entry:\n"
        "    pop %rcx\n"
        "    pop %r11\n"
        "    push %rdi\n    push %rsi\n    push %rdx\n    push %rcx\n    push %rax\n"
        "    push %r8\n    push %r9\n    push %r10\n    push %r11\n    push %rbx\n"
        "    push %rbp\n    push %r12\n    push %r13\n    push %r14\n    push %r15\n"
        "    mov %rsp, %rbp\n"
        "    and $-16, %rsp\n"
        "    cld\n"
        "    call smp_event_dispatch\n"
        "    mov %rbp, %rsp\n"
        "    pop %r15\n    pop %r14\n    pop %r13\n    pop %r12\n    pop %rbp\n"
        "    pop %rbx\n    pop %r11\n    pop %r10\n    pop %r9\n    pop %r8\n"
        "    pop %rax\n    pop %rcx\n    pop %rdx\n    pop %rsi\n    pop %rdi\n"
        "    push $0\n"
        "    cmpb $0, iret_via_syscall(%rip)\n"
        "    jne 1f\n"
        "    jmp hypercall_page + 23 * 32\n"
        "1:  push %rcx\n    push %r11\n    push %rax\n"
        "    mov $23, %eax\n"
        "    syscall\n"
        "    ud2\n"
        /* Never expected: a selector the hypervisor could not load. Park. */
        ".globl smp_failsafe_entry\n"
        "smp_failsafe_entry:\n"
        "    and $-16, %rsp\n"
        "    call smp_failsafe\n"
        "    ud2\n"
        ".popsection\n");

extern char smp_entry[], smp_trap_stubs[], smp_event_entry[], smp_failsafe_entry[];
void smp_vcpu_main(struct smp_vcpu *self) __noreturn;
void smp_trap_dispatch(struct trap_frame *f);
void smp_event_dispatch(void);
void smp_failsafe(void) __noreturn;

uint8_t *smp_stack(unsigned int id)
{
    return stacks[id];
}

uint8_t *smp_gdt_page(unsigned int id)
{
    return gdt_pages[id];
}

void smp_mask(void)
{
    WRITE_ONCE(smp_self()->vi->evtchn_upcall_mask, 1);
    barrier();
}

void smp_unmask(void)
{
    barrier();
    WRITE_ONCE(smp_self()->vi->evtchn_upcall_mask, 0);
}

uint64_t smp_time(void)
{
    return system_time_of(&smp_self()->vi->time);
}

/* A parked vCPU stays down; should vCPU 0 bring it up again, it goes down again. */
static __noreturn void park(struct smp_vcpu *self)
{
    self->parked++;
    for (;;)
        HYPERVISOR_vcpu_op(VCPUOP_down, self->id, NULL);
}

void smp_trap_dispatch(struct trap_frame *f)
{
    struct smp_vcpu *self = smp_self();

    self->trap_vector = f->vector;
    self->trap_error = f->error;
    self->trap_rip = f->rip;
    if (f->vector == 14)
        self->trap_cr2 = READ_ONCE(self->vi->arch.cr2);
    self->traps++;
    if (f->vector == 2) {
        self->nmis++;
        return;
    }
    if (self->trap_resume) {
        f->rip = self->trap_resume;
        self->trap_resume = 0;
        return;
    }
    park(self);
}

void smp_failsafe(void)
{
    park(smp_self());
}

/* The ports this vCPU owns that are pending and not masked: cleared and counted. */
void smp_event_dispatch(void)
{
    struct smp_vcpu *self = smp_self();
    struct vcpu_info *vi = self->vi;
    xen_ulong_t sel;

    self->upcalls++;
    WRITE_ONCE(vi->evtchn_upcall_pending, 0);
    sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned int w = (unsigned int)__builtin_ctzl(sel);
        xen_ulong_t bits;

        sel &= sel - 1;
        if (w * 64 >= SMP_PORTS)
            continue;
        bits = READ_ONCE(shared_info->evtchn_pending[w]) & ~READ_ONCE(shared_info->evtchn_mask[w]);
        while (bits) {
            unsigned int b = (unsigned int)__builtin_ctzl(bits);
            evtchn_port_t port = w * 64 + b;

            bits &= bits - 1;
            if (smp_port_owner[port] != self->id)
                continue;
            __atomic_fetch_and(&shared_info->evtchn_pending[w], ~(1UL << b), __ATOMIC_SEQ_CST);
            self->seen[port]++;
        }
    }
}

/*
 * A started vCPU: work when there is some, else block. Events are masked while it looks
 * for work, so a kick that arrives in between is still pending when SCHEDOP_block
 * unmasks them, and the block returns at once.
 */
void smp_vcpu_main(struct smp_vcpu *self)
{
    __atomic_store_n(&self->started, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        smp_fn_t fn;

        smp_mask();
        fn = __atomic_load_n(&self->work, __ATOMIC_ACQUIRE);
        if (fn) {
            fn(self, self->work_arg);
            __atomic_store_n(&self->work, NULL, __ATOMIC_SEQ_CST);
            __atomic_fetch_add(&self->done, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    }
}

void smp_init(void)
{
    struct smp_vcpu *s = &smp_vcpus[0];

    memset((void *)smp_port_owner, SMP_NO_OWNER, sizeof(smp_port_owner));
    s->self = s;
    s->id = 0;
    s->vi = &shared_info->vcpu_info[0];
    s->started = 1;
    HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (ulong)s);
}

/* Flat code (DPL 0, made 3 by the hypervisor) and data, as a guest GDT would have. */
static void fill_gdt(uint64_t *gdt)
{
    memset(gdt, 0, 4096);
    gdt[SMP_GDT_CS >> 3] = 0x00af9a000000ffffUL;
    gdt[SMP_GDT_DS >> 3] = 0x00cf92000000ffffUL;
}

long smp_bind_ipi(unsigned int id, evtchn_port_t *port)
{
    long rc = evtchn_bind_ipi(id, port);

    if (!rc && *port < SMP_PORTS)
        smp_port_owner[*port] = (uint8_t)id;
    return rc;
}

long smp_prepare(unsigned int id)
{
    struct smp_vcpu *s = &smp_vcpus[id];
    ulong gdt = (ulong)gdt_pages[id];
    uint64_t leaf;
    int level;
    long rc;

    if (prepared[id])
        return 0;
    s->self = s;
    s->id = id;
    if (!s->vi)
        s->vi = &shared_info->vcpu_info[id];
    fill_gdt((uint64_t *)gdt);
    if (!pt_lookup(gdt, &leaf, &level) || level != 1)
        return -EFAULT;
    rc = HYPERVISOR_update_va_mapping(gdt, leaf & ~_PAGE_RW, UVMF_INVLPG | UVMF_LOCAL);
    if (!rc)
        rc = smp_bind_ipi(id, &s->kick_port);
    if (!rc)
        prepared[id] = true;
    return rc;
}

void smp_context(struct vcpu_guest_context *c, unsigned int id)
{
    struct smp_vcpu *s = &smp_vcpus[id];
    uint64_t top = (uint64_t)(stacks[id] + SMP_STACK_SIZE);

    memset(c, 0, sizeof(*c));
    c->flags = VGCF_in_kernel;
    c->user_regs.rip = (uint64_t)smp_entry;
    c->user_regs.rsp = top;
    c->user_regs.cs = FLAT_KERNEL_CS;
    c->user_regs.ss = FLAT_KERNEL_SS;
    c->user_regs.rflags = 0x2;
    c->user_regs.rdi = (uint64_t)s;
    for (unsigned int v = 0; v < 32; v++)
        c->trap_ctxt[v] = (struct trap_info){
            .vector = (uint8_t)v,
            .cs = FLAT_KERNEL_CS,
            .address = (uint64_t)smp_trap_stubs + v * 16,
        };
    c->gdt_frames[0] = image_mfn(gdt_pages[id]);
    c->gdt_ents = 512;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = top;
    c->ctrlreg[3] = image_mfn((const void *)start_info->pt_base) << PAGE_SHIFT;
    c->event_callback_eip = (uint64_t)smp_event_entry;
    c->failsafe_callback_eip = (uint64_t)smp_failsafe_entry;
    c->gs_base_kernel = (uint64_t)s;
}

long smp_initialise(unsigned int id, const struct vcpu_guest_context *c)
{
    return HYPERVISOR_vcpu_op(VCPUOP_initialise, id, (void *)c);
}

bool smp_wait_change(volatile unsigned long *p, unsigned long old, uint64_t timeout_ns)
{
    uint64_t end = system_time() + timeout_ns;

    while (__atomic_load_n(p, __ATOMIC_SEQ_CST) == old) {
        if (system_time() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}

long smp_start(unsigned int id)
{
    static struct vcpu_guest_context ctx;
    long rc = smp_prepare(id);

    if (rc)
        return rc;
    smp_context(&ctx, id);
    rc = smp_initialise(id, &ctx);
    if (!rc)
        rc = HYPERVISOR_vcpu_op(VCPUOP_up, id, NULL);
    if (!rc && !smp_wait_change(&smp_vcpus[id].started, 0, SECONDS(1)))
        rc = -ETIMEDOUT;
    return rc;
}

bool smp_wait(unsigned int id, uint64_t timeout_ns)
{
    struct smp_vcpu *s = &smp_vcpus[id];
    uint64_t end = system_time() + timeout_ns;

    while (__atomic_load_n(&s->work, __ATOMIC_SEQ_CST)) {
        if (system_time() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}

bool smp_post(unsigned int id, smp_fn_t fn, void *arg, uint64_t timeout_ns)
{
    struct smp_vcpu *s = &smp_vcpus[id];

    if (!smp_wait(id, timeout_ns))
        return false;
    s->work_arg = arg;
    __atomic_store_n(&s->work, fn, __ATOMIC_SEQ_CST);
    evtchn_send(s->kick_port);
    return true;
}

bool smp_call(unsigned int id, smp_fn_t fn, void *arg, uint64_t timeout_ns)
{
    return smp_post(id, fn, arg, timeout_ns) && smp_wait(id, timeout_ns);
}

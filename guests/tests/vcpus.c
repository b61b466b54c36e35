/*
 * Multi-vCPU guests, as Xen 4.17 runs them for a 64-bit PV domain 0 with 4 vCPUs on 2
 * CPUs (tests/guests/run.py gives this kernel dom0_max_vcpus=4 and -smp 2): vcpu_op
 * with its errnos (bring-up, VCPUOP_initialise's checks of a whole vCPU context and what
 * the new vCPU finds, up/down, runstates and the registered runstate and time copies,
 * register_vcpu_info, send_nmi), events between vCPUs (IPIs, bind_vcpu, an event to a
 * down vCPU, SCHEDOP_poll from another CPU), all vCPUs making progress at once, system
 * time across vCPUs, two vCPUs whose faults make TLB shootdowns of each other's CPU at
 * once, and TLB flushes that must reach a vCPU reading on another CPU.
 *
 * vCPU 0 runs the tests; vCPUs 1-3 are started through guests/lib/smp.c and given work.
 * vCPU 1 starts from a context full of particular values; vCPU 2 gets its vcpu_info
 * moved before it starts; vCPU 3 goes through VGCF_online. Each vCPU can be initialised
 * only once, so later tests depend on earlier ones and skip when their vCPU is missing.
 */
#include <guest/events.h>
#include <guest/frames.h>
#include <guest/pt.h>
#include <guest/smp.h>
#include <guest/test.h>

#define NR_VCPUS 4
#define UNMAPPED (GUEST_VIRT_BASE + (512UL << 20))
#define NONCANON 0x0000800000000000UL
#define HV_ADDR 0xffff830000000000UL
#define X86_CR0_TS 0x8UL
#define X86_CR4_OSXSAVE (1UL << 18)
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_SHADOW_GS_BASE 0xc0000102
#define SLACK MILLISECS(1)     /* guest time against the hypervisor's NOW() */
#define WAIT SECONDS(3)

static struct vcpu_guest_context ctx;
static volatile bool spin_stop;
static volatile unsigned long tlb_stop;

static long vcpu_op(int cmd, unsigned int id, const void *arg)
{
    return HYPERVISOR_vcpu_op(cmd, id, (void *)arg);
}

static long is_up(unsigned int id)
{
    return vcpu_op(VCPUOP_is_up, id, NULL);
}

static void sleep_ms(unsigned int ms)
{
    uint64_t end = system_time() + MILLISECS(ms);

    while (system_time() < end)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

static bool started(unsigned int id)
{
    return READ_ONCE(smp_vcpus[id].started) && !READ_ONCE(smp_vcpus[id].parked);
}

static bool spin_end(void);

/* A test that needs vCPU id: it must have started, and whatever an earlier test left
 * running there (after a failure) is stopped first. */
#define NEED(id)                                                                       \
    do {                                                                               \
        if (!started(id))                                                              \
            SKIP("vCPU %u did not start", (unsigned int)(id));                         \
        CHECK(spin_end());                                                             \
    } while (0)

static bool wait_u32(volatile uint32_t *p, uint32_t want, uint64_t timeout)
{
    uint64_t end = system_time() + timeout;

    while (READ_ONCE(*p) != want) {
        if (system_time() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}

static bool wait_down(unsigned int id, uint64_t timeout)
{
    uint64_t end = system_time() + timeout;

    while (is_up(id) != 0) {
        if (system_time() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
    return true;
}

/* Wait until vCPU id is in runstate `state`, or (state < 0) off its CPU. */
static bool wait_runstate(unsigned int id, int state, uint64_t timeout)
{
    uint64_t end = system_time() + timeout;
    struct vcpu_runstate_info r;

    for (;;) {
        if (vcpu_op(VCPUOP_get_runstate_info, id, &r))
            return false;
        if (state < 0 ? r.state != RUNSTATE_running : r.state == state)
            return true;
        if (system_time() > end)
            return false;
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

/* Busy work: count until spin_stop, events unmasked if arg is non-NULL. */
static void spinner(struct smp_vcpu *self, void *arg)
{
    if (arg)
        smp_unmask();
    while (!READ_ONCE(spin_stop))
        self->counter++;
    smp_mask();
}

static bool spin_start(unsigned int id, bool unmasked)
{
    WRITE_ONCE(spin_stop, false);
    return smp_post(id, spinner, unmasked ? (void *)1 : NULL, WAIT) &&
           smp_wait_change(&smp_vcpus[id].counter, smp_vcpus[id].counter, WAIT);
}

static bool spin_end(void)
{
    bool ok = true;

    WRITE_ONCE(spin_stop, true);
    WRITE_ONCE(tlb_stop, 1);
    for (unsigned int id = 1; id < NR_VCPUS; id++)
        if (started(id))
            ok &= smp_wait(id, WAIT);
    return ok;
}

static uint64_t time_sum(const struct vcpu_runstate_info *r)
{
    return r->time[0] + r->time[1] + r->time[2] + r->time[3];
}

TEST(setup)
{
    smp_init();
    for (unsigned int id = 1; id < NR_VCPUS; id++)
        CHECK_EQ(smp_prepare(id), 0);
}

TEST(vcpu_count)
{
    CHECK_EQ(is_up(0), 1);
    for (unsigned int id = 1; id < NR_VCPUS; id++)
        CHECK_EQ(is_up(id), 0);
    CHECK_EQ(is_up(NR_VCPUS), -ENOENT);
    CHECK_EQ(is_up(64), -ENOENT);
    CHECK_EQ(is_up(0xffffffff), -ENOENT);
}

/* vcpuid is an unsigned int and cmd an int: the upper halves of the registers go. */
TEST(vcpuid_truncated)
{
    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1UL << 32, 0, 0, 0), 1);
    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_is_up, (1UL << 32) | 1, 0, 0, 0), 0);
    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, (1UL << 32) | VCPUOP_is_up, 0, 0, 0, 0), 1);
}

/* The vCPU is looked up before anything else, whatever the command. */
TEST(bad_vcpuid)
{
    static uint64_t buf[8];

    for (int cmd = 0; cmd <= 16; cmd++) {
        CHECK_EQ(vcpu_op(cmd, NR_VCPUS, buf), -ENOENT);
        CHECK_EQ(vcpu_op(cmd, 1000, NULL), -ENOENT);
    }
    CHECK_EQ(vcpu_op(100, NR_VCPUS, NULL), -ENOENT);
}

TEST(unknown_cmd)
{
    CHECK_EQ(vcpu_op(14, 0, NULL), -ENOSYS);
    CHECK_EQ(vcpu_op(100, 1, NULL), -ENOSYS);
    CHECK_EQ(vcpu_op(-1, 0, NULL), -ENOSYS);
}

TEST(up_before_initialise)
{
    struct vcpu_runstate_info r;

    CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), -EINVAL);
    CHECK_EQ(is_up(1), 0);
    /* Down on a vCPU that is down already (vCPU 0 is up): nothing happens. */
    CHECK_EQ(vcpu_op(VCPUOP_down, 2, NULL), 0);
    CHECK_EQ(is_up(2), 0);
    CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 2, &r), 0);
    CHECK_EQ(r.state, RUNSTATE_offline);
    CHECK_EQ(vcpu_op(VCPUOP_up, 2, NULL), -EINVAL);
}

/* The context is read first: a bad pointer is -EFAULT even for vCPU 0. */
TEST(initialise_bad_pointer)
{
    const uint64_t bad[] = { 0, UNMAPPED, NONCANON, HV_ADDR };

    for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, bad[i], 0, 0), -EFAULT);
        CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 0, bad[i], 0, 0), -EFAULT);
    }
    smp_context(&ctx, 1);
    CHECK_EQ(smp_initialise(0, &ctx), -EEXIST);
    ctx.user_regs.rip = NONCANON; /* initialised already: the context is not looked at */
    CHECK_EQ(smp_initialise(0, &ctx), -EEXIST);
}

/* The L3 the bootstrap L4's last slot names. */
static uint64_t boot_l3_mfn(void)
{
    return PTE_MFN(((const uint64_t *)start_info->pt_base)[511]);
}

/* One spoilt field at a time: each is -EINVAL and leaves vCPU 1 uninitialised. */
static const char *const spoilt[] = {
    "rip", "rsp", "kernel_sp", "fs_base", "gs_base_kernel", "gs_base_user",
    "event callback", "failsafe callback", "syscall callback", "trap handler",
    "ldt base", "ldt base in enso, no entries", "ldt base unaligned, no entries",
    "ldt entries", "gdt entries", "gdt entries 2^32 + 2", "user mode without user tables",
    "gdt frame not ours", "gdt frame mapped writable", "cr3 0", "cr3 data frame",
    "cr3 an L3", "cr3 past RAM", "user L4 data frame", "user L4 an L3, user mode",
};

static void spoil(struct vcpu_guest_context *c, unsigned int i)
{
    const uint64_t data = image_mfn(scratch_page); /* mapped writable */

    switch (i) {
    case 0: c->user_regs.rip = NONCANON; break;
    case 1: c->user_regs.rsp = NONCANON; break;
    case 2: c->kernel_sp = NONCANON; break;
    case 3: c->fs_base = NONCANON; break;
    case 4: c->gs_base_kernel = NONCANON; break;
    case 5: c->gs_base_user = NONCANON; break;
    case 6: c->event_callback_eip = NONCANON; break;
    case 7: c->failsafe_callback_eip = NONCANON; break;
    case 8: c->syscall_callback_eip = NONCANON; break;
    case 9: c->trap_ctxt[100].address = NONCANON; break;
    case 10: c->ldt_ents = 1; c->ldt_base = NONCANON; break;
    case 11: c->ldt_base = HV_ADDR; break;
    case 12: c->ldt_base = 0x1008; break;
    case 13: c->ldt_ents = 8193; break;
    case 14: c->gdt_ents = 7169; break;
    case 15: c->gdt_ents = (1UL << 32) | 2; break;
    case 16: c->flags = 0; break;
    case 17: c->gdt_frames[0] = 0; break;
    case 18: c->gdt_frames[0] = data; break;
    case 19: c->ctrlreg[3] = 0; break;
    case 20: c->ctrlreg[3] = data << PAGE_SHIFT; break;
    case 21: c->ctrlreg[3] = boot_l3_mfn() << PAGE_SHIFT; break;
    case 22: c->ctrlreg[3] = 0xfffffff000UL; break;
    case 23: c->ctrlreg[1] = data << PAGE_SHIFT; break;
    case 24: c->flags = 0; c->ctrlreg[1] = boot_l3_mfn() << PAGE_SHIFT; break;
    }
}

TEST(initialise_bad_context)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(spoilt); i++) {
        long rc;

        smp_context(&ctx, 1);
        spoil(&ctx, i);
        rc = smp_initialise(1, &ctx);
        CHECKF(rc == -EINVAL, "%s: %ld, expected -EINVAL", spoilt[i], rc);
        CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), -EINVAL);
    }
}

/* A failure after the GDT frames were taken gives them back. */
TEST(gdt_released_on_failure)
{
    ulong gdt = (ulong)smp_gdt_page(1);
    uint64_t mfn = image_mfn((void *)gdt);

    smp_context(&ctx, 1);
    ctx.ctrlreg[3] = 0;
    CHECK_EQ(smp_initialise(1, &ctx), -EINVAL);
    CHECK_EQ(map_mfn(gdt, mfn, _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY), 0);
    CHECK_EQ(map_mfn(gdt, mfn, _PAGE_PRESENT | _PAGE_ACCESSED), 0);
}

/* What vCPU 1's context holds beyond smp_context's, and what it finds on arrival. */
#define R(n) (0x1000000000000000UL * (n) + 0x0101010101010101UL * (n))
static volatile uint64_t fs_probe = 0xf5f5f5f5f5f5f5f5UL;
static const uint64_t user_gs = 0x123456789000UL;

TEST(initialise_and_up)
{
    struct vcpu_guest_context *c = &ctx;
    struct smp_vcpu *s = &smp_vcpus[1];
    uint16_t fcw = 0x027f;
    uint32_t mxcsr = 0x7f80;
    uint64_t xmm0 = 0x1122334455667788UL;

    smp_context(c, 1);
    c->user_regs.rax = R(1);
    c->user_regs.rbx = R(2);
    c->user_regs.rcx = R(3);
    c->user_regs.rdx = R(4);
    c->user_regs.rsi = R(5);
    c->user_regs.rdi = R(6);
    c->user_regs.rbp = R(7);
    c->user_regs.r8 = R(8);
    c->user_regs.r9 = R(9);
    c->user_regs.r10 = R(10);
    c->user_regs.r11 = R(11);
    c->user_regs.r12 = R(12);
    c->user_regs.r13 = R(13);
    c->user_regs.r14 = R(14);
    c->user_regs.r15 = R(15);
    c->user_regs.rsp -= 64;
    c->user_regs.rflags = 0x3002; /* IOPL 3, IF clear */
    c->user_regs.ds = c->user_regs.es = SMP_GDT_DS;
    c->fs_base = (uint64_t)&fs_probe;
    c->gs_base_user = user_gs;
    c->ctrlreg[0] = X86_CR0_TS;
    c->ctrlreg[3] |= 0x18;        /* low bits are ignored */
    c->ctrlreg[4] = X86_CR4_OSXSAVE;
    c->debugreg[0] = HV_ADDR;     /* refused by set_debugreg: dropped */
    c->debugreg[1] = 0x1000;
    c->debugreg[6] = 0xffff0ff0;
    c->debugreg[7] = 1UL << 32;   /* reserved bits: dropped */
    c->vm_assist = ~0UL;          /* only vCPU 0's is looked at */
    c->flags |= VGCF_i387_valid;
    memcpy(&c->fpu_ctxt.x[0], &fcw, sizeof(fcw));
    memcpy(&c->fpu_ctxt.x[24], &mxcsr, sizeof(mxcsr));
    memcpy(&c->fpu_ctxt.x[160], &xmm0, sizeof(xmm0));

    CHECK_EQ(smp_initialise(1, c), 0);
    CHECK_EQ(is_up(1), 0);
    sleep_ms(20);
    CHECK_EQ(s->started, 0);
    /* Initialised once: -EEXIST, however good or bad the context. */
    CHECK_EQ(smp_initialise(1, c), -EEXIST);
    c->user_regs.rip = NONCANON;
    CHECK_EQ(smp_initialise(1, c), -EEXIST);
    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, 0, 0, 0), -EFAULT);
    CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), 0);
    CHECK(smp_wait_change(&s->started, 0, WAIT));
    CHECK_EQ(is_up(1), 1);
    CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), 0);
}

TEST(context_registers)
{
    const struct smp_entry_regs *e = &smp_vcpus[1].entry;
    const uint64_t *gpr = &e->rax;
    static const unsigned int order[] = { 1, 2, 3, 4, 5, 6, 7 }; /* rax..rbp */

    NEED(1);
    for (unsigned int i = 0; i < ARRAY_SIZE(order); i++)
        CHECKF(gpr[i] == R(order[i]), "register %u: %#lx", i, (unsigned long)gpr[i]);
    CHECK_EQ(e->rsp, (uint64_t)(smp_stack(1) + SMP_STACK_SIZE - 64));
    for (unsigned int n = 8; n <= 15; n++)
        CHECKF((&e->r8)[n - 8] == R(n), "r%u: %#lx", n, (unsigned long)(&e->r8)[n - 8]);
    INFO("rflags at entry %#lx", (unsigned long)e->rflags);
    CHECK_EQ(e->rflags & (X86_EFLAGS_IF | X86_EFLAGS_IOPL), X86_EFLAGS_IF);
    CHECK_EQ(e->cs, FLAT_KERNEL_CS);
    CHECK_EQ(e->ss, FLAT_KERNEL_SS);
    CHECK_EQ(e->ds, SMP_GDT_DS);
    CHECK_EQ(e->es, SMP_GDT_DS);
    CHECK_EQ(e->fs, 0);
}

struct cpu_state {
    uint64_t fs0, fs_base, gs_base, shadow_gs, cr0, cr3, cr4;
    long dr[8];
    uint16_t fcw;
    uint32_t mxcsr;
    uint64_t xmm0;
};

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static void read_state(struct smp_vcpu *self, void *arg)
{
    struct cpu_state *st = arg;

    __asm__ volatile("mov %%fs:0, %0" : "=r"(st->fs0));
    st->fs_base = rdmsr(MSR_FS_BASE);
    st->gs_base = rdmsr(MSR_GS_BASE);
    st->shadow_gs = rdmsr(MSR_SHADOW_GS_BASE);
    __asm__ volatile("mov %%cr0, %0" : "=r"(st->cr0));
    __asm__ volatile("mov %%cr3, %0" : "=r"(st->cr3));
    __asm__ volatile("mov %%cr4, %0" : "=r"(st->cr4));
    for (int i = 0; i < 8; i++)
        st->dr[i] = HYPERVISOR_get_debugreg(i);
    /* CR0.TS came from the context: clear it before touching the FPU. */
    HYPERVISOR_fpu_taskswitch(0);
    __asm__ volatile("fnstcw %0" : "=m"(st->fcw));
    __asm__ volatile("stmxcsr %0" : "=m"(st->mxcsr));
    __asm__ volatile("movq %%xmm0, %0" : "=r"(st->xmm0));
}

TEST(context_state)
{
    static struct cpu_state st;
    uint64_t l4 = image_mfn((const void *)start_info->pt_base);

    NEED(1);
    CHECK(smp_call(1, read_state, &st, WAIT));
    CHECK_EQ(st.fs0, fs_probe);
    CHECK_EQ(st.fs_base, (uint64_t)&fs_probe);
    CHECK_EQ(st.gs_base, (uint64_t)&smp_vcpus[1]);
    CHECK_EQ(st.shadow_gs, user_gs);
    CHECK_EQ(st.cr0 & X86_CR0_TS, X86_CR0_TS);
    CHECK_EQ(st.cr3, l4 << PAGE_SHIFT);
    CHECK_EQ(st.cr4 & X86_CR4_OSXSAVE, X86_CR4_OSXSAVE);
    CHECK_EQ(st.dr[0], 0);
    CHECK_EQ(st.dr[1], 0x1000);
    CHECK_EQ(st.dr[7], 0x400);
    INFO("dr6 %#lx", (unsigned long)st.dr[6]);
    CHECK_EQ(st.fcw, 0x027f);
    CHECK_EQ(st.mxcsr, 0x7f80);
    CHECK_EQ(st.xmm0, 0x1122334455667788UL);
}

/* The trap table came from the context too: an expected #UD comes back to us. */
static void probe_ud(struct smp_vcpu *self, void *arg)
{
    __asm__ volatile("lea 1f(%%rip), %%rax\n\t"
                     "mov %%rax, %0\n\t"
                     ".globl vcpus_ud_insn\n"
                     "vcpus_ud_insn: ud2\n"
                     "1:"
                     : "=m"(self->trap_resume)
                     :
                     : "rax", "memory");
}

TEST(context_trap_table)
{
    extern char vcpus_ud_insn[];
    struct smp_vcpu *s = &smp_vcpus[1];
    unsigned long traps;

    NEED(1);
    traps = s->traps;
    CHECK(smp_call(1, probe_ud, NULL, WAIT));
    CHECK_EQ(s->traps, traps + 1);
    CHECK_EQ(s->trap_vector, 6);
    CHECK_EQ(s->trap_rip, (uint64_t)vcpus_ud_insn);
}

/* Down from another vCPU stops it (asynchronously); up resumes it where it was. */
TEST(down_and_up)
{
    struct smp_vcpu *s = &smp_vcpus[1];
    struct vcpu_runstate_info r;
    unsigned long c1, c2;

    NEED(1);
    CHECK(spin_start(1, false));
    CHECK_EQ(vcpu_op(VCPUOP_down, 1, NULL), 0);
    CHECK_EQ(is_up(1), 0);
    CHECK(wait_runstate(1, RUNSTATE_offline, WAIT)); /* it has left its CPU */
    c1 = s->counter;
    sleep_ms(30);
    c2 = s->counter;
    CHECK_EQ(c1, c2);
    CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 1, &r), 0);
    CHECK_EQ(r.state, RUNSTATE_offline);
    CHECK_EQ(vcpu_op(VCPUOP_down, 1, NULL), 0); /* already down */
    CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), 0);
    CHECK_EQ(is_up(1), 1);
    CHECK(smp_wait_change(&s->counter, c2, WAIT));
    CHECK(spin_end());
}

/* A vCPU takes itself down; brought up, its VCPUOP_down returns 0. */
static volatile long down_rc;

static void down_self(struct smp_vcpu *self, void *arg)
{
    WRITE_ONCE(down_rc, 1);
    WRITE_ONCE(down_rc, vcpu_op(VCPUOP_down, self->id, NULL));
}

TEST(down_self)
{
    NEED(1);
    CHECK(smp_post(1, down_self, NULL, WAIT));
    CHECK(wait_down(1, WAIT));
    sleep_ms(20);
    CHECK_EQ(down_rc, 1);
    CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), 0);
    CHECK(smp_wait(1, WAIT));
    CHECK_EQ(down_rc, 0);
}

TEST(runstate_info)
{
    struct vcpu_runstate_info r;
    uint64_t t0, t1;

    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, 0, 0, 0), -EFAULT);
    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, HV_ADDR, 0, 0),
             -EFAULT);
    t0 = system_time();
    CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 0, &r), 0);
    t1 = system_time();
    CHECK_EQ(r.state, RUNSTATE_running);
    CHECK(r.state_entry_time <= t1);
    CHECK(r.time[RUNSTATE_running] > 0);

    /* vCPU 3 has been offline since it was created: its whole life is offline time. */
    t0 = system_time();
    CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 3, &r), 0);
    t1 = system_time();
    CHECK_EQ(r.state, RUNSTATE_offline);
    CHECK_EQ(r.time[RUNSTATE_running] + r.time[RUNSTATE_runnable] + r.time[RUNSTATE_blocked], 0);
    CHECKF(r.state_entry_time + r.time[RUNSTATE_offline] + SLACK >= t0 &&
               r.state_entry_time + r.time[RUNSTATE_offline] <= t1 + SLACK,
           "created at %lu + offline %lu outside [%lu, %lu]",
           (unsigned long)r.state_entry_time, (unsigned long)r.time[3], (unsigned long)t0,
           (unsigned long)t1);

    /* vCPU 1, idle, blocks waiting for work. */
    NEED(1);
    CHECK(wait_runstate(1, RUNSTATE_blocked, WAIT));
    CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 1, &r), 0);
    CHECK_EQ(r.state, RUNSTATE_blocked);
    CHECK(r.time[RUNSTATE_running] > 0 && r.time[RUNSTATE_blocked] > 0 &&
          r.time[RUNSTATE_offline] > 0);
}

static struct vcpu_runstate_info area0;

static long register_runstate(unsigned int id, uint64_t va)
{
    struct vcpu_register_runstate_memory_area a = { .addr.p = va };

    return vcpu_op(VCPUOP_register_runstate_memory_area, id, &a);
}

TEST(runstate_area_errors)
{
    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_runstate_memory_area, 0, 0, 0, 0),
             -EFAULT);
    CHECK_EQ(register_runstate(0, HV_ADDR), -EFAULT);
    CHECK_EQ(register_runstate(0, NONCANON), -EFAULT);
    CHECK_EQ(register_runstate(0, 0x8000000000000000UL), -EFAULT);
    /* Only where it starts counts, and nothing needs to be mapped there. */
    CHECK_EQ(register_runstate(0, (1UL << 47) - 8), 0);
    CHECK_EQ(register_runstate(0, 0x1000), 0);
    CHECK_EQ(register_runstate(0, 0), 0);
}

/*
 * The copy is written at once (the caller's own runstate as last accounted), then each
 * time the vCPU leaves its CPU and comes back. Within one copy state_entry_time minus
 * the sum of the times is the vCPU's creation time, whatever happened in between.
 */
TEST(runstate_area_self)
{
    struct vcpu_runstate_info r, a;
    uint64_t created, entry0;

    memset(&area0, 0xa5, sizeof(area0));
    CHECK_EQ(register_runstate(0, (uint64_t)&area0), 0);
    CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 0, &r), 0);
    a = area0;
    CHECK_EQ(a.state, RUNSTATE_running);
    CHECK_EQ(a.state_entry_time, r.state_entry_time);
    CHECK_EQ(a.time[RUNSTATE_runnable], r.time[RUNSTATE_runnable]);
    CHECK(a.time[RUNSTATE_running] <= r.time[RUNSTATE_running]);
    created = a.state_entry_time - time_sum(&a);
    entry0 = a.state_entry_time;
    CHECK(created < entry0);

    /* Sleeping 2 ms (a poll with no ports, events masked) takes it off its CPU and
     * back: each time the copy shows the new running period and the time blocked. */
    for (unsigned int i = 0; i < 5; i++) {
        uint64_t blocked = a.time[RUNSTATE_blocked];

        CHECK_EQ(poll_ports(NULL, 0, system_time() + MILLISECS(2)), 0);
        a = area0;
        CHECK_EQ(a.state, RUNSTATE_running);
        CHECK_EQ(a.state_entry_time - time_sum(&a), created);
        CHECK(a.state_entry_time > entry0);
        CHECK(a.time[RUNSTATE_blocked] >= blocked + MILLISECS(1));
        entry0 = a.state_entry_time;
    }
    /* Yielding with nothing else to run switches nothing. */
    for (unsigned int i = 0; i < 20; i++)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    INFO("after 20 yields the copy's entry time moved by %lu ns",
         (unsigned long)(area0.state_entry_time - entry0));

    /* NULL stops the copies: switches no longer write it. */
    CHECK_EQ(register_runstate(0, 0), 0);
    memset(&area0, 0x5a, sizeof(area0));
    for (unsigned int i = 0; i < 3; i++)
        CHECK_EQ(poll_ports(NULL, 0, system_time() + MILLISECS(2)), 0);
    CHECK_EQ(area0.state, (int32_t)0x5a5a5a5a);
    CHECK_EQ(area0.state_entry_time, 0x5a5a5a5a5a5a5a5aUL);
}

static struct vcpu_runstate_info area1, area3;

/* A consistent copy of another vCPU's area, by XEN_RUNSTATE_UPDATE. */
static bool read_area(volatile struct vcpu_runstate_info *p, struct vcpu_runstate_info *out,
                      unsigned long *torn)
{
    for (unsigned int tries = 0; tries < 1000000; tries++) {
        uint64_t e1 = p->state_entry_time, e2;

        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        memcpy(out, (const void *)p, sizeof(*out));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        e2 = p->state_entry_time;
        if (!(e1 & XEN_RUNSTATE_UPDATE) && e1 == e2)
            return true;
        (*torn)++;
    }
    return false;
}

TEST(runstate_area_other)
{
    struct vcpu_runstate_info a;
    uint64_t t0, t1, created;
    unsigned long torn = 0, reads = 0;
    uint64_t end;

    /* A down vCPU's copy, written by the caller with the time brought up to now. */
    memset(&area3, 0xa5, sizeof(area3));
    t0 = system_time();
    CHECK_EQ(register_runstate(3, (uint64_t)&area3), 0);
    t1 = system_time();
    CHECK_EQ(area3.state, RUNSTATE_offline);
    CHECK(area3.state_entry_time + area3.time[RUNSTATE_offline] + SLACK >= t0 &&
          area3.state_entry_time + area3.time[RUNSTATE_offline] <= t1 + SLACK);
    CHECK_EQ(register_runstate(3, 0), 0);

    /* A running vCPU's copy, read while the hypervisor updates it. */
    NEED(1);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag), 0);
    CHECK_EQ(register_runstate(1, (uint64_t)&area1), 0);
    CHECK(spin_start(1, false));
    if (started(2))
        CHECK(spin_start(2, false));
    CHECK(read_area(&area1, &a, &torn));
    created = a.state_entry_time - time_sum(&a);
    end = system_time() + MILLISECS(100);
    while (system_time() < end) {
        CHECK(read_area(&area1, &a, &torn));
        CHECKF(a.state >= RUNSTATE_running && a.state <= RUNSTATE_blocked, "state %d", a.state);
        CHECK_EQ(a.state_entry_time - time_sum(&a), created);
        reads++;
    }
    CHECK(spin_end());
    /* Blocked, it is switched out, which writes the copy (shortly after the runstate
     * changes, on Xen). */
    CHECK(wait_runstate(1, RUNSTATE_blocked, WAIT));
    end = system_time() + WAIT;
    do {
        CHECK(read_area(&area1, &a, &torn));
    } while (a.state != RUNSTATE_blocked && system_time() < end);
    CHECK_EQ(a.state, RUNSTATE_blocked);
    CHECK_EQ(a.state_entry_time & XEN_RUNSTATE_UPDATE, 0);
    INFO("%lu consistent reads of vCPU 1's copy, %lu torn", reads, torn);
    CHECK_EQ(register_runstate(1, 0), 0);
    CHECK_EQ(HYPERVISOR_vm_assist(VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag), 0);
}

/* ---- register_vcpu_info ---- */

static uint8_t vi_pages[2][4096] __aligned(4096);

static long register_vi(unsigned int id, uint64_t mfn, uint32_t offset)
{
    struct vcpu_register_vcpu_info info = { .mfn = mfn, .offset = offset };

    return vcpu_op(VCPUOP_register_vcpu_info, id, &info);
}

TEST(register_vcpu_info_errors)
{
    uint64_t mfn = image_mfn(vi_pages[0]);
    uint64_t l1 = boot_l1_slot((ulong)vi_pages[0]) >> PAGE_SHIFT;

    CHECK(l1 != 0);
    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 2, 0, 0, 0), -EFAULT);
    CHECK_EQ(register_vi(2, mfn, 4033), -ENXIO);
    CHECK_EQ(register_vi(2, mfn, 4096), -ENXIO);
    CHECK_EQ(register_vi(2, mfn, 0xffffffff), -ENXIO);
    CHECK_EQ(register_vi(2, mfn, 4), -ENXIO);
    CHECK_EQ(register_vi(2, 0, 64), -EINVAL);
    CHECK_EQ(register_vi(2, 1UL << 40, 64), -EINVAL);
    CHECK_EQ(register_vi(2, l1, 64), -EINVAL);         /* a page table */
    if (started(1)) {
        CHECK_EQ(register_vi(1, mfn, 64), -EINVAL);    /* up, and not the caller */
        CHECK_EQ(register_vi(1, mfn, 4), -ENXIO);      /* the offset goes first */
    }
}

/*
 * vCPU 2 (down) gets its vcpu_info moved before it starts: the contents go along, and
 * every event is marked pending in the new place; a second move is refused.
 */
TEST(register_vcpu_info_moves)
{
    struct vcpu_info *old = &shared_info->vcpu_info[2];
    struct vcpu_info *new = (struct vcpu_info *)(vi_pages[0] + 4032);
    evtchn_port_t port;
    uint32_t base;

    old->arch.cr2 = 0x1234;
    old->evtchn_pending_sel = 0;
    old->evtchn_upcall_pending = 0;
    CHECK_EQ(old->evtchn_upcall_mask, 1);
    memset(new, 0xee, sizeof(*new));
    CHECK_EQ(register_vi(2, image_mfn(vi_pages[0]), 4032), 0);
    CHECK_EQ(new->arch.cr2, 0x1234);
    CHECK_EQ(new->evtchn_upcall_mask, 1);
    CHECK_EQ(new->evtchn_upcall_pending, 1);
    CHECK_EQ(new->evtchn_pending_sel, ~0UL);
    CHECK_EQ(new->time.version & 1, 0);
    CHECK_EQ(register_vi(2, image_mfn(vi_pages[1]), 0), -EINVAL);
    CHECK_EQ(register_vi(2, image_mfn(vi_pages[0]), 4032), -EINVAL);

    smp_vcpus[2].vi = new;
    CHECK_EQ(smp_start(2), 0);
    /* Events for vCPU 2 now land in the new place only. */
    CHECK_EQ(smp_bind_ipi(2, &port), 0);
    old->evtchn_upcall_pending = 0;
    old->evtchn_pending_sel = 0;
    base = smp_vcpus[2].seen[port];
    CHECK_EQ(evtchn_send(port), 0);
    CHECK(wait_u32(&smp_vcpus[2].seen[port], base + 1, WAIT));
    CHECK_EQ(old->evtchn_upcall_pending, 0);
    CHECK_EQ(old->evtchn_pending_sel, 0);
    CHECK_EQ(evtchn_close(port), 0);
}

/* The caller moves its own, while up. */
struct vi_move {
    uint64_t mfn;
    uint32_t offset;
    long rc;
};

static void move_own_vi(struct smp_vcpu *self, void *arg)
{
    struct vi_move *m = arg;

    m->rc = register_vi(self->id, m->mfn, m->offset);
    if (!m->rc)
        self->vi = (struct vcpu_info *)(vi_pages[1] + m->offset);
}

TEST(register_vcpu_info_self)
{
    static struct vi_move m;
    struct vcpu_info *new = (struct vcpu_info *)(vi_pages[1] + 128);
    uint32_t before;

    NEED(1);
    m = (struct vi_move){ .mfn = image_mfn(vi_pages[1]), .offset = 128, .rc = 1 };
    CHECK(smp_call(1, move_own_vi, &m, WAIT));
    CHECK_EQ(m.rc, 0);
    CHECK(smp_vcpus[1].vi == new);
    CHECK_EQ(new->time.version & 1, 0);
    /* The kick for the next work arrives there, and the work runs. */
    before = smp_vcpus[1].seen[smp_vcpus[1].kick_port];
    CHECK(smp_call(1, move_own_vi, &m, WAIT));
    CHECK_EQ(m.rc, -EINVAL);
    CHECK(wait_u32(&smp_vcpus[1].seen[smp_vcpus[1].kick_port], before + 1, WAIT));
}

/*
 * VGCF_online: the vCPU is up at once but not woken, so it does not run, and
 * VCPUOP_up finds it up already and does not wake it either. A down and an up do.
 */
TEST(initialise_online)
{
    struct smp_vcpu *s = &smp_vcpus[3];

    smp_context(&ctx, 3);
    ctx.flags |= VGCF_online;
    CHECK_EQ(smp_initialise(3, &ctx), 0);
    CHECK_EQ(is_up(3), 1);
    sleep_ms(30);
    CHECK_EQ(s->started, 0);
    CHECK_EQ(vcpu_op(VCPUOP_up, 3, NULL), 0);
    sleep_ms(30);
    CHECK_EQ(s->started, 0);
    CHECK_EQ(vcpu_op(VCPUOP_down, 3, NULL), 0);
    CHECK_EQ(is_up(3), 0);
    CHECK_EQ(vcpu_op(VCPUOP_up, 3, NULL), 0);
    CHECK(smp_wait_change(&s->started, 0, WAIT));
}

/* ---- events between vCPUs ---- */

TEST(ipi_to_blocked_vcpu)
{
    struct vcpu_info *vi0 = &shared_info->vcpu_info[0];
    struct evtchn_status st;
    evtchn_port_t port;
    uint32_t base;

    NEED(1);
    CHECK_EQ(smp_bind_ipi(1, &port), 0);
    CHECK_EQ(evtchn_status(DOMID_SELF, port, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    CHECK_EQ(st.vcpu, 1);
    vi0->evtchn_upcall_pending = 0;
    vi0->evtchn_pending_sel = 0;
    base = smp_vcpus[1].seen[port];
    for (uint32_t n = 1; n <= 10; n++) {
        CHECK_EQ(evtchn_send(port), 0);
        CHECK(wait_u32(&smp_vcpus[1].seen[port], base + n, WAIT));
    }
    CHECK_EQ(vi0->evtchn_upcall_pending, 0);
    CHECK_EQ(vi0->evtchn_pending_sel, 0);
    CHECK_EQ(evtchn_close(port), 0);
}

/* The target runs (events unmasked) on the other CPU: the IPI interrupts it. */
TEST(ipi_to_running_vcpu)
{
    evtchn_port_t port;
    unsigned long c;
    uint32_t base;

    NEED(1);
    CHECK_EQ(smp_bind_ipi(1, &port), 0);
    base = smp_vcpus[1].seen[port];
    CHECK(spin_start(1, true));
    for (uint32_t n = 1; n <= 10; n++) {
        CHECK_EQ(evtchn_send(port), 0);
        CHECK(wait_u32(&smp_vcpus[1].seen[port], base + n, WAIT));
    }
    c = smp_vcpus[1].counter;
    CHECK(smp_wait_change(&smp_vcpus[1].counter, c, WAIT)); /* still spinning */
    CHECK(spin_end());
    CHECK_EQ(evtchn_close(port), 0);
}

/* An interdomain (loopback) port moved from vCPU to vCPU with bind_vcpu. */
TEST(bind_vcpu)
{
    struct evtchn_status st;
    evtchn_port_t a, b;
    uint32_t seen1, seen2;

    NEED(1);
    NEED(2);
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a), 0);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, a, &b), 0);
    CHECK(a < SMP_PORTS);
    port_clear_pending(a);
    port_clear_pending(b);
    seen1 = smp_vcpus[1].seen[a];
    seen2 = smp_vcpus[2].seen[a];
    smp_port_owner[a] = 2;
    CHECK_EQ(evtchn_bind_vcpu(a, 2), 0);
    CHECK_EQ(evtchn_send(b), 0);
    CHECK(wait_u32(&smp_vcpus[2].seen[a], seen2 + 1, WAIT));
    smp_port_owner[a] = 1;
    CHECK_EQ(evtchn_bind_vcpu(a, 1), 0);
    CHECK_EQ(evtchn_status(DOMID_SELF, a, &st), 0);
    CHECK_EQ(st.vcpu, 1);
    CHECK_EQ(evtchn_send(b), 0);
    CHECK(wait_u32(&smp_vcpus[1].seen[a], seen1 + 1, WAIT));
    CHECK_EQ(smp_vcpus[2].seen[a], seen2 + 1);
    CHECK_EQ(evtchn_bind_vcpu(a, NR_VCPUS), -ENOENT);
    smp_port_owner[a] = SMP_NO_OWNER;
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
}

/* An event for a vCPU that is down waits in its vcpu_info and arrives once it is up. */
TEST(event_to_down_vcpu)
{
    struct smp_vcpu *s = &smp_vcpus[3];
    evtchn_port_t port;
    uint32_t base;

    NEED(3);
    CHECK_EQ(smp_bind_ipi(3, &port), 0);
    base = s->seen[port];
    CHECK(wait_runstate(3, RUNSTATE_blocked, WAIT)); /* idle, events unmasked */
    CHECK_EQ(vcpu_op(VCPUOP_down, 3, NULL), 0);
    CHECK(wait_down(3, WAIT));
    CHECK_EQ(evtchn_send(port), 0);
    sleep_ms(30);
    CHECK_EQ(s->seen[port], base);
    CHECK(port_pending(port));
    CHECK_EQ(s->vi->evtchn_upcall_pending, 1);
    CHECK_EQ(vcpu_op(VCPUOP_up, 3, NULL), 0);
    CHECK(wait_u32(&s->seen[port], base + 1, WAIT));
    CHECK_EQ(evtchn_close(port), 0);
}

/* SCHEDOP_poll on one CPU ended by a send from another. */
struct poll_job {
    evtchn_port_t port;
    long rc;
    uint64_t took;
};

static void poll_one(struct smp_vcpu *self, void *arg)
{
    struct poll_job *j = arg;
    uint64_t t0 = smp_time();

    j->rc = poll_ports(&j->port, 1, t0 + SECONDS(2));
    j->took = smp_time() - t0;
}

TEST(poll_across_cpus)
{
    static struct poll_job j;
    evtchn_port_t a, b;

    NEED(1);
    CHECK_EQ(evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a), 0);
    CHECK_EQ(evtchn_bind_interdomain(DOMID_SELF, a, &b), 0);
    port_clear_pending(a);
    port_clear_pending(b);
    j = (struct poll_job){ .port = a, .rc = 1 };
    CHECK(smp_post(1, poll_one, &j, WAIT));
    sleep_ms(20);
    CHECK_EQ(evtchn_send(b), 0);
    CHECK(smp_wait(1, SECONDS(3)));
    CHECK_EQ(j.rc, 0);
    INFO("poll ended after %lu us", (unsigned long)(j.took / 1000));
    CHECK(j.took < MILLISECS(1000));
    CHECK_EQ(evtchn_close(a), 0);
    CHECK_EQ(evtchn_close(b), 0);
}

/* ---- NMIs ---- */

static void nmi_self(void *arg)
{
    vcpu_op(VCPUOP_send_nmi, 0, NULL);
}

TEST(nmi_self)
{
    struct trap_record r;

    CHECK_EQ(vcpu_op(VCPUOP_send_nmi, 0, (void *)1), -EINVAL);
    CHECK_EQ(vcpu_op(VCPUOP_send_nmi, 0, scratch_page), -EINVAL);
    for (int i = 0; i < 2; i++) {
        CHECK_TRAP(catch_trap(nmi_self, NULL, &r), r, 2);
        CHECK_EQ(r.cs & 3, 0);
    }
}

TEST(nmi_other)
{
    struct smp_vcpu *s = &smp_vcpus[1];
    unsigned long n;

    NEED(1);
    n = s->nmis;
    CHECK_EQ(vcpu_op(VCPUOP_send_nmi, 1, NULL), 0); /* blocked: woken for it */
    CHECK(smp_wait_change(&s->nmis, n, WAIT));
    CHECK(spin_start(1, false));
    n = s->nmis;
    CHECK_EQ(vcpu_op(VCPUOP_send_nmi, 1, NULL), 0); /* running on the other CPU */
    CHECK(smp_wait_change(&s->nmis, n, WAIT));
    CHECK(spin_end());
    /* Down: kept pending until it is up again. */
    CHECK_EQ(vcpu_op(VCPUOP_down, 1, NULL), 0);
    CHECK(wait_down(1, WAIT));
    CHECK(wait_runstate(1, -1, WAIT));
    n = s->nmis;
    CHECK_EQ(vcpu_op(VCPUOP_send_nmi, 1, NULL), 0);
    sleep_ms(20);
    CHECK_EQ(s->nmis, n);
    CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL), 0);
    CHECK(smp_wait_change(&s->nmis, n, WAIT));
    CHECK_EQ(s->parked, 0);
}

/* Only a hardware domain's pinned vCPUs have a physical id. */
TEST(get_physid)
{
    struct vcpu_get_physid p = { .phys_id = 77 };

    CHECK_EQ(vcpu_op(VCPUOP_get_physid, 0, &p), -EINVAL);
    CHECK_EQ(p.phys_id, 77);
    CHECK_EQ(vcpu_op(VCPUOP_get_physid, 0, NULL), -EINVAL);
}

static long pin_override(int32_t pcpu)
{
    struct sched_pin_override p = { .pcpu = pcpu };

    return HYPERVISOR_sched_op(SCHEDOP_pin_override, &p);
}

/*
 * SCHEDOP_pin_override: the hardware domain pins the vCPU it runs on to one CPU and
 * lets go again. While pinned it has a physical id, and (Xen's way) the id is that of
 * the CPU numbered like the vCPU, CPU 0 for vCPU 0, not of the CPU it is pinned to.
 */
TEST(pin_override)
{
    struct vcpu_get_physid p = { .phys_id = 77 };
    uint64_t t;

    if (!(start_info->flags & SIF_INITDOMAIN)) {
        CHECK_EQ(pin_override(1), -EPERM);
        return;
    }
    CHECK_EQ(HYPERVISOR_sched_op(SCHEDOP_pin_override, NULL), -EFAULT);
    CHECK_EQ(pin_override(-1), -EINVAL);    /* nothing to undo */
    CHECK_EQ(pin_override(2), -EINVAL);     /* -smp 2: no CPU 2 */
    CHECK_EQ(pin_override(100000), -EINVAL);
    CHECK_EQ(pin_override(1), 0);
    CHECK_EQ(pin_override(0), -EBUSY);      /* one override at a time */
    CHECK_EQ(vcpu_op(VCPUOP_get_physid, 0, &p), 0);
    INFO("pinned to CPU 1: vCPU 0's physical id %#lx", (unsigned long)p.phys_id);
    CHECK_EQ(p.phys_id, 0);                 /* CPU 0's APIC and ACPI ids, both 0 */
    CHECK_EQ(vcpu_op(VCPUOP_get_physid, 0, NULL), -EFAULT);
    CHECK_EQ(vcpu_op(VCPUOP_get_physid, 1, &p), -EINVAL); /* vCPU 1 is not pinned */
    t = system_time();                      /* still running, on CPU 1 now */
    sleep_ms(5);
    CHECK(system_time() > t);
    CHECK_EQ(pin_override(-1), 0);
    CHECK_EQ(pin_override(-1), -EINVAL);
    p.phys_id = 77;
    CHECK_EQ(vcpu_op(VCPUOP_get_physid, 0, &p), -EINVAL);
    CHECK_EQ(p.phys_id, 77);
}

/* ---- the time record's copy ---- */

static struct vcpu_time_info time_copy;

static long register_time(unsigned int id, uint64_t va)
{
    struct vcpu_register_time_memory_area a = { .addr.p = va };

    return vcpu_op(VCPUOP_register_vcpu_time_memory_area, id, &a);
}

TEST(time_area)
{
    const volatile struct vcpu_time_info *t = &shared_info->vcpu_info[0].time;
    struct vcpu_time_info a, p;
    bool same = false;

    CHECK_EQ(hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, 0, 0, 0),
             -EFAULT);
    CHECK_EQ(register_time(0, HV_ADDR), -EFAULT);
    CHECK_EQ(register_time(0, NONCANON), -EFAULT);
    for (int tries = 0; tries < 10 && !same; tries++) {
        memset(&time_copy, 0, sizeof(time_copy));
        CHECK_EQ(register_time(0, (uint64_t)&time_copy), 0);
        a = time_copy;
        memcpy(&p, (const void *)t, sizeof(p));
        same = !memcmp(&a, &p, sizeof(a));
    }
    CHECKF(same, "copy version %u system_time %lu, record version %u system_time %lu",
           a.version, (unsigned long)a.system_time, p.version, (unsigned long)p.system_time);
    CHECK_EQ(a.version & 1, 0);
    CHECK(a.tsc_to_system_mul != 0);
    CHECK_EQ(register_time(0, 0), 0);
}

/* ---- all vCPUs at once ---- */

/*
 * Three vCPUs spin and vCPU 0 spins too (without hypercalls), on two CPUs: each must
 * get CPU time, and advance within 3 s (window by window of 100 ms; the longest run of
 * windows without progress is shown).
 */
TEST(all_vcpus_progress)
{
    struct vcpu_runstate_info r0[NR_VCPUS], r1;
    unsigned long start[NR_VCPUS], mine = 0;
    unsigned int windows = 0, moved = 0, longest_stall[NR_VCPUS] = { 0 }, stall[NR_VCPUS] = { 0 };
    uint64_t deadline = system_time() + SECONDS(3);

    for (unsigned int id = 1; id < NR_VCPUS; id++)
        NEED(id);
    for (unsigned int id = 1; id < NR_VCPUS; id++) {
        CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, id, &r0[id]), 0);
        CHECK(spin_start(id, false));
        start[id] = smp_vcpus[id].counter;
    }
    while (moved != ((1U << NR_VCPUS) - 2) && system_time() < deadline) {
        unsigned long before[NR_VCPUS];
        uint64_t end = system_time() + MILLISECS(100);

        for (unsigned int id = 1; id < NR_VCPUS; id++)
            before[id] = smp_vcpus[id].counter;
        while (system_time() < end)
            mine++;
        windows++;
        for (unsigned int id = 1; id < NR_VCPUS; id++) {
            if (smp_vcpus[id].counter != start[id])
                moved |= 1U << id;
            stall[id] = smp_vcpus[id].counter == before[id] ? stall[id] + 1 : 0;
            longest_stall[id] = MAX(longest_stall[id], stall[id]);
        }
    }
    CHECK(spin_end());
    for (unsigned int id = 1; id < NR_VCPUS; id++) {
        CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, id, &r1), 0);
        INFO("vCPU %u: %lu ms running, %lu ms runnable, %lu ms blocked, longest stall %u00 ms",
             id, (unsigned long)((r1.time[0] - r0[id].time[0]) / 1000000),
             (unsigned long)((r1.time[1] - r0[id].time[1]) / 1000000),
             (unsigned long)((r1.time[2] - r0[id].time[2]) / 1000000), longest_stall[id]);
    }
    CHECKF(moved == (1U << NR_VCPUS) - 2, "after %u windows only vCPUs %#x moved", windows, moved);
    CHECK(mine > 0);
}

/*
 * System time read on all vCPUs at once: each vCPU compares its reading with its own
 * previous one and with the last one any vCPU published (read first, so taken
 * earlier), then publishes its own. Only records with XEN_PVCLOCK_TSC_STABLE_BIT
 * promise that neither goes back. Xen 4.17 does not set it here, and both did go back
 * (a vCPU's own clock too, after it moved to the other CPU), by up to 4 ms: without
 * the flag only a gross error is refused.
 */
#define CLOCK_BOUND MILLISECS(50)
static volatile uint64_t last_seen;
static volatile unsigned long backwards, own_backwards;
static volatile uint64_t worst, own_worst;

static void clock_check(uint64_t now_fn(void), uint64_t duration)
{
    uint64_t end = now_fn() + duration, mine = 0;

    for (;;) {
        uint64_t last = __atomic_load_n(&last_seen, __ATOMIC_SEQ_CST);
        uint64_t now = now_fn();

        if (now < mine) {
            __atomic_fetch_add(&own_backwards, 1, __ATOMIC_SEQ_CST);
            if (mine - now > own_worst)
                own_worst = mine - now;
        }
        mine = now;
        if (now < last) {
            __atomic_fetch_add(&backwards, 1, __ATOMIC_SEQ_CST);
            if (last - now > worst)
                worst = last - now;
        }
        while (last < now && !__atomic_compare_exchange_n(&last_seen, &last, now, false,
                                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            ;
        if (now > end)
            return;
    }
}

static void clock_work(struct smp_vcpu *self, void *arg)
{
    clock_check(smp_time, MILLISECS(200));
}

TEST(time_across_vcpus)
{
    bool stable = shared_info->vcpu_info[0].time.flags & XEN_PVCLOCK_TSC_STABLE_BIT;

    for (unsigned int id = 1; id < NR_VCPUS; id++)
        NEED(id);
    for (unsigned int id = 1; id < NR_VCPUS; id++)
        CHECK(smp_post(id, clock_work, NULL, WAIT));
    clock_check(system_time, MILLISECS(200));
    for (unsigned int id = 1; id < NR_VCPUS; id++)
        CHECK(smp_wait(id, SECONDS(2)));
    INFO("records %s TSC_STABLE; %lu readings behind another vCPU's (at most %lu ns), "
         "%lu behind the vCPU's own (at most %lu ns)", stable ? "with" : "without",
         backwards, (unsigned long)worst, own_backwards, (unsigned long)own_worst);
    if (stable) {
        CHECK_EQ(backwards, 0);
        CHECK_EQ(own_backwards, 0);
    }
    CHECK(worst < CLOCK_BOUND && own_worst < CLOCK_BOUND);
}

/* ---- cross-CPU work from exception handlers ---- */

static uint8_t l4_pages[NR_VCPUS][4096] __aligned(4096);

struct cr3_job {
    unsigned int rounds;
    long rc;
};

/*
 * p (a page of the image, mapped writable) becomes a copy of the bootstrap L4, is mapped
 * read-only and loaded with a mov to %cr3: emulated from the #GP, and as the frame turns
 * from writable into an L4 every CPU that may hold the domain's translations flushes
 * its TLB, by IPI. Then back to the bootstrap L4, and p writable again.
 */
static long cr3_round(uint8_t *p)
{
    uint64_t boot = image_mfn((const void *)start_info->pt_base) << PAGE_SHIFT;
    uint64_t mine = image_mfn(p) << PAGE_SHIFT, leaf;
    int level;
    long rc;

    if (!pt_lookup((ulong)p, &leaf, &level) || level != 1)
        return -EFAULT;
    memcpy(p, (const void *)start_info->pt_base, 4096);
    rc = HYPERVISOR_update_va_mapping((ulong)p, leaf & ~_PAGE_RW, UVMF_INVLPG | UVMF_LOCAL);
    if (rc)
        return rc;
    __asm__ volatile("mov %0, %%cr3" ::"r"(mine) : "memory");
    __asm__ volatile("mov %0, %%cr3" ::"r"(boot) : "memory");
    return HYPERVISOR_update_va_mapping((ulong)p, leaf | _PAGE_RW | _PAGE_DIRTY,
                                       UVMF_INVLPG | UVMF_LOCAL);
}

static void cr3_work(struct smp_vcpu *self, void *arg)
{
    struct cr3_job *j = arg;

    for (j->rounds = 0; j->rounds < 200 && !j->rc; j->rounds++)
        j->rc = cr3_round(l4_pages[self->id]);
}

/* Both CPUs flushing each other at once, each from a guest's fault: neither may wait
 * for the other with interrupts off. */
TEST(cr3_loads_on_two_vcpus)
{
    static struct cr3_job j1;
    unsigned int mine;
    long rc = 0;

    NEED(1);
    j1 = (struct cr3_job){ 0 };
    CHECK(smp_post(1, cr3_work, &j1, WAIT));
    for (mine = 0; mine < 200 && !rc; mine++)
        rc = cr3_round(l4_pages[0]);
    CHECK_EQ(rc, 0);
    CHECK(smp_wait(1, 5 * WAIT));
    CHECK_EQ(j1.rc, 0);
    CHECK_EQ(j1.rounds, 200);
    CHECK_EQ(smp_vcpus[1].parked, 0);
}

/* ---- TLB flushes reaching a vCPU on another CPU ---- */

static uint8_t tlb_other[4096] __aligned(4096);
static volatile unsigned long tlb_round, tlb_ack, tlb_reading;
static volatile uint64_t tlb_seen;

/* Keeps reading through scratch_page; after each new round (from 0), reports one more
 * read. */
static void tlb_reader(struct smp_vcpu *self, void *arg)
{
    unsigned long done = 0;

    WRITE_ONCE(tlb_reading, 1);
    while (!READ_ONCE(tlb_stop)) {
        uint64_t v = *(volatile uint64_t *)scratch_page;
        unsigned long r = __atomic_load_n(&tlb_round, __ATOMIC_ACQUIRE);

        if (r != done) {
            WRITE_ONCE(tlb_seen, *(volatile uint64_t *)scratch_page);
            __atomic_store_n(&tlb_ack, r, __ATOMIC_RELEASE);
            done = r;
        }
        (void)v;
    }
}

enum flush_how { VA_FLUSH_ALL, VA_INVLPG_ALL, VA_FLUSH_MASK, EXT_FLUSH_MULTI, EXT_INVLPG_MULTI,
                 EXT_FLUSH_ALL, NO_FLUSH };

static uint64_t vcpu1_mask = 1UL << 1;

/* scratch_page to frame mfn, with the flush asked for. */
static long remap(uint64_t mfn, enum flush_how how)
{
    ulong va = (ulong)scratch_page;
    uint64_t pte = (mfn << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    uint64_t slot = boot_l1_slot(va);
    struct mmu_update u = { .ptr = slot, .val = pte };
    struct mmuext_op op = { 0 };
    long rc;

    switch (how) {
    case VA_FLUSH_ALL:
        return HYPERVISOR_update_va_mapping(va, pte, UVMF_TLB_FLUSH | UVMF_ALL);
    case VA_INVLPG_ALL:
        return HYPERVISOR_update_va_mapping(va, pte, UVMF_INVLPG | UVMF_ALL);
    case VA_FLUSH_MASK:
        return HYPERVISOR_update_va_mapping(va, pte, UVMF_TLB_FLUSH | (ulong)&vcpu1_mask);
    default:
        break;
    }
    rc = HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
    if (rc || how == NO_FLUSH)
        return rc;
    op.cmd = how == EXT_FLUSH_MULTI ? MMUEXT_TLB_FLUSH_MULTI
             : how == EXT_INVLPG_MULTI ? MMUEXT_INVLPG_MULTI : MMUEXT_TLB_FLUSH_ALL;
    op.arg1.linear_addr = va;
    enso_set_guest_handle(op.arg2.vcpumask, &vcpu1_mask);
    return HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/* Switch the frame under vCPU 1's reads `rounds` times; false if it ever read stale. */
static bool tlb_rounds(enum flush_how how, unsigned int rounds, unsigned int *stale)
{
    const uint64_t a = image_mfn(scratch_page), b = image_mfn(tlb_other);

    for (unsigned int i = 0; i < rounds; i++) {
        bool to_b = !(READ_ONCE(tlb_round) & 1);
        unsigned long r = tlb_round + 1;
        uint64_t end;

        long rc = remap(to_b ? b : a, how);

        if (rc) {
            test_info("round %lu: remapping returned %ld", r, rc);
            return false;
        }
        __atomic_store_n(&tlb_round, r, __ATOMIC_RELEASE);
        end = system_time() + 2 * WAIT;
        while (__atomic_load_n(&tlb_ack, __ATOMIC_ACQUIRE) != r) {
            if (system_time() > end) {
                struct smp_vcpu *s = &smp_vcpus[1];
                struct vcpu_runstate_info rs;

                vcpu_op(VCPUOP_get_runstate_info, 1, &rs);
                test_info("round %lu: no answer from vCPU 1 (ack %lu, up %ld, state %d, work "
                          "%p, done %lu, upcalls %lu, pending %u mask %u, kicks seen %u)", r,
                          tlb_ack, is_up(1), rs.state, (void *)s->work, s->done, s->upcalls,
                          s->vi->evtchn_upcall_pending, s->vi->evtchn_upcall_mask,
                          s->seen[s->kick_port]);
                return false;
            }
        }
        if (tlb_seen != (to_b ? 0xbbbbbbbbbbbbbbbbUL : 0xaaaaaaaaaaaaaaaaUL))
            (*stale)++;
    }
    return true;
}

static void tlb_test(enum flush_how how)
{
    unsigned int stale = 0;

    NEED(1);
    memset(scratch_page, 0xaa, sizeof(scratch_page));
    memset(tlb_other, 0xbb, sizeof(tlb_other));
    WRITE_ONCE(tlb_stop, 0);
    tlb_round = tlb_ack = tlb_reading = 0;
    CHECK(smp_post(1, tlb_reader, NULL, WAIT));
    CHECK(smp_wait_change(&tlb_reading, 0, WAIT));
    sleep_ms(2); /* reading for a while: the old translation is cached */
    CHECK(tlb_rounds(how, 20, &stale));
    WRITE_ONCE(tlb_stop, 1);
    CHECK(smp_wait(1, WAIT));
    scratch_restore();
    if (how == NO_FLUSH) {
        INFO("without a flush vCPU 1 read the old frame %u times in 20", stale);
        return;
    }
    CHECK_EQ(stale, 0);
}

TEST(tlb_update_va_mapping_flush_all) { tlb_test(VA_FLUSH_ALL); }
TEST(tlb_update_va_mapping_invlpg_all) { tlb_test(VA_INVLPG_ALL); }
TEST(tlb_update_va_mapping_vcpumask) { tlb_test(VA_FLUSH_MASK); }
TEST(tlb_mmuext_flush_multi) { tlb_test(EXT_FLUSH_MULTI); }
TEST(tlb_mmuext_invlpg_multi) { tlb_test(EXT_INVLPG_MULTI); }
TEST(tlb_mmuext_flush_all) { tlb_test(EXT_FLUSH_ALL); }
TEST(tlb_no_flush_info) { tlb_test(NO_FLUSH); }

/*
 * ---- update_va_mapping racing a change of use of the L1 it writes ----
 * vCPU 1 keeps mapping a data frame at RACE_VA; vCPU 0 keeps hooking a frame in as the
 * L1 for RACE_VA, unhooking it, and pinning it as an L2. A hypervisor that finds the
 * L1 by a walk and writes to it without holding it as an L1 can put vCPU 1's entry
 * into the frame after it has become an L2 (a table the guest would then control).
 */
#define RACE_VA (GUEST_VIRT_BASE + (512UL << 20))
#define RACE_ROUNDS 3000

static volatile unsigned long race_stop, race_ok, race_einval, race_other;
static volatile long race_other_rc;

static void race_mapper(struct smp_vcpu *self, void *arg)
{
    uint64_t pte = *(uint64_t *)arg;

    (void)self;
    while (!READ_ONCE(race_stop)) {
        long rc = HYPERVISOR_update_va_mapping(RACE_VA, pte, 0);
        if (rc == 0)
            race_ok++;
        else if (rc == -EINVAL)
            race_einval++;
        else {
            race_other_rc = rc;
            race_other++;
        }
    }
}

/* The boot L2 covering RACE_VA, and the index of RACE_VA's entry in it. */
static uint64_t race_l2(unsigned int *idx)
{
    const uint64_t *l4 = (const uint64_t *)start_info->pt_base;
    uint64_t l3 = PTE_MFN(l4[(RACE_VA >> 39) & 511]);
    uint64_t l3e = pt_read(l3, (RACE_VA >> 30) & 511);

    scratch_restore();
    *idx = (RACE_VA >> 21) & 511;
    return (l3e & _PAGE_PRESENT) ? PTE_MFN(l3e) : 0;
}

/*
 * Zeroes entry 0 of frame mfn through a writable mapping, which holds off any use as a
 * table meanwhile. Retried while vCPU 1 may still hold the frame as an L1 for a moment.
 */
static long race_clear(uint64_t mfn)
{
    long rc = -EBUSY;

    for (unsigned int i = 0; i < 100000 && rc; i++)
        rc = scratch_map(mfn, _PAGE_RW | _PAGE_DIRTY);
    if (!rc)
        ((volatile uint64_t *)scratch_page)[0] = 0;
    scratch_restore();
    return rc;
}

TEST(update_va_mapping_races_table_reuse)
{
    static uint64_t pte;
    uint64_t t = frame_alloc(), data = frame_alloc(), l2, stray = 0;
    unsigned int idx, round;
    const char *step = "";
    long rc = 0;

    NEED(1);
    CHECK(t && data);
    l2 = race_l2(&idx);
    CHECK(l2);
    CHECK_EQ(pt_read(l2, idx), 0); /* nothing mapped at RACE_VA yet */
    scratch_restore();
    pte = (data << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    race_stop = race_ok = race_einval = race_other = 0;
    CHECK(smp_post(1, race_mapper, &pte, WAIT));
    for (round = 0; round < RACE_ROUNDS && !rc && !stray; round++) {
        step = "hooking it as the L1";
        if ((rc = pt_set(l2, idx, (t << PAGE_SHIFT) | PTE_TABLE)))
            break;
        for (volatile unsigned int spin = 0; spin < (round & 63) * 8; spin++)
            ;
        step = "unhooking it";
        if ((rc = pt_set(l2, idx, 0)))
            break;
        step = "clearing entry 0";
        if ((rc = race_clear(t)))
            break;
        /* Nothing can write the frame now: a failure here means an entry came after all. */
        step = "pinning it as an L2";
        if ((rc = pt_pin(2, t)))
            break;
        stray = pt_read(t, 0); /* pinned as an L2 with entry 0 cleared: must stay 0 */
        scratch_restore();
        step = "unpinning it";
        rc = pt_unpin(t);
    }
    WRITE_ONCE(race_stop, 1);
    CHECK(smp_wait(1, WAIT));
    INFO("%u rounds: vCPU 1 mapped %lu times, refused %lu times", round, race_ok,
         race_einval);
    CHECKF(!stray, "round %u: an entry %#lx appeared in the frame pinned as an L2", round,
           stray);
    CHECKF(!rc, "round %u: %s returned %ld", round, step, rc);
    CHECKF(!race_other, "update_va_mapping returned %ld", race_other_rc);
    CHECK(race_ok > 0);
    CHECK(race_einval > 0);
    frame_free(t);
    frame_free(data);
}

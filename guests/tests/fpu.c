/*
 * The FPU and SSE state of a PV vCPU: the virtual CR0.TS that fpu_taskswitch sets,
 * the #NM it causes (whose delivery clears it again), and the x87 stack, XMM
 * registers and MXCSR staying what the guest left through yields, hypercalls, traps
 * and the #NM path.
 *
 * The guest is built without SSE, so all of it is assembly: fpu_load() fills the x87
 * stack, FCW, MXCSR and XMM0-15 from a struct fpu_image, fpu_save() takes an fxsave
 * image. C code in between never touches those registers.
 */
#include <guest/test.h>

#define X86_CR0_TS 8UL

struct fpu_image {
    uint8_t st[8][16];   /* 80-bit values in the low 10 bytes, pushed st[0] first */
    uint8_t xmm[16][16];
    uint32_t mxcsr;
    uint16_t fcw;
};

/* The fxsave layout: the parts compared. */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST 32
#define FX_XMM 160

void fpu_load(const struct fpu_image *img);
void fpu_save(uint8_t *fx);

__asm__(".pushsection .text\n"
        ".globl fpu_load\n"
        "fpu_load:\n\t"
        "fninit\n\t"
        "fldcw 16*8+16*16+4(%rdi)\n\t"
        "fldt 0*16(%rdi)\n\tfldt 1*16(%rdi)\n\tfldt 2*16(%rdi)\n\tfldt 3*16(%rdi)\n\t"
        "fldt 4*16(%rdi)\n\tfldt 5*16(%rdi)\n\tfldt 6*16(%rdi)\n\tfldt 7*16(%rdi)\n\t"
        "ldmxcsr 16*8+16*16(%rdi)\n\t"
        "lea 16*8(%rdi), %rax\n\t"
        "movdqu 0*16(%rax), %xmm0\n\tmovdqu 1*16(%rax), %xmm1\n\t"
        "movdqu 2*16(%rax), %xmm2\n\tmovdqu 3*16(%rax), %xmm3\n\t"
        "movdqu 4*16(%rax), %xmm4\n\tmovdqu 5*16(%rax), %xmm5\n\t"
        "movdqu 6*16(%rax), %xmm6\n\tmovdqu 7*16(%rax), %xmm7\n\t"
        "movdqu 8*16(%rax), %xmm8\n\tmovdqu 9*16(%rax), %xmm9\n\t"
        "movdqu 10*16(%rax), %xmm10\n\tmovdqu 11*16(%rax), %xmm11\n\t"
        "movdqu 12*16(%rax), %xmm12\n\tmovdqu 13*16(%rax), %xmm13\n\t"
        "movdqu 14*16(%rax), %xmm14\n\tmovdqu 15*16(%rax), %xmm15\n\t"
        "ret\n"
        ".globl fpu_save\n"
        "fpu_save:\n\t"
        "fxsaveq (%rdi)\n\t"
        "ret\n"
        ".popsection\n");

_Static_assert(__builtin_offsetof(struct fpu_image, xmm) == 16 * 8, "xmm");
_Static_assert(__builtin_offsetof(struct fpu_image, mxcsr) == 16 * 8 + 16 * 16, "mxcsr");
_Static_assert(__builtin_offsetof(struct fpu_image, fcw) == 16 * 8 + 16 * 16 + 4, "fcw");


PROBE(sse, INSN(sse) "movaps %xmm0, %xmm0\n\t" END(sse) "nop");
PROBE(x87, INSN(x87) "fnop\n\t" END(x87) "nop");
PROBE(fwait, INSN(fwait) "fwait\n\t" END(fwait) "nop");
PROBE(mmx, INSN(mmx) "movq %mm0, %mm0\n\t" END(mmx) "emms");
PROBE(stmxcsr, INSN(stmxcsr) "stmxcsr (%rdi)\n\t" END(stmxcsr) "nop");
PROBE(fxsave, INSN(fxsave) "fxsaveq (%rdi)\n\t" END(fxsave) "nop");
PROBE(read_cr0, INSN(read_cr0) "mov %cr0, %rax\n\t" END(read_cr0) "mov %rax, (%rdi)");
PROBE(write_cr0, "mov (%rdi), %rax\n\t" INSN(write_cr0) "mov %rax, %cr0\n\t"
                 END(write_cr0) "nop");
PROBE(clts, INSN(clts) "clts\n\t" END(clts) "nop");
PROBE(ud2, INSN(ud2) "ud2\n\t" END(ud2) "nop");
PROBE(fninit, "fninit\n\tmovl $0x1f80, -4(%rsp)\n\tldmxcsr -4(%rsp)");

#define CHECK_RIP(rec, label)                                                          \
    CHECKF((rec).rip == (uint64_t)(label), "rip %#lx, expected %s (%#lx)",            \
           (unsigned long)(rec).rip, #label, (unsigned long)(label))

/* The virtual CR0 (mov from cr0 is emulated), ~0 if that trapped. */
static uint64_t cr0(void)
{
    uint64_t v = 0;
    struct trap_record r;

    if (RUN(read_cr0, &v, &r))
        return ~0UL;
    return v;
}

static bool ts(void)
{
    return cr0() & X86_CR0_TS;
}

static void yield(unsigned int n)
{
    while (n--)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

/* ---- CR0.TS and #NM ---- */

TEST(taskswitch_sets_and_clears_ts)
{
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK(!ts());
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK(ts());
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK(!ts());
    /* Any non-zero argument sets it. */
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(2), 0);
    CHECK(ts());
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(-1), 0);
    CHECK(ts());
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK(!ts());
}

/*
 * With TS set, the first FPU instruction raises #NM (a fault: rip at it, no error
 * code, kernel-mode frame); delivering it clears the virtual TS, so the retry runs.
 */
static void nm_once(void (*fn)(void *), const char *insn, void *arg)
{
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK(ts());
    CHECK_TRAP(catch_trap(fn, arg, &r), r, 7);
    CHECKF(r.rip == (uint64_t)insn, "rip %#lx, expected %#lx", (unsigned long)r.rip,
           (unsigned long)insn);
    CHECK_EQ(r.error, 0);
    CHECK_EQ(r.cs & 0xffff, FLAT_KERNEL_CS & ~3);
    CHECK(!ts());
    CHECK_NO_TRAP(catch_trap(fn, arg, &r), r);
    CHECK(!ts());
}

#define NM_TEST(name, arg)                                                             \
    TEST(nm_##name)                                                                    \
    {                                                                                  \
        nm_once((void (*)(void *))probe_##name, probe_##name##_insn, (void *)(arg));   \
    }

static uint8_t fx_buf[512] __aligned(16);
static uint32_t mxcsr_buf;

NM_TEST(sse, 0)
NM_TEST(x87, 0)
/* fwait: #NM needs TS and MP, and the CR0 Xen runs PV guests with has MP. */
NM_TEST(fwait, 0)
NM_TEST(mmx, 0)
NM_TEST(stmxcsr, &mxcsr_buf)
NM_TEST(fxsave, fx_buf)

TEST(no_nm_without_ts)
{
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK_NO_TRAP(RUN(sse, 0, &r), r);
    CHECK_NO_TRAP(RUN(x87, 0, &r), r);
    CHECK_NO_TRAP(RUN(fwait, 0, &r), r);
    CHECK_NO_TRAP(RUN(mmx, 0, &r), r);
}

/* A set TS stays set while the vCPU yields, until the next FPU instruction. */
TEST(ts_survives_yield)
{
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    yield(20);
    CHECK(ts());
    CHECK_TRAP(RUN(sse, 0, &r), r, 7);
    CHECK(!ts());
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    yield(20);
    CHECK(!ts());
    CHECK_NO_TRAP(RUN(sse, 0, &r), r);
}

/* clts (emulated) clears the virtual TS like fpu_taskswitch(0). */
TEST(clts_clears_ts)
{
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    CHECK_NO_TRAP(RUN(clts, 0, &r), r);
    CHECK(!ts());
    CHECK_NO_TRAP(RUN(sse, 0, &r), r);
}

/* mov to cr0 changing only TS is fpu_taskswitch by another name. */
TEST(cr0_write_ts)
{
    struct trap_record r;
    uint64_t v;

    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    v = cr0() | X86_CR0_TS;
    CHECK_NO_TRAP(RUN(write_cr0, &v, &r), r);
    CHECK(ts());
    CHECK_TRAP(RUN(x87, 0, &r), r, 7);
    CHECK(!ts());
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    v = cr0() & ~X86_CR0_TS;
    CHECK_NO_TRAP(RUN(write_cr0, &v, &r), r);
    CHECK(!ts());
    CHECK_NO_TRAP(RUN(x87, 0, &r), r);
}

/* ---- the state ---- */

static struct fpu_image image;
static uint8_t before[512] __aligned(16), after[512] __aligned(16);

/* Distinct, valid contents: normal 80-bit numbers, byte patterns in XMM0-15, round to
 * zero in MXCSR, round to zero and double precision in FCW, every exception masked. */
static void make_image(uint8_t seed)
{
    for (unsigned int i = 0; i < 8; i++) {
        uint64_t mant = 0x8000000000000000UL | (0x0123456789abcdefUL * (i + seed + 1));
        uint16_t se = (uint16_t)(0x3fff + i * 3 - 10) | (uint16_t)((i & 1) << 15);

        memset(image.st[i], 0, 16);
        memcpy(image.st[i], &mant, 8);
        memcpy(image.st[i] + 8, &se, 2);
    }
    for (unsigned int i = 0; i < 16; i++)
        for (unsigned int j = 0; j < 16; j++)
            image.xmm[i][j] = (uint8_t)((i * 16 + j) ^ seed ^ 0xa5);
    image.mxcsr = 0x7f80;
    image.fcw = 0x0e7f;
}

/* The fxsave image holds what make_image() put in. */
static bool image_loaded(const uint8_t *fx)
{
    uint16_t fcw, ftw = fx[FX_FTW];
    uint32_t mxcsr;

    memcpy(&fcw, fx + FX_FCW, 2);
    memcpy(&mxcsr, fx + FX_MXCSR, 4);
    if (fcw != image.fcw || mxcsr != image.mxcsr || ftw != 0xff)
        return false;
    /* The last value pushed is st(0). */
    for (unsigned int i = 0; i < 8; i++)
        if (memcmp(fx + FX_ST + i * 16, image.st[7 - i], 10))
            return false;
    return !memcmp(fx + FX_XMM, image.xmm, sizeof(image.xmm));
}

/* The architectural state in two fxsave images is the same (the last-instruction
 * pointers are not compared). */
static const char *fx_diff(const uint8_t *a, const uint8_t *b)
{
    if (memcmp(a + FX_FCW, b + FX_FCW, 2))
        return "FCW";
    if (memcmp(a + FX_FSW, b + FX_FSW, 2))
        return "FSW";
    if (a[FX_FTW] != b[FX_FTW])
        return "FTW";
    if (memcmp(a + FX_MXCSR, b + FX_MXCSR, 4))
        return "MXCSR";
    for (unsigned int i = 0; i < 8; i++)
        if (memcmp(a + FX_ST + i * 16, b + FX_ST + i * 16, 10))
            return "an x87 register";
    for (unsigned int i = 0; i < 16; i++)
        if (memcmp(a + FX_XMM + i * 16, b + FX_XMM + i * 16, 16))
            return "an XMM register";
    return NULL;
}

/* Loads the image and checks it took; leaves its fxsave in before[]. */
#define LOAD(seed)                                                                     \
    do {                                                                               \
        CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);                                     \
        make_image(seed);                                                              \
        fpu_load(&image);                                                              \
        fpu_save(before);                                                              \
        CHECKF(image_loaded(before), "the state did not load");                        \
    } while (0)

#define CHECK_SAME()                                                                   \
    do {                                                                               \
        const char *d_;                                                                \
        fpu_save(after);                                                               \
        d_ = fx_diff(before, after);                                                   \
        CHECKF(!d_, "%s changed", d_);                                                 \
    } while (0)

TEST(state_across_yield)
{
    LOAD(1);
    yield(200);
    CHECK_SAME();
}

TEST(state_across_hypercalls)
{
    struct multicall_entry mc[2] = {
        { .op = __HYPERVISOR_xen_version, .args = { XENVER_version } },
        { .op = __HYPERVISOR_sched_op, .args = { SCHEDOP_yield } },
    };
    struct trap_record r;

    LOAD(2);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL) >> 16, 4);
    printf("INFO state_across_hypercalls: console output between load and check\n");
    CHECK_EQ(HYPERVISOR_multicall(mc, 2), 0);
    CHECK_EQ(HYPERVISOR_set_segment_base(SEGBASE_FS, 0), 0);
    hc_mode = HC_SYSCALL;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL) >> 16, 4);
    hc_mode = HC_PAGE;
    /* An emulated instruction too. */
    CHECK_NO_TRAP(RUN(clts, 0, &r), r);
    CHECK_SAME();
}

TEST(state_across_trap)
{
    struct trap_record r;

    LOAD(3);
    CHECK_TRAP(RUN(ud2, 0, &r), r, 6);
    CHECK_SAME();
}

/* The lazy path: TS set, yields, then #NM and the state is still ours. */
TEST(state_across_nm)
{
    struct trap_record r;

    LOAD(4);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    yield(50);
    CHECK_TRAP(RUN(fxsave, after, &r), r, 7);
    CHECK_NO_TRAP(RUN(fxsave, after, &r), r);
    CHECKF(!fx_diff(before, after), "%s changed", fx_diff(before, after));
}

/* A second load after the first: the newer state is the one kept. */
TEST(state_reload_across_yield)
{
    LOAD(5);
    yield(10);
    LOAD(6);
    yield(10);
    CHECK_SAME();
    CHECK(image_loaded(after));
}

TEST(cleanup)
{
    struct trap_record r;

    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK_NO_TRAP(RUN(fninit, 0, &r), r);
}

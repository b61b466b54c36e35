/*
 * XSAVE as a 64-bit PV guest has it on Xen 4.17: the CPUID view (XSAVE, OSXSAVE,
 * leaf 0xd), the virtual CR4.OSXSAVE the kernel sets with mov to cr4, XCR0 read
 * natively with XGETBV and written with XSETBV (privileged, so emulated), which XCR0
 * values are accepted, and the YMM registers keeping what the guest put in them
 * across yields, hypercalls, traps, #NM and guest user mode.
 *
 * The guest is built without SSE, so the register work is assembly: ymm_load() and
 * ymm_save() move YMM0-15 to and from memory, and C code never touches them.
 *
 * Options: xsave_loop=N (iterations of switch_loop, default 40) and xsave_seed=S (the
 * pattern it uses, default 1). tests/qemu/domain_tests.py boots two instances with
 * different seeds on one CPU, so that their yields switch from one to the other.
 */
#include <guest/test.h>

#define XSTR_(x) #x
#define XSTR(x) XSTR_(x)

#define X86_CR4_PSE (1UL << 4)
#define X86_CR4_PGE (1UL << 7)
#define X86_CR4_PCE (1UL << 8)
#define X86_CR4_OSFXSR (1UL << 9)
#define X86_CR4_OSXMMEXCPT (1UL << 10)
#define X86_CR4_OSXSAVE (1UL << 18)
#define X86_CR4_SMEP (1UL << 20)

#define XCR0_X87 0x1UL
#define XCR0_SSE 0x2UL
#define XCR0_YMM 0x4UL
#define XCR0_BNDREGS 0x8UL
#define XCR0_BNDCSR 0x10UL
#define XCR0_OPMASK 0x20UL
#define XCR0_ZMM_HI256 0x40UL
#define XCR0_HI16_ZMM 0x80UL
#define XCR0_PKRU 0x200UL
#define XCR0_AVX512 (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
#define XCR0_FP_SSE (XCR0_X87 | XCR0_SSE)

#define CPUID1_XSAVE (1u << 26)
#define CPUID1_OSXSAVE (1u << 27)
#define CPUID1_AVX (1u << 28)

#define XSAVE_AREA_MIN 576   /* legacy area and header */

/* ---- probes ---- */

/* XGETBV/XSETBV: arg points at struct xcr. */
struct xcr {
    uint32_t index, pad;
    uint64_t value;
};
PROBE(xgetbv, "mov (%rdi), %ecx\n\t" INSN(xgetbv) "xgetbv\n\t" END(xgetbv)
              "mov %eax, 8(%rdi)\n\tmov %edx, 12(%rdi)");
PROBE(xsetbv, "mov (%rdi), %ecx\n\tmov 8(%rdi), %eax\n\tmov 12(%rdi), %edx\n\t"
              INSN(xsetbv) "xsetbv\n\t" END(xsetbv) "nop");
PROBE(xsetbv_66, "xor %ecx, %ecx\n\tmov $3, %eax\n\txor %edx, %edx\n\t"
                 INSN(xsetbv_66) ".byte 0x66, 0x0f, 0x01, 0xd1\n\t" END(xsetbv_66) "nop");
PROBE(read_cr4, INSN(read_cr4) "mov %cr4, %rax\n\t" END(read_cr4) "mov %rax, (%rdi)");
PROBE(write_cr4, "mov (%rdi), %rax\n\t" INSN(write_cr4) "mov %rax, %cr4\n\t"
                 END(write_cr4) "nop");
PROBE(vxorps, INSN(vxorps) "vxorps %ymm0, %ymm0, %ymm0\n\t" END(vxorps) "nop");
/* Stores YMM15, e.g. as the instruction that meets #NM. */
PROBE(vstore, INSN(vstore) "vmovdqu %ymm15, (%rdi)\n\t" END(vstore) "nop");
PROBE(ud2, INSN(ud2) "ud2\n\t" END(ud2) "nop");
PROBE(clts, INSN(clts) "clts\n\t" END(clts) "nop");

#define CHECK_RIP(rec, label)                                                          \
    CHECKF((rec).rip == (uint64_t)(label), "rip %#lx, expected %s (%#lx)",            \
           (unsigned long)(rec).rip, #label, (unsigned long)(label))

void ymm_load(const uint8_t (*img)[32]);
void ymm_save(uint8_t (*img)[32]);

#define YMM_MOVES(dir)                                                                 \
    dir(0) dir(1) dir(2) dir(3) dir(4) dir(5) dir(6) dir(7) dir(8) dir(9) dir(10)    \
    dir(11) dir(12) dir(13) dir(14) dir(15)
#define YMM_IN(n) "vmovdqu " #n "*32(%rdi), %ymm" #n "\n\t"
#define YMM_OUT(n) "vmovdqu %ymm" #n ", " #n "*32(%rdi)\n\t"

__asm__(".pushsection .text\n"
        ".globl ymm_load\n"
        "ymm_load:\n\t" YMM_MOVES(YMM_IN) "ret\n"
        ".globl ymm_save\n"
        "ymm_save:\n\t" YMM_MOVES(YMM_OUT) "ret\n"
        ".popsection\n");

/* ---- helpers ---- */

/* CPUID through Xen's forced-emulation prefix: the PV view. */
static void xen_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    __asm__ volatile(".byte 0x0f, 0x0b, 0x78, 0x65, 0x6e\n\tcpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(subleaf));
}

static void native_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(subleaf));
}

/* The XCR0 components the PV view offers (leaf 0xd:0 edx:eax); 0 without XSAVE. */
static uint64_t xstates(void)
{
    uint32_t r[4];

    xen_cpuid(1, 0, r);
    if (!(r[2] & CPUID1_XSAVE))
        return 0;
    xen_cpuid(0xd, 0, r);
    return (uint64_t)r[3] << 32 | r[0];
}

#define NEED_XSAVE()                                                                   \
    do {                                                                               \
        if (!xstates())                                                                \
            SKIP("no XSAVE in the PV CPUID view");                                     \
    } while (0)
#define NEED_AVX()                                                                     \
    do {                                                                               \
        if (!(xstates() & XCR0_YMM))                                                   \
            SKIP("no AVX state in the PV CPUID view");                                 \
    } while (0)

/* The virtual CR4 (mov from cr4 is emulated); 0 if that trapped. */
static uint64_t cr4(void)
{
    uint64_t v = 0;
    struct trap_record r;

    if (RUN(read_cr4, &v, &r))
        return 0;
    return v;
}

/* mov to cr4; true if it did not trap. */
static bool write_cr4(uint64_t v)
{
    struct trap_record r;

    return !RUN(write_cr4, &v, &r);
}

static bool set_osxsave(bool on)
{
    uint64_t v = cr4();

    return write_cr4(on ? v | X86_CR4_OSXSAVE : v & ~X86_CR4_OSXSAVE) &&
           !!(cr4() & X86_CR4_OSXSAVE) == on;
}

/* XGETBV(index) natively; ~0 if it trapped. */
static uint64_t xgetbv(uint32_t index)
{
    struct xcr x = { .index = index };
    struct trap_record r;

    if (RUN(xgetbv, &x, &r))
        return ~0UL;
    return x.value;
}

/* XSETBV under catch_trap: true if it trapped (*r says how). */
static bool xsetbv_traps(uint32_t index, uint64_t value, struct trap_record *r)
{
    struct xcr x = { .index = index, .value = value };

    return RUN(xsetbv, &x, r);
}

static bool set_xcr0(uint64_t value)
{
    struct trap_record r;

    return !xsetbv_traps(0, value, &r) && xgetbv(0) == value;
}

static void yield(unsigned int n)
{
    while (n--)
        HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

/* ---- register images ---- */

static uint8_t img_in[16][32] __aligned(32), img_out[16][32] __aligned(32);

/* A pattern of its own per seed, with upper halves unlike the lower ones. */
static void fill(uint8_t (*img)[32], uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15UL + 0x632be59bd9b4e019UL;

    for (unsigned int i = 0; i < 16; i++) {
        for (unsigned int j = 0; j < 32; j++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            img[i][j] = (uint8_t)(x >> 56);
        }
    }
}

/* Which register half differs (NULL: none); lanes says how many 16-byte halves count. */
static const char *ymm_diff(const uint8_t (*a)[32], const uint8_t (*b)[32],
                            unsigned int lanes)
{
    static char buf[40];

    for (unsigned int i = 0; i < 16; i++) {
        for (unsigned int h = 0; h < lanes; h++) {
            if (memcmp(a[i] + 16 * h, b[i] + 16 * h, 16)) {
                snprintf(buf, sizeof(buf), "ymm%u %s half", i, h ? "upper" : "lower");
                return buf;
            }
        }
    }
    return NULL;
}

/* XCR0 = x87|SSE|YMM and a fresh pattern in YMM0-15. */
#define LOAD_YMM(seed)                                                                 \
    do {                                                                               \
        CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);                                     \
        CHECK(set_osxsave(true));                                                      \
        CHECK(set_xcr0(XCR0_FP_SSE | XCR0_YMM));                                       \
        fill(img_in, seed);                                                            \
        ymm_load((const uint8_t(*)[32])img_in);                                        \
    } while (0)

#define CHECK_YMM()                                                                    \
    do {                                                                               \
        const char *d_;                                                                \
        ymm_save(img_out);                                                             \
        d_ = ymm_diff((const uint8_t(*)[32])img_in, (const uint8_t(*)[32])img_out, 2); \
        CHECKF(!d_, "%s changed", d_);                                                 \
    } while (0)

/* ---- CPUID ---- */

TEST(cpuid_leaf1)
{
    uint32_t r[4], n[4];

    xen_cpuid(1, 0, r);
    native_cpuid(1, 0, n);
    INFO("leaf 1 ecx: PV view %08x, native %08x", r[2], n[2]);
    if (!(r[2] & CPUID1_XSAVE))
        SKIP("no XSAVE in the PV CPUID view");
    /* The guest's CR4.OSXSAVE is still clear: Xen shows the kernel its own. */
    CHECK(!(cr4() & X86_CR4_OSXSAVE));
    CHECK(r[2] & CPUID1_OSXSAVE);
}

TEST(cpuid_leaf_d)
{
    uint64_t x = xstates();
    uint32_t r[4], c[4], end = XSAVE_AREA_MIN;

    NEED_XSAVE();
    xen_cpuid(0xd, 0, r);
    INFO("leaf 0xd: %08x %08x %08x %08x", r[0], r[1], r[2], r[3]);
    CHECK_EQ(x & XCR0_FP_SSE, XCR0_FP_SSE);
    /* Only what Xen offers PV guests: no MPX, PKRU, AMX, CET. */
    CHECKF(!(x & ~(XCR0_FP_SSE | XCR0_YMM | XCR0_AVX512)), "components %#lx",
           (unsigned long)x);
    xen_cpuid(1, 0, c);
    CHECK_EQ(!!(x & XCR0_YMM), !!(c[2] & CPUID1_AVX));
    /* ebx: the size for the XCR0 in force, x87|SSE so far. */
    CHECK_EQ(r[1], XSAVE_AREA_MIN);
    for (unsigned int i = 2; i < 63; i++) {
        xen_cpuid(0xd, i, c);
        if (!(x & (1UL << i))) {
            CHECKF(!c[0] && !c[1] && !c[2] && !c[3], "subleaf %u not empty", i);
            continue;
        }
        CHECKF(c[0] && c[1] >= XSAVE_AREA_MIN, "subleaf %u: size %#x offset %#x", i, c[0],
               c[1]);
        end = MAX(end, c[0] + c[1]);
    }
    CHECK_EQ(r[2], end);
    if (x & XCR0_YMM) {
        xen_cpuid(0xd, 2, c);
        CHECK_EQ(c[0], 256);
        CHECK_EQ(c[1], XSAVE_AREA_MIN);
    }
    xen_cpuid(0xd, 1, c);
    INFO("leaf 0xd:1 eax %08x", c[0]);
}

/* ---- CR4 and XCR0 at the start ---- */

TEST(cr4_osxsave_initially_clear)
{
    uint64_t v = cr4();

    INFO("cr4 %#lx", (unsigned long)v);
    CHECK_EQ(v & (X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT),
             X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
    CHECK(!(v & X86_CR4_OSXSAVE));
}

/* XGETBV is not privileged: it runs natively and shows x87|SSE. */
TEST(xgetbv_initial)
{
    struct xcr x = { .index = 2 };
    struct trap_record r;

    NEED_XSAVE();
    CHECK_EQ(xgetbv(0), XCR0_FP_SSE);
    /* An XCR that does not exist: the CPU's #GP(0). */
    CHECK_TRAP(RUN(xgetbv, &x, &r), r, 13);
    CHECK_EQ(r.error, 0);
    CHECK_RIP(r, probe_xgetbv_insn);
}

/* Xen's emulator checks the guest's CR4.OSXSAVE first: clear, XSETBV is #UD. */
TEST(xsetbv_needs_cr4_osxsave)
{
    struct trap_record r;

    NEED_XSAVE();
    CHECK(!(cr4() & X86_CR4_OSXSAVE));
    CHECK_TRAP(xsetbv_traps(0, XCR0_FP_SSE, &r), r, 6);
    CHECK_RIP(r, probe_xsetbv_insn);
    CHECK_EQ(xgetbv(0), XCR0_FP_SSE);
}

/* ---- CR4 writes ---- */

TEST(cr4_write_osxsave)
{
    uint64_t before = cr4();
    uint32_t c[4];

    NEED_XSAVE();
    CHECK(write_cr4(before | X86_CR4_OSXSAVE));
    CHECK_EQ(cr4(), before | X86_CR4_OSXSAVE);
    xen_cpuid(1, 0, c);
    CHECK(c[2] & CPUID1_OSXSAVE);
    CHECK(write_cr4(before));
    CHECK_EQ(cr4(), before);
}

/* Bits a PV guest does not control are dropped without a fault; the ones Xen shows
 * of its own (PAE, OSFXSR, ...) stay whatever is written. */
TEST(cr4_write_ignores_the_rest)
{
    uint64_t before = cr4();

    CHECK(!(before & X86_CR4_OSXSAVE));
    CHECK(write_cr4(before | X86_CR4_PSE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_SMEP));
    CHECK_EQ(cr4(), before);
    CHECK(write_cr4(0));
    CHECK_EQ(cr4(), before);
    CHECK(write_cr4(before));
}

/* ---- XSETBV ---- */

TEST(xsetbv_accepts)
{
    uint64_t x = xstates();

    NEED_XSAVE();
    CHECK(set_osxsave(true));
    CHECK(set_xcr0(XCR0_FP_SSE));
    /* x87 alone is a valid XCR0. */
    CHECK(set_xcr0(XCR0_X87));
    if (x & XCR0_YMM)
        CHECK(set_xcr0(XCR0_FP_SSE | XCR0_YMM));
    if ((x & XCR0_AVX512) == XCR0_AVX512)
        CHECK(set_xcr0(XCR0_FP_SSE | XCR0_YMM | XCR0_AVX512));
    CHECK(set_xcr0(XCR0_FP_SSE));
    CHECK(set_osxsave(false));
}

static void refused(uint32_t index, uint64_t value)
{
    struct trap_record r;

    CHECKF(xsetbv_traps(index, value, &r), "xsetbv(%u, %#lx) did not trap", index,
           (unsigned long)value);
    CHECKF(r.vector == 13 && r.error == 0,
           "xsetbv(%u, %#lx): %s error %#lx, expected #GP(0)", index, (unsigned long)value,
           trap_name(r.vector), (unsigned long)r.error);
    CHECK_RIP(r, probe_xsetbv_insn);
    CHECK_EQ(xgetbv(0), XCR0_FP_SSE);
}

TEST(xsetbv_refuses)
{
    uint64_t x = xstates();

    NEED_XSAVE();
    CHECK(set_osxsave(true));
    CHECK(set_xcr0(XCR0_FP_SSE));
    /* x87 must be on; YMM needs SSE; AVX-512 needs YMM and all three of its parts. */
    refused(0, 0);
    refused(0, XCR0_SSE);
    refused(0, XCR0_X87 | XCR0_YMM);
    refused(0, XCR0_SSE | XCR0_YMM);
    refused(0, XCR0_FP_SSE | XCR0_AVX512);
    refused(0, XCR0_FP_SSE | XCR0_YMM | XCR0_OPMASK);
    refused(0, XCR0_FP_SSE | XCR0_YMM | XCR0_ZMM_HI256 | XCR0_HI16_ZMM);
    /* Every component the PV view does not offer (MPX, PKRU, AMX, ... up to bit 63). */
    for (unsigned int i = 2; i < 64; i++) {
        uint64_t bit = 1UL << i;

        if (x & bit)
            continue;
        refused(0, XCR0_FP_SSE | (x & XCR0_YMM) | bit);
        if (test_failed())
            return;
    }
    refused(0, XCR0_FP_SSE | XCR0_BNDREGS | XCR0_BNDCSR);
    refused(0, XCR0_FP_SSE | XCR0_PKRU);
    /* XCR0 is the only XCR it writes. */
    refused(1, XCR0_FP_SSE);
    refused(0xffffffff, XCR0_FP_SSE);
    if (test_failed())
        return;
    CHECK(set_osxsave(false));
}

/* 66 0f 01 d1 is not XSETBV: #UD. */
TEST(xsetbv_operand_size_prefix)
{
    struct trap_record r;

    NEED_XSAVE();
    CHECK(set_osxsave(true));
    CHECK_TRAP(RUN(xsetbv_66, 0, &r), r, 6);
    CHECK_RIP(r, probe_xsetbv_66_insn);
    CHECK(set_osxsave(false));
}

/* AVX instructions need XCR0.YMM, whatever CPUID says. */
TEST(avx_needs_xcr0_ymm)
{
    struct trap_record r;

    NEED_AVX();
    CHECK(set_osxsave(true));
    CHECK(set_xcr0(XCR0_FP_SSE));
    CHECK_TRAP(RUN(vxorps, 0, &r), r, 6);
    CHECK_RIP(r, probe_vxorps_insn);
    CHECK(set_xcr0(XCR0_FP_SSE | XCR0_YMM));
    CHECK_NO_TRAP(RUN(vxorps, 0, &r), r);
    CHECK(set_xcr0(XCR0_FP_SSE));
}

/* ---- the state ---- */

/*
 * Many rounds of: a new XCR0 and register pattern, a few yields, then both checked.
 * XCR0 alternates between x87|SSE|YMM (all of YMM0-15 compared) and x87|SSE (the
 * lower halves), so two instances with different seeds on one CPU each run with
 * an XCR0 and registers the other one does not have.
 */
TEST(switch_loop)
{
    unsigned long n = (unsigned long)cmdline_get_num("xsave_loop", 40);
    uint64_t seed = cmdline_get_num("xsave_seed", 1);
    struct vcpu_runstate_info before, after;

    NEED_AVX();
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &before), 0);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    CHECK(set_osxsave(true));
    for (unsigned long i = 0; i < n; i++) {
        bool ymm = (i + seed) & 1;
        uint64_t xcr0 = XCR0_FP_SSE | (ymm ? XCR0_YMM : 0);
        const char *d;

        CHECK(set_xcr0(XCR0_FP_SSE | XCR0_YMM));
        fill(img_in, seed << 32 | i);
        ymm_load((const uint8_t(*)[32])img_in);
        CHECK(set_xcr0(xcr0));
        yield(3);
        CHECKF(xgetbv(0) == xcr0, "round %lu: XCR0 %#lx, expected %#lx", i,
               (unsigned long)xgetbv(0), (unsigned long)xcr0);
        if (!ymm)
            CHECK(set_xcr0(XCR0_FP_SSE | XCR0_YMM));
        ymm_save(img_out);
        d = ymm_diff((const uint8_t(*)[32])img_in, (const uint8_t(*)[32])img_out, 2);
        CHECKF(!d, "round %lu (XCR0 %#lx): %s changed", i, (unsigned long)xcr0, d);
    }
    CHECK_EQ(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &after), 0);
    INFO("%lu rounds, seed %lu, runnable for %lu ns", n, (unsigned long)seed,
         (unsigned long)(after.time[RUNSTATE_runnable] - before.time[RUNSTATE_runnable]));
    CHECK(set_xcr0(XCR0_FP_SSE));
    CHECK(set_osxsave(false));
}

TEST(ymm_across_yield)
{
    NEED_AVX();
    LOAD_YMM(0x100);
    yield(200);
    CHECK_EQ(xgetbv(0), XCR0_FP_SSE | XCR0_YMM);
    CHECK_YMM();
}

TEST(ymm_across_hypercalls)
{
    struct multicall_entry mc[2] = {
        { .op = __HYPERVISOR_xen_version, .args = { XENVER_version } },
        { .op = __HYPERVISOR_sched_op, .args = { SCHEDOP_yield } },
    };
    struct trap_record r;

    NEED_AVX();
    LOAD_YMM(0x200);
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL) >> 16, 4);
    printf("INFO ymm_across_hypercalls: console output between load and check\n");
    CHECK_EQ(HYPERVISOR_multicall(mc, 2), 0);
    hc_mode = HC_SYSCALL;
    CHECK_EQ(HYPERVISOR_xen_version(XENVER_version, NULL) >> 16, 4);
    hc_mode = HC_PAGE;
    /* Emulated instructions too, XSETBV of the value in force among them. */
    CHECK_NO_TRAP(RUN(clts, 0, &r), r);
    CHECK(set_xcr0(XCR0_FP_SSE | XCR0_YMM));
    CHECK(set_osxsave(true));
    CHECK_YMM();
}

TEST(ymm_across_trap)
{
    struct trap_record r;

    NEED_AVX();
    LOAD_YMM(0x300);
    CHECK_TRAP(RUN(ud2, 0, &r), r, 6);
    CHECK_YMM();
}

/* TS set, yields, then #NM on an AVX instruction: the state is still ours. */
TEST(ymm_across_nm)
{
    static uint8_t y15[32] __aligned(32);
    struct trap_record r;

    NEED_AVX();
    LOAD_YMM(0x400);
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(1), 0);
    yield(50);
    CHECK_TRAP(RUN(vstore, y15, &r), r, 7);
    CHECK_RIP(r, probe_vstore_insn);
    CHECK_NO_TRAP(RUN(vstore, y15, &r), r);
    CHECK(!memcmp(y15, img_in[15], 32));
    CHECK_YMM();
}

/* XCR0 is per vCPU state: a lowered XCR0 stays lowered across yields. */
TEST(xcr0_across_yield)
{
    NEED_XSAVE();
    CHECK(set_osxsave(true));
    CHECK(set_xcr0(XCR0_X87));
    yield(20);
    CHECK_EQ(xgetbv(0), XCR0_X87);
    CHECK(set_xcr0(XCR0_FP_SSE));
    yield(20);
    CHECK_EQ(xgetbv(0), XCR0_FP_SSE);
    if (xstates() & XCR0_YMM) {
        CHECK(set_xcr0(XCR0_FP_SSE | XCR0_YMM));
        yield(20);
        CHECK_EQ(xgetbv(0), XCR0_FP_SSE | XCR0_YMM);
        CHECK(set_xcr0(XCR0_FP_SSE));
    }
    CHECK(set_osxsave(false));
}

/* ---- guest user mode ----
 *
 * The kernel's own L4 doubles as the user page table (every mapping of a PV kernel is
 * user-accessible anyway), so user code is code of this file. user_jump() enters it
 * with the iret hypercall and a ring-3 cs; it leaves by the ud2 that ends each UPROG,
 * which catch_trap() around user_jump() catches.
 */
static uint64_t user_kstack[2048] __aligned(16);   /* bounces from user mode land here */
static uint64_t user_stack[512] __aligned(16);

void user_jump(uint64_t rip, uint64_t rsp);
__asm__(".pushsection .text\n"
        ".globl user_jump\n"
        "user_jump:\n\t"
        /* The iret frame: ss, rsp, rflags, cs, rip, flags; the stub pushes rcx, r11
         * and rax on top of it. */
        "pushq $" XSTR(FLAT_USER_SS) "\n\t"
        "pushq %rsi\n\t"
        "pushq $0x202\n\t"
        "pushq $" XSTR(FLAT_USER_CS) "\n\t"
        "pushq %rdi\n\t"
        "pushq $0\n\t"
        "xor %ecx, %ecx\n\txor %r11d, %r11d\n\txor %eax, %eax\n\t"
        "cmpb $0, iret_via_syscall(%rip)\n\t"
        "jne 1f\n\t"
        "jmp hypercall_page + " XSTR(GUEST_HYPERCALL_IRET) " * 32\n"
        "1:\tpush %rcx\n\tpush %r11\n\tpush %rax\n\t"
        "mov $" XSTR(GUEST_HYPERCALL_IRET) ", %eax\n\tsyscall\n\tud2\n"
        ".popsection\n");

/* User code name: body, then the ud2 (name_done) that returns to the kernel. */
#define UPROG(name, body)                                                              \
    extern char name[], name##_done[];                                                 \
    __asm__(".pushsection .text\n"                                                     \
            ".globl " #name "\n.globl " #name "_done\n" #name ":\n\t" body "\n"        \
            #name "_done:\n\tud2\n"                                                    \
            ".popsection\n")

uint64_t user_xcr0;
uint32_t user_cpuid[4];
uint8_t user_dump[16][32] __aligned(32);
uint8_t user_in[16][32] __aligned(32);

#define UYMM_OUT(n) "vmovdqu %ymm" #n ", user_dump + " #n "*32(%rip)\n\t"
#define UYMM_IN(n) "vmovdqu user_in + " #n "*32(%rip), %ymm" #n "\n\t"

/* Shows what the kernel left in YMM0-15 and XCR0, then loads its own registers. */
UPROG(user_swap_ymm, YMM_MOVES(UYMM_OUT) YMM_MOVES(UYMM_IN)
      "xor %ecx, %ecx\n\txgetbv\n\t"
      "mov %eax, user_xcr0(%rip)\n\tmov %edx, user_xcr0+4(%rip)");
UPROG(user_dump_ymm, YMM_MOVES(UYMM_OUT) "nop");
UPROG(user_xen_cpuid, "push %rbx\n\tmov $1, %eax\n\txor %ecx, %ecx\n\t"
      ".byte 0x0f, 0x0b, 0x78, 0x65, 0x6e\n\tcpuid\n\t"
      "mov %eax, user_cpuid(%rip)\n\tmov %ebx, user_cpuid+4(%rip)\n\t"
      "mov %ecx, user_cpuid+8(%rip)\n\tmov %edx, user_cpuid+12(%rip)\n\tpop %rbx");
UPROG(user_xsetbv, "xor %ecx, %ecx\n\tmov $3, %eax\n\txor %edx, %edx\n\t"
      ".globl user_xsetbv_insn\nuser_xsetbv_insn:\n\txsetbv");
extern char user_xsetbv_insn[];

static bool user_ready;

/* A user base pointer (the kernel's L4) and a kernel stack for bounces. */
static void user_setup(void)
{
    uint64_t l4 = pfn_to_mfn((start_info->pt_base - GUEST_VIRT_BASE) >> PAGE_SHIFT);
    struct mmuext_op op = { .cmd = MMUEXT_NEW_USER_BASEPTR, .arg1.mfn = l4 };

    if (user_ready)
        return;
    CHECK_EQ(HYPERVISOR_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    CHECK_EQ(HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (ulong)(user_kstack + 2048)), 0);
    user_ready = true;
}

static void jump(void *rip)
{
    user_jump((uint64_t)rip, (uint64_t)(user_stack + 512));
}

/* Runs user code from prog; *r: how it came back (the trap). */
static void user_run(char *prog, struct trap_record *r)
{
    memset(r, 0, sizeof(*r));
    if (!catch_trap(jump, prog, r))
        r->vector = ~0u;
}

/* The user program came back by its closing ud2, from user mode. */
#define CHECK_USER_DONE(r, name)                                                       \
    do {                                                                               \
        CHECK_TRAP(true, r, 6);                                                        \
        CHECK_EQ((r).cs & 3, 3);                                                       \
        CHECK_RIP(r, name##_done);                                                     \
    } while (0)

/* State moves between kernel and user mode with the vCPU, and what user mode sets
 * survives the kernel's yields. */
TEST(user_mode_ymm)
{
    const char *d;
    struct trap_record r;

    NEED_AVX();
    user_setup();
    if (test_failed())
        return;
    LOAD_YMM(0x500);
    fill(user_in, 0x600);
    user_run(user_swap_ymm, &r);
    CHECK_USER_DONE(r, user_swap_ymm);
    d = ymm_diff((const uint8_t(*)[32])img_in, (const uint8_t(*)[32])user_dump, 2);
    CHECKF(!d, "user mode saw %s changed", d);
    CHECK_EQ(user_xcr0, XCR0_FP_SSE | XCR0_YMM);
    yield(50);
    memcpy(img_in, user_in, sizeof(img_in));
    CHECK_YMM();
    yield(50);
    memset(user_dump, 0, sizeof(user_dump));
    user_run(user_dump_ymm, &r);
    CHECK_USER_DONE(r, user_dump_ymm);
    d = ymm_diff((const uint8_t(*)[32])user_in, (const uint8_t(*)[32])user_dump, 2);
    CHECKF(!d, "%s changed", d);
    CHECK(set_xcr0(XCR0_FP_SSE));
}

/* From user mode the forced CPUID shows OSXSAVE as the guest's CR4 has it. */
TEST(user_mode_cpuid_osxsave)
{
    struct trap_record r;

    NEED_XSAVE();
    user_setup();
    if (test_failed())
        return;
    CHECK(set_osxsave(false));
    user_run(user_xen_cpuid, &r);
    CHECK_USER_DONE(r, user_xen_cpuid);
    CHECK(user_cpuid[2] & CPUID1_XSAVE);
    CHECK(!(user_cpuid[2] & CPUID1_OSXSAVE));
    CHECK(set_osxsave(true));
    user_run(user_xen_cpuid, &r);
    CHECK_USER_DONE(r, user_xen_cpuid);
    CHECK(user_cpuid[2] & CPUID1_OSXSAVE);
    CHECK(set_osxsave(false));
}

/* XSETBV from user mode: #UD while the guest's CR4.OSXSAVE is clear, else #GP(0). */
TEST(user_mode_xsetbv)
{
    struct trap_record r;

    NEED_XSAVE();
    user_setup();
    if (test_failed())
        return;
    CHECK(set_osxsave(false));
    user_run(user_xsetbv, &r);
    CHECK_TRAP(true, r, 6);
    CHECK_RIP(r, user_xsetbv_insn);
    CHECK(set_osxsave(true));
    user_run(user_xsetbv, &r);
    CHECK_TRAP(true, r, 13);
    CHECK_EQ(r.error, 0);
    CHECK_RIP(r, user_xsetbv_insn);
    CHECK_EQ(r.cs & 3, 3);
    CHECK(set_osxsave(false));
}

TEST(cleanup)
{
    CHECK_EQ(HYPERVISOR_fpu_taskswitch(0), 0);
    if (xstates()) {
        CHECK(set_osxsave(true));
        CHECK(set_xcr0(XCR0_FP_SSE));
        CHECK(set_osxsave(false));
    }
}

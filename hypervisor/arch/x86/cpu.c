/* CPU identification and the control-register settings every CPU runs enso with. */
#include <enso/lib.h>
#include <enso/printk.h>
#include <enso/cmdline.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/xstate.h>

struct cpu_features boot_cpu;

static bool opt_smep = true, opt_smap = true;
boolean_param("smep", opt_smep);
boolean_param("smap", opt_smap);

void cpu_features_init(void)
{
    uint32_t a, b, c, d;

    cpuid(0, &boot_cpu.max_leaf, &b, &c, &d);
    memcpy(boot_cpu.vendor + 0, &b, 4);
    memcpy(boot_cpu.vendor + 4, &d, 4);
    memcpy(boot_cpu.vendor + 8, &c, 4);
    cpuid(1, &a, &b, &boot_cpu.l1_ecx, &boot_cpu.l1_edx);
    boot_cpu.family = (a >> 8) & 0xf;
    if (boot_cpu.family == 0xf)
        boot_cpu.family += (a >> 20) & 0xff;
    boot_cpu.model = ((a >> 4) & 0xf) | (((a >> 16) & 0xf) << 4);
    boot_cpu.stepping = a & 0xf;
    if (boot_cpu.max_leaf >= 7)
        cpuid_count(7, 0, &a, &boot_cpu.l7_ebx, &boot_cpu.l7_ecx, &d);
    cpuid(0x80000000, &boot_cpu.max_ext_leaf, &b, &c, &d);
    if (boot_cpu.max_ext_leaf >= 0x80000001)
        cpuid(0x80000001, &a, &b, &boot_cpu.e1_ecx, &boot_cpu.e1_edx);
    if (boot_cpu.max_ext_leaf >= 0x80000004) {
        uint32_t *w = (uint32_t *)boot_cpu.brand;
        for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; leaf++, w += 4)
            cpuid(leaf, &w[0], &w[1], &w[2], &w[3]);
    }
    if (boot_cpu.max_ext_leaf >= 0x80000007)
        cpuid(0x80000007, &a, &b, &c, &boot_cpu.e7_edx);
    if (!opt_smep)
        boot_cpu.l7_ebx &= ~(1u << 7);
    if (!opt_smap)
        boot_cpu.l7_ebx &= ~(1u << 20);
}

void cpu_setup_control_regs(void)
{
    unsigned long cr4 = read_cr4() | X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    uint64_t efer = rdmsr(MSR_EFER) | EFER_SCE;

    if (cpu_has_pge)
        cr4 |= X86_CR4_PGE;
    if (cpu_has_smep)
        cr4 |= X86_CR4_SMEP;
    if (cpu_has_smap)
        cr4 |= X86_CR4_SMAP;
    if (cpu_has_fsgsbase)
        cr4 |= X86_CR4_FSGSBASE;
    if (cpu_has_nx)
        efer |= EFER_NXE;
    wrmsr(MSR_EFER, efer);
    write_cr4(cr4);
    /*
     * Caches on, write protection honoured in ring 0, x87 errors reported natively,
     * alignment checks available to ring 3 (guest user code may ask for them).
     */
    write_cr0((read_cr0() | X86_CR0_WP | X86_CR0_NE | X86_CR0_MP | X86_CR0_AM) & ~(X86_CR0_EM | X86_CR0_TS));
    /* The Xen ABI's PAT layout (WB, WT, UC-, UC, WC, WP, UC, UC): PV guests assume it. */
    if (cpu_has_pat)
        wrmsr(MSR_PAT, 0x0000050100070406ULL);
    /* CR4.OSXSAVE and XCR0, where the CPU has XSAVE. */
    xstate_init_cpu();
}

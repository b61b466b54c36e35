/* CPU features read once from CPUID on the boot CPU. */
#ifndef ASM_CPUFEATURE_H
#define ASM_CPUFEATURE_H

#include <enso/types.h>

struct cpu_features {
    uint32_t max_leaf, max_ext_leaf;
    uint32_t l1_ecx, l1_edx;   /* leaf 1 */
    uint32_t l7_ebx, l7_ecx;   /* leaf 7, subleaf 0 */
    uint32_t e1_ecx, e1_edx;   /* leaf 0x80000001 */
    uint32_t e7_edx;           /* leaf 0x80000007 */
    char vendor[13];
    char brand[49];
    unsigned int family, model, stepping;
};

extern struct cpu_features boot_cpu;

#define FEAT_L1_ECX(bit) (boot_cpu.l1_ecx & (1u << (bit)))
#define FEAT_L1_EDX(bit) (boot_cpu.l1_edx & (1u << (bit)))
#define cpu_has_x2apic FEAT_L1_ECX(21)
#define cpu_has_tsc_deadline FEAT_L1_ECX(24)
#define cpu_has_xsave FEAT_L1_ECX(26)
#define cpu_has_hypervisor FEAT_L1_ECX(31)
#define cpu_has_apic FEAT_L1_EDX(9)
#define cpu_has_pge FEAT_L1_EDX(13)
#define cpu_has_pat FEAT_L1_EDX(16)
#define cpu_has_fxsr FEAT_L1_EDX(24)
#define cpu_has_fsgsbase (boot_cpu.l7_ebx & (1u << 0))
#define cpu_has_smep (boot_cpu.l7_ebx & (1u << 7))
#define cpu_has_smap (boot_cpu.l7_ebx & (1u << 20))
#define cpu_has_nx (boot_cpu.e1_edx & (1u << 20))
#define cpu_has_page1gb (boot_cpu.e1_edx & (1u << 26))
#define cpu_has_svm (boot_cpu.e1_ecx & (1u << 2))
#define cpu_has_invariant_tsc (boot_cpu.e7_edx & (1u << 8))

void cpu_features_init(void);
/* Per-CPU control-register setup (CR0/CR4/EFER/PAT): same on every CPU. */
void cpu_setup_control_regs(void);

#endif

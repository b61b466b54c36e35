/*
 * Fake hosts for the PV CPUID/MSR tests: this machine's real CPUID, and a synthetic CPU
 * whose every feature bit is set (with a chosen vendor, family/model and overrides).
 */
#ifndef PV_FAKE_HOST_H
#define PV_FAKE_HOST_H

#include <cpuid.h>
#include <string.h>
#include <asm/pv_cpuid.h>

#define B(x) (1u << (x))

static inline void real_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    __cpuid_count(leaf, subleaf, r->a, r->b, r->c, r->d);
}

/* The synthetic host: all ones, except what the fields below say. */
static struct {
    const char *vendor;   /* 12 characters */
    uint32_t fms;         /* leaf 1 eax */
    struct {
        uint32_t leaf, subleaf;
        unsigned int reg; /* 0..3 = eax..edx */
        uint32_t value;
    } set[8];
    unsigned int nr_set;
} fake;

static inline void fake_reset(const char *vendor, uint32_t fms)
{
    memset(&fake, 0, sizeof(fake));
    fake.vendor = vendor;
    fake.fms = fms;
}

static inline void fake_override(uint32_t leaf, uint32_t subleaf, unsigned int reg,
                                 uint32_t value)
{
    fake.set[fake.nr_set].leaf = leaf;
    fake.set[fake.nr_set].subleaf = subleaf;
    fake.set[fake.nr_set].reg = reg;
    fake.set[fake.nr_set].value = value;
    fake.nr_set++;
}

/* XSAVE components (size, offset) of a typical AVX-512 part, indexed by component. */
static const uint32_t fake_xstate[10][2] = {
    [2] = { 256, 576 },  [3] = { 64, 960 },   [4] = { 64, 1024 },
    [5] = { 64, 1088 },  [6] = { 512, 1152 }, [7] = { 1024, 1664 }, [9] = { 8, 2688 },
};

static inline void fake_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
    uint32_t *regs = &r->a;
    bool amd = strcmp(fake.vendor, "AuthenticAMD") == 0;

    *r = (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
    switch (leaf) {
    case 0:
    case 0x80000000u:
        r->a = leaf ? (amd ? 0x80000028u : 0x80000008u) : 0x20;
        if (leaf && !amd) {
            r->b = r->c = r->d = 0;
            break;
        }
        memcpy(&r->b, fake.vendor, 4);
        memcpy(&r->d, fake.vendor + 4, 4);
        memcpy(&r->c, fake.vendor + 8, 4);
        break;
    case 1:
        r->a = fake.fms;
        break;
    case 4:
        /* Three caches (data, instruction, unified), then the end of the list. */
        r->a = subleaf < 3 ? (~0u & ~0x1fu) | (subleaf + 1) : 0;
        break;
    case 0xd:
        if (subleaf == 0)
            *r = (struct cpuid_regs){ 0x2ff, 0xa88, 0xa88, 0 };
        else if (subleaf == 1)
            *r = (struct cpuid_regs){ 0x1f, 0x988, 0, 0 };
        else if (subleaf < 10 && fake_xstate[subleaf][0])
            *r = (struct cpuid_regs){ fake_xstate[subleaf][0], fake_xstate[subleaf][1], 3, 0 };
        else
            *r = (struct cpuid_regs){ 0 };
        break;
    case 0x80000008u:
        r->a = 0x00ff392e; /* 46 physical bits, 57 linear, guest bits set */
        break;
    }
    for (unsigned int i = 0; i < fake.nr_set; i++) {
        if (fake.set[i].leaf == leaf && fake.set[i].subleaf == subleaf)
            regs[fake.set[i].reg] = fake.set[i].value;
    }
}

#define FMS_SAPPHIRE_RAPIDS 0x000806f8u /* family 6, model 0x8f */
#define FMS_IVYBRIDGE 0x000306a9u       /* family 6, model 0x3a */
#define FMS_SKYLAKE_X 0x00050654u       /* family 6, model 0x55 */
#define FMS_ZEN3 0x00a00f11u            /* family 0x19 */
#define FMS_PILEDRIVER 0x00600f12u      /* family 0x15 */

#endif

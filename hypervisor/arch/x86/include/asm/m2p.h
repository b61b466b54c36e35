/*
 * The machine-to-physical table: for every machine frame, the guest frame (pfn) its
 * owner uses for it, or M2P_INVALID. enso writes it through RDWR_MPT_VIRT_START; every
 * PV guest reads it at RO_MPT_VIRT_START (the start of the hypervisor's hole), read-only.
 */
#ifndef ASM_M2P_H
#define ASM_M2P_H

#include <enso/types.h>
#include <asm/layout.h>

#define M2P_INVALID (~0UL)

void m2p_init(void);

static inline void set_gpfn_from_mfn(mfn_t mfn, unsigned long pfn)
{
    ((unsigned long *)RDWR_MPT_VIRT_START)[mfn_x(mfn)] = pfn;
}

static inline unsigned long get_gpfn_from_mfn(mfn_t mfn)
{
    return ((unsigned long *)RDWR_MPT_VIRT_START)[mfn_x(mfn)];
}

#endif

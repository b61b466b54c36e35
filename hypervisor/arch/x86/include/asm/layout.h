/*
 * enso's virtual address layout. Everything lives in the PML4 slots the Xen ABI reserves
 * for the hypervisor (256-271, 0xffff800000000000-0xffff87ffffffffff), so these mappings
 * can be shared by every PV guest's page tables.
 *
 *  0xffff800000000000  slot 256   read-only M2P for guests (later)
 *  0xffff820000000000  slot 260   per-domain mappings: GDT/LDT (later)
 *  0xffff828000000000  slot 261   M2P, writable by enso (later)
 *  0xffff82c000000000  slot 261   ioremap area (64 GiB)
 *  0xffff82d080000000  slot 261   enso's image: text, rodata, data, bss (1 GiB)
 *  0xffff82e000000000  slot 261   frame table (128 GiB)
 *  0xffff830000000000  slot 262+  direct map of all machine memory (5 TiB)
 */
#ifndef ASM_LAYOUT_H
#define ASM_LAYOUT_H

#ifdef __ASSEMBLER__
#define _UL(x) x
#else
#define _UL(x) x##UL
#endif

/* Also in <public/xen.h> (same values): whichever header comes first defines them. */
#ifndef HYPERVISOR_VIRT_START
#define HYPERVISOR_VIRT_START _UL(0xffff800000000000)
#endif
#ifndef HYPERVISOR_VIRT_END
#define HYPERVISOR_VIRT_END _UL(0xffff880000000000)
#endif
#define RO_MPT_VIRT_START _UL(0xffff800000000000)
#define RO_MPT_VIRT_END _UL(0xffff804000000000) /* 256 GiB: room for 2^35 frames */
#define PERDOMAIN_VIRT_START _UL(0xffff820000000000)
#define RDWR_MPT_VIRT_START _UL(0xffff828000000000)
#define IOREMAP_VIRT_START _UL(0xffff82c000000000)
#define IOREMAP_VIRT_END _UL(0xffff82d000000000)
#define ENSO_VIRT_START _UL(0xffff82d080000000)
#define ENSO_VIRT_END _UL(0xffff82d0c0000000)
#define FRAMETABLE_VIRT_START _UL(0xffff82e000000000)
#define FRAMETABLE_VIRT_END _UL(0xffff830000000000)
#define DIRECTMAP_VIRT_START _UL(0xffff830000000000)
#define DIRECTMAP_VIRT_END _UL(0xffff880000000000)

/* enso is loaded at 2 MiB physical and linked at ENSO_VIRT_START + 2 MiB. */
#define ENSO_LOAD_PADDR _UL(0x200000)

#ifndef __ASSEMBLER__
#define FRAME_TABLE_BASE ((struct page_info *)FRAMETABLE_VIRT_START)
#define DIRECTMAP_BASE DIRECTMAP_VIRT_START
#endif

#endif

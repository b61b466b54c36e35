/*
 * Feature bits the hypervisor reports with XENVER_get_features (version.h), as bit
 * numbers in submap 0. Values follow Xen 4.17.
 */
#ifndef ENSO_PUBLIC_FEATURES_H
#define ENSO_PUBLIC_FEATURES_H

#define XENFEAT_writable_page_tables 0       /* page tables may be written directly */
#define XENFEAT_writable_descriptor_tables 1 /* so may GDT/LDT pages */
#define XENFEAT_auto_translated_physmap 2    /* the hypervisor translates pfns itself */
#define XENFEAT_supervisor_mode_kernel 3     /* the guest kernel runs in ring 0 */
#define XENFEAT_pae_pgdir_above_4gb 4        /* PAE page directories may sit above 4G */
#define XENFEAT_mmu_pt_update_preserve_ad 5  /* MMU_PT_UPDATE_PRESERVE_AD works */
#define XENFEAT_highmem_assist 6             /* MMUEXT_{CLEAR,COPY}_PAGE work */
#define XENFEAT_gnttab_map_avail_bits 7      /* GNTMAP_guest_avail bits are honoured */
#define XENFEAT_hvm_callback_vector 8        /* HVM: events via a vector */
#define XENFEAT_hvm_safe_pvclock 9           /* HVM: pvclock is safe to use */
#define XENFEAT_hvm_pirqs 10                 /* HVM: PIRQs routed as event channels */
#define XENFEAT_dom0 11                      /* the domain is dom0 */
/* 12 was grant_map_identity; deprecated, and Xen 4.17 no longer defines it. */
#define XENFEAT_memory_op_vnode_supported 13 /* XENMEMF_vnode is understood */
#define XENFEAT_ARM_SMCCC_supported 14       /* Arm only */
#define XENFEAT_linux_rsdp_unrestricted 15   /* the RSDP may be anywhere (PVH) */
#define XENFEAT_not_direct_mapped 16         /* Arm: memory is not 1:1 mapped */
#define XENFEAT_direct_mapped 17             /* Arm: memory is 1:1 mapped */

/* Number of 32-bit submaps the bits above occupy. */
#define XENFEAT_NR_SUBMAPS 1

#endif

/* Building a 64-bit PV domain's initial state from its kernel (arch/x86/pv/build.c). */
#ifndef ASM_PV_BUILD_H
#define ASM_PV_BUILD_H

#include <enso/types.h>

struct domain;

struct pv_build_info {
    const void *kernel;        /* the module: ELF, compressed ELF or bzImage */
    size_t kernel_len;
    const void *initrd;        /* NULL if none */
    size_t initrd_len;
    const char *cmdline;       /* the guest's command line */
    unsigned long nr_pages;    /* memory to give the domain */
    bool initial_domain;       /* start_info says SIF_INITDOMAIN */
};

/* 0, or -errno with *why naming what is wrong with the image or the request. */
int pv_build_domain(struct domain *d, const struct pv_build_info *info, const char **why);

/* Fill a page with the 32-byte hypercall stubs (the HYPERCALL_PAGE note, MSR 0x40000000). */
void pv_write_hypercall_page(uint8_t *page);

/* Start a domain for each kernel among the boot modules. */
void start_boot_domains(void);

#endif

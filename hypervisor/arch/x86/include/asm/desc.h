/*
 * Segment selectors and descriptor tables. enso's descriptors sit where the Xen ABI puts
 * the hypervisor's (from selector 0xe000 up), so PV guests later find the flat ring-3
 * selectors they expect (FLAT_RING3_CS64 0xe033 etc.). The GDTR base points 0xe000 bytes
 * below each CPU's table so those selectors index it directly.
 */
#ifndef ASM_DESC_H
#define ASM_DESC_H

#define FIRST_RESERVED_GDT_BYTE 0xe000
#define ENSO_CS 0xe008     /* ring 0, 64-bit */
#define ENSO_DS 0xe010     /* ring 0, flat data (also SS after SYSCALL) */
#define ENSO_CS32 0xe018   /* ring 0, 32-bit */
#define RING3_CS32 0xe023  /* ring 3 compatibility code (SYSRET base) */
#define RING3_DS 0xe02b    /* ring 3 flat data / stack */
#define RING3_CS64 0xe033  /* ring 3, 64-bit */
#define TSS_SEL 0xe040     /* 16-byte system descriptor */
#define LDT_SEL 0xe050
#define GDT_ENSO_ENTRIES 14 /* entries from 0xe000 up that enso owns */

/* IST slots in the TSS (1-based, as the IDT encodes them). */
#define IST_DF 1
#define IST_NMI 2
#define IST_MCE 3
#define IST_DB 4
#define IST_STACK_SIZE 4096

#ifndef __ASSEMBLER__
#include <enso/types.h>

struct tss64 {
    uint32_t reserved0;   /* 0x00 */
    uint64_t rsp[3];      /* 0x04: stacks for transitions to rings 0-2 */
    uint64_t reserved1;   /* 0x1c */
    uint64_t ist[7];      /* 0x24: IST1..IST7 */
    uint64_t reserved2;   /* 0x5c */
    uint16_t reserved3;   /* 0x64 */
    uint16_t iomap_base;  /* 0x66: beyond the limit = no I/O bitmap */
} __packed;
BUILD_BUG_ON(sizeof(struct tss64) != 0x68);

struct idt_entry {
    uint16_t offset_lo;   /* 0x0 */
    uint16_t selector;    /* 0x2 */
    uint8_t ist;          /* 0x4: bits 0-2 */
    uint8_t type_attr;    /* 0x5: P, DPL, gate type */
    uint16_t offset_mid;  /* 0x6 */
    uint32_t offset_hi;   /* 0x8 */
    uint32_t reserved;    /* 0xc */
} __packed;
BUILD_BUG_ON(sizeof(struct idt_entry) != 16);

void gdt_tss_init_cpu(unsigned int cpu);
mfn_t cpu_gdt_mfn(unsigned int cpu);
void load_enso_gdt(void);
void load_gdt_window(uint64_t base);
void load_ldt(uint64_t base, unsigned int ents);
void tss_set_rsp0(uint64_t rsp0);
void idt_init(void);
void idt_load(void);
void idt_set_handler(unsigned int vec, void *handler, unsigned int ist, unsigned int dpl);
#endif

#endif

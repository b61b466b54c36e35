/*
 * enso's link layout. Linked at ENSO_VIRT_START + 2 MiB, loaded at 2 MiB physical.
 * Text, read-only data and writable data each start on a 4 KiB boundary, so that
 * enso's page tables can give each its own permissions (text RX, rodata R, data and
 * bss RW+NX).
 */
#include <asm/layout.h>

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(_start)

PHDRS
{
    text PT_LOAD;
}

SECTIONS
{
    . = ENSO_VIRT_START + ENSO_LOAD_PADDR;
    __image_start = .;
    _start_text = .;
    .text : AT(ADDR(.text) - ENSO_VIRT_START) {
        *(.text.header)
        *(.text .text.*)
        *(.fixup)
        *(.init.text)
    } :text
    . = ALIGN(4096);
    _end_text = .;

    _start_rodata = .;
    .rodata : AT(ADDR(.rodata) - ENSO_VIRT_START) {
        *(.rodata .rodata.*)
        . = ALIGN(4);
        __note_gnu_build_id_start = .;
        KEEP(*(.note.gnu.build-id))
        __note_gnu_build_id_end = .;
        . = ALIGN(8);
        __start_enso_params = .;
        KEEP(*(enso_params))
        __stop_enso_params = .;
        . = ALIGN(8);
        __start_selftests = .;
        KEEP(*(enso_selftests))
        __stop_selftests = .;
        . = ALIGN(8);
        __start_keyhandlers = .;
        KEEP(*(enso_keyhandlers))
        __stop_keyhandlers = .;
        . = ALIGN(8);
        __start_ex_table = .;
        KEEP(*(.ex_table))
        __stop_ex_table = .;
        . = ALIGN(8);
        *(.symtab_enso)
    }
    . = ALIGN(4096);
    _end_rodata = .;

    _start_data = .;
    .data : AT(ADDR(.data) - ENSO_VIRT_START) {
        *(.data.page_aligned)
        /* The per-CPU template comes before the generic .data.* pattern claims it. */
        . = ALIGN(4096);
        __per_cpu_start = .;
        *(.data.percpu.first)
        *(.data.percpu)
        . = ALIGN(64);
        __per_cpu_end = .;
        *(.data .data.*)
        *(.init.data)
    }
    /* The file ends here; the loaders zero everything from here to __bss_end. */
    __load_end = .;
    . = ALIGN(4096);

    .bss : AT(ADDR(.bss) - ENSO_VIRT_START) {
        __bss_start = .;
        *(.bss.stack)
        *(.bss .bss.* COMMON)
        . = ALIGN(4096);
        __bss_end = .;
    }
    __image_end = .;

    /DISCARD/ : {
        *(.note.GNU-stack) *(.comment) *(.eh_frame) *(.note.gnu.property)
    }
}

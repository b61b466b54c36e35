/*
 * Interrupt and exception entry. Each vector has a stub that makes the frame uniform
 * (an error code of 0 where the CPU pushes none, then the vector number) and jumps to
 * common_entry, which saves the general registers as struct cpu_user_regs and calls
 * do_entry(regs). Entries from ring 3 switch to enso's GS base with swapgs; returns to
 * ring 3 leave through ret_to_guest (pv/entry.S).
 */
#include <asm/desc.h>
#include <asm/asm_macros.h>
#include <asm/regs.h>

/* Vectors where the CPU pushes an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
                    (v) == 29 || (v) == 30)

        .text
        .balign 16
        .globl entry_stubs
entry_stubs:
        .set    vec, 0
        .rept   256
        .balign 16
        .if     !HAS_ERR(vec)
        pushq   $0
        .endif
        pushq   $vec
        jmp     common_entry
        .set    vec, vec + 1
        .endr

common_entry:
        cld
        testb   $3, REGS_CS - REGS_VECTOR(%rsp)
        jz      1f
        swapgs
1:      SAVE_GPRS
        cmpb    $0, smap_enabled(%rip)
        je      2f
        clac
2:      mov     %rsp, %rdi
        /* A frame record for the backtrace: the interrupted RIP above the saved RBP. */
        push    0x88(%rdi)
        push    %rbp
        mov     %rsp, %rbp
        call    do_entry
        add     $16, %rsp
        /* Back to a PV guest: the exit path checks for work and switches GS back. */
        testb   $3, REGS_CS(%rsp)
        jnz     ret_to_guest
        RESTORE_GPRS
        add     $16, %rsp
        iretq

        .data
        .globl smap_enabled
smap_enabled:
        .byte   0

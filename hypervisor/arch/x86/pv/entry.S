/*
 * PV guest entry and exit that the generic stubs in entry.S do not cover: SYSCALL (a
 * hypercall from the guest kernel, a system call from guest user mode), the return to
 * the guest, and the stack switch between vCPUs.
 *
 * While a guest runs, MSR_GS_BASE holds the guest's GS base and MSR_KERNEL_GS_BASE
 * enso's per-CPU pointer; every entry from ring 3 starts with swapgs and every exit to
 * ring 3 ends with one.
 */
#include <asm/desc.h>
#include <asm/asm_macros.h>
#include <asm/regs.h>

        .text

/*
 * SYSCALL: rcx = guest rip, r11 = guest rflags, rsp still the guest's. SFMASK has
 * cleared IF, TF, DF, AC and NT. Build the same frame an interrupt from ring 3 would,
 * with cs telling 64-bit from compatibility mode, and call handler(regs).
 */
.macro SYSCALL_ENTRY name, cs, handler
        .globl \name
        .balign 16
\name:
        swapgs
        mov     %rsp, %gs:CPUINFO_SCRATCH
        mov     %gs:CPUINFO_STACK_TOP, %rsp
        pushq   $RING3_DS                       /* ss */
        pushq   %gs:CPUINFO_SCRATCH             /* rsp */
        pushq   %r11                            /* rflags */
        pushq   $\cs                            /* cs */
        pushq   %rcx                            /* rip */
        pushq   $0                              /* error code */
        pushq   $VECTOR_SYSCALL
        SAVE_GPRS
        xor     %ebp, %ebp              /* ends the backtrace at the guest boundary */
        sti
        mov     %rsp, %rdi
        call    \handler
        jmp     ret_to_guest
.endm

        SYSCALL_ENTRY syscall_entry, RING3_CS64, pv_syscall
/* A 32-bit SYSCALL (compatibility mode): no 32-bit guests, the guest gets #UD. */
        SYSCALL_ENTRY syscall32_entry, RING3_CS32, pv_syscall32

/*
 * Back to the guest whose frame is at %rsp. pv_exit_work runs softirqs (which may switch
 * to another vCPU and come back here later), delivers pending bounces and leaves
 * interrupts off and the frame safe for iretq: canonical rip, enso's flat ring-3
 * selectors, sane rflags.
 */
        .globl ret_to_guest
ret_to_guest:
        mov     %rsp, %rdi
        call    pv_exit_work
        RESTORE_GPRS
        add     $16, %rsp
        swapgs
        iretq

/* A new vCPU's first switch-in "returns" here with %rsp at its guest frame. */
        .globl vcpu_first_entry
vcpu_first_entry:
        call    context_switch_done
        jmp     ret_to_guest

/* switch_stacks(uint64_t *save, uint64_t next_rsp) */
        .globl switch_stacks
switch_stacks:
        push    %rbp
        push    %rbx
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        mov     %rsp, (%rdi)
        mov     %rsi, %rsp
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbx
        pop     %rbp
        ret

/*
 * Exception entry and exit, the trap catcher, and the two ways to make a hypercall.
 *
 * A 64-bit PV guest gets its exceptions as a "bounce frame" on its stack, lowest address
 * first: rcx, r11, [error code], rip, cs (the saved event mask in bits 32-39), rflags,
 * rsp, ss. rcx and r11 are the interrupted values (the hypervisor needed the registers
 * to return to us). Each stub below puts rcx and r11 back, turns the rest into the
 * shape of a hardware frame (adding a 0 error code where the vector has none) and joins
 * trap_common, which saves every register as a struct trap_frame and calls
 * trap_dispatch(). The way back is the iret hypercall, never iretq: only the hypervisor
 * can restore the event mask along with the frame.
 */
#include <guest/layout.h>

    .text
    .code64

/* One 16-byte stub per vector; trap_stubs + v * 16 is the handler of vector v. */
.macro trap_stub v
    .balign 16
    pop %rcx
    pop %r11
    /* Vectors with an error code; altmacro mode takes '!' as a quote, hence the .else. */
    .if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || \
        (\v == 29) || (\v == 30)
    .else
    push $0
    .endif
    push $\v
    jmp trap_common
.endm

    .balign 16
    .globl trap_stubs
trap_stubs:
    .altmacro
    .set vec, 0
    .rept 256
    trap_stub %vec
    .set vec, vec + 1
    .endr
    .noaltmacro

trap_common:
    push %rdi
    push %rsi
    push %rdx
    push %rcx
    push %rax
    push %r8
    push %r9
    push %r10
    push %r11
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    mov %rsp, %rbp
    and $-16, %rsp
    cld
    call trap_dispatch
    mov %rbp, %rsp
    .globl trap_exit
trap_exit:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rax
    pop %rcx
    pop %rdx
    pop %rsi
    pop %rdi
    add $16, %rsp                    /* vector, error code */
    /* iret hypercall frame: rax, r11, rcx (the stub pushes those), flags, rip, cs,
     * rflags, rsp, ss. flags 0: restore rcx and r11 too. */
    push $0
    cmpb $0, iret_via_syscall(%rip)
    jne 1f
    jmp hypercall_page + GUEST_HYPERCALL_IRET * 32
    /* The same without the hypercall page (hc=syscall on the command line). */
1:  push %rcx
    push %r11
    push %rax
    mov $GUEST_HYPERCALL_IRET, %eax
    syscall
    ud2

/*
 * int run_catching(struct trap_catch *c, void (*fn)(void *), void *arg)
 * Calls fn(arg) with c armed: returns 0 if fn returned, 1 if a trap arrived, in which
 * case trap_dispatch filled c in, disarmed it and resumed at catch_resume with the
 * stack and callee-saved registers of this call.
 */
    .globl run_catching
run_catching:
    mov %rsp, TC_RSP(%rdi)
    mov %rbx, TC_RBX(%rdi)
    mov %rbp, TC_RBP(%rdi)
    mov %r12, TC_R12(%rdi)
    mov %r13, TC_R13(%rdi)
    mov %r14, TC_R14(%rdi)
    mov %r15, TC_R15(%rdi)
    mov catch_top(%rip), %rax
    mov %rax, TC_OUTER(%rdi)
    mov %rdi, catch_top(%rip)
    push %rdi
    mov %rdx, %rdi
    call *%rsi
    pop %rdi
    mov TC_OUTER(%rdi), %rax
    mov %rax, catch_top(%rip)
    xor %eax, %eax
    ret

    .globl catch_resume
catch_resume:
    mov $1, %eax
    ret

/*
 * long hypercall_via_page(nr, a1, a2, a3, a4, a5): the builder's stub for nr, with the
 * arguments moved to rdi, rsi, rdx, r10, r8. The stub returns straight to our caller.
 */
    .globl hypercall_via_page
hypercall_via_page:
    mov %rdi, %rax
    shl $5, %rax
    lea hypercall_page(%rip), %r11
    add %r11, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    jmp *%rax

/* long hypercall_via_syscall(nr, a1, a2, a3, a4, a5): a bare syscall from kernel mode. */
    .globl hypercall_via_syscall
hypercall_via_syscall:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    syscall
    ret

    .data
    .balign 8
    .globl catch_top
catch_top:
    .quad 0
    .globl iret_via_syscall
iret_via_syscall:
    .byte 0

/* Halting and rebooting the machine. */
#include <enso/panic.h>
#include <enso/printk.h>
#include <asm/processor.h>

void machine_halt(void)
{
    local_irq_disable();
    for (;;)
        halt();
}

/*
 * Reset through the PCI reset-control register (0xcf9), then the keyboard controller,
 * then by loading an empty IDT and faulting: a triple fault resets every PC.
 */
void machine_restart(void)
{
    static const struct __packed { uint16_t limit; uint64_t base; } no_idt = { 0, 0 };

    local_irq_disable();
    outb(0x02, 0xcf9);
    outb(0x06, 0xcf9);
    for (int i = 0; i < 100000; i++)
        cpu_relax();
    for (int i = 0; i < 10000 && (inb(0x64) & 0x02); i++)
        cpu_relax();
    outb(0xfe, 0x64);
    for (int i = 0; i < 100000; i++)
        cpu_relax();
    __asm__ volatile("lidt %0; int3" ::"m"(no_idt));
    for (;;)
        halt();
}

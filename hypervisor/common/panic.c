/*
 * panic(): enso's own invariants broke. Print the reason on a console that can no longer
 * be locked out, stop the other CPUs, then reboot, or halt with `noreboot`.
 */
#include <enso/cmdline.h>
#include <enso/console.h>
#include <enso/lib.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/smp.h>
#include <enso/time.h>
#include <asm/processor.h>

static bool opt_noreboot;
boolean_param("noreboot", opt_noreboot);

static volatile int panicking = -1;

void arch_stop_other_cpus(void);

void panic(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    unsigned int cpu = smp_processor_id();

    local_irq_disable();
    /* A second panic (on this CPU or another) must not interleave: park it. */
    if (!__sync_bool_compare_and_swap(&panicking, -1, (int)cpu))
        for (;;)
            halt();
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    console_force_unlock();
    printk(LOG_ERR "****************************************\n");
    printk(LOG_ERR "PANIC on CPU %u:\n", cpu);
    printk(LOG_ERR "%s\n", msg);
    printk(LOG_ERR "****************************************\n");
    arch_stop_other_cpus();
    if (opt_noreboot) {
        printk(LOG_ERR "noreboot: system halted\n");
        machine_halt();
    }
    printk(LOG_ERR "Rebooting in 1 second...\n");
    mdelay(1000);
    machine_restart();
}

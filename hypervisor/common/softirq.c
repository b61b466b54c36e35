/* Softirq bookkeeping: a pending word per CPU and one handler per softirq number. */
#include <enso/bitmap.h>
#include <enso/smp.h>
#include <enso/softirq.h>
#include <asm/processor.h>

static softirq_handler_t handlers[NR_SOFTIRQS];
static DEFINE_PER_CPU(unsigned long, softirq_pending_bits);

void open_softirq(unsigned int nr, softirq_handler_t fn)
{
    handlers[nr] = fn;
}

void raise_softirq(unsigned int nr)
{
    set_bit(nr, &this_cpu(softirq_pending_bits));
}

void cpu_raise_softirq(unsigned int cpu, unsigned int nr)
{
    if (test_and_set_bit(nr, &per_cpu(softirq_pending_bits, cpu)))
        return;
    if (cpu != smp_processor_id())
        smp_send_event_check(cpu);
}

bool softirq_pending(unsigned int cpu)
{
    return READ_ONCE(per_cpu(softirq_pending_bits, cpu)) != 0;
}

/* A handler may switch vCPUs, and the vCPU resume on another CPU: this CPU's bits are
 * looked up afresh each time round. */
void do_softirq(void)
{
    unsigned long flags = local_irq_save();

    for (;;) {
        unsigned long *pending = &this_cpu(softirq_pending_bits);
        unsigned int nr = (unsigned int)find_first_bit(pending, NR_SOFTIRQS);
        if (nr >= NR_SOFTIRQS)
            break;
        clear_bit(nr, pending);
        local_irq_enable();
        if (handlers[nr])
            handlers[nr]();
        local_irq_disable();
    }
    local_irq_restore(flags);
}

/* Only softirq nr, if pending on this CPU (boot code that may not switch vCPUs yet). */
void do_softirq_only(unsigned int nr)
{
    unsigned long flags = local_irq_save();

    if (test_bit(nr, &this_cpu(softirq_pending_bits))) {
        clear_bit(nr, &this_cpu(softirq_pending_bits));
        local_irq_enable();
        if (handlers[nr])
            handlers[nr]();
    }
    local_irq_restore(flags);
}

/*
 * The local APIC. x2APIC mode (MSR access, 32-bit IDs) is used when the CPU has it,
 * unless `x2apic=0`; otherwise xAPIC through its MMIO page. Every CPU runs
 * apic_setup_cpu() on itself.
 */
#include <enso/cmdline.h>
#include <enso/irq.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/time.h>
#include <asm/apic.h>
#include <asm/cpufeature.h>
#include <asm/mm.h>
#include <asm/processor.h>

#define APIC_BASE_ENABLE (1UL << 11)
#define APIC_BASE_X2APIC (1UL << 10)
#define MSR_X2APIC_FIRST 0x800

bool x2apic_enabled;
static bool opt_x2apic = true;
boolean_param("x2apic", opt_x2apic);
static volatile uint32_t *xapic_mmio;

uint32_t apic_read(unsigned int reg)
{
    if (x2apic_enabled)
        return (uint32_t)rdmsr(MSR_X2APIC_FIRST + (reg >> 4));
    return xapic_mmio[reg >> 2];
}

void apic_write(unsigned int reg, uint32_t v)
{
    if (x2apic_enabled)
        wrmsr(MSR_X2APIC_FIRST + (reg >> 4), v);
    else
        xapic_mmio[reg >> 2] = v;
}

uint32_t apic_current_id(void)
{
    uint32_t id = apic_read(APIC_ID);
    return x2apic_enabled ? id : id >> 24;
}

void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

void apic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    if (x2apic_enabled) {
        /* x2APIC ICR writes are not serialising: order earlier stores first. */
        __asm__ volatile("mfence" ::: "memory");
        wrmsr(MSR_X2APIC_FIRST + (APIC_ICR >> 4), ((uint64_t)apic_id << 32) | icr_low);
        return;
    }
    for (int i = 0; i < 1000000 && (apic_read(APIC_ICR) & (1u << 12)); i++)
        cpu_relax();
    apic_write(APIC_ICR2, apic_id << 24);
    apic_write(APIC_ICR, icr_low);
}

void apic_wakeup_ap(uint32_t apic_id, paddr_t trampoline)
{
    uint32_t vec = (uint32_t)(trampoline >> 12) & 0xff;

    apic_send_ipi(apic_id, APIC_DM_INIT | APIC_LEVEL_ASSERT);
    mdelay(10);
    apic_send_ipi(apic_id, APIC_DM_STARTUP | vec);
    udelay(200);
    apic_send_ipi(apic_id, APIC_DM_STARTUP | vec);
}

static void apic_error_interrupt(struct cpu_user_regs *regs, unsigned int vector)
{
    apic_write(APIC_ESR, 0);
    printk(LOG_WARNING "APIC error on CPU, ESR %#x\n", apic_read(APIC_ESR));
}

/* Per CPU: enable the APIC with the spurious vector, mask the local interrupt pins. */
void apic_setup_cpu(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;

    if (x2apic_enabled)
        base |= APIC_BASE_X2APIC;
    wrmsr(MSR_APIC_BASE, base);
    apic_write(APIC_TPR, 0);
    apic_write(APIC_SVR, 0x100 | VECTOR_SPURIOUS);
    apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
    apic_write(APIC_LVT_LINT1, APIC_DM_NMI);
    apic_write(APIC_LVT_ERROR, VECTOR_ERROR);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
    apic_write(APIC_ESR, 0);
    apic_write(APIC_ESR, 0);
}

void apic_init_bsp(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    if (!cpu_has_apic)
        panic("apic: this CPU has no local APIC");
    pic_disable();
    x2apic_enabled = cpu_has_x2apic && opt_x2apic;
    if (!x2apic_enabled) {
        xapic_mmio = ioremap(base & PADDR_MASK & ~0xfffUL, PAGE_SIZE, false);
        if (!xapic_mmio)
            panic("apic: cannot map the local APIC");
    }
    set_irq_handler(VECTOR_ERROR, apic_error_interrupt);
    apic_setup_cpu();
    printk("apic: %s mode, boot CPU APIC ID %u\n", x2apic_enabled ? "x2APIC" : "xAPIC",
           apic_current_id());
}

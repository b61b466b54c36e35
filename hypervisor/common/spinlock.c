/*
 * Ticket spinlocks: CPUs are served in the order they arrived. With LOCK_DEBUG, misuse
 * (recursion, unlock by a non-owner, mixing IRQ-on and IRQ-off acquisitions) panics with
 * the lock's address, so the bug is found where it is made.
 */
#include <enso/panic.h>
#include <enso/smp.h>
#include <enso/spinlock.h>
#include <asm/processor.h>

#ifdef LOCK_DEBUG
static void check_lock(spinlock_t *l)
{
    int8_t irq_off = !local_irq_is_enabled();

    if (l->owner == (int16_t)smp_processor_id())
        panic("lock %p taken recursively on CPU %u", (void *)l, smp_processor_id());
    if (l->irq_safe < 0)
        l->irq_safe = irq_off;
    else if (l->irq_safe != irq_off)
        panic("lock %p taken with interrupts %s, earlier %s", (void *)l,
              irq_off ? "off" : "on", irq_off ? "on" : "off");
}
static void set_owner(spinlock_t *l) { l->owner = (int16_t)smp_processor_id(); }
static void check_unlock(spinlock_t *l)
{
    if (l->owner != (int16_t)smp_processor_id())
        panic("lock %p released by CPU %u, held by %d", (void *)l, smp_processor_id(), l->owner);
    l->owner = -1;
}
#else
static void check_lock(spinlock_t *l) { (void)l; }
static void set_owner(spinlock_t *l) { (void)l; }
static void check_unlock(spinlock_t *l) { (void)l; }
#endif

void spin_lock_init(spinlock_t *l)
{
    *l = (spinlock_t)SPIN_LOCK_UNLOCKED;
}

void spin_lock(spinlock_t *l)
{
    uint16_t ticket;

    check_lock(l);
    ticket = __atomic_fetch_add(&l->tail, 1, __ATOMIC_ACQUIRE);
    while (__atomic_load_n(&l->head, __ATOMIC_ACQUIRE) != ticket)
        cpu_relax();
    set_owner(l);
}

bool spin_trylock(spinlock_t *l)
{
    uint16_t head = __atomic_load_n(&l->head, __ATOMIC_RELAXED);
    uint16_t expect = head;

    /* Take a ticket only if it would be served at once. */
    if (!__atomic_compare_exchange_n(&l->tail, &expect, (uint16_t)(head + 1), false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    set_owner(l);
    return true;
}

void spin_unlock(spinlock_t *l)
{
    check_unlock(l);
    __atomic_store_n(&l->head, (uint16_t)(l->head + 1), __ATOMIC_RELEASE);
}

bool spin_is_locked(const spinlock_t *l)
{
    return READ_ONCE(l->head) != READ_ONCE(l->tail);
}

void spin_lock_irq(spinlock_t *l)
{
    local_irq_disable();
    spin_lock(l);
}

void spin_unlock_irq(spinlock_t *l)
{
    spin_unlock(l);
    local_irq_enable();
}

unsigned long spin_lock_irqsave(spinlock_t *l)
{
    unsigned long flags = local_irq_save();

    spin_lock(l);
    return flags;
}

void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags)
{
    spin_unlock(l);
    local_irq_restore(flags);
}

/*
 * Ticket spinlocks. With LOCK_DEBUG the lock records its owner, catches recursion and
 * unlocking by a non-owner, and checks that a lock is always taken with the same interrupt
 * state (a lock taken both with and without IRQs enabled can deadlock against itself).
 */
#ifndef ENSO_SPINLOCK_H
#define ENSO_SPINLOCK_H

#include <enso/types.h>

typedef struct spinlock {
    volatile uint16_t head; /* ticket being served */
    volatile uint16_t tail; /* next ticket to hand out */
#ifdef LOCK_DEBUG
    int16_t owner;          /* CPU holding it, -1 if none */
    int8_t irq_safe;        /* -1 unknown, 0 taken with IRQs on, 1 with IRQs off */
#endif
} spinlock_t;

#ifdef LOCK_DEBUG
#define SPIN_LOCK_UNLOCKED { 0, 0, -1, -1 }
#else
#define SPIN_LOCK_UNLOCKED { 0, 0 }
#endif
#define DEFINE_SPINLOCK(l) spinlock_t l = SPIN_LOCK_UNLOCKED

void spin_lock_init(spinlock_t *l);
void spin_lock(spinlock_t *l);
bool spin_trylock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
bool spin_is_locked(const spinlock_t *l);
void spin_lock_irq(spinlock_t *l);
void spin_unlock_irq(spinlock_t *l);
unsigned long spin_lock_irqsave(spinlock_t *l);
void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags);

#endif

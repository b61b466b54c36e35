/* Host unit tests are single-threaded: locks only check that they are used in pairs. */
#include <enso/spinlock.h>
#include <assert.h>

void spin_lock_init(spinlock_t *l) { l->head = l->tail = 0; }
void spin_lock(spinlock_t *l) { assert(l->head == l->tail); l->tail++; }
bool spin_trylock(spinlock_t *l) { if (l->head != l->tail) return false; l->tail++; return true; }
void spin_unlock(spinlock_t *l) { assert(l->head != l->tail); l->head++; }
bool spin_is_locked(const spinlock_t *l) { return l->head != l->tail; }
void spin_lock_irq(spinlock_t *l) { spin_lock(l); }
void spin_unlock_irq(spinlock_t *l) { spin_unlock(l); }
unsigned long spin_lock_irqsave(spinlock_t *l) { spin_lock(l); return 0; }
void spin_unlock_irqrestore(spinlock_t *l, unsigned long f) { (void)f; spin_unlock(l); }

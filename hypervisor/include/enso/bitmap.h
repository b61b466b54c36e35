/*
 * Bitmaps: arrays of unsigned long, bit n in word n / BITS_PER_LONG. The plain names
 * (set_bit, ...) are atomic and may race with other CPUs; the __ names are not and are
 * for bitmaps nobody else can see. Functions taking nbits ignore bits at and above it.
 */
#ifndef ENSO_BITMAP_H
#define ENSO_BITMAP_H

#include <enso/types.h>

/* Also defined by <enso/percpu.h>; both guard it so either may come first. */
#ifndef NR_CPUS
#define NR_CPUS 64
#endif

#define BITS_PER_LONG 64
#define BITS_TO_LONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DECLARE_BITMAP(name, nbits) unsigned long name[BITS_TO_LONGS(nbits)]

#define BIT_WORD(nr) ((nr) / BITS_PER_LONG)
#define BIT_MASK(nr) (1UL << ((nr) % BITS_PER_LONG))

static inline void set_bit(unsigned long nr, volatile unsigned long *addr)
{
    __asm__ __volatile__("lock btsq %1, %0"
                         : "+m"(addr[BIT_WORD(nr)]) : "r"(nr % BITS_PER_LONG) : "memory");
}

static inline void clear_bit(unsigned long nr, volatile unsigned long *addr)
{
    __asm__ __volatile__("lock btrq %1, %0"
                         : "+m"(addr[BIT_WORD(nr)]) : "r"(nr % BITS_PER_LONG) : "memory");
}

static inline bool test_and_set_bit(unsigned long nr, volatile unsigned long *addr)
{
    bool old;

    __asm__ __volatile__("lock btsq %2, %1"
                         : "=@ccc"(old), "+m"(addr[BIT_WORD(nr)])
                         : "r"(nr % BITS_PER_LONG) : "memory");
    return old;
}

static inline bool test_and_clear_bit(unsigned long nr, volatile unsigned long *addr)
{
    bool old;

    __asm__ __volatile__("lock btrq %2, %1"
                         : "=@ccc"(old), "+m"(addr[BIT_WORD(nr)])
                         : "r"(nr % BITS_PER_LONG) : "memory");
    return old;
}

static inline void __set_bit(unsigned long nr, unsigned long *addr)
{
    addr[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static inline void __clear_bit(unsigned long nr, unsigned long *addr)
{
    addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

static inline bool test_bit(unsigned long nr, const volatile unsigned long *addr)
{
    return (addr[BIT_WORD(nr)] & BIT_MASK(nr)) != 0;
}

/* The find functions return nbits when there is no such bit. */
unsigned long find_next_bit(const unsigned long *addr, unsigned long nbits,
                            unsigned long offset);
unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long nbits,
                                 unsigned long offset);
unsigned long bitmap_weight(const unsigned long *addr, unsigned long nbits);
void bitmap_zero(unsigned long *dst, unsigned long nbits);
void bitmap_fill(unsigned long *dst, unsigned long nbits);
/* and/andnot return whether any bit is set in the result. */
bool bitmap_and(unsigned long *dst, const unsigned long *a, const unsigned long *b,
                unsigned long nbits);
void bitmap_or(unsigned long *dst, const unsigned long *a, const unsigned long *b,
               unsigned long nbits);
bool bitmap_andnot(unsigned long *dst, const unsigned long *a, const unsigned long *b,
                   unsigned long nbits);
bool bitmap_equal(const unsigned long *a, const unsigned long *b, unsigned long nbits);
bool bitmap_empty(const unsigned long *addr, unsigned long nbits);

static inline unsigned long find_first_bit(const unsigned long *addr, unsigned long nbits)
{
    return find_next_bit(addr, nbits, 0);
}

static inline unsigned long find_first_zero_bit(const unsigned long *addr,
                                                unsigned long nbits)
{
    return find_next_zero_bit(addr, nbits, 0);
}

/* A set of CPUs. Wrapped in a struct so masks can be assigned and passed by value. */
typedef struct cpumask {
    DECLARE_BITMAP(bits, NR_CPUS);
} cpumask_t;

static inline void cpumask_set_cpu(unsigned int cpu, cpumask_t *m)
{
    set_bit(cpu, m->bits);
}

static inline void cpumask_clear_cpu(unsigned int cpu, cpumask_t *m)
{
    clear_bit(cpu, m->bits);
}

static inline bool cpumask_test_cpu(unsigned int cpu, const cpumask_t *m)
{
    return test_bit(cpu, m->bits);
}

/* First CPU in m, or NR_CPUS if m is empty. */
static inline unsigned int cpumask_first(const cpumask_t *m)
{
    return (unsigned int)find_first_bit(m->bits, NR_CPUS);
}

/* First CPU in m after cpu (cpu may be -1 to start), or NR_CPUS if none. */
static inline unsigned int cpumask_next(int cpu, const cpumask_t *m)
{
    return (unsigned int)find_next_bit(m->bits, NR_CPUS, (unsigned long)(cpu + 1));
}

static inline unsigned int cpumask_weight(const cpumask_t *m)
{
    return (unsigned int)bitmap_weight(m->bits, NR_CPUS);
}

static inline bool cpumask_empty(const cpumask_t *m)
{
    return bitmap_empty(m->bits, NR_CPUS);
}

static inline void cpumask_clear(cpumask_t *m)
{
    bitmap_zero(m->bits, NR_CPUS);
}

static inline void cpumask_copy(cpumask_t *dst, const cpumask_t *src)
{
    *dst = *src;
}

static inline bool cpumask_and(cpumask_t *dst, const cpumask_t *a, const cpumask_t *b)
{
    return bitmap_and(dst->bits, a->bits, b->bits, NR_CPUS);
}

static inline bool cpumask_andnot(cpumask_t *dst, const cpumask_t *a, const cpumask_t *b)
{
    return bitmap_andnot(dst->bits, a->bits, b->bits, NR_CPUS);
}

#define for_each_cpu(cpu, mask)                                                         \
    for ((cpu) = cpumask_first(mask); (cpu) < NR_CPUS; (cpu) = cpumask_next((int)(cpu), mask))

#endif

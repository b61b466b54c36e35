/* Basic types for enso. Only the compiler's freestanding headers are used. */
#ifndef ENSO_TYPES_H
#define ENSO_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

typedef uint64_t paddr_t;

/*
 * Frame numbers are wrapped in one-member structs so that a machine frame can never be
 * passed where a guest frame is meant (or an integer where either is meant).
 */
typedef struct { unsigned long m; } mfn_t;
typedef struct { unsigned long g; } gfn_t;

static inline mfn_t _mfn(unsigned long m) { return (mfn_t){ m }; }
static inline unsigned long mfn_x(mfn_t m) { return m.m; }
static inline gfn_t _gfn(unsigned long g) { return (gfn_t){ g }; }
static inline unsigned long gfn_x(gfn_t g) { return g.g; }
static inline mfn_t mfn_add(mfn_t m, unsigned long n) { return _mfn(m.m + n); }
static inline bool mfn_eq(mfn_t a, mfn_t b) { return a.m == b.m; }

#define INVALID_MFN _mfn(~0UL)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ROUNDUP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ROUNDDOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __packed __attribute__((packed))
#define __aligned(n) __attribute__((aligned(n)))
#define __section(s) __attribute__((section(s)))
#define __noreturn __attribute__((noreturn))
#define __used __attribute__((used))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __init __section(".init.text")
#define __initdata __section(".init.data")

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PFN_DOWN(a) ((a) >> PAGE_SHIFT)
#define PFN_UP(a) (((a) + PAGE_SIZE - 1) >> PAGE_SHIFT)

#define KB(x) ((uint64_t)(x) << 10)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)

#define barrier() __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#endif

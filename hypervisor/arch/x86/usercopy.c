/*
 * Fault-safe copies to and from guest virtual addresses. A PV guest's pages are user
 * pages (its kernel runs in ring 3), so with SMAP on each access is bracketed by
 * stac/clac. A fault inside `rep movsb`/`rep stosb` resumes after it with %rcx holding
 * the bytes left, which the caller turns into -EFAULT.
 */
#include <enso/errno.h>
#include <enso/extable.h>
#include <enso/guest_access.h>
#include <asm/layout.h>
#include <asm/processor.h>

extern uint8_t smap_enabled;

/* Guest space: the lower canonical half, and the upper half above enso's slots. */
bool guest_range_ok(uint64_t va, size_t len)
{
    uint64_t end = va + len;

    if (end < va)
        return false;
    if (end <= 0x0000800000000000UL)
        return true;
    return va >= HYPERVISOR_VIRT_END;
}

static size_t raw_copy(void *dst, const void *src, size_t len)
{
    if (smap_enabled)
        stac();
    __asm__ volatile("1: rep movsb\n"
                     "2:\n" _ASM_EXTABLE(1b, 2b)
                     : "+D"(dst), "+S"(src), "+c"(len)
                     :
                     : "memory");
    if (smap_enabled)
        clac();
    return len;
}

/* Copies of nothing succeed wherever they point, as on Xen. */
int copy_from_guest(void *dst, uint64_t va, size_t len)
{
    if (!len)
        return 0;
    if (!guest_range_ok(va, len))
        return -EFAULT;
    return raw_copy(dst, (const void *)va, len) ? -EFAULT : 0;
}

int copy_to_guest(uint64_t va, const void *src, size_t len)
{
    if (!len)
        return 0;
    if (!guest_range_ok(va, len))
        return -EFAULT;
    return raw_copy((void *)va, src, len) ? -EFAULT : 0;
}

int clear_guest(uint64_t va, size_t len)
{
    void *dst = (void *)va;

    if (!guest_range_ok(va, len))
        return -EFAULT;
    if (smap_enabled)
        stac();
    __asm__ volatile("1: rep stosb\n"
                     "2:\n" _ASM_EXTABLE(1b, 2b)
                     : "+D"(dst), "+c"(len)
                     : "a"(0)
                     : "memory");
    if (smap_enabled)
        clac();
    return len ? -EFAULT : 0;
}

/*
 * Address-to-name lookup over the table scripts/gensyms.sh generates: sorted addresses
 * and their names, NUL-separated, in the same order.
 */
#include <enso/symbols.h>

extern const uint64_t enso_symtab_count;
extern const uint64_t enso_symtab_addrs[];
extern const char enso_symtab_names[];

static const char *nth_name(uint64_t n)
{
    const char *p = enso_symtab_names;

    while (n--)
        while (*p++)
            ;
    return p;
}

const char *symbol_lookup(uint64_t addr, uint64_t *offset)
{
    uint64_t lo = 0, hi = enso_symtab_count;

    if (!hi || addr < enso_symtab_addrs[0])
        return NULL;
    /* Find the last symbol at or below addr. */
    while (hi - lo > 1) {
        uint64_t mid = (lo + hi) / 2;
        if (enso_symtab_addrs[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    *offset = addr - enso_symtab_addrs[lo];
    return nth_name(lo);
}

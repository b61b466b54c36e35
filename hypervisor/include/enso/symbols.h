/* enso's embedded symbol table (generated at link time), for backtraces. */
#ifndef ENSO_SYMBOLS_H
#define ENSO_SYMBOLS_H

#include <enso/types.h>

/* Name of the function containing addr and the offset into it; NULL if unknown. */
const char *symbol_lookup(uint64_t addr, uint64_t *offset);

#endif

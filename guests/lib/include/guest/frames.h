/* Spare frames of the domain, unmapped, for building page tables (guests/lib/frames.c). */
#ifndef GUEST_FRAMES_H
#define GUEST_FRAMES_H

#include <enso/types.h>

/* A zeroed frame that nothing maps or references (an MFN), or 0 if none is left. */
uint64_t frame_alloc(void);
/* Back to the pool: the caller has dropped every mapping and type of it. */
void frame_free(uint64_t mfn);
unsigned long frames_available(void);
/* The first pfn above the bootstrap mapping (where the spare frames start). */
uint64_t frames_first_spare_pfn(void);

#endif

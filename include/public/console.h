/*
 * The PV console ring: the page start_info.console.domU.mfn names, shared between the
 * guest and the console backend, signalled through start_info.console.domU.evtchn.
 * Layout follows Xen 4.17 (io/console.h); offsets are checked by abi_check.c.
 *
 * Indices run freely (they wrap at 2^32, not at the ring size); the byte for index i
 * is ring[i % size]. The guest produces into out and consumes from in; the backend
 * the other way round. Each side writes only its own index, with a write barrier
 * between filling bytes and moving the producer index.
 */
#ifndef ENSO_PUBLIC_CONSOLE_H
#define ENSO_PUBLIC_CONSOLE_H

#include <public/xen_types.h>

typedef uint32_t XENCONS_RING_IDX;

/* The ring position of idx in ring (an array whose size is a power of two). */
#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

struct xencons_interface {
    char in[1024];              /* 0: backend -> guest */
    char out[2048];             /* 1024: guest -> backend */
    XENCONS_RING_IDX in_cons;   /* 3072 */
    XENCONS_RING_IDX in_prod;   /* 3076 */
    XENCONS_RING_IDX out_cons;  /* 3080 */
    XENCONS_RING_IDX out_prod;  /* 3084 */
};                              /* 3088 bytes */

#endif

/* Checksums used by the kernel-image decompressors (gzip and xz trailers). */
#ifndef ENSO_CRC_H
#define ENSO_CRC_H

#include <enso/types.h>

/*
 * CRC-32 as gzip, xz and zlib define it (IEEE 802.3 polynomial, reflected, initial value
 * and final XOR all-ones). Chainable: crc32(crc32(0, a, n), b, m) == crc32(0, a||b, n+m).
 */
uint32_t crc32(uint32_t crc, const void *buf, size_t len);

#endif

/*
 * CRC-32 (IEEE 802.3), byte at a time from a 1 KiB table built on first use. The
 * decompressors check whole kernels with it, so it must not be bit-serial; the table is
 * made at run time to keep a 1 KiB blob of constants out of the source.
 */
#include <enso/crc.h>

#define CRC32_POLY_REFLECTED 0xedb88320u

static uint32_t crc32_table[256];
static bool crc32_table_ready;

static void crc32_make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int bit = 0; bit < 8; bit++)
            c = (c & 1) ? (c >> 1) ^ CRC32_POLY_REFLECTED : c >> 1;
        crc32_table[i] = c;
    }
    /* Two CPUs may build it at once: same values; the flag publishes a full table. */
    __atomic_store_n(&crc32_table_ready, true, __ATOMIC_RELEASE);
}

uint32_t crc32(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    if (!__atomic_load_n(&crc32_table_ready, __ATOMIC_ACQUIRE))
        crc32_make_table();

    /* The stored value is the complement of the running register (init/final ~0). */
    crc = ~crc;
    while (len--)
        crc = crc32_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

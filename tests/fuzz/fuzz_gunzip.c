/*
 * libFuzzer target for gunzip(). It is built only by hand, from the top of the tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ihypervisor/include \
 *       tests/fuzz/fuzz_gunzip.c hypervisor/common/gunzip.c hypervisor/common/crc32.c \
 *       -o build/fuzz_gunzip
 *   mkdir -p build/fuzz-corpus && gzip -9 -c README.md > build/fuzz-corpus/readme.gz
 *   build/fuzz_gunzip -max_len=65536 build/fuzz-corpus
 *
 * Any crash, sanitizer report or hang is a bug. Adding -DFUZZ_DIFF_ZLIB ... -lz also
 * checks every result against zlib's: whatever one decoder accepts (within the same
 * output size), the other must accept with the same bytes, and what zlib calls corrupt
 * must be -EINVAL here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <enso/errno.h>
#include <enso/gunzip.h>
#ifdef FUZZ_DIFF_ZLIB
#include <zlib.h>
#endif

#define OUT_CAP (256 * 1024)

static unsigned char *out_buf, *zlib_buf;

#ifdef FUZZ_DIFF_ZLIB
static void compare_with_zlib(const uint8_t *data, size_t size, int rc, size_t len)
{
    z_stream zs;
    int zrc;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        abort();
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)size;
    zs.next_out = zlib_buf;
    zs.avail_out = OUT_CAP;
    zrc = inflate(&zs, Z_FINISH);
    if (zrc == Z_STREAM_END) {
        if (rc != 0 || len != zs.total_out || memcmp(out_buf, zlib_buf, len) != 0) {
            fprintf(stderr, "zlib decoded %lu bytes, gunzip rc %d\n", zs.total_out, rc);
            abort();
        }
    } else if (rc == 0 || (zrc == Z_DATA_ERROR && rc != -EINVAL)) {
        fprintf(stderr, "zlib rc %d (%s), gunzip rc %d\n", zrc, zs.msg ? zs.msg : "", rc);
        abort();
    }
    inflateEnd(&zs);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    size_t len = 0;
    int rc;

    if (!out_buf) {
        out_buf = malloc(OUT_CAP);
        zlib_buf = malloc(OUT_CAP);
    }
    rc = gunzip(data, size, out_buf, OUT_CAP, &len, &why);
    if (rc != 0 && rc != -EINVAL && rc != -ENOSPC)
        abort();
    if (rc != 0 && (!why || strncmp(why, "gzip: ", 6) != 0))
        abort();
    if (rc == 0 && len > OUT_CAP)
        abort();
#ifdef FUZZ_DIFF_ZLIB
    compare_with_zlib(data, size, rc, len);
#endif
    return 0;
}

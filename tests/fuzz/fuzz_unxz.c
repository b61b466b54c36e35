/*
 * libFuzzer target for the .xz decompressor (not part of any make target). Build and run:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *       -Ihypervisor/include tests/fuzz/fuzz_unxz.c hypervisor/common/unxz.c \
 *       hypervisor/common/lzma2.c hypervisor/common/bcj_x86.c hypervisor/common/crc32.c \
 *       -o build/fuzz_unxz
 *   mkdir -p build/fuzz-corpus && for o in -0 -6 "--x86 --lzma2" "--check=crc64"; do \
 *       (printf '\0\100'; head -c 20000 /usr/bin/xz | xz $o) > build/fuzz-corpus/$RANDOM; \
 *   done
 *   build/fuzz_unxz -max_len=65536 build/fuzz-corpus
 *
 * The first input byte picks what is fed: the whole .xz decoder (most inputs), the raw
 * LZMA2 decoder, or the BCJ filter alone; the output buffer size varies with the input.
 */
#include <enso/errno.h>
#include <enso/unxz.h>
#include <stdlib.h>
#include <string.h>

static uint8_t out[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    size_t len = 0, used = 0, cap;
    uint8_t mode;
    int ret;

    if (size < 2)
        return 0;
    mode = data[0];
    cap = (size_t)data[1] << 12; /* 0 .. ~1 MiB */
    if (cap > sizeof(out))
        cap = sizeof(out);
    data += 2;
    size -= 2;

    if (mode < 0xf0) {
        ret = unxz(data, size, out, cap, &len, &why);
        if (ret != 0 && ret != -EINVAL && ret != -ENOSPC)
            abort();
        if (ret == 0 && (len > cap || why))
            abort();
        if (ret == -EINVAL && !why)
            abort();
    } else if (mode < 0xf8) {
        ret = lzma2_decode(data, size, &used, out, cap, &len, mode & 0x3f, &why);
        if (ret == 0 && (used > size || len > cap))
            abort();
    } else {
        size_t n = size < sizeof(out) ? size : sizeof(out);

        memcpy(out, data, n);
        bcj_x86_decode(out, n, (uint32_t)mode << 24);
    }
    return 0;
}

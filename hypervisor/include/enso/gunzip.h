/* gzip decompression of kernel images, for the domain builder. */
#ifndef ENSO_GUNZIP_H
#define ENSO_GUNZIP_H

#include <enso/types.h>

/*
 * Decompress one gzip member from in[0..in_len) into out[0..out_cap).
 * Returns 0 with *out_len set; -EINVAL if the data is corrupt or unsupported (*why, if
 * why != NULL, then points to a static string naming the problem, e.g. "gzip: bad block
 * type", "gzip: CRC mismatch", "gzip: truncated input"); -ENOSPC if out_cap is too small.
 *
 * The output buffer is also the history window, so the whole member is decoded in one
 * call. Bytes after the member (Linux appends some) are ignored. On failure, and beyond
 * *out_len on success, the contents of out are unspecified. The tables live on the
 * caller's stack (about 6 KiB); nothing is allocated and nothing is shared, so calls on
 * different CPUs do not interfere.
 */
int gunzip(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len,
           const char **why);

/* True if buf starts like a gzip member (1f 8b 08). */
bool gunzip_probe(const void *buf, size_t len);

#endif

/*
 * .xz decompression for kernel images (Debian's bzImage payloads are .xz with the x86 BCJ
 * filter in front of LZMA2). Single call: the whole input is in memory and the output
 * buffer doubles as the LZMA dictionary, so nothing is allocated.
 *
 * Not reentrant: the LZMA probability model (about 28 KiB, too big for a 32 KiB
 * hypervisor stack) is one static object, so callers must not run two decompressions
 * at once (the domain builder unpacks one kernel at a time).
 */
#ifndef ENSO_UNXZ_H
#define ENSO_UNXZ_H

#include <enso/types.h>

/*
 * Decompress a complete .xz file in[0..in_len) into out[0..out_cap) (single call: the
 * output buffer is the LZMA dictionary, no other memory needed).
 * Returns 0 with *out_len set; -EINVAL if corrupt or unsupported (*why, if why != NULL,
 * then points to a static string, e.g. "xz: unsupported filter", "xz: CRC32 mismatch",
 * "xz: truncated input"); -ENOSPC if out_cap is too small.
 *
 * Strict: the input must be exactly one or more streams, each optionally followed by
 * stream padding (zero bytes, a multiple of 4). Anything else after the last stream is
 * an error - including the 4-byte uncompressed size that Linux appends after the xz data
 * of a bzImage payload; the caller strips that before calling. Supported: checks none,
 * CRC32, CRC64 (verified) and SHA-256 (skipped unverified); filter chains LZMA2 or
 * x86 BCJ + LZMA2. On error, out[0..out_cap) may hold partial output.
 */
int unxz(const void *in, size_t in_len, void *out, size_t out_cap, size_t *out_len,
         const char **why);

/* True if buf starts with the xz magic fd 37 7a 58 5a 00. */
bool unxz_probe(const void *buf, size_t len);

/*
 * The pieces unxz() is made of (lzma2.c, bcj_x86.c); declared here for unxz.c and the
 * unit tests, not for other callers.
 */

/*
 * Decode one raw LZMA2 stream (the compressed data of a block) from in[0..in_len) into
 * out[0..out_cap), which is also its dictionary. dict_prop is the LZMA2 filter's
 * dictionary-size property byte. On success returns 0 with *in_used the bytes of the
 * stream including its end marker and *out_len the bytes produced; else -EINVAL with
 * *why set, or -ENOSPC. Uses the static model, so not reentrant.
 */
int lzma2_decode(const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
                 size_t out_cap, size_t *out_len, uint8_t dict_prop, const char **why);

/*
 * Undo the x86 BCJ filter over buf[0..len) in place; start is the filter's start offset
 * (the position the first byte had in the encoder's stream). The whole filtered run must
 * be given in one call: the filter's state does not carry over between calls.
 */
void bcj_x86_decode(uint8_t *buf, size_t len, uint32_t start);

#endif

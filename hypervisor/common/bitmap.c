/* Bitmap searches and whole-bitmap operations; single-bit operations are in bitmap.h. */
#include <enso/bitmap.h>

/* Bits of the last word that lie below nbits (all of them if nbits is a multiple). */
static unsigned long last_word_mask(unsigned long nbits)
{
    unsigned long rem = nbits % BITS_PER_LONG;

    return rem ? (1UL << rem) - 1 : ~0UL;
}

/*
 * Shared by the two searches: invert flips every word so that looking for a zero is
 * looking for a one.
 */
static unsigned long find_next(const unsigned long *addr, unsigned long nbits,
                               unsigned long offset, unsigned long invert)
{
    if (offset >= nbits)
        return nbits;

    unsigned long i = BIT_WORD(offset);
    unsigned long w = (addr[i] ^ invert) & (~0UL << (offset % BITS_PER_LONG));

    while (!w) {
        if (++i >= BITS_TO_LONGS(nbits))
            return nbits;
        w = addr[i] ^ invert;
    }

    unsigned long bit = i * BITS_PER_LONG + (unsigned long)__builtin_ctzl(w);

    return bit < nbits ? bit : nbits;
}

unsigned long find_next_bit(const unsigned long *addr, unsigned long nbits,
                            unsigned long offset)
{
    return find_next(addr, nbits, offset, 0);
}

unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long nbits,
                                 unsigned long offset)
{
    return find_next(addr, nbits, offset, ~0UL);
}

/* Done by hand: __builtin_popcountl needs a libgcc call without the popcnt instruction. */
static unsigned int popcount(unsigned long w)
{
    w = w - ((w >> 1) & 0x5555555555555555UL);
    w = (w & 0x3333333333333333UL) + ((w >> 2) & 0x3333333333333333UL);
    w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fUL;
    return (unsigned int)((w * 0x0101010101010101UL) >> 56);
}

unsigned long bitmap_weight(const unsigned long *addr, unsigned long nbits)
{
    unsigned long n = 0, words = BITS_TO_LONGS(nbits);

    for (unsigned long i = 0; i < words; i++)
        n += popcount(i + 1 == words ? addr[i] & last_word_mask(nbits) : addr[i]);
    return n;
}

void bitmap_zero(unsigned long *dst, unsigned long nbits)
{
    for (unsigned long i = 0; i < BITS_TO_LONGS(nbits); i++)
        dst[i] = 0;
}

/* Bits past nbits in the last word stay clear, so weight and equal need no masking. */
void bitmap_fill(unsigned long *dst, unsigned long nbits)
{
    unsigned long words = BITS_TO_LONGS(nbits);

    for (unsigned long i = 0; i < words; i++)
        dst[i] = ~0UL;
    if (words)
        dst[words - 1] = last_word_mask(nbits);
}

bool bitmap_and(unsigned long *dst, const unsigned long *a, const unsigned long *b,
                unsigned long nbits)
{
    unsigned long any = 0, words = BITS_TO_LONGS(nbits);

    for (unsigned long i = 0; i < words; i++) {
        dst[i] = a[i] & b[i];
        any |= i + 1 == words ? dst[i] & last_word_mask(nbits) : dst[i];
    }
    return any != 0;
}

void bitmap_or(unsigned long *dst, const unsigned long *a, const unsigned long *b,
               unsigned long nbits)
{
    for (unsigned long i = 0; i < BITS_TO_LONGS(nbits); i++)
        dst[i] = a[i] | b[i];
}

bool bitmap_andnot(unsigned long *dst, const unsigned long *a, const unsigned long *b,
                   unsigned long nbits)
{
    unsigned long any = 0, words = BITS_TO_LONGS(nbits);

    for (unsigned long i = 0; i < words; i++) {
        dst[i] = a[i] & ~b[i];
        any |= i + 1 == words ? dst[i] & last_word_mask(nbits) : dst[i];
    }
    return any != 0;
}

bool bitmap_equal(const unsigned long *a, const unsigned long *b, unsigned long nbits)
{
    unsigned long words = BITS_TO_LONGS(nbits);

    for (unsigned long i = 0; i < words; i++) {
        unsigned long diff = a[i] ^ b[i];

        if (i + 1 == words)
            diff &= last_word_mask(nbits);
        if (diff)
            return false;
    }
    return true;
}

bool bitmap_empty(const unsigned long *addr, unsigned long nbits)
{
    return find_first_bit(addr, nbits) == nbits;
}

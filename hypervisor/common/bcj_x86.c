/*
 * The x86 BCJ filter, decoding side. Before compression the encoder rewrote the 32-bit
 * displacement after each plausible CALL (e8) or JMP (e9) opcode from relative to
 * absolute (displacement + position of the next instruction), so that repeated calls to
 * one function become repeated byte strings; here the position is subtracted again.
 *
 * "Plausible" is decided the same way on both sides, from what the conversion keeps:
 * the displacement's top byte must be 00 or ff (a near target), and a history
 * of recent e8/e9 bytes that were not converted can veto a candidate, since an opcode
 * byte inside another instruction's operand is likely no opcode at all.
 */
#include <enso/unxz.h>

#define BCJ_INSN_LEN 5 /* opcode + 32-bit displacement */

/* A displacement byte that a near call's sign extension would produce. */
static inline bool near_byte(uint8_t b)
{
    return b == 0x00 || b == 0xff;
}

/*
 * The history: bit 0 marks an e8/e9 just passed over unconverted, bit 4 that its last
 * displacement byte looked near. Moving on to the next candidate shifts both left by the
 * distance (dropping bits that would pass 3 or 7), so at a candidate bits 1-3 say an
 * unconverted one sat 1-3 bytes back and bits 5-7 that it looked near.
 */
#define HISTORY_SKIPPED 0x01u
#define HISTORY_SKIPPED_NEAR 0x10u
#define HISTORY_AGE(h) (((h) & 0x77u) << 1)
#define HISTORY_NEAR 0xe0u /* where HISTORY_SKIPPED_NEAR is 1-3 bytes later */

/* Converted only with no history, or with exactly one unconverted candidate behind. */
static inline bool history_allows(uint32_t history)
{
    uint32_t behind = (history >> 1) & 7;

    return !(history & HISTORY_NEAR) && (behind == 0 || !(behind & (behind - 1)));
}

static inline uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/*
 * The encoder added next_ip to disp. With an unconverted candidate `back` bytes behind,
 * it then looked at the byte of the result lying where that candidate's own last
 * displacement byte is; if that looked near, it inverted the result up to and including
 * that byte and added next_ip again. Undo it the same way. One inversion is all it can
 * take: after it, the byte looked at is the complement of the stored byte there, which
 * was not near (or the history's near bit would have vetoed this candidate).
 */
static uint32_t bcj_unconvert(uint32_t disp, uint32_t next_ip, uint32_t history)
{
    uint32_t val = disp - next_ip;

    if (history) {
        unsigned int back = (history & 2) ? 1 : (history & 4) ? 2 : 3;
        unsigned int width = 32 - 8 * back; /* bits up to and including that byte */

        if (near_byte((uint8_t)(val >> (width - 8))))
            val = (val ^ ((1u << width) - 1)) - next_ip;
    }
    /* Keep 25 bits and sign-extend from bit 24, so the top byte is 00 or ff again. */
    val &= 0x01ffffff;
    val |= 0u - (val & 0x01000000);
    return val;
}

void bcj_x86_decode(uint8_t *buf, size_t len, uint32_t start)
{
    uint32_t history = 0;
    size_t last = 0; /* position of the previous e8/e9 candidate */
    size_t i = 0;

    /* The last four bytes cannot hold a whole instruction and stay as they are. */
    while (len >= BCJ_INSN_LEN && i <= len - BCJ_INSN_LEN) {
        size_t gap;
        uint8_t top;

        if ((buf[i] & 0xfe) != 0xe8) {
            i++;
            continue;
        }

        /* Age the history by the distance from the previous candidate. */
        gap = i - last;
        last = i;
        if (gap > BCJ_INSN_LEN) {
            history = 0;
        } else {
            while (gap--)
                history = HISTORY_AGE(history);
        }

        top = buf[i + 4];
        if (near_byte(top) && history_allows(history)) {
            uint32_t next_ip = start + (uint32_t)i + BCJ_INSN_LEN;

            put_le32(buf + i + 1, bcj_unconvert(get_le32(buf + i + 1), next_ip, history));
            i += BCJ_INSN_LEN;
            history = 0;
        } else {
            i++;
            history |= HISTORY_SKIPPED;
            if (near_byte(top))
                history |= HISTORY_SKIPPED_NEAR;
        }
    }
}

/*
 * LZMA2 decoding straight into the output buffer. LZMA2 cuts an LZMA stream into chunks
 * (at most 2 MiB out, 64 KiB in), each either stored or LZMA-coded with its own range
 * coder start, and says per chunk whether the dictionary, the coder state or the
 * literal/position properties start afresh.
 *
 * The output buffer is the dictionary: a match copies from bytes already written, so
 * the only check a match needs is that its distance stays inside what was produced since
 * the last dictionary reset. The dictionary-size property is validated but not otherwise
 * needed, since everything produced stays in the buffer.
 */
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/long_work.h>
#include <enso/unxz.h>

/* Probabilities are 11-bit fractions of PROB_ONE that adapt by 1/32 of the error. */
#define PROB_BITS 11
#define PROB_ONE (1u << PROB_BITS)
#define PROB_ADAPT 5
#define RC_TOP (1u << 24) /* below this the range coder shifts in another byte */
#define RC_INIT_BYTES 5

#define STATES 12
#define STATE_LIT_LIMIT 7 /* states below this mean "the last thing was a literal" */
#define POS_STATES_MAX 16 /* pb <= 4 */
#define LC_LP_MAX 4        /* LZMA2's limit on lc + lp */
#define LITERAL_PROBS 0x300 /* a plain 8-bit tree, and two more used next to a match */
#define MATCH_LEN_MIN 2

#define LEN_LOW_BITS 3
#define LEN_MID_BITS 3
#define LEN_HIGH_BITS 8
#define LEN_MID_BASE (1u << LEN_LOW_BITS)
#define LEN_HIGH_BASE (LEN_MID_BASE + (1u << LEN_MID_BITS))

#define DIST_STATES 4 /* distance models chosen by match length 2, 3, 4, 5+ */
#define DIST_SLOT_BITS 6
#define DIST_MODEL_START 4 /* slots below this are the distance itself */
#define DIST_MODEL_END 14  /* slots from here code their low bits with the align model */
#define DIST_FULL (1u << (DIST_MODEL_END / 2))
#define ALIGN_BITS 4

#define LZMA2_DICT_PROP_MAX 40
#define LZMA2_PROPS_MAX (9 * 5 * 5) /* (pb * 5 + lp) * 9 + lc, each in range */

/*
 * Bit trees are indexed from 1 (the root); entry 0 is unused. dist_special also has a
 * spare entry 0 so that each slot's reverse tree starts at a non-negative offset.
 */
struct len_model {
    uint16_t choice;
    uint16_t choice2;
    uint16_t low[POS_STATES_MAX][1 << LEN_LOW_BITS];
    uint16_t mid[POS_STATES_MAX][1 << LEN_MID_BITS];
    uint16_t high[1 << LEN_HIGH_BITS];
};

struct lzma_model {
    uint16_t is_match[STATES][POS_STATES_MAX];
    uint16_t is_rep[STATES];
    uint16_t is_rep0[STATES];
    uint16_t is_rep1[STATES];
    uint16_t is_rep2[STATES];
    uint16_t is_rep0_long[STATES][POS_STATES_MAX];
    uint16_t dist_slot[DIST_STATES][1 << DIST_SLOT_BITS];
    uint16_t dist_special[DIST_FULL - DIST_MODEL_END + 1];
    uint16_t dist_align[1 << ALIGN_BITS];
    struct len_model match_len;
    struct len_model rep_len;
    uint16_t literal[1 << LC_LP_MAX][LITERAL_PROBS];
};

struct lzma_state {
    struct lzma_model m;
    uint32_t state;
    uint32_t rep[4]; /* the last four match distances, minus one */
    unsigned int lc, lp_mask, pb_mask;
};

/* Too big for the stack; see the reentrancy note in unxz.h. */
static struct lzma_state lzma;

struct rc {
    uint32_t range;
    uint32_t code;
    const uint8_t *in;
    size_t pos; /* may run past len: reads there give zeros and the chunk then fails */
    size_t len;
};

#define always_inline inline __attribute__((always_inline))

static always_inline void rc_normalize(struct rc *rc)
{
    if (rc->range < RC_TOP) {
        rc->range <<= 8;
        rc->code = (rc->code << 8) | (rc->pos < rc->len ? rc->in[rc->pos] : 0);
        rc->pos++;
    }
}

static always_inline unsigned int rc_bit(struct rc *rc, uint16_t *prob)
{
    uint32_t bound;

    rc_normalize(rc);
    bound = (rc->range >> PROB_BITS) * *prob;
    if (rc->code < bound) {
        rc->range = bound;
        *prob += (PROB_ONE - *prob) >> PROB_ADAPT;
        return 0;
    }
    rc->range -= bound;
    rc->code -= bound;
    *prob -= *prob >> PROB_ADAPT;
    return 1;
}

/* A bits-wide symbol, most significant bit first. */
static always_inline unsigned int rc_tree(struct rc *rc, uint16_t *probs, unsigned int bits)
{
    unsigned int sym = 1;

    while (sym < (1u << bits))
        sym = (sym << 1) | rc_bit(rc, &probs[sym]);
    return sym - (1u << bits);
}

/* A bits-wide symbol, least significant bit first. */
static always_inline uint32_t rc_tree_rev(struct rc *rc, uint16_t *probs, unsigned int bits)
{
    unsigned int node = 1;
    uint32_t val = 0;

    for (unsigned int i = 0; i < bits; i++) {
        unsigned int b = rc_bit(rc, &probs[node]);

        node = (node << 1) | b;
        val |= b << i;
    }
    return val;
}

/* Bits with probability one half, most significant first. */
static always_inline uint32_t rc_direct(struct rc *rc, unsigned int bits)
{
    uint32_t val = 0;

    while (bits--) {
        uint32_t take;

        rc_normalize(rc);
        rc->range >>= 1;
        take = rc->code >= rc->range;
        rc->code -= rc->range & (0u - take);
        val = (val << 1) | take;
    }
    return val;
}

static void lzma_reset_state(struct lzma_state *s)
{
    uint16_t *p = (uint16_t *)&s->m;

    for (size_t i = 0; i < sizeof(s->m) / sizeof(*p); i++)
        p[i] = PROB_ONE / 2;
    s->state = 0;
    s->rep[0] = s->rep[1] = s->rep[2] = s->rep[3] = 0;
}

static int lzma_set_props(struct lzma_state *s, uint8_t props)
{
    unsigned int lc, lp, pb;

    if (props >= LZMA2_PROPS_MAX)
        return -EINVAL;
    lc = props % 9;
    lp = (props / 9) % 5;
    pb = props / 45;
    if (lc + lp > LC_LP_MAX)
        return -EINVAL;
    s->lc = lc;
    s->lp_mask = (1u << lp) - 1;
    s->pb_mask = (1u << pb) - 1;
    return 0;
}

static always_inline uint32_t lzma_len(struct rc *rc, struct len_model *lm,
                                       unsigned int pos_state)
{
    if (!rc_bit(rc, &lm->choice))
        return MATCH_LEN_MIN + rc_tree(rc, lm->low[pos_state], LEN_LOW_BITS);
    if (!rc_bit(rc, &lm->choice2))
        return MATCH_LEN_MIN + LEN_MID_BASE + rc_tree(rc, lm->mid[pos_state], LEN_MID_BITS);
    return MATCH_LEN_MIN + LEN_HIGH_BASE + rc_tree(rc, lm->high, LEN_HIGH_BITS);
}

/* A new match distance (minus one): a 6-bit slot, then the slot's extra bits. */
static always_inline uint32_t lzma_dist(struct rc *rc, struct lzma_model *m, uint32_t len)
{
    uint32_t dist_state = MIN(len - MATCH_LEN_MIN, DIST_STATES - 1u);
    uint32_t slot = rc_tree(rc, m->dist_slot[dist_state], DIST_SLOT_BITS);
    uint32_t extra, dist;

    if (slot < DIST_MODEL_START)
        return slot;
    /* The slot gives the top two bits (1x) and the number of bits below them. */
    extra = (slot >> 1) - 1;
    dist = (2u | (slot & 1)) << extra;
    if (slot < DIST_MODEL_END)
        return dist + rc_tree_rev(rc, m->dist_special + dist - slot, extra);
    dist += rc_direct(rc, extra - ALIGN_BITS) << ALIGN_BITS;
    return dist + rc_tree_rev(rc, m->dist_align, ALIGN_BITS);
}

static always_inline uint8_t lzma_literal(struct rc *rc, struct lzma_state *s,
                                          const uint8_t *dict, size_t pos, uint32_t state,
                                          uint32_t rep0)
{
    unsigned int prev = pos ? dict[pos - 1] : 0;
    unsigned int ctx = ((pos & s->lp_mask) << s->lc) + (prev >> (8 - s->lc));
    uint16_t *probs = s->m.literal[ctx];
    unsigned int sym = 1;

    /* rep0 < pos holds after any match; tested so no state can read outside dict. */
    if (state >= STATE_LIT_LIMIT && rep0 < pos) {
        /*
         * Right after a match the byte at the last distance is a good guess: its bits
         * pick the model while the decoded bits agree with it, then plain decoding
         * takes over.
         */
        unsigned int match = dict[pos - rep0 - 1];
        unsigned int follow = 0x100;

        while (sym < 0x100) {
            unsigned int mbit, bit;

            match <<= 1;
            mbit = match & follow;
            bit = rc_bit(rc, &probs[follow + mbit + sym]);
            sym = (sym << 1) | bit;
            follow &= bit ? mbit : ~mbit;
        }
    } else {
        while (sym < 0x100)
            sym = (sym << 1) | rc_bit(rc, &probs[sym]);
    }
    return (uint8_t)sym;
}

static const uint8_t state_after_literal[STATES] = { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5 };

#define STATE_AFTER_MATCH(st) ((st) < STATE_LIT_LIMIT ? 7 : 10)
#define STATE_AFTER_REP(st) ((st) < STATE_LIT_LIMIT ? 8 : 11)
#define STATE_AFTER_SHORT_REP(st) ((st) < STATE_LIT_LIMIT ? 9 : 11)

/*
 * Copy a match of len bytes from dist back to dict[pos..). Where the source is at least
 * 8 bytes behind, whole 8-byte words are copied (each reads only bytes already final);
 * the last word may spill up to 7 bytes past the match, which is allowed only while
 * that stays below end (bytes there are rewritten by the symbols that follow).
 */
static always_inline void lzma_copy(uint8_t *dict, size_t pos, uint32_t dist, uint32_t len,
                                    size_t end)
{
    uint8_t *dst = dict + pos;
    const uint8_t *src = dst - dist;

    if (dist >= 8 && end - pos >= len + 8) {
        for (uint32_t done = 0; done < len; done += 8)
            __builtin_memcpy(dst + done, src + done, 8);
        return;
    }
    do
        *dst++ = *src++;
    while (--len);
}

/*
 * Decode LZMA symbols into dict[pos..end), dict[0..pos) being the data since the last
 * dictionary reset. Every symbol writes at least one byte, so this ends.
 */
static int lzma_run(struct lzma_state *s, struct rc *rcp, uint8_t *dict, size_t pos,
                    size_t end, const char **why)
{
    struct rc rc = *rcp;
    struct lzma_model *m = &s->m;
    uint32_t state = s->state;
    uint32_t rep0 = s->rep[0], rep1 = s->rep[1], rep2 = s->rep[2], rep3 = s->rep[3];
    size_t next_yield = 0;
    int ret = 0;

    while (pos < end) {
        unsigned int pos_state = pos & s->pb_mask;
        uint32_t len;

        long_work_progress(pos, &next_yield);

        if (!rc_bit(&rc, &m->is_match[state][pos_state])) {
            dict[pos] = lzma_literal(&rc, s, dict, pos, state, rep0);
            pos++;
            state = state_after_literal[state];
            continue;
        }
        if (!rc_bit(&rc, &m->is_rep[state])) {
            len = lzma_len(&rc, &m->match_len, pos_state);
            rep3 = rep2;
            rep2 = rep1;
            rep1 = rep0;
            rep0 = lzma_dist(&rc, m, len);
            state = STATE_AFTER_MATCH(state);
        } else if (!rc_bit(&rc, &m->is_rep0[state])) {
            if (!rc_bit(&rc, &m->is_rep0_long[state][pos_state])) {
                /* One byte from the last distance. */
                if (rep0 >= pos) {
                    ret = -EINVAL;
                    *why = "xz: LZMA distance beyond data";
                    break;
                }
                dict[pos] = dict[pos - rep0 - 1];
                pos++;
                state = STATE_AFTER_SHORT_REP(state);
                continue;
            }
            len = lzma_len(&rc, &m->rep_len, pos_state);
            state = STATE_AFTER_REP(state);
        } else {
            uint32_t dist;

            if (!rc_bit(&rc, &m->is_rep1[state])) {
                dist = rep1;
            } else {
                if (!rc_bit(&rc, &m->is_rep2[state])) {
                    dist = rep2;
                } else {
                    dist = rep3;
                    rep3 = rep2;
                }
                rep2 = rep1;
            }
            rep1 = rep0;
            rep0 = dist;
            len = lzma_len(&rc, &m->rep_len, pos_state);
            state = STATE_AFTER_REP(state);
        }

        /* All-ones is LZMA's end marker, which LZMA2 does not allow. */
        if (rep0 >= pos || rep0 == UINT32_MAX) {
            ret = -EINVAL;
            *why = "xz: LZMA distance beyond data";
            break;
        }
        /* LZMA2 chunks end on symbol boundaries. */
        if (len > end - pos) {
            ret = -EINVAL;
            *why = "xz: LZMA match runs past chunk end";
            break;
        }
        lzma_copy(dict, pos, rep0 + 1, len, end);
        pos += len;
    }

    *rcp = rc;
    s->state = state;
    s->rep[0] = rep0;
    s->rep[1] = rep1;
    s->rep[2] = rep2;
    s->rep[3] = rep3;
    return ret;
}

/* One LZMA chunk: a fresh range coder over in[0..in_len), out to dict[pos..end). */
static int lzma_chunk(const uint8_t *in, size_t in_len, uint8_t *dict, size_t pos,
                      size_t end, const char **why)
{
    struct rc rc = { .range = UINT32_MAX, .in = in, .len = in_len };
    int ret;

    /* The first byte is always zero: the encoder's carry cache starts there. */
    if (in_len < RC_INIT_BYTES || in[0] != 0) {
        *why = "xz: corrupt LZMA2 chunk";
        return -EINVAL;
    }
    rc.code = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
    rc.pos = RC_INIT_BYTES;

    ret = lzma_run(&lzma, &rc, dict, pos, end, why);
    if (ret)
        return ret;
    /* A well-formed chunk leaves the coder drained: all input used, nothing left over. */
    rc_normalize(&rc);
    if (rc.pos != rc.len || rc.code != 0) {
        *why = "xz: corrupt LZMA2 chunk";
        return -EINVAL;
    }
    return 0;
}

static inline unsigned int be16(const uint8_t *p)
{
    return (unsigned int)p[0] << 8 | p[1];
}

int lzma2_decode(const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
                 size_t out_cap, size_t *out_len, uint8_t dict_prop, const char **why)
{
    size_t ip = 0, op = 0, dict_start = 0;
    bool need_dict_reset = true, need_props = true;

    if (dict_prop > LZMA2_DICT_PROP_MAX) {
        *why = "xz: bad LZMA2 dictionary size";
        return -EINVAL;
    }

    for (;;) {
        unsigned int ctl, reset;
        size_t unpacked, packed;
        int ret;

        if (ip >= in_len)
            goto truncated;
        ctl = in[ip++];
        if (ctl == 0)
            break;

        if (ctl > 2 && ctl < 0x80) {
            *why = "xz: bad LZMA2 chunk type";
            return -EINVAL;
        }
        /* 1 (stored) and 0xe0 and up (LZMA) start a new dictionary here. */
        if (ctl == 1 || ctl >= 0xe0) {
            dict_start = op;
            need_dict_reset = false;
            need_props = true;
        } else if (need_dict_reset) {
            *why = "xz: LZMA2 data without dictionary reset";
            return -EINVAL;
        }

        if (ctl < 0x80) {
            /* Stored: 16 bits of size-1, then the bytes as they are. */
            if (in_len - ip < 2)
                goto truncated;
            unpacked = be16(in + ip) + 1;
            ip += 2;
            if (in_len - ip < unpacked)
                goto truncated;
            if (out_cap - op < unpacked)
                return -ENOSPC;
            memcpy(out + op, in + ip, unpacked);
            ip += unpacked;
            op += unpacked;
            continue;
        }

        /* LZMA chunk: 21 bits of size-1 out, 16 of size-1 in, maybe new properties. */
        if (in_len - ip < 4)
            goto truncated;
        unpacked = ((size_t)(ctl & 0x1f) << 16 | be16(in + ip)) + 1;
        packed = be16(in + ip + 2) + 1;
        ip += 4;
        reset = (ctl >> 5) & 3; /* 1 state, 2 state + props, 3 also dictionary */
        if (reset >= 2) {
            if (ip >= in_len)
                goto truncated;
            if (lzma_set_props(&lzma, in[ip++])) {
                *why = "xz: unsupported LZMA properties";
                return -EINVAL;
            }
            need_props = false;
        } else if (need_props) {
            *why = "xz: LZMA2 chunk without properties";
            return -EINVAL;
        }
        if (reset >= 1)
            lzma_reset_state(&lzma);
        if (in_len - ip < packed)
            goto truncated;
        if (out_cap - op < unpacked)
            return -ENOSPC;
        ret = lzma_chunk(in + ip, packed, out + dict_start, op - dict_start,
                         op - dict_start + unpacked, why);
        if (ret)
            return ret;
        ip += packed;
        op += unpacked;
    }

    *in_used = ip;
    *out_len = op;
    return 0;

truncated:
    *why = "xz: truncated input";
    return -EINVAL;
}

/*
 * The parts of serial input that need no domain: counting the switch code (Ctrl-A typed
 * three times in a row moves the input focus, console.c), and writing typed bytes into
 * the backend-to-guest half of a console ring (guest_console.c). Both are pure so that
 * they can be tested on the host.
 */
#include <enso/console.h>
#include <public/console.h>

/*
 * As on Xen, switch codes are swallowed in threes. Fewer than three followed by another
 * key were meant for the reader after all: they go out first, then the key.
 */
int console_switch_feed(struct console_switch *s, char c, char out[CONSOLE_SWITCH_MAX_OUT])
{
    int n = 0;

    if (c == CONSOLE_SWITCH_CODE) {
        if (++s->pending < 3)
            return 0;
        s->pending = 0;
        return CONSOLE_SWITCH;
    }
    for (; s->pending; s->pending--)
        out[n++] = CONSOLE_SWITCH_CODE;
    out[n++] = c;
    return n;
}

/*
 * The ring lives in guest memory, so both indices may hold anything. Each is read once
 * (a guest changing it meanwhile cannot make two checks disagree) and every byte goes
 * through the mask, so nothing outside in[] is ever written. Indices that claim more
 * than the ring holds are nonsense: then nothing is written.
 */
size_t xencons_put_input(struct xencons_interface *r, const char *s, size_t len)
{
    XENCONS_RING_IDX cons = __atomic_load_n(&r->in_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX prod = __atomic_load_n(&r->in_prod, __ATOMIC_RELAXED);
    XENCONS_RING_IDX used = prod - cons;
    size_t n;

    if (used >= sizeof(r->in))
        return 0;
    n = len < sizeof(r->in) - used ? len : sizeof(r->in) - used;
    for (size_t i = 0; i < n; i++)
        r->in[MASK_XENCONS_IDX(prod++, r->in)] = s[i];
    /* The bytes must be visible before the index that hands them to the guest. */
    __atomic_store_n(&r->in_prod, prod, __ATOMIC_RELEASE);
    return n;
}

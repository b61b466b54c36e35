/*
 * The guest frames behind a domain's FIFO event channels (see <enso/event_fifo.h>):
 * control blocks and event-array pages. Each is held, as long as the domain uses the
 * FIFO ABI, by a general reference and a writable-type one, so it stays the domain's
 * and can become neither a page table nor a descriptor page meanwhile; enso reaches it
 * through the direct map. Both references go when the domain resets its event
 * channels or is destroyed (before its memory is relinquished).
 */
#include <enso/errno.h>
#include <enso/event_fifo.h>
#include <enso/sched.h>
#include <enso/xmalloc.h>
#include <asm/pv_mm.h>

struct evtchn_fifo *evtchn_fifo_create(struct domain *d)
{
    struct evtchn_fifo *f;

    f = xzalloc_bytes(sizeof(*f) + d->max_vcpus * sizeof(f->vcpu[0]));
    if (!f)
        return NULL;
    spin_lock_init(&f->lock);
    f->nr_vcpus = d->max_vcpus;
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        if (!d->vcpu[i])
            continue;
        f->vcpu[i] = xzalloc(struct evtchn_fifo_vcpu);
        if (!f->vcpu[i]) {
            evtchn_fifo_release(f);
            return NULL;
        }
        evtchn_fifo_vcpu_init(f->vcpu[i]);
    }
    return f;
}

/* d's frame gfn (PV: an MFN), held writable; its address in the direct map. */
static void *take_frame(struct domain *d, uint64_t gfn)
{
    struct page_info *pg;

    if (!mfn_valid(_mfn(gfn)))
        return NULL;
    pg = mfn_to_page(_mfn(gfn));
    if (!get_page(pg, d))
        return NULL;
    if (get_page_type(pg, PGT_writable_page)) {
        put_page(pg);
        return NULL;
    }
    return page_to_virt(pg);
}

/* Any address inside a frame take_frame gave. */
static void drop_frame(const void *p)
{
    put_page_and_type(virt_to_page(p));
}

int evtchn_fifo_map_control(struct domain *d, struct evtchn_fifo *f, unsigned int vcpu_id,
                            uint64_t gfn, uint32_t offset)
{
    struct evtchn_fifo_vcpu *fv = vcpu_id < f->nr_vcpus ? f->vcpu[vcpu_id] : NULL;
    char *frame;

    if (!fv || fv->control)
        return -EINVAL;
    frame = take_frame(d, gfn);
    if (!frame)
        return -EINVAL;
    spin_lock(&f->lock);
    evtchn_fifo_attach_control(fv, (struct evtchn_fifo_control_block *)(frame + offset));
    spin_unlock(&f->lock);
    return 0;
}

int evtchn_fifo_map_page(struct domain *d, struct evtchn_fifo *f, uint64_t gfn)
{
    event_word_t *words;
    int first;

    if (evtchn_fifo_array_full(f))
        return -ENOSPC;
    words = take_frame(d, gfn);
    if (!words)
        return -EINVAL;
    spin_lock(&f->lock);
    first = evtchn_fifo_add_page(f, words);
    spin_unlock(&f->lock);
    if (first < 0)
        drop_frame(words); /* cannot happen: the caller's lock keeps others out */
    return first;
}

void evtchn_fifo_release(struct evtchn_fifo *f)
{
    for (unsigned int i = 0; i < f->nr_vcpus; i++) {
        if (f->vcpu[i] && f->vcpu[i]->control)
            drop_frame(f->vcpu[i]->control);
        xfree(f->vcpu[i]);
    }
    for (unsigned int p = 0; p < f->nr_ports / EVTCHN_FIFO_WORDS_PER_PAGE; p++)
        drop_frame(f->page[p]);
    xfree(f);
}

/*
 * vcpu_op: operations on one of the caller's vCPUs, as Xen 4.17 has them for 64-bit PV
 * guests. The vCPU number is checked first (-ENOENT), whatever the command.
 *
 * Bring-up: vCPUs other than 0 start down and without a context. VCPUOP_initialise
 * gives one its context (once: -EEXIST after that, even for a context that would not
 * pass), VCPUOP_up starts an initialised vCPU (-EINVAL otherwise) and VCPUOP_down
 * stops any vCPU, the caller included; taking down the last vCPU still up powers the
 * domain off. A vCPU brought up again resumes where it stopped.
 *
 * Registered areas: a vCPU's vcpu_info may move out of shared_info into a frame of the
 * domain (once; its contents go along, and every event is then marked pending so none
 * is lost in the move), and the guest may ask for copies of the vCPU's runstate and of
 * its time record at guest virtual addresses. Like Xen, enso writes those copies
 * through the page tables loaded at the time: the vCPU's own when it leaves its CPU
 * and when it arrives on one, the caller's when the area is registered. A copy that
 * fails while the vCPU is in guest user mode (whose page tables need not map the area)
 * is redone when it next enters kernel mode.
 *
 * Locking: bringup_lock (Xen's domain lock here) covers is_initialised, the up/down
 * decision and vcpu_info moves; nothing else is taken under it but page references.
 */
#include <enso/errno.h>
#include <enso/event.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/lib.h>
#include <enso/mm.h>
#include <enso/sched.h>
#include <enso/spinlock.h>
#include <enso/time.h>
#include <enso/vcpu_timer.h>
#include <enso/xmalloc.h>
#include <asm/layout.h>
#include <asm/pv_mm.h>
#include <asm/pv_vcpu.h>
#include <asm/time.h>
#include <public/vcpu.h>

static DEFINE_SPINLOCK(bringup_lock);

/* Xen's __addr_ok for an area's start: below the non-canonical hole or above enso. */
static bool area_addr_ok(uint64_t va)
{
    return va < (1UL << 47) || va >= HYPERVISOR_VIRT_END;
}

/* ---- bring-up ---- */

static long vcpu_initialise(struct vcpu *v, hc_arg_t arg)
{
    struct vcpu_guest_context *ctx;
    long rc;

    /* A vCPU past the shared_info slots needs its vcpu_info registered first. */
    if (!v->vcpu_info)
        return -EINVAL;
    ctx = xmalloc_bytes(sizeof(*ctx));
    if (!ctx)
        return -ENOMEM;
    if (copy_from_guest(ctx, arg, sizeof(*ctx))) {
        xfree(ctx);
        return -EFAULT;
    }
    spin_lock(&bringup_lock);
    rc = v->is_initialised ? -EEXIST : pv_vcpu_initialise(v, ctx);
    if (!rc) {
        v->is_initialised = true;
        /*
         * VGCF_online marks the vCPU up without waking it, as Xen does: it is not
         * queued to run until something wakes it (a VCPUOP_down and VCPUOP_up).
         */
        if (ctx->flags & VGCF_online)
            __atomic_fetch_and(&v->pause_flags, ~VPF_down, __ATOMIC_SEQ_CST);
    }
    spin_unlock(&bringup_lock);
    xfree(ctx);
    return rc;
}

static long vcpu_up(struct vcpu *v)
{
    bool wake = false;
    long rc = 0;

    spin_lock(&bringup_lock);
    if (!v->is_initialised)
        rc = -EINVAL;
    else
        wake = __atomic_fetch_and(&v->pause_flags, ~VPF_down, __ATOMIC_SEQ_CST) & VPF_down;
    spin_unlock(&bringup_lock);
    if (wake)
        vcpu_wake(v);
    return rc;
}

static long vcpu_down(struct vcpu *v)
{
    struct domain *d = v->domain;
    bool others_up = false;

    for (unsigned int i = 0; i < d->max_vcpus; i++)
        if (d->vcpu[i] && d->vcpu[i] != v && !(READ_ONCE(d->vcpu[i]->pause_flags) & VPF_down))
            others_up = true;
    if (!others_up) {
        domain_shutdown(d, SHUTDOWN_poweroff);
        return 0;
    }
    if (!(__atomic_fetch_or(&v->pause_flags, VPF_down, __ATOMIC_SEQ_CST) & VPF_down)) {
        vcpu_sleep(v);
        /* Xen stops no timer here; vcpu_timer.c keeps Xen's rules for the down vCPU. */
        vcpu_timer_down(v);
    }
    return 0;
}

/* ---- vcpu_info ---- */

/*
 * register_vcpu_info, with Xen's checks in Xen's order: the offset (-ENXIO), a second
 * registration, a vCPU other than the caller that is up (-EINVAL), then the frame,
 * which must be the domain's and take the writable type (-EINVAL); enso keeps both
 * references until the domain goes.
 */
static long map_vcpu_info(struct vcpu *v, const struct vcpu_register_vcpu_info *info)
{
    struct domain *d = v->domain;
    struct vcpu_info *new, *old = v->vcpu_info;
    struct page_info *pg;

    if (info->offset > PAGE_SIZE - sizeof(*new) || (info->offset & (sizeof(uint64_t) - 1)))
        return -ENXIO;
    if (v->vcpu_info_page)
        return -EINVAL;
    if (v != current && !(READ_ONCE(v->pause_flags) & VPF_down))
        return -EINVAL;
    if (!mfn_valid(_mfn(info->mfn)))
        return -EINVAL;
    pg = mfn_to_page(_mfn(info->mfn));
    if (!get_page(pg, d))
        return -EINVAL;
    if (get_page_type(pg, PGT_writable_page)) {
        put_page(pg);
        return -EINVAL;
    }
    new = (struct vcpu_info *)((char *)page_to_virt(pg) + info->offset);
    if (old) {
        memcpy(new, old, sizeof(*new));
    } else {
        memset(new, 0, sizeof(*new));
        new->evtchn_upcall_mask = 1;
    }
    v->vcpu_info_page = pg;
    __atomic_store_n(&v->vcpu_info, new, __ATOMIC_SEQ_CST);
    /* An event sent to the old place during the move is found by a full scan. */
    __atomic_store_n(&new->evtchn_pending_sel, ~(xen_ulong_t)0, __ATOMIC_SEQ_CST);
    if (!__atomic_exchange_n(&new->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
        evtchn_vcpu_kick(v);
    return 0;
}

static long register_vcpu_info(struct vcpu *v, hc_arg_t arg)
{
    struct vcpu_register_vcpu_info info;
    long rc;

    if (copy_from_guest(&info, arg, sizeof(info)))
        return -EFAULT;
    spin_lock(&bringup_lock);
    rc = map_vcpu_info(v, &info);
    spin_unlock(&bringup_lock);
    /* The record is rewritten in its new place (the caller's or a down vCPU's). */
    if (!rc)
        time_rewrite_vcpu_info(&v->vcpu_info->time);
    return rc;
}

/* ---- runstate and time copies ---- */

static bool update_flag_on(const struct vcpu *v)
{
    return READ_ONCE(v->domain->vm_assist) & (1UL << VMASST_TYPE_runstate_update_flag);
}

/* The top byte of state_entry_time, where XEN_RUNSTATE_UPDATE lives. */
static int write_update_byte(uint64_t va, uint64_t entry_time)
{
    uint8_t top = (uint8_t)(entry_time >> 56);

    return copy_to_guest(va + offsetof(struct vcpu_runstate_info, state_entry_time) + 7,
                         &top, 1);
}

/*
 * One copy of r at va. With VMASST_TYPE_runstate_update_flag the guest sees
 * XEN_RUNSTATE_UPDATE in state_entry_time while the copy is being written (set
 * first, cleared last), so a reader on another vCPU can tell a torn copy.
 */
static bool write_runstate(const struct vcpu *v, uint64_t va, struct vcpu_runstate_info r)
{
    bool flag = update_flag_on(v);
    int rc;

    if (flag) {
        r.state_entry_time |= XEN_RUNSTATE_UPDATE;
        write_update_byte(va, r.state_entry_time);
        __atomic_thread_fence(__ATOMIC_RELEASE);
    }
    rc = copy_to_guest(va, &r, sizeof(r));
    if (flag) {
        r.state_entry_time &= ~XEN_RUNSTATE_UPDATE;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        write_update_byte(va, r.state_entry_time);
    }
    return !rc;
}

static void update_runstate_area(struct vcpu *v)
{
    uint64_t va = READ_ONCE(v->runstate_area);
    struct vcpu_runstate_info r;

    if (!va)
        return;
    vcpu_runstate_snapshot(v, &r);
    if (write_runstate(v, va, r))
        v->runstate_area_due = false;
    else if (!v->arch.kernel_mode)
        v->runstate_area_due = true;
}

/* The time record's copy, odd version while it is written, as Xen does. */
static void update_time_area(struct vcpu *v)
{
    uint64_t va = READ_ONCE(v->time_area);
    struct vcpu_time_info t;
    uint32_t odd;
    bool ok;

    if (!va || !v->vcpu_info)
        return;
    memcpy(&t, &v->vcpu_info->time, sizeof(t));
    odd = (t.version - 1) | 1;
    t.version = odd;
    ok = !copy_to_guest(va + offsetof(struct vcpu_time_info, version), &odd, sizeof(odd));
    if (ok) {
        __atomic_thread_fence(__ATOMIC_RELEASE);
        copy_to_guest(va, &t, sizeof(t));
        __atomic_thread_fence(__ATOMIC_RELEASE);
        t.version = odd + 1;
        copy_to_guest(va + offsetof(struct vcpu_time_info, version), &t.version,
                      sizeof(t.version));
    }
    if (ok)
        v->time_area_due = false;
    else if (!v->arch.kernel_mode)
        v->time_area_due = true;
}

void vcpu_areas_switched_out(struct vcpu *v)
{
    update_runstate_area(v);
}

void vcpu_areas_switched_in(struct vcpu *v)
{
    update_runstate_area(v);
    update_time_area(v);
}

void vcpu_areas_kernel_entry(struct vcpu *v)
{
    if (v->runstate_area_due)
        update_runstate_area(v);
    if (v->time_area_due)
        update_time_area(v);
}

/*
 * The copy is written at once, through the caller's page tables: the vCPU's runstate
 * as last accounted if it is the caller, else brought up to now. A NULL address stops
 * the copies (Xen still writes the first one, to address 0).
 */
static long register_runstate_area(struct vcpu *v, hc_arg_t arg)
{
    struct vcpu_register_runstate_memory_area area;
    struct vcpu_runstate_info r;

    if (copy_from_guest(&area, arg, sizeof(area)))
        return -EFAULT;
    if (!area_addr_ok(area.addr.p))
        return -EFAULT;
    WRITE_ONCE(v->runstate_area, area.addr.p);
    v->runstate_area_due = false;
    if (v == current)
        vcpu_runstate_snapshot(v, &r);
    else
        vcpu_runstate_get(v, &r);
    copy_to_guest(area.addr.p, &r, sizeof(r));
    return 0;
}

static long register_time_area(struct vcpu *v, hc_arg_t arg)
{
    struct vcpu_register_time_memory_area area;

    if (copy_from_guest(&area, arg, sizeof(area)))
        return -EFAULT;
    if (!area_addr_ok(area.addr.p))
        return -EFAULT;
    WRITE_ONCE(v->time_area, area.addr.p);
    v->time_area_due = false;
    /* The caller's own record is refreshed first; another vCPU's is left to its CPU. */
    if (v == current && v->vcpu_info)
        time_update_vcpu_info(&v->vcpu_info->time);
    update_time_area(v);
    return 0;
}

void vcpu_release_areas(struct vcpu *v)
{
    struct domain *d = v->domain;
    struct page_info *pg = v->vcpu_info_page;

    v->runstate_area = 0;
    v->time_area = 0;
    if (!pg)
        return;
    v->vcpu_info = v->vcpu_id < XEN_LEGACY_MAX_VCPUS && d->shared_info
                       ? &d->shared_info->vcpu_info[v->vcpu_id]
                       : NULL;
    v->vcpu_info_page = NULL;
    put_page_and_type(pg);
}

/* ---- NMIs ---- */

/* Delivered through the vCPU's trap 2 on its way back to the guest (pv/traps.c). */
static long send_nmi(struct vcpu *v, hc_arg_t arg)
{
    if (arg)
        return -EINVAL;
    if (!__atomic_exchange_n(&v->nmi_pending, true, __ATOMIC_SEQ_CST))
        evtchn_vcpu_kick(v);
    return 0;
}

/*
 * Only for a hardware domain's vCPU pinned to one CPU. As Xen, the answer is the APIC
 * and ACPI ids of the CPU numbered like the vCPU (Xen assumes dom0_vcpus_pin's vCPU n
 * on CPU n), not of the CPU it is pinned to.
 */
static long get_physid(struct vcpu *v, hc_arg_t arg)
{
    struct vcpu_get_physid p;

    if (!is_hardware_domain(v->domain) || vcpu_pinned_cpu(v) < 0 || v->vcpu_id >= nr_cpu_ids)
        return -EINVAL;
    p.phys_id = (uint64_t)cpu_acpi_ids[v->vcpu_id] << 32 | cpu_apic_ids[v->vcpu_id];
    return copy_to_guest(arg, &p, sizeof(p)) ? -EFAULT : 0;
}

long do_vcpu_op(hc_arg_t cmd, hc_arg_t vcpuid, hc_arg_t arg)
{
    struct domain *d = current->domain;
    struct vcpu *v;

    if ((unsigned int)vcpuid >= d->max_vcpus || !(v = d->vcpu[(unsigned int)vcpuid]))
        return -ENOENT;
    switch ((int)cmd) {
    case VCPUOP_initialise:
        return vcpu_initialise(v, arg);
    case VCPUOP_up:
        return vcpu_up(v);
    case VCPUOP_down:
        return vcpu_down(v);
    case VCPUOP_is_up:
        return !(READ_ONCE(v->pause_flags) & VPF_down);
    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info r;

        vcpu_runstate_get(v, &r);
        return copy_to_guest(arg, &r, sizeof(r)) ? -EFAULT : 0;
    }
    case VCPUOP_register_runstate_memory_area:
        return register_runstate_area(v, arg);
    case VCPUOP_set_periodic_timer:
    case VCPUOP_stop_periodic_timer:
    case VCPUOP_set_singleshot_timer:
    case VCPUOP_stop_singleshot_timer:
        return vcpu_timer_op((int)cmd, v, arg);
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(v, arg);
    case VCPUOP_send_nmi:
        return send_nmi(v, arg);
    case VCPUOP_get_physid:
        return get_physid(v, arg);
    case VCPUOP_register_vcpu_time_memory_area:
        return register_time_area(v, arg);
    default:
        return -ENOSYS;
    }
}

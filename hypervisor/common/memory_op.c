/*
 * memory_op: the queries a PV guest makes about its memory. Changing the reservation
 * (balloon), exchange and the memory map come with the memory work (issue 4).
 */
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/mm.h>
#include <enso/sched.h>
#include <public/memory.h>

static long reservation_query(hc_arg_t arg, bool maximum)
{
    domid_t id;
    struct domain *d;

    if (copy_from_guest(&id, arg, sizeof(id)))
        return -EFAULT;
    if (id == DOMID_SELF || id == current->domain->domain_id)
        d = current->domain;
    else if (!current->domain->is_privileged)
        return -EPERM;
    else if (!(d = domain_by_id(id)))
        return -ESRCH;
    return (long)(maximum ? d->max_pages : d->tot_pages);
}

long do_memory_op(hc_arg_t cmd, hc_arg_t arg)
{
    switch ((int)cmd) {
    case XENMEM_maximum_ram_page:
        return (long)max_page;
    case XENMEM_current_reservation:
        return reservation_query(arg, false);
    case XENMEM_maximum_reservation:
        return reservation_query(arg, true);
    default:
        return -ENOSYS;
    }
}

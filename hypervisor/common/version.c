/*
 * xen_version: what enso tells guests about itself. enso implements the guest ABI of
 * Xen 4.17, so it reports that version; the extra version names enso. Sub-ops Xen
 * refuses to unprivileged domains (command line, build id) are refused the same way.
 */
#include <enso/cmdline.h>
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/lib.h>
#include <enso/sched.h>
#include <asm/layout.h>
#include <public/features.h>
#include <public/version.h>

#define ENSO_ABI_MAJOR 4
#define ENSO_ABI_MINOR 17
#define ENSO_EXTRAVERSION ".0-enso"
#define DENIED "<denied>"

/* The feature bits Xen 4.17 reports to a 64-bit PV guest (common/kernel.c). */
static uint32_t feature_submap0(const struct domain *d)
{
    uint32_t m = (1U << XENFEAT_memory_op_vnode_supported) |
                 (1U << XENFEAT_mmu_pt_update_preserve_ad) |
                 (1U << XENFEAT_highmem_assist) | (1U << XENFEAT_gnttab_map_avail_bits) |
                 (1U << XENFEAT_direct_mapped);

    if (d->vm_assist & (1UL << VMASST_TYPE_pae_extended_cr3))
        m |= 1U << XENFEAT_pae_pgdir_above_4gb;
    if (d->is_privileged)
        m |= 1U << XENFEAT_dom0;
    return m;
}

static long put_string(hc_arg_t arg, const char *s, size_t size)
{
    char buf[1024];

    memset(buf, 0, size);
    strlcpy(buf, s, size);
    return copy_to_guest(arg, buf, size) ? -EFAULT : 0;
}

static long get_features(hc_arg_t arg)
{
    struct xen_feature_info fi;

    if (copy_from_guest(&fi, arg, sizeof(fi)))
        return -EFAULT;
    if (fi.submap_idx != 0)
        return -EINVAL;
    fi.submap = feature_submap0(current->domain);
    return copy_to_guest(arg, &fi, sizeof(fi)) ? -EFAULT : 0;
}

static long compile_info(hc_arg_t arg)
{
    struct xen_compile_info ci;

    memset(&ci, 0, sizeof(ci));
    strlcpy(ci.compiler, "gcc " __VERSION__, sizeof(ci.compiler));
    strlcpy(ci.compile_by, "enso", sizeof(ci.compile_by));
    strlcpy(ci.compile_domain, "enso", sizeof(ci.compile_domain));
    strlcpy(ci.compile_date, __DATE__, sizeof(ci.compile_date));
    return copy_to_guest(arg, &ci, sizeof(ci)) ? -EFAULT : 0;
}

/* The linker's build id note: 12-byte header, name "GNU\0", then the id itself. */
extern const uint8_t __note_gnu_build_id_start[], __note_gnu_build_id_end[];

static long build_id(hc_arg_t arg)
{
    const uint8_t *note = __note_gnu_build_id_start;
    uint32_t sz, len;

    if (__note_gnu_build_id_end - note < 16)
        return -ENODATA;
    memcpy(&sz, note + 4, sizeof(sz));
    if (!arg)
        return sz; /* only the size */
    if (copy_from_guest(&len, arg, sizeof(len)))
        return -EFAULT;
    if (!len)
        return -EINVAL;
    if (sz > len)
        return -ENOBUFS;
    if (copy_to_guest(arg + offsetof(struct xen_build_id, buf), note + 16, sz))
        return -EFAULT;
    return sz;
}

long do_xen_version(hc_arg_t cmd, hc_arg_t arg)
{
    bool priv = current->domain->is_privileged;

    switch ((int)cmd) {
    case XENVER_version:
        return (ENSO_ABI_MAJOR << 16) | ENSO_ABI_MINOR;
    case XENVER_extraversion:
        return put_string(arg, ENSO_EXTRAVERSION, sizeof(xen_extraversion_t));
    case XENVER_compile_info:
        return compile_info(arg);
    case XENVER_capabilities:
        return put_string(arg, "xen-3.0-x86_64", sizeof(xen_capabilities_info_t));
    case XENVER_changeset:
        return put_string(arg, "enso", sizeof(xen_changeset_info_t));
    case XENVER_platform_parameters: {
        struct xen_platform_parameters p = { .virt_start = HYPERVISOR_VIRT_START };
        return copy_to_guest(arg, &p, sizeof(p)) ? -EFAULT : 0;
    }
    case XENVER_get_features:
        return get_features(arg);
    case XENVER_pagesize:
        return arg ? -EINVAL : (long)PAGE_SIZE;
    case XENVER_guest_handle: {
        uint8_t handle[16] = { 0 };
        handle[15] = (uint8_t)current->domain->domain_id; /* no toolstack handle yet */
        return copy_to_guest(arg, handle, sizeof(handle)) ? -EFAULT : 0;
    }
    case XENVER_commandline:
        if (!priv) /* Xen writes the refusal alone, not the whole buffer */
            return copy_to_guest(arg, DENIED, sizeof(DENIED)) ? -EFAULT : 0;
        return put_string(arg, cmdline_saved(), sizeof(xen_commandline_t));
    case XENVER_build_id:
        return priv ? build_id(arg) : -EPERM;
    }
    return -ENOSYS;
}

/*
 * console_io: the privileged domain's direct line to the serial console. As on Xen,
 * domain 0's output goes out unchanged (it may be interactive); other domains are
 * refused (-EPERM, Xen's answer outside debug builds) and use their console ring.
 */
#include <enso/console.h>
#include <enso/errno.h>
#include <enso/guest_access.h>
#include <enso/hypercall.h>
#include <enso/sched.h>
#include <public/xen.h>

static long console_write_from_guest(hc_arg_t buf, unsigned int count)
{
    char kbuf[128];

    while (count) {
        unsigned int n = count < sizeof(kbuf) ? count : sizeof(kbuf);

        if (copy_from_guest(kbuf, buf, n))
            return -EFAULT;
        console_write(kbuf, n);
        buf += n;
        count -= n;
        if (count && hypercall_preempt_check()) {
            hypercall_args()[1] = count;
            hypercall_args()[2] = buf;
            return -ERESTART;
        }
    }
    return 0;
}

long do_console_io(hc_arg_t cmd, hc_arg_t count, hc_arg_t buf)
{
    if (!current->domain->is_privileged)
        return -EPERM;
    switch ((unsigned int)cmd) {
    case CONSOLEIO_write:
        return console_write_from_guest(buf, (unsigned int)count);
    case CONSOLEIO_read:
        if ((unsigned int)count > 0x7fffffffU)
            return -E2BIG;
        return 0; /* serial input is not switched to guests yet */
    default:
        return -ENOSYS;
    }
}

/*
 * Boot-time domains: a boot module holding a kernel starts a domain. Its string is
 * "<file> <guest command line>"; tokens enso.name=, enso.mem=, enso.vcpus=,
 * enso.cpus=, enso.privileged=0|1 and enso.on_reboot=restart|destroy configure the
 * domain and are removed from the guest's line.
 */
#ifndef ENSO_BOOT_CONFIG_H
#define ENSO_BOOT_CONFIG_H

#include <enso/types.h>

#define BOOT_NAME_LEN 32
#define BOOT_CMDLINE_LEN 1024

struct boot_domain_config {
    char file[64];                  /* the module's first word */
    char name[BOOT_NAME_LEN];       /* enso.name=, else the file's base name */
    unsigned long mem_bytes;        /* enso.mem=, 0 = not given */
    unsigned int vcpus;             /* enso.vcpus=, 0 = not given */
    int privileged;                 /* enso.privileged=, -1 = not given */
    bool on_reboot_restart;         /* enso.on_reboot=restart (default: destroy) */
    uint64_t cpus;                  /* enso.cpus=: CPUs its vCPUs may use, 0 = any */
    char cmdline[BOOT_CMDLINE_LEN]; /* what the guest gets */
};

/* 0, or -EINVAL with *why naming the bad token. */
int boot_config_parse(const char *modstr, struct boot_domain_config *c, const char **why);

/* dom0_mem=[min:S,][max:S,]S: the sizes given, 0 where absent. 0 or -EINVAL. */
int parse_dom0_mem(const char *s, unsigned long *target, unsigned long *min,
                   unsigned long *max);

/* A boot-time domain that asked for it (on_reboot=restart) has been destroyed after a
 * reboot: build it again from its module, in idle time (pv/boot_domains.c). */
struct domain;
void boot_domain_rebooted(const struct domain *d);

#endif

/*
 * Boot-time domain settings (boot_config.c): the module string's enso.* tokens, what
 * reaches the guest's command line, the messages for bad tokens, and dom0_mem=.
 */
#include "harness.h"
#include <string.h>
#include <enso/boot_config.h>
#include <enso/errno.h>

static struct boot_domain_config c;
static const char *why;

static int parse(const char *s)
{
    why = NULL;
    return boot_config_parse(s, &c, &why);
}

TEST(defaults_from_the_file_name)
{
    CHECK_EQ(parse("/boot/vmlinuz-6.1.gz root=/dev/xvda1  quiet"), 0);
    CHECK(!strcmp(c.file, "/boot/vmlinuz-6.1.gz"));
    CHECK(!strcmp(c.name, "vmlinuz-6"));
    CHECK(!strcmp(c.cmdline, "root=/dev/xvda1 quiet"));
    CHECK_EQ(c.mem_bytes, 0);
    CHECK_EQ(c.vcpus, 0);
    CHECK_EQ(c.privileged, -1);
    CHECK(!c.on_reboot_restart);
}

TEST(enso_tokens_leave_the_guest_line)
{
    CHECK_EQ(parse("k enso.name=web console=hvc0 enso.mem=256M enso.vcpus=2 "
                   "enso.privileged=0 enso.on_reboot=restart init=/init"), 0);
    CHECK(!strcmp(c.name, "web"));
    CHECK(!strcmp(c.cmdline, "console=hvc0 init=/init"));
    CHECK_EQ(c.mem_bytes, 256UL << 20);
    CHECK_EQ(c.vcpus, 2);
    CHECK_EQ(c.privileged, 0);
    CHECK(c.on_reboot_restart);
}

TEST(on_reboot_values)
{
    CHECK_EQ(parse("k enso.on_reboot=restart enso.on_reboot=destroy"), 0);
    CHECK(!c.on_reboot_restart); /* the last one counts */
    CHECK_EQ(parse("k enso.on_reboot=reset"), -EINVAL);
    CHECK(why && strstr(why, "enso.on_reboot= needs restart or destroy"));
    CHECK_EQ(parse("k enso.on_reboot="), -EINVAL);
    CHECK_EQ(parse("k enso.on_reboot=restarts"), -EINVAL);
}

TEST(cpu_lists)
{
    CHECK_EQ(parse("k enso.cpus=1"), 0);
    CHECK_EQ(c.cpus, 0x2);
    CHECK_EQ(parse("k enso.cpus=0-2,5 quiet"), 0);
    CHECK_EQ(c.cpus, 0x27);
    CHECK(!strcmp(c.cmdline, "quiet"));
    CHECK_EQ(parse("k enso.cpus=63"), 0);
    CHECK_EQ(c.cpus, 1ULL << 63);
    CHECK_EQ(parse("k"), 0);
    CHECK_EQ(c.cpus, 0); /* any CPU */
    static const char *const bad[] = { "k enso.cpus=", "k enso.cpus=64", "k enso.cpus=2-1",
                                       "k enso.cpus=1,", "k enso.cpus=1-", "k enso.cpus=a",
                                       "k enso.cpus=1;2", "k enso.cpus=,1", "k enso.cpus=0-64" };
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(parse(bad[i]), -EINVAL);
        CHECK(why && strstr(why, "enso.cpus="));
    }
}

TEST(bad_tokens_are_named)
{
    CHECK_EQ(parse("k enso.mem=lots"), -EINVAL);
    CHECK(why && strstr(why, "enso.mem="));
    CHECK_EQ(parse("k enso.vcpus=65"), -EINVAL);
    CHECK(why && strstr(why, "enso.vcpus="));
    CHECK_EQ(parse("k enso.vcpus=0"), -EINVAL);
    CHECK_EQ(parse("k enso.privileged=2"), -EINVAL);
    CHECK(why && strstr(why, "enso.privileged="));
    CHECK_EQ(parse("k enso.name="), -EINVAL);
    CHECK_EQ(parse("k enso.nmae=x"), -EINVAL);
    CHECK(why && strstr(why, "unknown enso. option"));
}

TEST(long_guest_line_refused)
{
    static char s[BOOT_CMDLINE_LEN * 2];
    size_t n = 0;

    n += (size_t)snprintf(s, sizeof(s), "k");
    while (n < BOOT_CMDLINE_LEN + 8)
        n += (size_t)snprintf(s + n, sizeof(s) - n, " opt%zu", n);
    CHECK_EQ(parse(s), -EINVAL);
    CHECK(why && strstr(why, "too long"));
}

TEST(dom0_mem_forms)
{
    unsigned long t, min, max;

    CHECK_EQ(parse_dom0_mem("512M", &t, &min, &max), 0);
    CHECK_EQ(t, 512UL << 20);
    CHECK_EQ(min, 0);
    CHECK_EQ(max, 0);
    CHECK_EQ(parse_dom0_mem("min:128M,max:1G,256M", &t, &min, &max), 0);
    CHECK_EQ(t, 256UL << 20);
    CHECK_EQ(min, 128UL << 20);
    CHECK_EQ(max, 1UL << 30);
    CHECK_EQ(parse_dom0_mem("lots", &t, &min, &max), -EINVAL);
}

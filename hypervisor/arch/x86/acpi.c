/*
 * ACPI table discovery: the RSDP (from the loader, else the BIOS areas), then the MADT
 * for the CPUs and IO-APICs, and the HPET table. Tables are mapped read-only as needed.
 */
#include <enso/lib.h>
#include <enso/panic.h>
#include <enso/printk.h>
#include <enso/smp.h>
#include <asm/acpi.h>
#include <asm/bootinfo.h>
#include <asm/mm.h>

struct acpi_info acpi_info;

struct __packed rsdp {
    char sig[8];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t ext_checksum, reserved[3];
};

struct __packed sdt_header {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
};

static bool checksum_ok(const void *p, size_t len)
{
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++)
        sum += ((const uint8_t *)p)[i];
    return sum == 0;
}

static const struct rsdp *scan_rsdp(paddr_t start, size_t len)
{
    const char *base = ioremap(start, len, true);

    for (size_t off = 0; base && off + 20 <= len; off += 16)
        if (!memcmp(base + off, "RSD PTR ", 8) && checksum_ok(base + off, 20))
            return (const struct rsdp *)(base + off);
    return NULL;
}

static const struct rsdp *find_rsdp(void)
{
    const struct rsdp *r;
    uint16_t ebda_seg;

    if (boot_info.have_rsdp)
        return (const struct rsdp *)boot_info.rsdp;
    memcpy(&ebda_seg, ioremap(0x40e, 2, true), 2);
    if (ebda_seg && (r = scan_rsdp((paddr_t)ebda_seg << 4, 1024)))
        return r;
    return scan_rsdp(0xe0000, 0x20000);
}

static const struct sdt_header *map_table(paddr_t pa)
{
    const struct sdt_header *h = ioremap(pa, sizeof(*h), true);

    if (!h || h->length < sizeof(*h) || h->length > MB(1))
        return NULL;
    h = ioremap(pa, h->length, true);
    if (!checksum_ok(h, h->length)) {
        printk(LOG_WARNING "acpi: table %.4s at %#lx has a bad checksum; ignored\n", h->sig, pa);
        return NULL;
    }
    return h;
}

/* Look a table up by signature in the XSDT (64-bit pointers) or RSDT (32-bit). */
static const struct sdt_header *find_table(const struct rsdp *r, const char *sig)
{
    bool x = r->revision >= 2 && r->xsdt;
    const struct sdt_header *root = map_table(x ? r->xsdt : r->rsdt);
    size_t n, w = x ? 8 : 4;

    if (!root)
        return NULL;
    n = (root->length - sizeof(*root)) / w;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = (const uint8_t *)(root + 1) + i * w;
        uint64_t pa = 0;
        memcpy(&pa, e, w);
        const struct sdt_header *t = map_table(pa);
        if (t && !memcmp(t->sig, sig, 4))
            return t;
    }
    return NULL;
}

static void add_cpu(uint32_t apic_id, uint32_t acpi_id, uint32_t flags)
{
    /* Bit 0: enabled. Bit 1: online-capable (hot-pluggable later); not used yet. */
    if (!(flags & 1))
        return;
    if (nr_cpu_ids == NR_CPUS) {
        printk(LOG_WARNING "acpi: more than %d CPUs; APIC ID %u ignored\n", NR_CPUS, apic_id);
        return;
    }
    cpu_acpi_ids[nr_cpu_ids] = acpi_id;
    cpu_apic_ids[nr_cpu_ids++] = apic_id;
}

static void parse_madt(const struct sdt_header *madt)
{
    const uint8_t *p = (const uint8_t *)(madt + 1) + 8, *end = (const uint8_t *)madt + madt->length;
    const uint32_t *hdr = (const uint32_t *)(madt + 1);

    acpi_info.lapic_addr = hdr[0];
    acpi_info.pic_present = hdr[1] & 1;
    for (; p + 2 <= end && p[1] >= 2; p += p[1]) {
        switch (p[0]) {
        case 0: add_cpu(p[3], p[2], *(const uint32_t *)(p + 4)); break;
        case 9: add_cpu(*(const uint32_t *)(p + 4), *(const uint32_t *)(p + 12),
                        *(const uint32_t *)(p + 8)); break;
        case 1:
            if (acpi_info.nr_ioapics < MAX_IOAPICS)
                acpi_info.ioapics[acpi_info.nr_ioapics++] = (struct ioapic_info){
                    p[2], *(const uint32_t *)(p + 4), *(const uint32_t *)(p + 8) };
            break;
        case 2:
            if (acpi_info.nr_overrides < MAX_ISO)
                acpi_info.overrides[acpi_info.nr_overrides++] = (struct irq_override){
                    p[3], *(const uint32_t *)(p + 4), *(const uint16_t *)(p + 8) };
            break;
        }
    }
}

void acpi_init(void)
{
    const struct rsdp *r = find_rsdp();
    const struct sdt_header *madt, *hpet;

    if (!r)
        panic("acpi: no RSDP found; enso needs ACPI to find the CPUs and interrupt controllers");
    madt = find_table(r, "APIC");
    if (!madt)
        panic("acpi: no MADT (APIC table)");
    parse_madt(madt);
    hpet = find_table(r, "HPET");
    if (hpet)
        memcpy(&acpi_info.hpet_addr, (const uint8_t *)hpet + 44, 8);
    printk("acpi: %u CPUs, %u IO-APICs, %u IRQ overrides, HPET %s\n", nr_cpu_ids,
           acpi_info.nr_ioapics, acpi_info.nr_overrides, acpi_info.hpet_addr ? "present" : "absent");
    if (!nr_cpu_ids)
        panic("acpi: the MADT lists no usable CPU");
}

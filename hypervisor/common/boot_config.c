/* Parsing of boot-time domain settings: module strings and dom0_mem=. */
#include <enso/boot_config.h>
#include <enso/errno.h>
#include <enso/lib.h>

#define VCPUS_MAX 64

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static size_t token_len(const char *s)
{
    size_t n = 0;

    while (s[n] && s[n] != ' ' && s[n] != '\t')
        n++;
    return n;
}

/* "dir/name.ext" -> "name" */
static void base_name(const char *file, char *out, size_t size)
{
    const char *b = strrchr(file, '/');
    size_t n;

    b = b ? b + 1 : file;
    n = strlen(b);
    if (strchr(b, '.'))
        n = (size_t)(strchr(b, '.') - b);
    if (n >= size)
        n = size - 1;
    memcpy(out, b, n);
    out[n] = '\0';
}

static const char *find_char(const char *s, char c, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == c)
            return s + i;
    return NULL;
}

static int parse_size_value(const char *v, size_t len, unsigned long *out)
{
    const char *end;
    unsigned long long n = parse_size(v, &end);

    if (end != v + len || end == v || n == 0)
        return -EINVAL;
    *out = (unsigned long)n;
    return 0;
}

/* "0-1,3": CPU numbers and ranges below 64 as a bit mask; 0 if malformed. The token
 * ends in a space or the string's end, where the number parser stops anyway. */
static uint64_t parse_cpu_list(const char *v, size_t len)
{
    const char *p = v, *end = v + len;
    uint64_t mask = 0;

    for (;;) {
        const char *e;
        unsigned long long lo = simple_strtoull(p, &e, 10), hi = lo;

        if (e == p || e > end)
            return 0;
        if (e < end && *e == '-') {
            p = e + 1;
            hi = simple_strtoull(p, &e, 10);
            if (e == p || e > end)
                return 0;
        }
        if (lo > hi || hi >= 64)
            return 0;
        for (unsigned long long c = lo; c <= hi; c++)
            mask |= 1ULL << c;
        if (e == end)
            return mask;
        if (*e != ',')
            return 0;
        p = e + 1;
    }
}

static int parse_enso_token(const char *t, size_t len, struct boot_domain_config *c,
                            const char **why)
{
    const char *eq = find_char(t, '=', len);
    size_t klen = eq ? (size_t)(eq - t) : len;
    const char *v = eq ? eq + 1 : t + len;
    size_t vlen = (size_t)(t + len - v);

    if (klen == 9 && !strncmp(t, "enso.name", 9)) {
        if (!vlen || vlen >= sizeof(c->name)) {
            *why = "enso.name= needs 1 to 31 characters";
            return -EINVAL;
        }
        memcpy(c->name, v, vlen);
        c->name[vlen] = '\0';
        return 0;
    }
    if (klen == 8 && !strncmp(t, "enso.mem", 8)) {
        if (parse_size_value(v, vlen, &c->mem_bytes)) {
            *why = "enso.mem= needs a size such as 256M";
            return -EINVAL;
        }
        return 0;
    }
    if (klen == 10 && !strncmp(t, "enso.vcpus", 10)) {
        const char *end;
        unsigned long long n = simple_strtoull(v, &end, 10);
        if (end != v + vlen || end == v || n == 0 || n > VCPUS_MAX) {
            *why = "enso.vcpus= needs a number from 1 to 64";
            return -EINVAL;
        }
        c->vcpus = (unsigned int)n;
        return 0;
    }
    if (klen == 15 && !strncmp(t, "enso.privileged", 15)) {
        if (vlen != 1 || (v[0] != '0' && v[0] != '1')) {
            *why = "enso.privileged= needs 0 or 1";
            return -EINVAL;
        }
        c->privileged = v[0] - '0';
        return 0;
    }
    if (klen == 9 && !strncmp(t, "enso.cpus", 9)) {
        c->cpus = parse_cpu_list(v, vlen);
        if (!c->cpus) {
            *why = "enso.cpus= needs a list of CPUs such as 1 or 0-1,3";
            return -EINVAL;
        }
        return 0;
    }
    if (klen == 14 && !strncmp(t, "enso.on_reboot", 14)) {
        if (vlen == 7 && !strncmp(v, "restart", 7))
            c->on_reboot_restart = true;
        else if (vlen == 7 && !strncmp(v, "destroy", 7))
            c->on_reboot_restart = false;
        else {
            *why = "enso.on_reboot= needs restart or destroy";
            return -EINVAL;
        }
        return 0;
    }
    *why = "unknown enso. option in the module string";
    return -EINVAL;
}

int boot_config_parse(const char *modstr, struct boot_domain_config *c, const char **why)
{
    const char *s = skip_spaces(modstr);
    size_t n = token_len(s), out = 0;

    memset(c, 0, sizeof(*c));
    c->privileged = -1;
    if (n >= sizeof(c->file))
        n = sizeof(c->file) - 1;
    memcpy(c->file, s, n);
    s = skip_spaces(s + token_len(s));
    base_name(c->file, c->name, sizeof(c->name));

    while (*s) {
        size_t len = token_len(s);
        if (len > 5 && !strncmp(s, "enso.", 5)) {
            if (parse_enso_token(s, len, c, why))
                return -EINVAL;
        } else {
            if (out + len + 2 > sizeof(c->cmdline)) {
                *why = "guest command line too long";
                return -EINVAL;
            }
            if (out)
                c->cmdline[out++] = ' ';
            memcpy(c->cmdline + out, s, len);
            out += len;
            c->cmdline[out] = '\0';
        }
        s = skip_spaces(s + len);
    }
    return 0;
}

int parse_dom0_mem(const char *s, unsigned long *target, unsigned long *min,
                   unsigned long *max)
{
    *target = *min = *max = 0;
    while (*s) {
        size_t len = 0;
        unsigned long *dst = target;

        while (s[len] && s[len] != ',')
            len++;
        if (len > 4 && !strncmp(s, "min:", 4)) {
            dst = min;
            s += 4;
            len -= 4;
        } else if (len > 4 && !strncmp(s, "max:", 4)) {
            dst = max;
            s += 4;
            len -= 4;
        }
        if (parse_size_value(s, len, dst))
            return -EINVAL;
        s += len;
        if (*s == ',')
            s++;
    }
    return 0;
}

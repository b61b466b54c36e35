/*
 * The command-line parser. It runs before anything else can report a problem, so it
 * never gives up: each token is handled on its own, and a bad one is reported by name
 * and skipped. The only state is a token buffer on the stack.
 */
#include <enso/cmdline.h>
#include <enso/errno.h>
#include <enso/lib.h>
#include <enso/printk.h>

/* Longest "name=value" token, quotes removed; longer ones are reported and skipped. */
#define TOKEN_MAX 256

extern const struct kernel_param __start_enso_params[], __stop_enso_params[];

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_spaces(const char *p)
{
    while (is_space(*p))
        p++;
    return p;
}

/*
 * Copies the token starting at p into buf without its quotes (a '"' toggles quoting, in
 * which spaces do not end the token). Returns the end of the token in the command line;
 * *len is the unquoted length, which may exceed size (then buf holds only a prefix).
 */
static const char *copy_token(const char *p, char *buf, size_t size, size_t *len)
{
    bool quoted = false;
    size_t n = 0;

    for (; *p && (quoted || !is_space(*p)); p++) {
        if (*p == '"') {
            quoted = !quoted;
            continue;
        }
        if (n + 1 < size)
            buf[n] = *p;
        n++;
    }
    buf[n + 1 < size ? n : size - 1] = '\0';
    *len = n;
    return p;
}

static const struct kernel_param *find_param(const char *name,
                                             const struct kernel_param *start,
                                             const struct kernel_param *end)
{
    for (const struct kernel_param *kp = start; kp < end; kp++)
        if (!strcmp(kp->name, name))
            return kp;
    return NULL;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool streq_nocase(const char *a, const char *b)
{
    while (*a && lower(*a) == lower(*b)) {
        a++;
        b++;
    }
    return lower(*a) == lower(*b);
}

/* Returns 1 for true, 0 for false, -1 for anything else. */
static int parse_bool(const char *v)
{
    static const char *const yes[] = { "1", "yes", "on", "true" };
    static const char *const no[] = { "0", "no", "off", "false" };

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (streq_nocase(v, yes[i]))
            return 1;
        if (streq_nocase(v, no[i]))
            return 0;
    }
    return -1;
}

static int set_string(const struct kernel_param *kp, const char *value)
{
    if (strlcpy(kp->var, value ? value : "", kp->len) >= kp->len) {
        printk(LOG_WARNING "cmdline: value for option '%s' truncated to %zu characters\n",
               kp->name, kp->len - 1);
        return -E2BIG;
    }
    return 0;
}

/* Stores value (NULL when there was no '=') in the option; -EINVAL if it is unusable. */
static int set_param(const struct kernel_param *kp, const char *value)
{
    const char *end;
    unsigned long long v;
    int b;

    switch (kp->type) {
    case PARAM_BOOL:
        b = value ? parse_bool(value) : 1;
        if (b < 0)
            return -EINVAL;
        *(bool *)kp->var = b;
        return 0;
    case PARAM_ULONG:
    case PARAM_SIZE:
        if (!value || !*value)
            return -EINVAL;
        v = kp->type == PARAM_SIZE ? parse_size(value, &end) : simple_strtoull(value, &end, 0);
        if (*end)
            return -EINVAL;
        if (kp->type == PARAM_SIZE)
            *(uint64_t *)kp->var = v;
        else
            *(unsigned long *)kp->var = v;
        return 0;
    case PARAM_STRING:
        return set_string(kp, value);
    case PARAM_CUSTOM:
        return kp->fn(value) ? -EINVAL : 0;
    }
    return -EINVAL;
}

/* Handles one "name[=value]" token (modified in place); returns 1 on a problem. */
static int parse_option(char *tok, const struct kernel_param *start,
                        const struct kernel_param *end)
{
    char *value = strchr(tok, '=');
    const struct kernel_param *kp;
    bool negated = false;
    int rc;

    if (value)
        *value++ = '\0';
    kp = find_param(tok, start, end);
    /* "no-name" turns a boolean off; only a boolean, and only without a value. */
    if (!kp && !strncmp(tok, "no-", 3)) {
        kp = find_param(tok + 3, start, end);
        if (kp && kp->type != PARAM_BOOL)
            kp = NULL;
        negated = kp != NULL;
    }
    if (!kp) {
        printk(LOG_WARNING "cmdline: unknown option '%s'\n", tok);
        return 1;
    }
    if (negated)
        rc = value ? -EINVAL : set_param(kp, "0");
    else
        rc = set_param(kp, value);
    if (rc == -EINVAL)
        printk(LOG_WARNING "cmdline: bad value '%s' for option '%s'\n", value ? value : "",
               tok);
    return rc ? 1 : 0;
}

int cmdline_parse_table(const char *cmdline, const struct kernel_param *start,
                        const struct kernel_param *end)
{
    char tok[TOKEN_MAX];
    int problems = 0;
    const char *p = cmdline ? skip_spaces(cmdline) : "";

    while (*p) {
        size_t len;
        const char *next = copy_token(p, tok, sizeof(tok), &len);

        if (len >= sizeof(tok)) {
            printk(LOG_WARNING "cmdline: option '%.32s...' is too long, ignored\n", tok);
            problems++;
        } else if (len) {
            problems += parse_option(tok, start, end);
        }
        p = skip_spaces(next);
    }
    return problems;
}

static char saved_cmdline[1024];

const char *cmdline_saved(void)
{
    return saved_cmdline;
}

int cmdline_parse(const char *cmdline)
{
    strlcpy(saved_cmdline, cmdline ? cmdline : "", sizeof(saved_cmdline));
    return cmdline_parse_table(cmdline, __start_enso_params, __stop_enso_params);
}

const char *cmdline_skip_image_name(const char *cmdline)
{
    const char *p = skip_spaces(cmdline), *q = p;
    bool slash = false;

    for (; *q && !is_space(*q); q++) {
        if (*q == '=')
            return p;
        if (*q == '/')
            slash = true;
    }
    return slash ? skip_spaces(q) : p;
}

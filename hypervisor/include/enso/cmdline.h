/*
 * Command-line options. Each option is a struct kernel_param placed by one of the macros
 * below in the section "enso_params"; the section name is a C identifier so that GNU ld
 * provides __start_enso_params / __stop_enso_params on the host too (enso's linker script
 * defines them for the hypervisor). cmdline_parse() walks that table.
 *
 * Syntax: options separated by spaces, each "name" or "name=value"; double quotes let a
 * value contain spaces (name="a b"). Booleans also accept "no-name" for false.
 * Problems (unknown options, bad values) are reported and skipped, never fatal.
 */
#ifndef ENSO_CMDLINE_H
#define ENSO_CMDLINE_H

#include <enso/types.h>

enum param_type {
    PARAM_BOOL,   /* bool */
    PARAM_ULONG,  /* unsigned long, any base simple_strtoull accepts */
    PARAM_SIZE,   /* uint64_t, via parse_size */
    PARAM_STRING, /* char array, truncated with a warning if too long */
    PARAM_CUSTOM, /* int fn(const char *value): 0 or -EINVAL; value NULL without '=' */
};

struct kernel_param {
    const char *name;
    enum param_type type;
    size_t len; /* PARAM_STRING: size of the array */
    void *var;
    int (*fn)(const char *value);
};

#define PARAM_CAT_(a, b) a##b
#define PARAM_CAT(a, b) PARAM_CAT_(a, b)

/* aligned(): without it gcc may pad large objects apart and break the table walk. */
#define DEFINE_PARAM_(_name, _type, _len, _var, _fn)                                   \
    static const struct kernel_param PARAM_CAT(enso_param_, __COUNTER__)               \
        __attribute__((used, section("enso_params"), aligned(sizeof(void *)))) = {     \
            .name = (_name), .type = (_type), .len = (_len), .var = (_var), .fn = (_fn) }

/* The _Static_asserts catch a variable of the wrong type at compile time. */
#define boolean_param(name, v)                                                         \
    _Static_assert(_Generic(&(v), bool *: 1, default: 0), #v " must be bool");       \
    DEFINE_PARAM_(name, PARAM_BOOL, 0, &(v), NULL)
#define integer_param(name, v)                                                         \
    _Static_assert(_Generic(&(v), unsigned long *: 1, default: 0),                     \
                   #v " must be unsigned long");                                       \
    DEFINE_PARAM_(name, PARAM_ULONG, 0, &(v), NULL)
#define size_param(name, v)                                                            \
    _Static_assert(_Generic(&(v), uint64_t *: 1, default: 0), #v " must be uint64_t"); \
    DEFINE_PARAM_(name, PARAM_SIZE, 0, &(v), NULL)
#define string_param(name, v)                                                          \
    _Static_assert(_Generic(&(v)[0], char *: 1, default: 0) &&                        \
                   !__builtin_types_compatible_p(__typeof__(v), char *),              \
                   #v " must be a char array");                                        \
    DEFINE_PARAM_(name, PARAM_STRING, sizeof(v), (v), NULL)
#define custom_param(name, f) DEFINE_PARAM_(name, PARAM_CUSTOM, 0, NULL, (f))

/* Parses cmdline against the registered options; returns the number of problems. */
int cmdline_parse(const char *cmdline);
/* enso's command line as cmdline_parse saw it (what XENVER_commandline reports). */
const char *cmdline_saved(void);
/* The same against the table [start, end); what cmdline_parse uses, and for tests. */
int cmdline_parse_table(const char *cmdline, const struct kernel_param *start,
                        const struct kernel_param *end);
/*
 * Boot loaders put the image's file name first ("/boot/enso.gz loglvl=4"). Skips the
 * first token if it has no '=' and contains a '/'; returns where the options start.
 */
const char *cmdline_skip_image_name(const char *cmdline);

#endif

/*
 * vsnprintf for enso: the C99 conversions a hypervisor needs (%d %i %u %x %X %o %c %s
 * %p %%), with flags, width, precision and length modifiers. There is no floating point
 * and no %n (a format string should never be able to write memory).
 *
 * %p differs from glibc on purpose: always "0x" and 16 hex digits, so addresses line up.
 */
#include <enso/lib.h>

struct out {
    char *buf;
    size_t size;
    size_t pos; /* characters produced so far, including those that did not fit */
};

struct spec {
    bool left, zero, space, plus, alt;
    int width;
    int prec; /* -1: none given */
    char len; /* 'H' hh, 'h', 0, 'l', 'L' ll, 'z', 't', 'j' */
    char conv;
};

static void put(struct out *o, char c)
{
    if (o->pos + 1 < o->size)
        o->buf[o->pos] = c;
    o->pos++;
}

static void put_n(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

static const char *parse_flags(const char *f, struct spec *s)
{
    for (;; f++) {
        switch (*f) {
        case '-': s->left = true; break;
        case '0': s->zero = true; break;
        case ' ': s->space = true; break;
        case '+': s->plus = true; break;
        case '#': s->alt = true; break;
        default: return f;
        }
    }
}

static int parse_int(const char **f)
{
    int n = 0;

    while (**f >= '0' && **f <= '9') {
        if (n < 100000000)
            n = n * 10 + (**f - '0');
        (*f)++;
    }
    return n;
}

/* Width and precision; a '*' takes the value from the arguments. */
static const char *parse_width_prec(const char *f, struct spec *s, va_list *ap)
{
    if (*f == '*') {
        s->width = va_arg(*ap, int);
        f++;
        /* A negative width from '*' means left-justify. */
        if (s->width < 0) {
            s->left = true;
            s->width = s->width == (-2147483647 - 1) ? 2147483647 : -s->width;
        }
    } else {
        s->width = parse_int(&f);
    }
    s->prec = -1;
    if (*f == '.') {
        f++;
        if (*f == '*') {
            s->prec = va_arg(*ap, int);
            f++;
            if (s->prec < 0)
                s->prec = -1;
        } else {
            s->prec = parse_int(&f);
        }
    }
    return f;
}

static const char *parse_length(const char *f, struct spec *s)
{
    s->len = 0;
    if (*f == 'h' || *f == 'l') {
        s->len = *f++;
        if (*f == s->len) {
            s->len = s->len == 'h' ? 'H' : 'L';
            f++;
        }
    } else if (*f == 'z' || *f == 't' || *f == 'j') {
        s->len = *f++;
    }
    return f;
}

static unsigned long long get_unsigned(const struct spec *s, va_list *ap)
{
    switch (s->len) {
    case 'H': return (unsigned char)va_arg(*ap, unsigned int);
    case 'h': return (unsigned short)va_arg(*ap, unsigned int);
    case 'l': return va_arg(*ap, unsigned long);
    case 'L': return va_arg(*ap, unsigned long long);
    case 'z': return va_arg(*ap, size_t);
    case 't': return (unsigned long long)va_arg(*ap, ptrdiff_t);
    case 'j': return va_arg(*ap, uintmax_t);
    default: return va_arg(*ap, unsigned int);
    }
}

static long long get_signed(const struct spec *s, va_list *ap)
{
    switch (s->len) {
    case 'H': return (signed char)va_arg(*ap, int);
    case 'h': return (short)va_arg(*ap, int);
    case 'l': return va_arg(*ap, long);
    case 'L': return va_arg(*ap, long long);
    case 'z': return (long long)va_arg(*ap, size_t);
    case 't': return va_arg(*ap, ptrdiff_t);
    case 'j': return va_arg(*ap, intmax_t);
    default: return va_arg(*ap, int);
    }
}

/* Writes the digits backwards into the end of buf; returns how many. */
static int to_digits(unsigned long long v, unsigned int base, bool upper, char *end)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;

    while (v) {
        *--end = digits[v % base];
        v /= base;
        n++;
    }
    return n;
}

static void format_number(struct out *o, struct spec *s, unsigned long long v, bool neg)
{
    unsigned int base = s->conv == 'o' ? 8 : (s->conv == 'x' || s->conv == 'X') ? 16 : 10;
    char buf[24];
    int nd = to_digits(v, base, s->conv == 'X', buf + sizeof(buf));
    char sign = neg ? '-' : s->plus ? '+' : s->space ? ' ' : 0;
    const char *prefix = "";
    int zeros = s->prec > nd ? s->prec - nd : 0;

    /* A plain zero still shows one digit, unless the precision is explicitly zero. */
    if (v == 0 && s->prec != 0 && zeros == 0)
        zeros = 1;
    if (s->alt && base == 16 && v)
        prefix = s->conv == 'X' ? "0X" : "0x";
    /* '#' with octal only promises that the result starts with a 0. */
    if (s->alt && base == 8 && zeros == 0 && (v || s->prec == 0))
        zeros = 1;

    int len = (sign ? 1 : 0) + (int)strlen(prefix) + zeros + nd;

    /* '0' pads with zeros after the sign, but an explicit precision wins over it. */
    if (s->zero && !s->left && s->prec < 0 && s->width > len) {
        zeros += s->width - len;
        len = s->width;
    }
    if (!s->left)
        put_n(o, ' ', s->width - len);
    if (sign)
        put(o, sign);
    while (*prefix)
        put(o, *prefix++);
    put_n(o, '0', zeros);
    for (int i = nd; i > 0; i--)
        put(o, buf[sizeof(buf) - i]);
    if (s->left)
        put_n(o, ' ', s->width - len);
}

static void format_string(struct out *o, const struct spec *s, const char *str)
{
    if (!str)
        str = "(null)";

    int len = (int)strnlen(str, s->prec >= 0 ? (size_t)s->prec : (size_t)2147483647);

    if (!s->left)
        put_n(o, ' ', s->width - len);
    for (int i = 0; i < len; i++)
        put(o, str[i]);
    if (s->left)
        put_n(o, ' ', s->width - len);
}

static void format_char(struct out *o, const struct spec *s, char c)
{
    if (!s->left)
        put_n(o, ' ', s->width - 1);
    put(o, c);
    if (s->left)
        put_n(o, ' ', s->width - 1);
}

static void format_pointer(struct out *o, const struct spec *s, const void *p)
{
    struct spec ps = { .left = s->left, .width = s->width, .prec = 16, .conv = 'x',
                       .alt = false };

    /* The prefix goes in by hand so that a null pointer also gets it. */
    if (!ps.left)
        put_n(o, ' ', ps.width - 18);
    put(o, '0');
    put(o, 'x');
    ps.width = 0;
    format_number(o, &ps, (unsigned long long)(uintptr_t)p, false);
    if (ps.left)
        put_n(o, ' ', s->width - 18);
}

static void convert(struct out *o, struct spec *s, va_list *ap)
{
    switch (s->conv) {
    case 'd':
    case 'i': {
        long long v = get_signed(s, ap);
        unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

        format_number(o, s, mag, v < 0);
        break;
    }
    case 'u':
    case 'x':
    case 'X':
    case 'o':
        s->plus = s->space = false; /* these flags only apply to signed conversions */
        format_number(o, s, get_unsigned(s, ap), false);
        break;
    case 'c':
        format_char(o, s, (char)va_arg(*ap, int));
        break;
    case 's':
        format_string(o, s, va_arg(*ap, const char *));
        break;
    case 'p':
        format_pointer(o, s, va_arg(*ap, const void *));
        break;
    case '%':
        put(o, '%');
        break;
    default:
        /* Unknown conversion: show it rather than guess how many arguments it takes. */
        put(o, '%');
        if (s->conv)
            put(o, s->conv);
        break;
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    va_list args;

    /* A va_list cannot portably be passed by address, so work on a copy. */
    va_copy(args, ap);
    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        struct spec s = { 0 };

        fmt = parse_flags(fmt + 1, &s);
        fmt = parse_width_prec(fmt, &s, &args);
        fmt = parse_length(fmt, &s);
        s.conv = *fmt;
        if (*fmt)
            fmt++;
        convert(&o, &s, &args);
    }
    va_end(args);
    if (size)
        buf[o.pos < size ? o.pos : size - 1] = '\0';
    return o.pos > 2147483647 ? 2147483647 : (int)o.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

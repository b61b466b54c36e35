/* Tests of the command-line parser, through the registry and through private tables. */
#include <enso/cmdline.h>
#include <enso/errno.h>
#include "harness.h"

static bool opt_flag;
static bool opt_other = true;
static unsigned long opt_count;
static uint64_t opt_mem;
static char opt_name[8];
static char opt_last_custom[32];
static int custom_calls;
static bool custom_saw_null;

static int parse_custom(const char *v)
{
    custom_calls++;
    custom_saw_null = v == NULL;
    if (v && !strcmp(v, "bad"))
        return -EINVAL;
    snprintf(opt_last_custom, sizeof(opt_last_custom), "%s", v ? v : "(none)");
    return 0;
}

boolean_param("flag", opt_flag);
boolean_param("other", opt_other);
integer_param("count", opt_count);
size_param("mem", opt_mem);
string_param("name", opt_name);
custom_param("custom", parse_custom);

static void reset(void)
{
    opt_flag = false;
    opt_other = true;
    opt_count = 0;
    opt_mem = 0;
    memset(opt_name, 0, sizeof(opt_name));
    memset(opt_last_custom, 0, sizeof(opt_last_custom));
    custom_calls = 0;
    custom_saw_null = false;
}

TEST(registry_has_all_options)
{
    reset();
    CHECK_EQ(cmdline_parse("flag no-other count=0x10 mem=2M name=abc custom=x"), 0);
    CHECK(opt_flag);
    CHECK(!opt_other);
    CHECK_EQ(opt_count, 16);
    CHECK_EQ(opt_mem, 2 << 20);
    CHECK(!strcmp(opt_name, "abc"));
    CHECK(!strcmp(opt_last_custom, "x"));
    CHECK(!strcmp(unit_log(), ""));
}

TEST(boolean_values)
{
    static const char *const yes[] = { "flag", "flag=1", "flag=yes", "flag=on",
                                       "flag=true", "flag=TRUE", "flag=Yes" };
    static const char *const no[] = { "flag=0", "flag=no", "flag=off", "flag=false",
                                      "no-flag", "flag no-flag" };

    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        reset();
        CHECK_EQ(cmdline_parse(yes[i]), 0);
        CHECK(opt_flag);
    }
    for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
        reset();
        opt_flag = true;
        CHECK_EQ(cmdline_parse(no[i]), 0);
        CHECK(!opt_flag);
    }
}

TEST(boolean_bad_values)
{
    reset();
    opt_flag = true;
    CHECK_EQ(cmdline_parse("flag=maybe no-flag=1 flag="), 3);
    CHECK(opt_flag);
    CHECK(strstr(unit_log(), "cmdline: bad value 'maybe' for option 'flag'"));
    CHECK(strstr(unit_log(), "cmdline: bad value '1' for option 'no-flag'"));
    CHECK(strstr(unit_log(), "cmdline: bad value '' for option 'flag'"));
}

TEST(no_prefix_only_for_booleans)
{
    reset();
    CHECK_EQ(cmdline_parse("no-count"), 1);
    CHECK(strstr(unit_log(), "cmdline: unknown option 'no-count'"));
}

TEST(integers)
{
    reset();
    CHECK_EQ(cmdline_parse("count=42"), 0);
    CHECK_EQ(opt_count, 42);
    CHECK_EQ(cmdline_parse("count=017"), 0);
    CHECK_EQ(opt_count, 15);
    CHECK_EQ(cmdline_parse("count=12abc count= count -count=1 count=-1"), 5);
    CHECK_EQ(opt_count, 15);
    CHECK(strstr(unit_log(), "cmdline: bad value '12abc' for option 'count'"));
    CHECK(strstr(unit_log(), "cmdline: bad value '-1' for option 'count'"));
    CHECK(strstr(unit_log(), "cmdline: unknown option '-count'"));
}

TEST(sizes)
{
    reset();
    CHECK_EQ(cmdline_parse("mem=4G"), 0);
    CHECK(opt_mem == 4ULL << 30);
    CHECK_EQ(cmdline_parse("mem=512k"), 0);
    CHECK_EQ(opt_mem, 512 << 10);
    CHECK_EQ(cmdline_parse("mem=100"), 0);
    CHECK_EQ(opt_mem, 100);
    CHECK_EQ(cmdline_parse("mem=12X"), 1);
    CHECK_EQ(opt_mem, 100);
    CHECK(strstr(unit_log(), "cmdline: bad value '12X' for option 'mem'"));
}

TEST(strings_and_quotes)
{
    reset();
    CHECK_EQ(cmdline_parse("name=\"a b c\""), 0);
    CHECK(!strcmp(opt_name, "a b c"));
    CHECK_EQ(cmdline_parse("name=\"x=1\" flag"), 0);
    CHECK(!strcmp(opt_name, "x=1"));
    CHECK(opt_flag);
    CHECK_EQ(cmdline_parse("custom=\"two  words\"  count=3"), 0);
    CHECK(!strcmp(opt_last_custom, "two  words"));
    CHECK_EQ(opt_count, 3);
    CHECK_EQ(cmdline_parse("name"), 0); /* no value: the empty string */
    CHECK(!strcmp(opt_name, ""));
}

TEST(string_truncation_is_reported)
{
    reset();
    CHECK_EQ(cmdline_parse("name=abcdefghij flag"), 1);
    CHECK(!strcmp(opt_name, "abcdefg"));
    CHECK(opt_flag);
    CHECK(strstr(unit_log(), "cmdline: value for option 'name' truncated to 7 characters"));
}

TEST(custom_values)
{
    reset();
    CHECK_EQ(cmdline_parse("custom"), 0);
    CHECK(custom_saw_null);
    CHECK_EQ(cmdline_parse("custom="), 0);
    CHECK(!custom_saw_null);
    CHECK_EQ(cmdline_parse("custom=bad"), 1);
    CHECK_EQ(custom_calls, 3);
    CHECK(strstr(unit_log(), "cmdline: bad value 'bad' for option 'custom'"));
}

TEST(unknown_options_are_not_fatal)
{
    reset();
    CHECK_EQ(cmdline_parse("  flag bogus=1 weird count=7\tno-such  "), 3);
    CHECK(opt_flag);
    CHECK_EQ(opt_count, 7);
    CHECK(strstr(unit_log(), "cmdline: unknown option 'bogus'\n"));
    CHECK(strstr(unit_log(), "cmdline: unknown option 'weird'\n"));
    CHECK(strstr(unit_log(), "cmdline: unknown option 'no-such'\n"));
}

TEST(empty_and_odd_lines)
{
    reset();
    CHECK_EQ(cmdline_parse(""), 0);
    CHECK_EQ(cmdline_parse("   "), 0);
    CHECK_EQ(cmdline_parse(NULL), 0);
    CHECK_EQ(cmdline_parse("\"\""), 0);
    CHECK_EQ(cmdline_parse("=5"), 1); /* an empty name is unknown */
    CHECK_EQ(cmdline_parse("name=\"unterminated quote"), 1); /* too long for name[8] */
}

TEST(overlong_token)
{
    char line[400];

    reset();
    memset(line, 'a', sizeof(line));
    memcpy(line + 350, " count=9", 9);
    CHECK_EQ(cmdline_parse(line), 1);
    CHECK_EQ(opt_count, 9);
    CHECK(strstr(unit_log(), "is too long, ignored"));
}

TEST(private_table)
{
    bool b = false;
    unsigned long n = 0;
    const struct kernel_param table[] = {
        { .name = "b", .type = PARAM_BOOL, .var = &b },
        { .name = "n", .type = PARAM_ULONG, .var = &n },
    };

    CHECK_EQ(cmdline_parse_table("b n=5 flag", table, table + ARRAY_SIZE(table)), 1);
    CHECK(b);
    CHECK_EQ(n, 5);
    CHECK(strstr(unit_log(), "cmdline: unknown option 'flag'"));
    CHECK_EQ(cmdline_parse_table("b", table, table), 1);
}

TEST(skip_image_name)
{
    const char *s;

    s = "/boot/enso.gz loglvl=4 flag";
    CHECK(!strcmp(cmdline_skip_image_name(s), "loglvl=4 flag"));
    s = "  boot/enso   flag";
    CHECK(!strcmp(cmdline_skip_image_name(s), "flag"));
    s = "/boot/enso";
    CHECK(!strcmp(cmdline_skip_image_name(s), ""));
    s = "flag count=1";
    CHECK(!strcmp(cmdline_skip_image_name(s), "flag count=1"));
    s = "path=/a/b flag";
    CHECK(!strcmp(cmdline_skip_image_name(s), "path=/a/b flag"));
    s = "";
    CHECK(!strcmp(cmdline_skip_image_name(s), ""));
    reset();
    CHECK_EQ(cmdline_parse(cmdline_skip_image_name("/enso flag")), 0);
    CHECK(opt_flag);
}

/* Tests of the bitmap operations and cpumask_t. */
#include <enso/bitmap.h>
#include "harness.h"

TEST(single_bits)
{
    DECLARE_BITMAP(b, 130) = { 0 };

    set_bit(0, b);
    set_bit(64, b);
    __set_bit(129, b);
    CHECK(test_bit(0, b) && test_bit(64, b) && test_bit(129, b));
    CHECK(!test_bit(1, b) && !test_bit(63, b) && !test_bit(128, b));
    CHECK_EQ(b[1], 1);
    CHECK_EQ(b[2], 2);
    clear_bit(64, b);
    __clear_bit(129, b);
    CHECK(!test_bit(64, b) && !test_bit(129, b));
    CHECK_EQ(b[0], 1);
}

TEST(test_and_modify)
{
    DECLARE_BITMAP(b, 128) = { 0 };

    CHECK(!test_and_set_bit(100, b));
    CHECK(test_and_set_bit(100, b));
    CHECK(test_bit(100, b));
    CHECK(test_and_clear_bit(100, b));
    CHECK(!test_and_clear_bit(100, b));
    CHECK(!test_bit(100, b));
    CHECK(!test_and_set_bit(63, b));
    CHECK(b[0] == 1UL << 63);
}

TEST(find_bits)
{
    DECLARE_BITMAP(b, 200) = { 0 };

    CHECK_EQ(find_first_bit(b, 200), 200);
    __set_bit(5, b);
    __set_bit(64, b);
    __set_bit(199, b);
    CHECK_EQ(find_first_bit(b, 200), 5);
    CHECK_EQ(find_next_bit(b, 200, 5), 5);
    CHECK_EQ(find_next_bit(b, 200, 6), 64);
    CHECK_EQ(find_next_bit(b, 200, 65), 199);
    CHECK_EQ(find_next_bit(b, 200, 200), 200);
    CHECK_EQ(find_next_bit(b, 199, 65), 199); /* bit 199 lies outside 199 bits */
    CHECK_EQ(find_next_bit(b, 200, 1000), 200);
    CHECK_EQ(find_first_bit(b, 0), 0);
}

TEST(find_zero_bits)
{
    DECLARE_BITMAP(b, 130);

    bitmap_fill(b, 130);
    CHECK_EQ(find_first_zero_bit(b, 130), 130);
    __clear_bit(70, b);
    CHECK_EQ(find_first_zero_bit(b, 130), 70);
    CHECK_EQ(find_next_zero_bit(b, 130, 71), 130);
    b[0] = ~0UL;
    b[1] = ~0UL;
    b[2] = 0; /* bits beyond nbits must not be found */
    CHECK_EQ(find_next_zero_bit(b, 128, 0), 128);
    CHECK_EQ(find_next_zero_bit(b, 129, 0), 128);
}

TEST(weight_fill_zero)
{
    DECLARE_BITMAP(b, 100);

    bitmap_fill(b, 100);
    CHECK_EQ(bitmap_weight(b, 100), 100);
    CHECK_EQ(b[1], (1UL << 36) - 1);
    CHECK_EQ(bitmap_weight(b, 64), 64);
    CHECK_EQ(bitmap_weight(b, 70), 70);
    CHECK(!bitmap_empty(b, 100));
    bitmap_zero(b, 100);
    CHECK_EQ(bitmap_weight(b, 100), 0);
    CHECK(bitmap_empty(b, 100));
    b[0] = 0xf0f0f0f0f0f0f0f0UL;
    CHECK_EQ(bitmap_weight(b, 64), 32);
    CHECK_EQ(bitmap_weight(b, 8), 4);
}

TEST(logic_ops)
{
    DECLARE_BITMAP(a, 70) = { 0x0fUL, 0x1UL };
    DECLARE_BITMAP(b, 70) = { 0x3cUL, 0x2UL };
    DECLARE_BITMAP(d, 70);

    CHECK(bitmap_and(d, a, b, 70));
    CHECK_EQ(d[0], 0x0c);
    CHECK_EQ(d[1], 0);
    bitmap_or(d, a, b, 70);
    CHECK_EQ(d[0], 0x3f);
    CHECK_EQ(d[1], 3);
    CHECK(bitmap_andnot(d, a, b, 70));
    CHECK_EQ(d[0], 0x03);
    CHECK(!bitmap_andnot(d, a, a, 70));
    CHECK(bitmap_empty(d, 70));
    CHECK(bitmap_equal(a, a, 70));
    CHECK(!bitmap_equal(a, b, 70));
    b[0] = a[0];
    b[1] = a[1] | (1UL << 10); /* differs only beyond bit 70 */
    CHECK(bitmap_equal(a, b, 70));
    CHECK(!bitmap_equal(a, b, 75));
}

TEST(cpumask_ops)
{
    cpumask_t m = { { 0 } }, n, r;
    unsigned int cpu, seen = 0, count = 0;

    CHECK(cpumask_empty(&m));
    CHECK_EQ(cpumask_first(&m), NR_CPUS);
    cpumask_set_cpu(3, &m);
    cpumask_set_cpu(17, &m);
    cpumask_set_cpu(NR_CPUS - 1, &m);
    CHECK(cpumask_test_cpu(17, &m));
    CHECK(!cpumask_test_cpu(16, &m));
    CHECK_EQ(cpumask_weight(&m), 3);
    CHECK_EQ(cpumask_first(&m), 3);
    CHECK_EQ(cpumask_next(3, &m), 17);
    CHECK_EQ(cpumask_next(-1, &m), 3);
    CHECK_EQ(cpumask_next(NR_CPUS - 1, &m), NR_CPUS);
    for_each_cpu(cpu, &m) {
        seen += cpu;
        count++;
    }
    CHECK_EQ(count, 3);
    CHECK_EQ(seen, 3 + 17 + NR_CPUS - 1);
    cpumask_copy(&n, &m);
    cpumask_clear_cpu(17, &n);
    CHECK(cpumask_and(&r, &m, &n));
    CHECK_EQ(cpumask_weight(&r), 2);
    CHECK(cpumask_andnot(&r, &m, &n));
    CHECK_EQ(cpumask_first(&r), 17);
    CHECK_EQ(cpumask_weight(&r), 1);
    CHECK(!cpumask_andnot(&r, &n, &m));
    cpumask_clear(&m);
    CHECK(cpumask_empty(&m));
}

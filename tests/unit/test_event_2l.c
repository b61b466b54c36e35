/* Tests of the 2-level event-channel bit logic (hypervisor/common/event_2l.c). */
#include <enso/event.h>
#include "harness.h"

static struct shared_info s;
static struct vcpu_info *vi = &s.vcpu_info[0];

static void reset(void)
{
    memset(&s, 0, sizeof(s));
}

TEST(set_pending_unmasked)
{
    reset();
    CHECK_EQ(evtchn_2l_set_pending(&s, vi, 70), EVTCHN_NEWLY_PENDING | EVTCHN_KICK);
    CHECK_EQ(s.evtchn_pending[1], 1UL << 6);
    CHECK_EQ(vi->evtchn_pending_sel, 1UL << 1);
    CHECK_EQ(vi->evtchn_upcall_pending, 1);
    /* Another port of another word: selector grows, the flag was already up. */
    CHECK_EQ(evtchn_2l_set_pending(&s, vi, 3), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(vi->evtchn_pending_sel, 3);
    CHECK_EQ(s.evtchn_pending[0], 1UL << 3);
    /* The same word again: nothing but the pending bit. */
    vi->evtchn_upcall_pending = 0;
    CHECK_EQ(evtchn_2l_set_pending(&s, vi, 5), EVTCHN_NEWLY_PENDING);
    CHECK_EQ(vi->evtchn_upcall_pending, 0);
    CHECK_EQ(s.evtchn_pending[0], (1UL << 3) | (1UL << 5));
}

TEST(set_pending_already_pending)
{
    reset();
    s.evtchn_pending[63] = 1UL << 63;
    CHECK_EQ(evtchn_2l_set_pending(&s, vi, 4095), 0);
    CHECK_EQ(vi->evtchn_pending_sel, 0);
    CHECK_EQ(vi->evtchn_upcall_pending, 0);
}

TEST(set_pending_masked)
{
    reset();
    s.evtchn_mask[2] = 1UL << 1;
    CHECK_EQ(evtchn_2l_set_pending(&s, vi, 129), EVTCHN_NEWLY_PENDING);
    CHECK(evtchn_2l_is_pending(&s, 129));
    CHECK(evtchn_2l_is_masked(&s, 129));
    CHECK_EQ(vi->evtchn_pending_sel, 0);
    CHECK_EQ(vi->evtchn_upcall_pending, 0);
}

TEST(set_pending_no_vcpu_info)
{
    reset();
    CHECK_EQ(evtchn_2l_set_pending(&s, NULL, 9), EVTCHN_NEWLY_PENDING);
    CHECK(evtchn_2l_is_pending(&s, 9));
}

TEST(out_of_range_ports)
{
    reset();
    CHECK_EQ(evtchn_2l_set_pending(&s, vi, 4096), 0);
    CHECK(!evtchn_2l_unmask(&s, vi, 4096));
    CHECK(!evtchn_2l_is_pending(&s, 4096));
    CHECK(evtchn_2l_is_masked(&s, 4096));
    evtchn_2l_clear_pending(&s, 0xffffffffU);
    for (unsigned int i = 0; i < 64; i++)
        CHECK_EQ(s.evtchn_pending[i] | s.evtchn_mask[i], 0);
    CHECK_EQ(vi->evtchn_pending_sel, 0);
}

TEST(unmask_reraises)
{
    reset();
    s.evtchn_mask[0] = 1UL << 7;
    CHECK_EQ(evtchn_2l_set_pending(&s, vi, 7), EVTCHN_NEWLY_PENDING);
    CHECK(evtchn_2l_unmask(&s, vi, 7));
    CHECK_EQ(s.evtchn_mask[0], 0);
    CHECK_EQ(vi->evtchn_pending_sel, 1);
    CHECK_EQ(vi->evtchn_upcall_pending, 1);
    /* Unmasking again: the mask bit is already clear, nothing is raised. */
    vi->evtchn_pending_sel = 0;
    vi->evtchn_upcall_pending = 0;
    CHECK(!evtchn_2l_unmask(&s, vi, 7));
    CHECK_EQ(vi->evtchn_pending_sel, 0);
}

TEST(unmask_not_pending)
{
    reset();
    s.evtchn_mask[0] = 1UL << 7;
    CHECK(!evtchn_2l_unmask(&s, vi, 7));
    CHECK_EQ(s.evtchn_mask[0], 0);
    CHECK_EQ(vi->evtchn_pending_sel, 0);
    CHECK_EQ(vi->evtchn_upcall_pending, 0);
}

TEST(unmask_flag_already_up)
{
    reset();
    s.evtchn_mask[0] = 1;
    s.evtchn_pending[0] = 1;
    vi->evtchn_upcall_pending = 1;
    CHECK(!evtchn_2l_unmask(&s, vi, 0));
    CHECK_EQ(vi->evtchn_pending_sel, 1);
}

TEST(clear_pending)
{
    reset();
    s.evtchn_pending[10] = ~0UL;
    evtchn_2l_clear_pending(&s, 10 * 64 + 33);
    CHECK_EQ(s.evtchn_pending[10], ~(1UL << 33));
    CHECK(!evtchn_2l_is_pending(&s, 10 * 64 + 33));
    CHECK(evtchn_2l_is_pending(&s, 10 * 64 + 32));
}

// RecoveryGroups: one scout per portal, the role handed on when it leaves,
// and a member that gets back in wakes the others of its portal only.
#include "src/session/recovery_group.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class RecoveryGroupsTest : public ::testing::Test {
 protected:
  RecoveryGroups::Wake Waker(std::string name) {
    return [this, name] { woken_.push_back(name); };
  }
  RecoveryGroups groups_;
  std::vector<std::string> woken_;
  int a_ = 0, b_ = 0, c_ = 0, other_ = 0;
};

TEST_F(RecoveryGroupsTest, FirstMemberIsTheScoutAndHandsTheRoleOn) {
  groups_.Join("10.0.0.1:3260", &a_, Waker("a"));
  groups_.Join("10.0.0.1:3260", &b_, Waker("b"));
  groups_.Join("10.0.0.1:3260", &c_, Waker("c"));
  groups_.Join("10.0.0.2:3260", &other_, Waker("other"));
  EXPECT_TRUE(groups_.IsScout(&a_));
  EXPECT_FALSE(groups_.IsScout(&b_));
  EXPECT_TRUE(groups_.IsScout(&other_));  // each portal has its own
  groups_.Leave(&a_);
  EXPECT_FALSE(groups_.IsScout(&a_));
  EXPECT_TRUE(groups_.IsScout(&b_));  // the longest-waiting one left
  groups_.Leave(&c_);
  EXPECT_TRUE(groups_.IsScout(&b_));
  EXPECT_EQ(groups_.waiting("10.0.0.1:3260"), 1u);
  groups_.Leave(&b_);
  EXPECT_EQ(groups_.waiting("10.0.0.1:3260"), 0u);
  EXPECT_THAT(woken_, IsEmpty());
}

TEST_F(RecoveryGroupsTest, RecoveredWakesTheOthersOfItsPortalOnly) {
  groups_.Join("10.0.0.1:3260", &a_, Waker("a"));
  groups_.Join("10.0.0.1:3260", &b_, Waker("b"));
  groups_.Join("10.0.0.1:3260", &c_, Waker("c"));
  groups_.Join("10.0.0.2:3260", &other_, Waker("other"));
  groups_.Recovered(&b_);
  EXPECT_THAT(woken_, ElementsAre("a", "c"));
}

TEST_F(RecoveryGroupsTest, JoinTwiceAndUnknownMembersAreHarmless) {
  groups_.Join("10.0.0.1:3260", &a_, Waker("a"));
  groups_.Join("10.0.0.1:3260", &a_, Waker("a again"));
  EXPECT_EQ(groups_.waiting("10.0.0.1:3260"), 1u);
  groups_.Leave(&b_);
  groups_.Recovered(&b_);
  EXPECT_FALSE(groups_.IsScout(&b_));
  EXPECT_THAT(woken_, IsEmpty());
}

}  // namespace
}  // namespace kiscsi

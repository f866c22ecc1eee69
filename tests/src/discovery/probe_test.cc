#include "src/discovery/probe.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "src/login/chap.h"
#include "tests/fake_target/fake_target.h"
#include "tests/src/base/param_name.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTarget[] = "iqn.2026-01.test:disk1";
constexpr absl::Duration kTimeout = absl::Seconds(5);

LoginConfig NormalLogin() {
  LoginConfig config;
  config.initiator_name = "iqn.2026-01.test:initiator";
  config.target_name = kTarget;
  config.isid = {0x80, 0x01, 0x02, 0x03, 0x00, 0x00};
  config.itt = 1;
  return config;
}

LoginConfig ChapLogin(std::vector<ChapAlgorithm> algorithms) {
  LoginConfig config = NormalLogin();
  config.auth.chap = true;
  config.auth.username = "user";
  config.auth.password = "secret-for-target";
  config.auth.algorithms = std::move(algorithms);
  return config;
}

FakeTargetConfig ChapTarget(std::vector<ChapAlgorithm> algorithms) {
  return {.targets = {{kTarget, {}}},
          .require_chap = true,
          .chap_algorithms = std::move(algorithms),
          .chap_username = "user",
          .chap_password = "secret-for-target"};
}

std::unique_ptr<FakeTarget> StartTarget(FakeTargetConfig config) {
  absl::StatusOr<std::unique_ptr<FakeTarget>> target =
      FakeTarget::Start(std::move(config));
  EXPECT_TRUE(target.ok()) << target.status();
  return target.ok() ? *std::move(target) : nullptr;
}

TEST(ProbeTest, LogsInAndOutAndReportsTimes) {
  auto target = StartTarget({.targets = {{kTarget, {}}}});
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(), NormalLogin(), kTimeout, kTimeout);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->portal, target->portal());
  EXPECT_TRUE(probe->redirects.empty());
  EXPECT_FALSE(probe->login.chap_algorithm.has_value());
  EXPECT_GT(probe->connect_and_login_time, absl::ZeroDuration());
  EXPECT_GT(probe->logout_time, absl::ZeroDuration());
  EXPECT_EQ(target->record().logins, 1);
  EXPECT_EQ(target->record().logouts, 1);
}

class ProbeChapAlgorithmTest : public ::testing::TestWithParam<ChapAlgorithm> {
};

TEST_P(ProbeChapAlgorithmTest, UsesTheAlgorithmTheTargetAccepts) {
  auto target = StartTarget(ChapTarget({GetParam()}));
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(),
            ChapLogin({ChapAlgorithm::kSha3_256, ChapAlgorithm::kSha256,
                       ChapAlgorithm::kMd5}),
            kTimeout, kTimeout);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->login.chap_algorithm, GetParam());
  EXPECT_FALSE(probe->login.target_authenticated);
  EXPECT_EQ(target->record().chap_algorithm, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, ProbeChapAlgorithmTest,
                         ::testing::Values(ChapAlgorithm::kMd5,
                                           ChapAlgorithm::kSha256,
                                           ChapAlgorithm::kSha3_256),
                         [](const auto& info) {
                           return ParamName(
                               std::string(ChapAlgorithmName(info.param)));
                         });

TEST(ProbeTest, NoCommonChapAlgorithmFailsAuthentication) {
  auto target = StartTarget(ChapTarget({ChapAlgorithm::kSha3_256}));
  absl::StatusOr<ProbeResult> probe = Probe(
      target->portal(), ChapLogin({ChapAlgorithm::kMd5}), kTimeout, kTimeout);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(ExitCodeOf(probe.status()), ExitCode::kLoginAuthFailed);
}

// Without CHAP the login starts in the operational stage, one round trip for
// the whole login; a target that wants CHAP refuses it as unauthenticated, and
// the message says what to configure.
TEST(ProbeTest, NoChapForATargetThatRequiresIt) {
  auto target = StartTarget(ChapTarget({ChapAlgorithm::kMd5}));
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(), NormalLogin(), kTimeout, kTimeout);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(ExitCodeOf(probe.status()), ExitCode::kLoginAuthFailed);
  EXPECT_THAT(probe.status().message(),
              HasSubstr("target requires authentication (status 0x0201): set "
                        "node.session.auth.authmethod = CHAP"));
}

TEST(ProbeTest, WrongChapSecret) {
  auto target = StartTarget(ChapTarget({ChapAlgorithm::kMd5}));
  LoginConfig config = ChapLogin({ChapAlgorithm::kMd5});
  config.auth.password = "wrong-secret-here";
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(), config, kTimeout, kTimeout);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(ExitCodeOf(probe.status()), ExitCode::kLoginAuthFailed);
  EXPECT_THAT(probe.status().message(), HasSubstr("authentication failed"));
  EXPECT_THAT(probe.status().message(),
              ::testing::Not(HasSubstr("wrong-secret-here")));
}

TEST(ProbeTest, MutualChapAuthenticatesTheTarget) {
  FakeTargetConfig target_config = ChapTarget({ChapAlgorithm::kSha256});
  target_config.mutual_username = "target-user";
  target_config.mutual_password = "secret-for-initiator";
  auto target = StartTarget(std::move(target_config));
  LoginConfig config = ChapLogin({ChapAlgorithm::kSha256});
  config.auth.username_in = "target-user";
  config.auth.password_in = "secret-for-initiator";
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(), config, kTimeout, kTimeout);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_TRUE(probe->login.target_authenticated);
  EXPECT_TRUE(target->record().mutual_chap);
}

TEST(ProbeTest, MutualChapRejectsATargetWithTheWrongSecret) {
  FakeTargetConfig target_config = ChapTarget({ChapAlgorithm::kMd5});
  target_config.mutual_username = "target-user";
  target_config.mutual_password = "secret-for-initiator";
  target_config.corrupt_mutual_response = true;
  auto target = StartTarget(std::move(target_config));
  LoginConfig config = ChapLogin({ChapAlgorithm::kMd5});
  config.auth.username_in = "target-user";
  config.auth.password_in = "secret-for-initiator";
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(), config, kTimeout, kTimeout);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(ExitCodeOf(probe.status()), ExitCode::kLoginAuthFailed);
  EXPECT_EQ(target->record().logins, 0);
}

TEST(ProbeTest, LongChapChallenge) {
  FakeTargetConfig target_config = ChapTarget({ChapAlgorithm::kSha256});
  target_config.chap_challenge_length = 1024;
  auto target = StartTarget(std::move(target_config));
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(), ChapLogin({ChapAlgorithm::kSha256}), kTimeout,
            kTimeout);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(target->record().logouts, 1);
}

TEST(ProbeTest, OverlongChapChallengeIsRefused) {
  FakeTargetConfig target_config = ChapTarget({ChapAlgorithm::kMd5});
  target_config.chap_challenge_length = 1025;
  auto target = StartTarget(std::move(target_config));
  absl::StatusOr<ProbeResult> probe = Probe(
      target->portal(), ChapLogin({ChapAlgorithm::kMd5}), kTimeout, kTimeout);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(ExitCodeOf(probe.status()), ExitCode::kLoginAuthFailed);
  EXPECT_THAT(probe.status().message(), HasSubstr("1025-byte CHAP_C"));
}

TEST(ProbeTest, ReportsTheRedirectsItFollowed) {
  auto destination = StartTarget({.targets = {{kTarget, {}}}});
  auto target = StartTarget(
      {.redirect_to = destination->portal(), .redirect_permanent = true});
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(), NormalLogin(), kTimeout, kTimeout);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->portal, destination->portal());
  EXPECT_THAT(probe->redirects, ElementsAre(destination->portal()));
  EXPECT_EQ(destination->record().logouts, 1);
}

TEST(ProbeTest, TargetNotFound) {
  auto target = StartTarget({.targets = {{"iqn.2026-01.test:other", {}}}});
  absl::StatusOr<ProbeResult> probe =
      Probe(target->portal(), NormalLogin(), kTimeout, kTimeout);
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(ExitCodeOf(probe.status()), ExitCode::kFatalLogin);
  EXPECT_THAT(probe.status().message(), HasSubstr("unknown at this portal"));
}

}  // namespace
}  // namespace kiscsi

#include "src/login/login_machine.h"

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "src/login/chap.h"
#include "src/protocol/text_codec.h"
#include "tests/src/base/param_name.h"

namespace kiscsi {

// Lets gtest print key=value pairs instead of their bytes. It must live in
// TextPair's namespace for gtest to find it.
void PrintTo(const TextPair& pair, std::ostream* os) {
  *os << pair.key << "=" << pair.value;
}

namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kInitiatorSecret[] = "initiator-secret-1";
constexpr char kTargetSecret[] = "target-secret-2";
constexpr char kTargetName[] = "iqn.2003-01.org.example:disk1";
constexpr uint16_t kTsih = 0x0102;

LoginConfig BaseConfig() {
  LoginConfig config;
  config.initiator_name = "iqn.2005-03.org.kiscsi:host1";
  config.initiator_alias = "host1";
  config.target_name = kTargetName;
  config.isid = {0x80, 0x00, 0x12, 0x34, 0x00, 0x01};
  config.itt = 0x1000;
  config.cid = 3;
  config.cmdsn = 5;
  config.exp_statsn = 0;
  return config;
}

LoginConfig ChapConfig() {
  LoginConfig config = BaseConfig();
  config.auth.chap = true;
  config.auth.username = "alice";
  config.auth.password = kInitiatorSecret;
  return config;
}

LoginConfig MutualConfig() {
  LoginConfig config = ChapConfig();
  config.auth.username_in = "target-user";
  config.auth.password_in = kTargetSecret;
  return config;
}

// The operational keys a normal session offers with the default
// OperationalConfig, in the order they are sent.
TextPairs DefaultOffer() {
  return {{"HeaderDigest", "None"},
          {"DataDigest", "None"},
          {"MaxRecvDataSegmentLength", "262144"},
          {"InitialR2T", "No"},
          {"ImmediateData", "Yes"},
          {"DataPDUInOrder", "Yes"},
          {"DataSequenceInOrder", "Yes"},
          {"FirstBurstLength", "262144"},
          {"MaxBurstLength", "16776192"},
          {"DefaultTime2Wait", "2"},
          {"DefaultTime2Retain", "0"},
          {"MaxOutstandingR2T", "1"},
          {"ErrorRecoveryLevel", "0"},
          {"MaxConnections", "1"}};
}

TextPairs Keys(const LoginRequestPdu& request) {
  auto pairs = DecodeText(request.data);
  EXPECT_TRUE(pairs.ok()) << pairs.status();
  return pairs.ok() ? *pairs : TextPairs{};
}

std::string Value(const TextPairs& pairs, absl::string_view key) {
  const std::string* value = FindTextValue(pairs, key);
  return value == nullptr ? "<absent>" : *value;
}

uint8_t ParseNumericalId(const std::string& text) {
  int id = -1;
  EXPECT_TRUE(absl::SimpleAtoi(text, &id)) << text;
  EXPECT_TRUE(id >= 0 && id <= 255) << text;
  return static_cast<uint8_t>(id);
}

std::vector<uint8_t> Bytes1To16() {
  std::vector<uint8_t> bytes;
  for (int i = 1; i <= 16; ++i) bytes.push_back(static_cast<uint8_t>(i));
  return bytes;
}

// Asserts that an error names no secret and has the expected exit code.
void ExpectError(const absl::StatusOr<LoginStep>& step, ExitCode code,
                 absl::string_view substring) {
  ASSERT_FALSE(step.ok()) << "expected an error containing " << substring;
  EXPECT_EQ(ExitCodeOf(step.status()), code) << step.status();
  EXPECT_THAT(step.status().message(), HasSubstr(substring));
  EXPECT_THAT(step.status().message(), Not(HasSubstr(kInitiatorSecret)));
  EXPECT_THAT(step.status().message(), Not(HasSubstr(kTargetSecret)));
  EXPECT_THAT(step.status().message(), Not(HasSubstr("\n")));
}

// Plays the target: answers the machine's last request with the given keys and
// bits.
class Target {
 public:
  explicit Target(LoginConfig config) : machine_(config), config_(config) {}

  LoginMachine& machine() { return machine_; }
  const LoginRequestPdu& last() const { return last_; }

  void Start() {
    auto request = machine_.Start();
    ASSERT_TRUE(request.ok()) << request.status();
    last_ = *request;
  }

  LoginResponse Response(const TextPairs& pairs, bool transit = false,
                         LoginStage nsg = LoginStage::kSecurityNegotiation) {
    LoginResponse response;
    response.transit = transit;
    response.nsg = nsg;
    response.csg = last_.csg;
    response.isid = last_.isid;
    response.itt = last_.itt;
    response.statsn = statsn_;
    response.exp_cmdsn = last_.cmdsn;
    response.max_cmdsn = last_.cmdsn + 32;
    response.tsih = transit && nsg == LoginStage::kFullFeaturePhase ? kTsih : 0;
    response.data = EncodeText(pairs);
    return response;
  }

  // Sends `response`; on a kSend step records the new request.
  absl::StatusOr<LoginStep> Send(const LoginResponse& response) {
    ++statsn_;
    absl::StatusOr<LoginStep> step = machine_.OnResponse(response);
    if (step.ok() && step->kind == LoginStep::kSend) last_ = step->request;
    return step;
  }

  absl::StatusOr<LoginStep> Answer(
      const TextPairs& pairs, bool transit = false,
      LoginStage nsg = LoginStage::kSecurityNegotiation) {
    return Send(Response(pairs, transit, nsg));
  }

  uint32_t statsn() const { return statsn_; }

  // Runs the operational stage to completion, answering the offer with
  // `answers`. The machine's last request must be an operational-stage request
  // asking for full feature phase.
  absl::StatusOr<LoginStep> FinishOperational(const TextPairs& answers = {}) {
    EXPECT_EQ(last_.csg, LoginStage::kOperationalNegotiation);
    EXPECT_TRUE(last_.transit);
    EXPECT_EQ(last_.nsg, LoginStage::kFullFeaturePhase);
    return Answer(answers, true, LoginStage::kFullFeaturePhase);
  }

 private:
  LoginMachine machine_;
  LoginConfig config_;
  LoginRequestPdu last_;
  uint32_t statsn_ = 100;
};

// Drives a CHAP login up to the point where the target must answer our CHAP_R.
void RunToChapResponse(Target& target,
                       const std::vector<uint8_t>& challenge = Bytes1To16()) {
  target.Start();
  ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
  auto step = target.Answer({{"CHAP_A", "5"},
                             {"CHAP_I", "7"},
                             {"CHAP_C", EncodeHexValue(challenge)}});
  ASSERT_TRUE(step.ok()) << step.status();
}

// Whether `pairs` holds `key` (with any value).
bool HasKey(const TextPairs& pairs, absl::string_view key) {
  return FindTextValue(pairs, key) != nullptr;
}

// Without CHAP the security stage is skipped: the first request already offers
// the operational keys and asks for full feature phase, so a target that
// agrees finishes the login in its first answer.
TEST(LoginMachineTest, NoAuthLoginTakesOneRoundTrip) {
  Target target(BaseConfig());
  target.Start();
  const LoginRequestPdu& first = target.last();
  EXPECT_EQ(first.csg, LoginStage::kOperationalNegotiation);
  EXPECT_TRUE(first.transit);
  EXPECT_FALSE(first.cont);
  EXPECT_EQ(first.nsg, LoginStage::kFullFeaturePhase);
  EXPECT_EQ(first.isid, BaseConfig().isid);
  EXPECT_EQ(first.itt, 0x1000u);
  EXPECT_EQ(first.cid, 3);
  EXPECT_EQ(first.cmdsn, 5u);
  EXPECT_EQ(first.exp_statsn, 0u);
  EXPECT_EQ(first.tsih, 0);
  EXPECT_EQ(first.version_max, 0);
  const TextPairs keys = Keys(first);
  EXPECT_FALSE(HasKey(keys, "AuthMethod"));
  EXPECT_FALSE(HasKey(keys, "CHAP_A"));
  // The names come first, then the operational offer.
  ASSERT_GE(keys.size(), 4u);
  EXPECT_EQ(TextPairs(keys.begin(), keys.begin() + 4),
            (TextPairs{{"InitiatorName", "iqn.2005-03.org.kiscsi:host1"},
                       {"InitiatorAlias", "host1"},
                       {"SessionType", "Normal"},
                       {"TargetName", kTargetName}}));
  EXPECT_EQ(TextPairs(keys.begin() + 4, keys.end()), DefaultOffer());

  auto step = target.FinishOperational({{"TargetPortalGroupTag", "1"},
                                        {"HeaderDigest", "None"},
                                        {"DataDigest", "None"},
                                        {"MaxRecvDataSegmentLength", "65536"},
                                        {"InitialR2T", "Yes"},
                                        {"ImmediateData", "Yes"},
                                        {"FirstBurstLength", "65536"},
                                        {"MaxBurstLength", "262144"},
                                        {"DefaultTime2Wait", "2"},
                                        {"DefaultTime2Retain", "0"},
                                        {"TargetAlias", "shelf"}});
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  const LoginResult& result = step->result;
  EXPECT_EQ(result.tsih, kTsih);
  EXPECT_EQ(result.statsn, 100u);
  EXPECT_EQ(result.exp_cmdsn, 5u);
  EXPECT_EQ(result.max_cmdsn, 37u);
  EXPECT_FALSE(result.chap_algorithm.has_value());
  EXPECT_FALSE(result.target_authenticated);
  EXPECT_EQ(result.params.max_recv_data_segment_length, 262144u);
  EXPECT_EQ(result.params.max_xmit_data_segment_length, 65536u);
  EXPECT_TRUE(result.params.initial_r2t);
  EXPECT_TRUE(result.params.immediate_data);
  EXPECT_EQ(result.params.first_burst_length, 65536u);
  EXPECT_EQ(result.params.max_burst_length, 262144u);
  EXPECT_EQ(result.params.default_time2wait, 2u);
  EXPECT_EQ(result.params.default_time2retain, 0u);
  EXPECT_EQ(result.params.target_portal_group_tag, 1);
  EXPECT_EQ(result.params.target_alias, "shelf");

  // The machine is finished.
  auto after = target.machine().OnResponse(target.Response({}));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LoginMachineTest, OnResponseBeforeStartFails) {
  LoginMachine machine(BaseConfig());
  auto step = machine.OnResponse(LoginResponse{});
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LoginMachineTest, NoAuthTargetAsksForAnotherOperationalRound) {
  Target target(BaseConfig());
  target.Start();
  // The target answers our offer but stays in the operational stage.
  auto step = target.Answer(
      {{"MaxRecvDataSegmentLength", "65536"}, {"MaxBurstLength", "131072"}});
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kSend);
  const LoginRequestPdu& second = target.last();
  EXPECT_EQ(second.csg, LoginStage::kOperationalNegotiation);
  EXPECT_TRUE(second.transit);
  EXPECT_FALSE(second.cont);
  EXPECT_EQ(second.nsg, LoginStage::kFullFeaturePhase);
  EXPECT_EQ(second.exp_statsn, 101u);
  // Nothing to answer, and the offer is not repeated.
  EXPECT_THAT(Keys(second), IsEmpty());

  step = target.FinishOperational({{"FirstBurstLength", "65536"}});
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  EXPECT_EQ(step->result.statsn, 101u);
  EXPECT_EQ(step->result.params.max_xmit_data_segment_length, 65536u);
  EXPECT_EQ(step->result.params.max_burst_length, 131072u);
  EXPECT_EQ(step->result.params.first_burst_length, 65536u);
}

TEST(LoginMachineTest, NoAuthTargetDemandingAuthenticationFails) {
  // A target that requires CHAP rejects a login that skips the security stage
  // with "authentication failure" (status 0x0201); the user is told to
  // configure CHAP.
  {
    Target target(BaseConfig());
    target.Start();
    LoginResponse response = target.Response({});
    response.status_class = 2;
    response.status_detail = 1;
    const absl::StatusOr<LoginStep> step = target.Send(response);
    ExpectError(step, ExitCode::kLoginAuthFailed,
                "login to iqn.2003-01.org.example:disk1: target requires "
                "authentication (status 0x0201)");
    EXPECT_EQ(step.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(step.status().message(),
                HasSubstr("node.session.auth.authmethod = CHAP"));
  }
  {
    // A discovery login names the discovery CHAP settings.
    LoginConfig config = BaseConfig();
    config.session_type = SessionType::kDiscovery;
    config.target_name.clear();
    Target target(config);
    target.Start();
    LoginResponse response = target.Response({});
    response.status_class = 2;
    response.status_detail = 1;
    const absl::StatusOr<LoginStep> step = target.Send(response);
    ExpectError(step, ExitCode::kLoginAuthFailed,
                "discovery login: target requires authentication");
    EXPECT_THAT(step.status().message(),
                HasSubstr("discovery.sendtargets.auth.authmethod = CHAP"));
    EXPECT_THAT(step.status().message(), Not(HasSubstr("node.session")));
  }
}

TEST(LoginMachineTest, AuthKeysAnsweringNoAuthRequestFail) {
  {
    Target target(BaseConfig());
    target.Start();
    ExpectError(target.Answer({{"AuthMethod", "None"}}, true,
                              LoginStage::kFullFeaturePhase),
                ExitCode::kLogin,
                "target sent AuthMethod outside the security stage");
  }
  {
    Target target(BaseConfig());
    target.Start();
    ExpectError(target.Answer({{"MaxBurstLength", "65536"},
                               {"CHAP_A", "5"},
                               {"CHAP_I", "1"},
                               {"CHAP_C", EncodeHexValue(Bytes1To16())}}),
                ExitCode::kLogin,
                "target sent CHAP_A outside the security stage");
  }
}

TEST(LoginMachineTest, ChapMd5) {
  Target target(ChapConfig());
  target.Start();
  EXPECT_FALSE(target.last().transit);
  EXPECT_EQ(Value(Keys(target.last()), "AuthMethod"), "CHAP,None");

  auto step = target.Answer({{"AuthMethod", "CHAP"}});
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_FALSE(target.last().transit);
  EXPECT_EQ(Keys(target.last()), (TextPairs{{"CHAP_A", "5"}}));

  step = target.Answer({{"CHAP_A", "5"},
                        {"CHAP_I", "7"},
                        {"CHAP_C", EncodeHexValue(Bytes1To16())}});
  ASSERT_TRUE(step.ok()) << step.status();
  // MD5(0x07 || "initiator-secret-1" || 01..10), computed with Python's
  // hashlib.
  EXPECT_EQ(Keys(target.last()),
            (TextPairs{{"CHAP_N", "alice"},
                       {"CHAP_R", "0x46576836412378e291b446b76345f2f3"}}));
  EXPECT_TRUE(target.last().transit);
  EXPECT_EQ(target.last().nsg, LoginStage::kOperationalNegotiation);

  step = target.Answer({}, true, LoginStage::kOperationalNegotiation);
  ASSERT_TRUE(step.ok()) << step.status();
  step = target.FinishOperational();
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  EXPECT_EQ(step->result.chap_algorithm, ChapAlgorithm::kMd5);
  EXPECT_FALSE(step->result.target_authenticated);
}

TEST(LoginMachineTest, ChapTargetPicksFromOfferedAlgorithms) {
  LoginConfig config = ChapConfig();
  config.auth.algorithms = {ChapAlgorithm::kSha3_256, ChapAlgorithm::kSha256,
                            ChapAlgorithm::kMd5};
  Target target(config);
  target.Start();
  ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
  EXPECT_EQ(Value(Keys(target.last()), "CHAP_A"), "8,7,5");
  // Base64 challenge this time.
  auto step = target.Answer({{"CHAP_A", "7"},
                             {"CHAP_I", "7"},
                             {"CHAP_C", EncodeBase64Value(Bytes1To16())}});
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(Value(Keys(target.last()), "CHAP_R"),
            "0xbe7713eb7d1b415cf36df0c0963ee535c394b3ead8f5cebbf1692a31e4784e5"
            "9");
}

TEST(LoginMachineTest, ChapTargetChoosesNone) {
  Target target(ChapConfig());
  target.Start();
  auto step = target.Answer({{"AuthMethod", "None"}});
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_TRUE(target.last().transit);
  step = target.Answer({}, true, LoginStage::kOperationalNegotiation);
  ASSERT_TRUE(step.ok()) << step.status();
  step = target.FinishOperational();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_FALSE(step->result.chap_algorithm.has_value());
}

TEST(LoginMachineTest, TargetAsksForAnotherSecurityRound) {
  LoginConfig config = ChapConfig();
  config.initiator_alias.clear();
  Target target(config);
  target.Start();
  EXPECT_FALSE(HasKey(Keys(target.last()), "InitiatorAlias"));
  EXPECT_EQ(Value(Keys(target.last()), "AuthMethod"), "CHAP,None");
  // The target settles on no authentication but does not transit; we ask to
  // move on.
  auto step = target.Answer({{"AuthMethod", "None"}});
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(target.last().csg, LoginStage::kSecurityNegotiation);
  EXPECT_TRUE(target.last().transit);
  EXPECT_EQ(target.last().nsg, LoginStage::kOperationalNegotiation);
  EXPECT_THAT(Keys(target.last()), IsEmpty());
  // It wants yet another round in the security stage; we ask again.
  step = target.Answer({});
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kSend);
  EXPECT_EQ(target.last().csg, LoginStage::kSecurityNegotiation);
  EXPECT_TRUE(target.last().transit);
  EXPECT_EQ(target.last().nsg, LoginStage::kOperationalNegotiation);
  EXPECT_THAT(Keys(target.last()), IsEmpty());
  step = target.Answer({}, true, LoginStage::kOperationalNegotiation);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(Value(Keys(target.last()), "MaxRecvDataSegmentLength"), "262144");
  step = target.FinishOperational();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(step->kind, LoginStep::kDone);
}

TEST(LoginMachineTest, TargetSkipsOperationalStage) {
  // After CHAP we ask for the operational stage; the target goes straight to
  // full feature phase instead.
  Target target(ChapConfig());
  RunToChapResponse(target);
  EXPECT_EQ(target.last().nsg, LoginStage::kOperationalNegotiation);
  auto step = target.Answer({}, true, LoginStage::kFullFeaturePhase);
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  EXPECT_EQ(step->result.chap_algorithm, ChapAlgorithm::kMd5);
  // Nothing was negotiated: RFC defaults, including the 8192-byte segments.
  EXPECT_EQ(step->result.params.max_recv_data_segment_length, 8192u);
  EXPECT_EQ(step->result.params.max_xmit_data_segment_length, 8192u);
  EXPECT_TRUE(step->result.params.initial_r2t);
  EXPECT_EQ(step->result.params.default_time2retain, 20u);
  EXPECT_EQ(step->result.tsih, kTsih);
}

TEST(LoginMachineTest, SkippingOperationalStageFailsWhenDigestRequired) {
  LoginConfig config = ChapConfig();
  config.operational.header_digest = DigestPreference::kCrc32c;
  Target target(config);
  RunToChapResponse(target);
  ExpectError(target.Answer({}, true, LoginStage::kFullFeaturePhase),
              ExitCode::kLogin, "HeaderDigest=CRC32C");
}

TEST(LoginMachineTest, SecurityStageProposalAnsweredOnce) {
  Target target(ChapConfig());
  target.Start();
  ASSERT_TRUE(target.Answer({{"AuthMethod", "None"}}).ok());
  // The target proposes an operational key while leaving the security stage;
  // our operational offer answers it and does not offer it again.
  ASSERT_TRUE(target
                  .Answer({{"MaxBurstLength", "65536"}}, true,
                          LoginStage::kOperationalNegotiation)
                  .ok());
  EXPECT_EQ(target.last().csg, LoginStage::kOperationalNegotiation);
  const TextPairs keys = Keys(target.last());
  EXPECT_TRUE(HasKey(keys, "MaxRecvDataSegmentLength"));
  int count = 0;
  for (const TextPair& pair : keys) {
    if (pair.key == "MaxBurstLength") {
      ++count;
      EXPECT_EQ(pair.value, "65536");
    }
  }
  EXPECT_EQ(count, 1);
  auto step = target.FinishOperational({{"FirstBurstLength", "65536"}});
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  EXPECT_EQ(step->result.params.max_burst_length, 65536u);
}

TEST(LoginMachineTest, MutualChapSuccess) {
  Target target(MutualConfig());
  RunToChapResponse(target);
  const TextPairs keys = Keys(target.last());
  EXPECT_EQ(Value(keys, "CHAP_N"), "alice");
  EXPECT_EQ(Value(keys, "CHAP_R"), "0x46576836412378e291b446b76345f2f3");
  auto id = ParseNumericalId(Value(keys, "CHAP_I"));
  auto challenge = DecodeBinaryValue(Value(keys, "CHAP_C"));
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EXPECT_EQ(challenge->size(), 16u);
  EXPECT_NE(*challenge, Bytes1To16());

  const std::vector<uint8_t> answer =
      ChapResponse(ChapAlgorithm::kMd5, id, kTargetSecret, *challenge);
  auto step = target.Answer(
      {{"CHAP_N", "target-user"}, {"CHAP_R", EncodeHexValue(answer)}}, true,
      LoginStage::kOperationalNegotiation);
  ASSERT_TRUE(step.ok()) << step.status();
  step = target.FinishOperational();
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  EXPECT_TRUE(step->result.target_authenticated);
  EXPECT_EQ(step->result.chap_algorithm, ChapAlgorithm::kMd5);
}

TEST(LoginMachineTest, MutualChapSha256ChallengeHasDigestLength) {
  LoginConfig config = MutualConfig();
  config.auth.algorithms = {ChapAlgorithm::kSha256};
  Target target(config);
  target.Start();
  ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
  ASSERT_TRUE(target
                  .Answer({{"CHAP_A", "7"},
                           {"CHAP_I", "1"},
                           {"CHAP_C", EncodeHexValue(Bytes1To16())}})
                  .ok());
  auto challenge = DecodeBinaryValue(Value(Keys(target.last()), "CHAP_C"));
  ASSERT_TRUE(challenge.ok());
  EXPECT_EQ(challenge->size(), 32u);
}

TEST(LoginMachineTest, MutualChapWrongTargetResponse) {
  Target target(MutualConfig());
  RunToChapResponse(target);
  const TextPairs keys = Keys(target.last());
  auto challenge = DecodeBinaryValue(Value(keys, "CHAP_C"));
  ASSERT_TRUE(challenge.ok());
  const std::vector<uint8_t> wrong =
      ChapResponse(ChapAlgorithm::kMd5, ParseNumericalId(Value(keys, "CHAP_I")),
                   "not-the-secret", *challenge);
  ExpectError(target.Answer({{"CHAP_N", "target-user"},
                             {"CHAP_R", EncodeHexValue(wrong)}},
                            true, LoginStage::kOperationalNegotiation),
              ExitCode::kLoginAuthFailed,
              "target failed mutual CHAP authentication: check "
              "node.session.auth.username_in/password_in");
}

TEST(LoginMachineTest, MutualChapWrongTargetName) {
  Target target(MutualConfig());
  RunToChapResponse(target);
  ExpectError(target.Answer({{"CHAP_N", "mallory"}, {"CHAP_R", "0x00"}}, true,
                            LoginStage::kOperationalNegotiation),
              ExitCode::kLoginAuthFailed, "\"mallory\"");
}

TEST(LoginMachineTest, MutualChapMissingResponse) {
  Target target(MutualConfig());
  RunToChapResponse(target);
  ExpectError(target.Answer({}, true, LoginStage::kOperationalNegotiation),
              ExitCode::kLoginAuthFailed, "no CHAP_N/CHAP_R");
}

TEST(LoginMachineTest, MutualChapTargetDeclinesChap) {
  Target target(MutualConfig());
  target.Start();
  ExpectError(target.Answer({{"AuthMethod", "None"}}),
              ExitCode::kLoginAuthFailed, "target declined CHAP");
}

TEST(LoginMachineTest, TargetReflectsOurChallengeBack) {
  Target target(MutualConfig());
  RunToChapResponse(target);
  const std::string ours = Value(Keys(target.last()), "CHAP_C");
  ExpectError(target.Answer({{"CHAP_I", "1"}, {"CHAP_C", ours}}),
              ExitCode::kLoginAuthFailed, "reflection");
}

TEST(LoginMachineTest, ChallengeFromAnotherLoginIsRefused) {
  // A malicious target runs two logins and offers the second our first
  // challenge.
  Target first(MutualConfig());
  RunToChapResponse(first);
  auto ours = DecodeBinaryValue(Value(Keys(first.last()), "CHAP_C"));
  ASSERT_TRUE(ours.ok());

  Target second(MutualConfig());
  second.Start();
  ASSERT_TRUE(second.Answer({{"AuthMethod", "CHAP"}}).ok());
  ExpectError(second.Answer({{"CHAP_A", "5"},
                             {"CHAP_I", "3"},
                             {"CHAP_C", EncodeBase64Value(*ours)}}),
              ExitCode::kLoginAuthFailed, "reflection attack");
}

TEST(LoginMachineTest, ChapAlgorithmNotOffered) {
  Target target(ChapConfig());
  target.Start();
  ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
  ExpectError(target.Answer({{"CHAP_A", "6"},
                             {"CHAP_I", "1"},
                             {"CHAP_C", EncodeHexValue(Bytes1To16())}}),
              ExitCode::kLoginAuthFailed,
              "target chose CHAP_A=6, which was not offered (MD5): check "
              "node.session.auth.chap_algs");
}

TEST(LoginMachineTest, ChapAlgorithmRejected) {
  Target target(ChapConfig());
  target.Start();
  ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
  ExpectError(target.Answer({{"CHAP_A", "Reject"}}), ExitCode::kLoginAuthFailed,
              "supports none of the CHAP algorithms offered (MD5)");
}

TEST(LoginMachineTest, ChallengeLengthLimits) {
  {
    Target target(ChapConfig());
    target.Start();
    ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
    ExpectError(target.Answer({{"CHAP_A", "5"},
                               {"CHAP_I", "1"},
                               {"CHAP_C", "0x0102030405060708"}}),
                ExitCode::kLoginAuthFailed, "8-byte CHAP_C");
  }
  {
    Target target(ChapConfig());
    target.Start();
    ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
    ExpectError(
        target.Answer(
            {{"CHAP_A", "5"},
             {"CHAP_I", "1"},
             {"CHAP_C", EncodeHexValue(std::vector<uint8_t>(1025, 7))}}),
        ExitCode::kLoginAuthFailed, "1025-byte CHAP_C");
  }
  {
    Target target(ChapConfig());
    target.Start();
    ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
    auto step = target.Answer(
        {{"CHAP_A", "5"},
         {"CHAP_I", "1"},
         {"CHAP_C", EncodeBase64Value(std::vector<uint8_t>(1024, 7))}});
    EXPECT_TRUE(step.ok()) << step.status();
  }
}

TEST(LoginMachineTest, MalformedChallenge) {
  for (const TextPairs& bad : std::vector<TextPairs>{
           {{"CHAP_A", "5"}, {"CHAP_I", "1"}, {"CHAP_C", "12345678"}},
           {{"CHAP_A", "5"}, {"CHAP_I", "256"}, {"CHAP_C", "0x00"}},
           {{"CHAP_A", "5"}, {"CHAP_C", EncodeHexValue(Bytes1To16())}},
           {{"CHAP_A", "5"},
            {"CHAP_I", "1"},
            {"CHAP_I", "2"},
            {"CHAP_C", EncodeHexValue(Bytes1To16())}},
           {{"CHAP_A", "5"}, {"CHAP_N", "x"}}}) {
    Target target(ChapConfig());
    target.Start();
    ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
    ExpectError(target.Answer(bad), ExitCode::kLoginAuthFailed, "CHAP");
  }
}

TEST(LoginMachineTest, TargetTransitsBeforeChapCompletes) {
  Target target(ChapConfig());
  target.Start();
  ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
  ExpectError(target.Answer({}, true, LoginStage::kOperationalNegotiation),
              ExitCode::kLogin, "did not ask to");
}

TEST(LoginMachineTest, AuthMethodRejected) {
  Target target(ChapConfig());
  target.Start();
  ExpectError(
      target.Answer({{"AuthMethod", "Reject"}}), ExitCode::kLoginAuthFailed,
      "rejected AuthMethod=CHAP,None: check node.session.auth.authmethod");
}

TEST(LoginMachineTest, StartRejectsUnusableConfig) {
  struct Case {
    void (*configure)(LoginConfig&);
    const char* error;
  };
  const Case cases[] = {
      {[](LoginConfig& c) { c.initiator_name.clear(); }, "initiatorname.iscsi"},
      {[](LoginConfig& c) { c.target_name.clear(); }, "node.name"},
      {[](LoginConfig& c) { c.auth.password.clear(); },
       "node.session.auth.password"},
      {[](LoginConfig& c) { c.auth.algorithms.clear(); }, "chap_algs"},
      {[](LoginConfig& c) { c.auth.password_in.clear(); }, "password_in"},
      {[](LoginConfig& c) { c.auth.password_in = kInitiatorSecret; },
       "different secret for each direction"},
      {[](LoginConfig& c) { c.operational.max_recv_data_segment_length = 100; },
       "MaxRecvDataSegmentLength 100"},
  };
  for (const Case& c : cases) {
    LoginConfig config = MutualConfig();
    c.configure(config);
    LoginMachine machine(config);
    auto request = machine.Start();
    ASSERT_FALSE(request.ok()) << c.error;
    EXPECT_EQ(ExitCodeOf(request.status()), ExitCode::kInvalid);
    EXPECT_THAT(request.status().message(), HasSubstr(c.error));
    EXPECT_THAT(request.status().message(), Not(HasSubstr(kInitiatorSecret)));
    EXPECT_THAT(request.status().message(), Not(HasSubstr(kTargetSecret)));
  }
  LoginConfig no_chap = BaseConfig();
  no_chap.auth.username_in = "target-user";
  no_chap.auth.password_in = kTargetSecret;
  LoginMachine machine(no_chap);
  EXPECT_FALSE(machine.Start().ok());
}

struct StatusCase {
  uint8_t status_class;
  uint8_t status_detail;
  ExitCode exit_code;
  const char* message;
};

// "Status0x0201", as the status appears in the messages.
std::string StatusName(const StatusCase& c) {
  return absl::StrFormat("Status0x%02x%02x", c.status_class, c.status_detail);
}

void PrintTo(const StatusCase& c, std::ostream* os) { *os << StatusName(c); }

class LoginStatusTest : public ::testing::TestWithParam<StatusCase> {};

TEST_P(LoginStatusTest, MapsToExitCodeAndMessage) {
  const StatusCase& c = GetParam();
  // With CHAP configured, so that 0201 gets the generic message (a login
  // without CHAP gets its own; see NoAuthTargetDemandingAuthenticationFails).
  Target target(ChapConfig());
  target.Start();
  LoginResponse response = target.Response({});
  response.status_class = c.status_class;
  response.status_detail = c.status_detail;
  ExpectError(target.Send(response), c.exit_code, c.message);
  const absl::Status direct =
      LoginStatusToError(c.status_class, c.status_detail, kTargetName);
  EXPECT_EQ(ExitCodeOf(direct), c.exit_code);
  EXPECT_THAT(direct.message(), HasSubstr(kTargetName));
  EXPECT_THAT(direct.message(), HasSubstr(": check "));
}

INSTANTIATE_TEST_SUITE_P(
    AllClasses, LoginStatusTest,
    ::testing::Values(
        StatusCase{2, 0x00, ExitCode::kFatalLogin,
                   "initiator error (status 0x0200)"},
        StatusCase{2, 0x01, ExitCode::kLoginAuthFailed,
                   "login to iqn.2003-01.org.example:disk1: authentication "
                   "failed (status 0x0201): check "
                   "node.session.auth.username/password"},
        StatusCase{2, 0x02, ExitCode::kLoginAuthFailed,
                   "authorization failed (status 0x0202)"},
        StatusCase{2, 0x03, ExitCode::kFatalLogin,
                   "target name is unknown at this portal (status 0x0203): "
                   "check the target name, or rerun discovery"},
        StatusCase{2, 0x04, ExitCode::kFatalLogin, "removed"},
        StatusCase{2, 0x05, ExitCode::kFatalLogin, "version"},
        StatusCase{2, 0x06, ExitCode::kLogin, "too many connections"},
        StatusCase{2, 0x07, ExitCode::kFatalLogin, "missing parameter"},
        StatusCase{2, 0x08, ExitCode::kFatalLogin, "cannot include"},
        StatusCase{2, 0x09, ExitCode::kFatalLogin, "session type"},
        StatusCase{2, 0x0a, ExitCode::kFatalLogin, "session does not exist"},
        StatusCase{2, 0x0b, ExitCode::kLogin, "invalid during login"},
        StatusCase{2, 0x42, ExitCode::kFatalLogin, "status 0x0242"},
        StatusCase{3, 0x00, ExitCode::kAgain, "target error (status 0x0300)"},
        StatusCase{3, 0x01, ExitCode::kAgain, "service unavailable"},
        StatusCase{3, 0x02, ExitCode::kAgain, "out of resources"},
        StatusCase{7, 0x00, ExitCode::kLogin, "unknown login status class"}),
    [](const auto& info) { return StatusName(info.param); });

TEST(LoginStatusToErrorTest, SuccessIsOkAndDiscoveryNamed) {
  EXPECT_TRUE(LoginStatusToError(0, 0, kTargetName).ok());
  EXPECT_THAT(LoginStatusToError(3, 1, "").message(),
              HasSubstr("discovery login: target service unavailable"));
}

struct RedirectCase {
  uint8_t detail;
  const char* target_address;
  const char* address;
  uint16_t port;
};

void PrintTo(const RedirectCase& c, std::ostream* os) {
  *os << "status 0x01" << absl::StrFormat("%02x", c.detail) << " to \""
      << c.target_address << '"';
}

class RedirectTest : public ::testing::TestWithParam<RedirectCase> {};

TEST_P(RedirectTest, Parses) {
  const RedirectCase& c = GetParam();
  Target target(BaseConfig());
  target.Start();
  LoginResponse response =
      target.Response({{"TargetAddress", c.target_address}});
  response.status_class = 1;
  response.status_detail = c.detail;
  auto step = target.Send(response);
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kRedirect);
  EXPECT_EQ(step->redirect.address, c.address);
  EXPECT_EQ(step->redirect.port, c.port);
  EXPECT_EQ(step->redirect.permanent, c.detail == 2);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, RedirectTest,
    ::testing::Values(
        RedirectCase{1, "10.1.2.3", "10.1.2.3", 3260},
        RedirectCase{1, "10.1.2.3:3261,2", "10.1.2.3", 3261},
        RedirectCase{2, "[2001:db8::1]", "2001:db8::1", 3260},
        RedirectCase{2, "[2001:db8::1]:860,1", "2001:db8::1", 860},
        RedirectCase{1, "array.example.com,1", "array.example.com", 3260},
        RedirectCase{1, "array.example.com:3262", "array.example.com", 3262}),
    [](const auto& info) { return ParamName(info.param.target_address); });

TEST(RedirectErrorTest, MissingOrBadAddress) {
  for (const TextPairs& keys :
       std::vector<TextPairs>{{}, {{"TargetAddress", "[::1"}}}) {
    Target target(BaseConfig());
    target.Start();
    LoginResponse response = target.Response(keys);
    response.status_class = 1;
    response.status_detail = 1;
    ExpectError(target.Send(response), ExitCode::kLogin, "redirected");
  }
  Target target(BaseConfig());
  target.Start();
  LoginResponse response = target.Response({{"TargetAddress", "10.0.0.1"}});
  response.status_class = 1;
  response.status_detail = 3;
  ExpectError(target.Send(response), ExitCode::kLogin, "unknown redirection");
}

TEST(LoginMachineTest, TargetContinuesResponseWithCBit) {
  Target target(BaseConfig());
  target.Start();
  const std::vector<uint8_t> text =
      EncodeText({{"MaxBurstLength", "131072"},
                  {"FirstBurstLength", "65536"},
                  {"MaxRecvDataSegmentLength", "16384"}});
  // Split inside the first value.
  const size_t split = 18;
  LoginResponse part1 = target.Response({});
  part1.data.assign(text.begin(), text.begin() + split);
  part1.cont = true;
  auto step = target.Send(part1);
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kSend);
  EXPECT_TRUE(step->request.data.empty());
  EXPECT_FALSE(step->request.transit);
  EXPECT_FALSE(step->request.cont);
  EXPECT_EQ(step->request.csg, LoginStage::kOperationalNegotiation);
  EXPECT_EQ(step->request.exp_statsn, target.statsn());

  // The first request asked for full feature phase, so the last part may
  // transit.
  LoginResponse part2 =
      target.Response({}, true, LoginStage::kFullFeaturePhase);
  part2.data.assign(text.begin() + split, text.end());
  step = target.Send(part2);
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  EXPECT_EQ(step->result.params.max_burst_length, 131072u);
  EXPECT_EQ(step->result.params.first_burst_length, 65536u);
  EXPECT_EQ(step->result.params.max_xmit_data_segment_length, 16384u);
}

TEST(LoginMachineTest, LongRequestIsSplitWithCBit) {
  LoginConfig config = BaseConfig();
  config.initiator_alias = std::string(10000, 'a');
  Target target(config);
  target.Start();
  std::vector<uint8_t> text = target.last().data;
  EXPECT_EQ(text.size(), 8192u);
  EXPECT_TRUE(target.last().cont);
  EXPECT_FALSE(target.last().transit);
  EXPECT_EQ(target.last().csg, LoginStage::kOperationalNegotiation);

  auto step = target.Answer({});
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_FALSE(target.last().cont);
  EXPECT_TRUE(target.last().transit);
  EXPECT_EQ(target.last().csg, LoginStage::kOperationalNegotiation);
  EXPECT_EQ(target.last().nsg, LoginStage::kFullFeaturePhase);
  text.insert(text.end(), target.last().data.begin(), target.last().data.end());
  TextLimits limits;
  limits.max_value_length = 20000;
  auto pairs = DecodeText(text, limits);
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  EXPECT_EQ(Value(*pairs, "InitiatorAlias"), config.initiator_alias);
  EXPECT_EQ(Value(*pairs, "MaxRecvDataSegmentLength"), "262144");
  EXPECT_FALSE(HasKey(*pairs, "AuthMethod"));

  step = target.FinishOperational();
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(step->kind, LoginStep::kDone);
}

TEST(LoginMachineTest, DataInAnswerToPartialRequestFails) {
  LoginConfig config = BaseConfig();
  config.initiator_alias = std::string(10000, 'a');
  Target target(config);
  target.Start();
  ExpectError(target.Answer({{"AuthMethod", "None"}}), ExitCode::kLogin,
              "partial (C=1) login request");
}

TEST(LoginMachineTest, TargetProposalAnsweredInNextRequest) {
  Target target(BaseConfig());
  target.Start();
  auto step = target.Answer({{"MaxOutstandingR2T", "1"},
                             {"X-com.example.Feature", "1"},
                             {"OFMarker", "Yes"}});
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(Keys(target.last()),
            (TextPairs{{"X-com.example.Feature", "NotUnderstood"},
                       {"OFMarker", "No"}}));
  EXPECT_EQ(target.last().csg, LoginStage::kOperationalNegotiation);
  EXPECT_TRUE(target.last().transit);
  EXPECT_EQ(target.last().nsg, LoginStage::kFullFeaturePhase);
  step = target.FinishOperational();
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  EXPECT_EQ(step->result.params.max_outstanding_r2t, 1u);
  EXPECT_FALSE(step->result.params.of_marker);
}

TEST(LoginMachineTest, ProposalInFinalResponseFails) {
  Target target(BaseConfig());
  target.Start();
  ExpectError(target.FinishOperational({{"IFMarker", "Yes"}}), ExitCode::kLogin,
              "proposed IFMarker in its final login response");
}

TEST(LoginMachineTest, NegotiationErrorFailsLogin) {
  Target target(BaseConfig());
  target.Start();
  ExpectError(target.FinishOperational({{"MaxRecvDataSegmentLength", "100"}}),
              ExitCode::kLogin, "MaxRecvDataSegmentLength=100");
}

TEST(LoginMachineTest, EndlessTargetGivesUp) {
  Target target(BaseConfig());
  target.Start();
  absl::StatusOr<LoginStep> step;
  int answers = 0;
  for (; answers < 100; ++answers) {
    step = target.Answer({});
    if (!step.ok()) break;
    EXPECT_EQ(target.last().csg, LoginStage::kOperationalNegotiation);
    EXPECT_TRUE(target.last().transit);
  }
  ExpectError(step, ExitCode::kLogin, "did not complete the login");
  // The limit is 16 exchanges, not the loop's 100 answers.
  EXPECT_LT(answers, 20);
}

TEST(LoginMachineTest, DiscoverySession) {
  LoginConfig config = BaseConfig();
  config.session_type = SessionType::kDiscovery;
  config.target_name.clear();
  config.operational.max_recv_data_segment_length = 32768;
  Target target(config);
  target.Start();
  EXPECT_EQ(target.last().csg, LoginStage::kOperationalNegotiation);
  EXPECT_TRUE(target.last().transit);
  EXPECT_EQ(target.last().nsg, LoginStage::kFullFeaturePhase);
  // Only the connection keys: session keys do not apply to discovery.
  EXPECT_EQ(Keys(target.last()),
            (TextPairs{{"InitiatorName", "iqn.2005-03.org.kiscsi:host1"},
                       {"InitiatorAlias", "host1"},
                       {"SessionType", "Discovery"},
                       {"HeaderDigest", "None"},
                       {"DataDigest", "None"},
                       {"MaxRecvDataSegmentLength", "32768"}}));
  auto step = target.FinishOperational({{"HeaderDigest", "None"},
                                        {"DataDigest", "None"},
                                        {"MaxRecvDataSegmentLength", "8192"}});
  ASSERT_TRUE(step.ok()) << step.status();
  ASSERT_EQ(step->kind, LoginStep::kDone);
  EXPECT_EQ(step->result.params.max_recv_data_segment_length, 32768u);
  EXPECT_EQ(step->result.params.max_xmit_data_segment_length, 8192u);
}

TEST(LoginMachineTest, HeaderChecks) {
  struct Case {
    void (*corrupt)(LoginResponse&);
    const char* error;
  };
  const Case cases[] = {
      {[](LoginResponse&) {}, nullptr},  // uncorrupted: the login completes
      {[](LoginResponse& r) { r.isid[5] ^= 1; }, "different ISID"},
      {[](LoginResponse& r) { r.itt += 1; }, "initiator task tag"},
      {[](LoginResponse& r) { r.version_active = 1; }, "iSCSI version 1"},
      {[](LoginResponse& r) { r.csg = LoginStage::kSecurityNegotiation; },
       "login stage 0 to a request in stage 1"},
      {[](LoginResponse& r) { r.cont = true; }, "both the T and C bits"},
      {[](LoginResponse& r) { r.nsg = LoginStage::kSecurityNegotiation; },
       "moved from login stage 1 to stage 0"},
      {[](LoginResponse& r) { r.nsg = LoginStage::kOperationalNegotiation; },
       "moved from login stage 1 to stage 1"},
  };
  for (const Case& c : cases) {
    Target target(BaseConfig());
    target.Start();
    LoginResponse response =
        target.Response({}, true, LoginStage::kFullFeaturePhase);
    c.corrupt(response);
    if (c.error == nullptr) {
      auto step = target.Send(response);
      ASSERT_TRUE(step.ok()) << step.status();
      EXPECT_EQ(step->kind, LoginStep::kDone);
    } else {
      ExpectError(target.Send(response), ExitCode::kLogin, c.error);
    }
  }
}

TEST(LoginMachineTest, TransportStampedIttIsAccepted) {
  // Through the kernel (SEND_PDU) the kernel picks the task tag.
  LoginConfig config = BaseConfig();
  config.transport_sets_itt = true;
  Target target(config);
  target.Start();
  LoginResponse response =
      target.Response({}, true, LoginStage::kFullFeaturePhase);
  response.itt += 7;
  auto step = target.Send(response);
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(step->kind, LoginStep::kDone);
  // The ISID is still checked.
  Target other(config);
  other.Start();
  LoginResponse wrong = other.Response({}, true, LoginStage::kFullFeaturePhase);
  wrong.isid[5] ^= 1;
  ExpectError(other.Send(wrong), ExitCode::kLogin, "different ISID");
}

TEST(LoginMachineTest, FinalResponseTsihChecks) {
  {
    Target target(BaseConfig());
    target.Start();
    LoginResponse response =
        target.Response({}, true, LoginStage::kFullFeaturePhase);
    response.tsih = 0;
    ExpectError(target.Send(response), ExitCode::kLogin,
                "without assigning a TSIH");
  }
  {
    LoginConfig config = BaseConfig();
    config.tsih = 0x0777;
    Target target(config);
    target.Start();
    EXPECT_EQ(target.last().tsih, 0x0777);
    ExpectError(target.FinishOperational(), ExitCode::kLogin,
                "TSIH 258 for session TSIH 1911");
  }
}

TEST(LoginMachineTest, ExpStatSnFollowsEachResponse) {
  Target target(ChapConfig());
  target.Start();
  EXPECT_EQ(target.last().exp_statsn, 0u);
  ASSERT_TRUE(target.Answer({{"AuthMethod", "CHAP"}}).ok());
  EXPECT_EQ(target.last().exp_statsn, 101u);
  ASSERT_TRUE(target
                  .Answer({{"CHAP_A", "5"},
                           {"CHAP_I", "7"},
                           {"CHAP_C", EncodeHexValue(Bytes1To16())}})
                  .ok());
  EXPECT_EQ(target.last().exp_statsn, 102u);
  EXPECT_EQ(target.last().cmdsn, 5u);
  EXPECT_EQ(target.last().itt, 0x1000u);
}

}  // namespace
}  // namespace kiscsi

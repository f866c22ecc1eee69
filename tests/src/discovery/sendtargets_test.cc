#include "src/discovery/sendtargets.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/fake_target/fake_target.h"

namespace kiscsi {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kInitiator[] = "iqn.2026-01.test:initiator";

DiscoveryOptions Options() {
  DiscoveryOptions options;
  options.initiator_name = kInitiator;
  options.login_timeout = absl::Seconds(5);
  options.active_timeout = absl::Seconds(5);
  return options;
}

std::unique_ptr<FakeTarget> StartTarget(FakeTargetConfig config) {
  absl::StatusOr<std::unique_ptr<FakeTarget>> target =
      FakeTarget::Start(std::move(config));
  EXPECT_TRUE(target.ok()) << target.status();
  return target.ok() ? *std::move(target) : nullptr;
}

std::vector<FakeTargetEntry> ThreeTargets() {
  return {
      {"iqn.2026-01.test:multi", {"127.0.0.1:3260,1", "[fd00::1]:3261,2"}},
      {"iqn.2026-01.test:one", {"10.0.0.2,3"}},
      {"iqn.2026-01.test:here", {}},
  };
}

// Many targets with long names: an answer of about `count` * 100 bytes.
std::vector<FakeTargetEntry> ManyTargets(int count) {
  std::vector<FakeTargetEntry> targets;
  for (int i = 0; i < count; ++i) {
    targets.push_back(
        {absl::StrCat("iqn.2026-01.test:a-rather-long-target-name-", i),
         {absl::StrCat("10.0.", i / 250, ".", i % 250 + 1, ":3260,1")}});
  }
  return targets;
}

void ExpectManyTargets(const std::vector<DiscoveredPortal>& found, int count) {
  ASSERT_THAT(found, SizeIs(count));
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(found[i].target_name,
              absl::StrCat("iqn.2026-01.test:a-rather-long-target-name-", i));
    EXPECT_EQ(found[i].address,
              absl::StrCat("10.0.", i / 250, ".", i % 250 + 1));
  }
}

TEST(DiscoverSendTargetsTest, ReportsEveryPortalInTargetOrder) {
  auto target = StartTarget({.targets = ThreeTargets()});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(
      *found,
      ElementsAre(
          DiscoveredPortal{"iqn.2026-01.test:multi", "127.0.0.1", 3260, 1},
          DiscoveredPortal{"iqn.2026-01.test:multi", "fd00::1", 3261, 2},
          DiscoveredPortal{"iqn.2026-01.test:one", "10.0.0.2", 3260, 3},
          DiscoveredPortal{"iqn.2026-01.test:here", "127.0.0.1",
                           target->portal().port, 1}));
  const FakeTargetRecord record = target->record();
  EXPECT_THAT(record.login_keys,
              Contains(TextPair{"SessionType", "Discovery"}));
  EXPECT_THAT(record.login_keys,
              Contains(TextPair{"InitiatorName", kInitiator}));
  EXPECT_THAT(record.login_keys,
              Contains(TextPair{"MaxRecvDataSegmentLength", "32768"}));
  EXPECT_EQ(record.text_requests, 1);
  EXPECT_EQ(record.logouts, 1);
}

TEST(DiscoverSendTargetsTest, NoTargetsIsAnEmptyList) {
  auto target = StartTarget({});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->empty());
}

TEST(DiscoverSendTargetsTest, ReassemblesPairsSplitWithTheContinueBit) {
  auto target =
      StartTarget({.targets = ThreeTargets(),
                   .sendtargets_split = FakeSendTargetsSplit::kContinuation,
                   .sendtargets_segment_size = 7});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, SizeIs(4));
  EXPECT_EQ((*found)[1].address, "fd00::1");
  EXPECT_GT(target->record().continuation_requests, 10);
  EXPECT_EQ(target->record().logouts, 1);
}

TEST(DiscoverSendTargetsTest, FollowsOneTextResponsePerTarget) {
  auto target =
      StartTarget({.targets = ThreeTargets(),
                   .sendtargets_split = FakeSendTargetsSplit::kPerTarget});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, SizeIs(4));
  EXPECT_EQ(target->record().continuation_requests, 2);
}

TEST(DiscoverSendTargetsTest, AnswerLargerThanMaxRecvDataSegmentLength) {
  auto target = StartTarget({.targets = ManyTargets(600)});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  ExpectManyTargets(*found, 600);
  EXPECT_GE(target->record().continuation_requests, 1);
}

// ~2100 targets (4200 pairs, ~190 KiB) in one chain of C=1 responses: the
// answer is bounded by bytes and time, not by a count of pairs.
TEST(DiscoverSendTargetsTest, TwoThousandTargetsInOneChainedAnswer) {
  auto target =
      StartTarget({.targets = ManyTargets(2100),
                   .sendtargets_split = FakeSendTargetsSplit::kContinuation,
                   .sendtargets_segment_size = 4096});
  ASSERT_NE(target, nullptr);
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  ExpectManyTargets(*found, 2100);
}

TEST(DiscoverSendTargetsTest, SkipsUnsolicitedNopIns) {
  auto target =
      StartTarget({.targets = ThreeTargets(),
                   .sendtargets_split = FakeSendTargetsSplit::kPerTarget,
                   .nop_in_before_answers = true});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, SizeIs(4));
  EXPECT_EQ(target->record().logouts, 1);
}

TEST(DiscoverSendTargetsTest, ChapAccepted) {
  auto target = StartTarget({.targets = ThreeTargets(),
                             .require_chap = true,
                             .chap_algorithms = {ChapAlgorithm::kSha256},
                             .chap_username = "disc-user",
                             .chap_password = "disc-secret-1234"});
  DiscoveryOptions options = Options();
  options.auth.chap = true;
  options.auth.username = "disc-user";
  options.auth.password = "disc-secret-1234";
  options.auth.algorithms = {ChapAlgorithm::kSha256, ChapAlgorithm::kMd5};
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), options);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, SizeIs(4));
  EXPECT_EQ(target->record().chap_algorithm, ChapAlgorithm::kSha256);
}

TEST(DiscoverSendTargetsTest, WrongChapSecretIsAnAuthorizationFailure) {
  auto target = StartTarget({.targets = ThreeTargets(),
                             .require_chap = true,
                             .chap_username = "disc-user",
                             .chap_password = "disc-secret-1234"});
  DiscoveryOptions options = Options();
  options.auth.chap = true;
  options.auth.username = "disc-user";
  options.auth.password = "not-the-secret";
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), options);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(ExitCodeOf(found.status()), ExitCode::kLoginAuthFailed);
  EXPECT_THAT(found.status().message(), HasSubstr("authentication failed"));
  EXPECT_EQ(target->record().text_requests, 0);
}

TEST(DiscoverSendTargetsTest, NoChapConfiguredForATargetThatRequiresIt) {
  auto target = StartTarget({.targets = ThreeTargets(),
                             .require_chap = true,
                             .chap_username = "disc-user",
                             .chap_password = "disc-secret-1234"});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(ExitCodeOf(found.status()), ExitCode::kLoginAuthFailed);
}

TEST(DiscoverSendTargetsTest, RejectedTextRequest) {
  auto target = StartTarget({.targets = ThreeTargets(), .reject_text = true});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(ExitCodeOf(found.status()), ExitCode::kTransport);
  EXPECT_THAT(found.status().message(),
              HasSubstr("rejected the SendTargets Text Request"));
  EXPECT_THAT(found.status().message(), HasSubstr("protocol error"));
}

TEST(DiscoverSendTargetsTest, OversizedTextResponseIsRefused) {
  auto target =
      StartTarget({.targets = ThreeTargets(), .oversized_text_response = true});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(ExitCodeOf(found.status()), ExitCode::kTransport);
  EXPECT_THAT(found.status().message(), HasSubstr("over the limit of 32768"));
}

TEST(DiscoverSendTargetsTest, SlowAnswerBeyondActiveTimeout) {
  auto target =
      StartTarget({.targets = ThreeTargets(), .answer_delay_ms = 200});
  DiscoveryOptions options = Options();
  options.active_timeout = absl::Milliseconds(100);
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), options);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(ExitCodeOf(found.status()), ExitCode::kTransportTimeout);
  EXPECT_THAT(
      found.status().message(),
      HasSubstr("timed out after 100 ms waiting for the SendTargets answer"));
}

TEST(DiscoverSendTargetsTest, SlowAnswerWithinTimeouts) {
  auto target = StartTarget({.targets = ThreeTargets(), .answer_delay_ms = 20});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found, SizeIs(4));
}

TEST(DiscoverSendTargetsTest, TargetsWithoutAddressAreAtThePortalRedirectedTo) {
  auto destination = StartTarget({.targets = {{"iqn.2026-01.test:here", {}}}});
  auto target = StartTarget({.redirect_to = destination->portal()});
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      DiscoverSendTargets(target->portal(), Options());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(*found,
              ElementsAre(DiscoveredPortal{"iqn.2026-01.test:here", "127.0.0.1",
                                           destination->portal().port, 1}));
}

// A Text Response PDU of the exchange with task tag 1.
Pdu TextResponsePdu(std::string data, bool final, bool cont = false,
                    uint32_t ttt = 0x1234) {
  TextResponse response;
  response.final = final;
  response.cont = cont;
  response.itt = 1;
  response.ttt = final ? kReservedTag : ttt;
  response.data.assign(data.begin(), data.end());
  return Encode(response);
}

// What tgtd does with an answer over its buffer: F=0 and C=0 responses that cut
// a pair in the middle (a TargetName here, then a TargetAddress).
TEST(SendTargetsExchangeTest, PairsCutBetweenResponsesWithoutTheContinueBit) {
  using namespace std::string_literals;
  SendTargetsExchange exchange("192.0.2.1:3260", 1);
  absl::StatusOr<bool> done = exchange.Add(TextResponsePdu(
      "TargetName=iqn.2024-01.org.example:a\0TargetName=iqn.2024-01.org"s,
      false));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_FALSE(*done);
  EXPECT_EQ(exchange.next_ttt(), 0x1234u);
  done = exchange.Add(
      TextResponsePdu(".example:b\0TargetAddress=10.0.0.2:32"s, false));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_FALSE(*done);
  done = exchange.Add(TextResponsePdu("60,2\0"s, true));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(*done);
  absl::StatusOr<TextPairs> pairs = exchange.Take();
  ASSERT_TRUE(pairs.ok()) << pairs.status();
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      ParseSendTargetsAnswer(*pairs, {"192.0.2.1", 3260});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(
      *found,
      ElementsAre(
          DiscoveredPortal{"iqn.2024-01.org.example:a", "192.0.2.1", 3260, 1},
          DiscoveredPortal{"iqn.2024-01.org.example:b", "10.0.0.2", 3260, 2}));
}

// Every cut point of a 600-target answer, with and without the C bit.
TEST(SendTargetsExchangeTest, AnyCutPointWithOrWithoutTheContinueBit) {
  TextPairs answer;
  for (int i = 0; i < 600; ++i) {
    answer.push_back({"TargetName", absl::StrCat("iqn.2024-01.org.ex:t", i)});
    answer.push_back({"TargetAddress", "10.0.0.1:3260,1"});
  }
  const std::vector<uint8_t> bytes = EncodeText(answer);
  for (size_t size : {1, 7, 512, 8192, 32768}) {
    for (bool cont : {false, true}) {
      SendTargetsExchange exchange("192.0.2.1:3260", 1);
      const auto segments = SplitTextSegments(bytes, size);
      for (size_t i = 0; i < segments.size(); ++i) {
        const bool last = i + 1 == segments.size();
        absl::StatusOr<bool> done = exchange.Add(
            TextResponsePdu(std::string(segments[i].begin(), segments[i].end()),
                            last, cont && !last));
        ASSERT_TRUE(done.ok()) << size << ": " << done.status();
        ASSERT_EQ(*done, last);
      }
      absl::StatusOr<TextPairs> pairs = exchange.Take();
      ASSERT_TRUE(pairs.ok()) << pairs.status();
      EXPECT_EQ(*pairs, answer) << size << " " << cont;
    }
  }
}

TEST(SendTargetsExchangeTest, UnterminatedPairInTheFinalResponse) {
  using namespace std::string_literals;
  SendTargetsExchange exchange("192.0.2.1:3260", 1);
  ASSERT_TRUE(exchange.Add(TextResponsePdu("TargetName=iqn.a"s, false)).ok());
  ASSERT_TRUE(exchange.Add(TextResponsePdu("bc"s, true)).ok());
  absl::StatusOr<TextPairs> pairs = exchange.Take();
  ASSERT_FALSE(pairs.ok());
  EXPECT_EQ(ExitCodeOf(pairs.status()), ExitCode::kTransport);
  EXPECT_THAT(pairs.status().message(),
              HasSubstr("\"TargetName=iqn.abc\": not terminated by a NUL"));
}

TEST(SendTargetsExchangeTest, FinalWithTheContinueBitIsRefused) {
  SendTargetsExchange exchange("192.0.2.1:3260", 1);
  absl::StatusOr<bool> done =
      exchange.Add(TextResponsePdu("TargetName=iqn.a", true, true));
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.status().message(), HasSubstr("malformed Text Response"));
}

TEST(SendTargetsExchangeTest, AnswerOverOneMebibyteIsRefused) {
  SendTargetsExchange exchange("192.0.2.1:3260", 1);
  const std::string chunk(60000, 'x');
  absl::StatusOr<bool> done =
      exchange.Add(TextResponsePdu("TargetName=", false));
  for (int i = 0; i < 20 && done.ok(); ++i)
    done = exchange.Add(TextResponsePdu(chunk, false));
  ASSERT_FALSE(done.ok());
  // The partial pair outgrows what a value may hold long before 1 MiB.
  EXPECT_THAT(done.status().message(),
              HasSubstr("longer than the key and value limits"));

  SendTargetsExchange many("192.0.2.1:3260", 1);
  std::string pairs;
  while (pairs.size() < 60000) {
    pairs += "TargetName=iqn.x";
    pairs.push_back('\0');
  }
  done = many.Add(TextResponsePdu(pairs, false));
  for (int i = 0; i < 20 && done.ok(); ++i)
    done = many.Add(TextResponsePdu(pairs, false));
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.status().message(), HasSubstr("exceeds 1048576 bytes"));
}

TEST(ParseSendTargetsAnswerTest, AddressBeforeAnyTargetName) {
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      ParseSendTargetsAnswer({{"TargetAddress", "10.0.0.1:3260,1"},
                              {"TargetName", "iqn.2026-01.test:a"}},
                             {"10.0.0.9", 3260});
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(ExitCodeOf(found.status()), ExitCode::kTransport);
  EXPECT_THAT(found.status().message(),
              HasSubstr("TargetAddress=10.0.0.1:3260,1 before any TargetName"));
}

TEST(ParseSendTargetsAnswerTest, AddressWithoutPortalGroupTag) {
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      ParseSendTargetsAnswer({{"TargetName", "iqn.2026-01.test:a"},
                              {"TargetAddress", "10.0.0.1:3260"}},
                             {"10.0.0.9", 3260});
  ASSERT_FALSE(found.ok());
  EXPECT_THAT(found.status().message(),
              HasSubstr("without a portal group tag"));
}

TEST(ParseSendTargetsAnswerTest, MalformedAddress) {
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      ParseSendTargetsAnswer({{"TargetName", "iqn.2026-01.test:a"},
                              {"TargetAddress", "[fd00::1:3260,1"}},
                             {"10.0.0.9", 3260});
  ASSERT_FALSE(found.ok());
  EXPECT_THAT(found.status().message(), HasSubstr("bad TargetAddress"));
}

TEST(ParseSendTargetsAnswerTest, NamesThatCouldEscapeTheNodeDatabase) {
  for (const char* name :
       {"../../etc", "iqn.2026-01.test:a/b", "", "iqn.2026-01.test: a"}) {
    absl::StatusOr<std::vector<DiscoveredPortal>> found =
        ParseSendTargetsAnswer({{"TargetName", name}}, {"10.0.0.9", 3260});
    EXPECT_FALSE(found.ok()) << name;
    EXPECT_THAT(found.status().message(), HasSubstr("TargetName")) << name;
  }
}

TEST(ParseSendTargetsAnswerTest, IgnoresOtherKeysAndKeepsOrder) {
  absl::StatusOr<std::vector<DiscoveredPortal>> found =
      ParseSendTargetsAnswer({{"TargetName", "iqn.2026-01.test:b"},
                              {"TargetAlias", "bee"},
                              {"TargetName", "iqn.2026-01.test:a"},
                              {"TargetAddress", "san.example.com,4"}},
                             {"10.0.0.9", 3261});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_THAT(
      *found,
      ElementsAre(
          DiscoveredPortal{"iqn.2026-01.test:b", "10.0.0.9", 3261, 1},
          DiscoveredPortal{"iqn.2026-01.test:a", "san.example.com", 3260, 4}));
}

}  // namespace
}  // namespace kiscsi

#include "src/login/negotiation.h"

#include <ostream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TextPairs FindAll(const TextPairs& pairs, absl::string_view key) {
  TextPairs found;
  for (const TextPair& pair : pairs) {
    if (pair.key == key) found.push_back(pair);
  }
  return found;
}

TEST(NegotiationOfferTest, NormalSessionOffersEverySessionKey) {
  OperationalConfig config;
  config.header_digest = DigestPreference::kCrc32cOrNone;
  Negotiator negotiator(SessionType::kNormal, config);
  auto offer = negotiator.Offer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  EXPECT_EQ(*offer, (TextPairs{{"HeaderDigest", "CRC32C,None"},
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
                               {"MaxConnections", "1"}}));
}

TEST(NegotiationOfferTest,
     DiscoveryAndSecondaryConnectionsOfferConnectionKeysOnly) {
  OperationalConfig config;
  config.max_recv_data_segment_length = 32768;
  config.data_digest = DigestPreference::kNoneOrCrc32c;
  const TextPairs expected = {{"HeaderDigest", "None"},
                              {"DataDigest", "None,CRC32C"},
                              {"MaxRecvDataSegmentLength", "32768"}};
  Negotiator discovery(SessionType::kDiscovery, config);
  auto offer = discovery.Offer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  EXPECT_EQ(*offer, expected);
  Negotiator secondary(SessionType::kNormal, config,
                       /*leading_connection=*/false);
  offer = secondary.Offer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  EXPECT_EQ(*offer, expected);
}

TEST(NegotiationOfferTest, FirstBurstLengthNotOfferedWhenIrrelevant) {
  OperationalConfig config;
  config.initial_r2t = true;
  config.immediate_data = false;
  Negotiator negotiator(SessionType::kNormal, config);
  auto offer = negotiator.Offer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  EXPECT_THAT(FindAll(*offer, "FirstBurstLength"), IsEmpty());
}

struct ConfigErrorCase {
  const char* name;
  void (*configure)(OperationalConfig&);
  const char* error;
};

void PrintTo(const ConfigErrorCase& c, std::ostream* os) { *os << c.name; }

class NegotiationConfigErrorTest
    : public ::testing::TestWithParam<ConfigErrorCase> {};

TEST_P(NegotiationConfigErrorTest, OfferFails) {
  OperationalConfig config;
  GetParam().configure(config);
  Negotiator negotiator(SessionType::kNormal, config);
  auto offer = negotiator.Offer();
  ASSERT_FALSE(offer.ok());
  EXPECT_THAT(offer.status().message(), HasSubstr(GetParam().error));
  EXPECT_EQ(ExitCodeOf(offer.status()), ExitCode::kInvalid);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NegotiationConfigErrorTest,
    ::testing::Values(
        ConfigErrorCase{
            "MrdslTooSmall",
            [](OperationalConfig& c) { c.max_recv_data_segment_length = 511; },
            "MaxRecvDataSegmentLength 511 is outside 512..16777215"},
        ConfigErrorCase{"MrdslTooLarge",
                        [](OperationalConfig& c) {
                          c.max_recv_data_segment_length = 16777216;
                        },
                        "MaxRecvDataSegmentLength 16777216"},
        ConfigErrorCase{
            "MaxXmitTooSmall",
            [](OperationalConfig& c) { c.max_xmit_data_segment_length = 100; },
            "MaxXmitDataSegmentLength 100"},
        ConfigErrorCase{"FirstBurstOverMaxBurst",
                        [](OperationalConfig& c) {
                          c.first_burst_length = 65536;
                          c.max_burst_length = 32768;
                        },
                        "FirstBurstLength 65536 exceeds "
                        "node.session.iscsi.MaxBurstLength 32768"},
        ConfigErrorCase{
            "ErlTooHigh",
            [](OperationalConfig& c) { c.error_recovery_level = 3; },
            "node.session.iscsi.ERL 3 is outside 0..2"},
        ConfigErrorCase{
            "Time2WaitTooHigh",
            [](OperationalConfig& c) { c.default_time2wait = 3601; },
            "DefaultTime2Wait 3601"},
        ConfigErrorCase{"NoR2T",
                        [](OperationalConfig& c) { c.max_outstanding_r2t = 0; },
                        "MaxOutstandingR2T 0 is outside 1..65535"}),
    [](const auto& info) { return std::string(info.param.name); });

// One exchange: we offer from `configure`d defaults, the target sends `target`;
// expect either an error containing `error`, or `replies` and a result that
// satisfies `check`.
struct ExchangeCase {
  const char* name;
  void (*configure)(OperationalConfig&);
  TextPairs target;
  const char* error;  // nullptr: success expected
  TextPairs replies;
  void (*check)(const NegotiatedParams&);
  SessionType session_type;
};

void NoConfig(OperationalConfig&) {}

ExchangeCase Ok(const char* name, void (*configure)(OperationalConfig&),
                TextPairs target, TextPairs replies,
                void (*check)(const NegotiatedParams&),
                SessionType session_type = SessionType::kNormal) {
  return {name,  configure,   std::move(target), nullptr, std::move(replies),
          check, session_type};
}

ExchangeCase Fails(const char* name, void (*configure)(OperationalConfig&),
                   TextPairs target, const char* error) {
  return {name, configure, std::move(target),   error,
          {},   nullptr,   SessionType::kNormal};
}

void PrintTo(const ExchangeCase& c, std::ostream* os) { *os << c.name; }

class NegotiationExchangeTest : public ::testing::TestWithParam<ExchangeCase> {
};

TEST_P(NegotiationExchangeTest, Outcome) {
  const ExchangeCase& c = GetParam();
  OperationalConfig config;
  if (c.configure != nullptr) c.configure(config);
  Negotiator negotiator(c.session_type, config);
  ASSERT_TRUE(negotiator.Offer().ok());
  auto replies = negotiator.OnTargetKeys(c.target);
  absl::StatusOr<NegotiatedParams> params =
      replies.ok() ? negotiator.Finish() : replies.status();
  if (c.error != nullptr) {
    ASSERT_FALSE(params.ok()) << "negotiation succeeded";
    EXPECT_THAT(params.status().message(), HasSubstr(c.error));
    EXPECT_EQ(ExitCodeOf(params.status()), ExitCode::kLogin);
    return;
  }
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(*replies, c.replies);
  if (c.check != nullptr) c.check(*params);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NegotiationExchangeTest,
    ::testing::Values(
        Ok("TargetAcceptsEverything", NoConfig, {{"HeaderDigest", "None"},
                      {"DataDigest", "None"},
                      {"MaxRecvDataSegmentLength", "65536"},
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
                      {"MaxConnections", "1"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_FALSE(p.header_digest);
                       EXPECT_EQ(p.max_recv_data_segment_length, 262144u);
                       EXPECT_EQ(p.max_xmit_data_segment_length, 65536u);
                       EXPECT_FALSE(p.initial_r2t);
                       EXPECT_TRUE(p.immediate_data);
                       EXPECT_EQ(p.first_burst_length, 262144u);
                       EXPECT_EQ(p.max_burst_length, 16776192u);
                       EXPECT_EQ(p.default_time2retain, 0u);
                     }),
        Ok("NothingAnsweredMeansRfcDefaults", NoConfig, {}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.max_recv_data_segment_length, 262144u);
                       EXPECT_EQ(p.max_xmit_data_segment_length, 8192u);
                       EXPECT_TRUE(p.initial_r2t);
                       EXPECT_TRUE(p.immediate_data);
                       EXPECT_EQ(p.first_burst_length, 65536u);
                       EXPECT_EQ(p.max_burst_length, 262144u);
                       EXPECT_EQ(p.default_time2wait, 2u);
                       EXPECT_EQ(p.default_time2retain, 20u);
                       EXPECT_EQ(p.max_outstanding_r2t, 1u);
                       EXPECT_EQ(p.error_recovery_level, 0u);
                       EXPECT_TRUE(p.data_pdu_in_order);
                     }),
        Ok("MaxBurstLengthMinimum", NoConfig, {{"MaxBurstLength", "65536"},
                      {"FirstBurstLength", "65536"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.max_burst_length, 65536u);
                       EXPECT_EQ(p.first_burst_length, 65536u);
                     }),
        Fails("MaxBurstLengthAboveOffer", [](OperationalConfig& c) { c.max_burst_length = 262144; }, {{"MaxBurstLength", "524288"}}, "MaxBurstLength=524288 to our offer of 262144"),
        Ok("HexNumber", NoConfig, {{"MaxBurstLength", "0x40000"},
                      {"FirstBurstLength", "0x10000"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.max_burst_length, 262144u);
                       EXPECT_EQ(p.first_burst_length, 65536u);
                     }),
        Fails("SignedNumber", NoConfig, {{"MaxBurstLength", "+65536"}}, "MaxBurstLength=+65536"),
        Fails("FirstBurstOverMaxBurst", NoConfig, {{"FirstBurstLength", "262144"},
                      {"MaxBurstLength", "65536"}}, "FirstBurstLength 262144 exceeds MaxBurstLength 65536"),
        Ok("FirstBurstIrrelevantWithR2TAndNoImmediateData", NoConfig, {{"InitialR2T", "Yes"},
                      {"ImmediateData", "No"},
                      {"FirstBurstLength", "Irrelevant"},
                      {"MaxBurstLength", "16384"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_TRUE(p.initial_r2t);
                       EXPECT_FALSE(p.immediate_data);
                       EXPECT_EQ(p.max_burst_length, 16384u);
                     }),
        Ok("Time2WaitMaximum", NoConfig, {{"DefaultTime2Wait", "10"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.default_time2wait, 10u);
                     }),
        Fails("Time2WaitBelowOffer", [](OperationalConfig& c) { c.default_time2wait = 5; }, {{"DefaultTime2Wait", "1"}}, "DefaultTime2Wait=1 to our offer of 5, but the result "
                     "must be the maximum"),
        Ok("Time2RetainMinimum", [](OperationalConfig& c) { c.default_time2retain = 20; }, {{"DefaultTime2Retain", "5"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.default_time2retain, 5u);
                     }),
        Fails("Time2RetainAboveOffer", NoConfig, {{"DefaultTime2Retain", "20"}}, "DefaultTime2Retain=20 to our offer of 0"),
        Ok("InitialR2TOr", NoConfig, {{"InitialR2T", "Yes"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_TRUE(p.initial_r2t);
                     }),
        Fails("InitialR2TOrViolated", [](OperationalConfig& c) { c.initial_r2t = true; }, {{"InitialR2T", "No"}}, "InitialR2T=No to our offer of Yes"),
        Ok("ImmediateDataAnd", NoConfig, {{"ImmediateData", "No"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_FALSE(p.immediate_data);
                     }),
        Fails("ImmediateDataAndViolated", [](OperationalConfig& c) { c.immediate_data = false; }, {{"ImmediateData", "Yes"}}, "ImmediateData=Yes to our offer of No"),
        Ok("DataPduInOrderOr", [](OperationalConfig& c) { c.data_pdu_in_order = false; }, {{"DataPDUInOrder", "Yes"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_TRUE(p.data_pdu_in_order);
                     }),
        Fails("BooleanNotYesNo", NoConfig, {{"ImmediateData", "yes"}}, "ImmediateData=yes, expected Yes or No"),
        Ok("ErrorRecoveryLevelMinimum", [](OperationalConfig& c) { c.error_recovery_level = 2; }, {{"ErrorRecoveryLevel", "1"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.error_recovery_level, 1u);
                     }),
        Fails("ErrorRecoveryLevelOutOfRange", [](OperationalConfig& c) { c.error_recovery_level = 2; }, {{"ErrorRecoveryLevel", "3"}}, "ErrorRecoveryLevel=3, outside 0..2"),
        Ok("HeaderDigestPicked", [](OperationalConfig& c) {
                       c.header_digest = DigestPreference::kCrc32cOrNone;
                       c.data_digest = DigestPreference::kNoneOrCrc32c;
                     }, {{"HeaderDigest", "CRC32C"}, {"DataDigest", "CRC32C"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_TRUE(p.header_digest);
                       EXPECT_TRUE(p.data_digest);
                     }),
        Fails("DigestNotOffered", NoConfig, {{"HeaderDigest", "CRC32C"}}, "HeaderDigest=CRC32C, not one of the offered None"),
        Fails("DigestListAsAnswer", [](OperationalConfig& c) {
                       c.header_digest = DigestPreference::kCrc32cOrNone;
                     }, {{"HeaderDigest", "CRC32C,None"}}, "not one of the offered CRC32C,None"),
        Fails("RequiredDigestRejected", [](OperationalConfig& c) {
                       c.data_digest = DigestPreference::kCrc32c;
                     }, {{"DataDigest", "Reject"}}, "did not agree to DataDigest=CRC32C"),
        Fails("RequiredDigestUnanswered", [](OperationalConfig& c) {
                       c.header_digest = DigestPreference::kCrc32c;
                     }, {}, "did not agree to HeaderDigest=CRC32C"),
        Ok("OptionalDigestRejected", [](OperationalConfig& c) {
                       c.header_digest = DigestPreference::kCrc32cOrNone;
                     }, {{"HeaderDigest", "Reject"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_FALSE(p.header_digest);
                     }),
        Ok("SpecialAnswersKeepDefaults", NoConfig, {{"MaxBurstLength", "Reject"},
                      {"FirstBurstLength", "NotUnderstood"},
                      {"DefaultTime2Retain", "Irrelevant"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.max_burst_length, 262144u);
                       EXPECT_EQ(p.first_burst_length, 65536u);
                       EXPECT_EQ(p.default_time2retain, 20u);
                     }),
        Ok("TargetMrdslDeclared", [](OperationalConfig& c) {
                       c.max_xmit_data_segment_length = 4096;
                     }, {{"MaxRecvDataSegmentLength", "65536"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.max_xmit_data_segment_length, 4096u);
                     }),
        Ok("TargetMrdslMinimum", NoConfig, {{"MaxRecvDataSegmentLength", "512"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.max_xmit_data_segment_length, 512u);
                     }),
        Fails("TargetMrdslTooSmall", NoConfig, {{"MaxRecvDataSegmentLength", "511"}}, "MaxRecvDataSegmentLength=511, outside 512..16777215"),
        Fails("TargetMrdslTooLarge", NoConfig, {{"MaxRecvDataSegmentLength", "16777216"}}, "MaxRecvDataSegmentLength=16777216, outside"),
        Fails("TargetMrdslNotNumber", NoConfig, {{"MaxRecvDataSegmentLength", "lots"}}, "MaxRecvDataSegmentLength=lots"),
        Fails("AnsweredTwice", NoConfig, {{"MaxBurstLength", "65536"},
                      {"MaxBurstLength", "65536"}}, "MaxBurstLength more than once"),
        Fails("DeclaredTwiceDifferently", NoConfig, {{"TargetAlias", "a"}, {"TargetAlias", "b"}}, "declared TargetAlias twice"),
        Ok("DeclarationsRecorded", NoConfig, {{"TargetAlias", "disk shelf 1"},
                      {"TargetPortalGroupTag", "7"},
                      {"TargetPortalGroupTag", "7"}}, {}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.target_alias, "disk shelf 1");
                       EXPECT_EQ(p.target_portal_group_tag, 7);
                     }),
        Fails("PortalGroupTagOutOfRange", NoConfig, {{"TargetPortalGroupTag", "65536"}}, "TargetPortalGroupTag=65536, outside 0..65535"),
        Fails("InitiatorKeyFromTarget", NoConfig, {{"InitiatorName", "iqn.2000-01.com.example:evil"}}, "InitiatorName, which only initiators send"),
        Fails("AuthKeyOutsideSecurity", NoConfig, {{"CHAP_A", "5"}}, "CHAP_A outside security negotiation"),
        Ok("UnknownProposalNotUnderstood", NoConfig, {{"X-com.example.Turbo", "Yes"}}, {{"X-com.example.Turbo", "NotUnderstood"}}, nullptr),
        Ok("MarkersProposed", NoConfig, {{"IFMarker", "Yes"},
                      {"OFMarker", "No"},
                      {"OFMarkInt", "2048~8192"}}, {{"IFMarker", "No"},
                      {"OFMarker", "No"},
                      {"OFMarkInt", "Irrelevant"}}, [](const NegotiatedParams& p) {
                       EXPECT_FALSE(p.if_marker);
                       EXPECT_FALSE(p.of_marker);
                     }),
        Fails("ProposalOfSpecialValue", NoConfig, {{"OFMarker", "Reject"}}, "proposed OFMarker=Reject"),
        Ok("DiscoverySessionKeysIrrelevant", NoConfig, {{"MaxBurstLength", "65536"},
                      {"InitialR2T", "Yes"},
                      {"MaxRecvDataSegmentLength", "32768"}}, {{"MaxBurstLength", "Irrelevant"},
                      {"InitialR2T", "Irrelevant"}}, [](const NegotiatedParams& p) {
                       EXPECT_EQ(p.max_xmit_data_segment_length, 32768u);
                       EXPECT_EQ(p.max_burst_length, 262144u);
                     }, SessionType::kDiscovery)),
    [](const auto& info) { return std::string(info.param.name); });

// Keys the target proposes that we did not offer (a secondary exchange after
// ours was answered).
TEST(NegotiationProposalTest, AnswersWithCombinedValues) {
  OperationalConfig config;
  config.header_digest = DigestPreference::kNoneOrCrc32c;
  config.max_outstanding_r2t = 1;
  config.default_time2wait = 2;
  Negotiator negotiator(SessionType::kNormal, config, /*leading=*/true);
  // No Offer(): every key below is the target's proposal.
  auto replies = negotiator.OnTargetKeys({{"HeaderDigest", "CRC32C,None"},
                                          {"MaxOutstandingR2T", "4"},
                                          {"DefaultTime2Wait", "5"},
                                          {"InitialR2T", "No"},
                                          {"ImmediateData", "Yes"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, (TextPairs{{"HeaderDigest", "CRC32C"},
                                 {"MaxOutstandingR2T", "1"},
                                 {"DefaultTime2Wait", "5"},
                                 {"InitialR2T", "No"},
                                 {"ImmediateData", "Yes"}}));
  auto params = negotiator.Finish();
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_TRUE(params->header_digest);
  EXPECT_EQ(params->max_outstanding_r2t, 1u);
  EXPECT_EQ(params->default_time2wait, 5u);
  EXPECT_FALSE(params->initial_r2t);
  // Nothing declared by us: the login default applies.
  EXPECT_EQ(params->max_recv_data_segment_length, 8192u);
}

TEST(NegotiationProposalTest, DigestWithoutCommonValueFails) {
  OperationalConfig config;
  config.data_digest = DigestPreference::kCrc32c;
  Negotiator negotiator(SessionType::kNormal, config);
  auto replies = negotiator.OnTargetKeys({{"DataDigest", "None"}});
  ASSERT_FALSE(replies.ok());
  EXPECT_THAT(replies.status().message(),
              HasSubstr("target requires DataDigest=None but "
                        "node.conn[0].iscsi.DataDigest allows only CRC32C"));
}

TEST(NegotiationProposalTest, ProposedKeysAreNotOfferedAgain) {
  Negotiator negotiator(SessionType::kNormal, OperationalConfig{});
  auto replies = negotiator.OnTargetKeys(
      {{"MaxBurstLength", "65536"}, {"HeaderDigest", "None"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  auto offer = negotiator.Offer();
  ASSERT_TRUE(offer.ok()) << offer.status();
  EXPECT_THAT(FindAll(*offer, "MaxBurstLength"), IsEmpty());
  EXPECT_THAT(FindAll(*offer, "HeaderDigest"), IsEmpty());
  EXPECT_THAT(FindAll(*offer, "MaxConnections"),
              ElementsAre(TextPair{"MaxConnections", "1"}));
}

TEST(NegotiationProposalTest, FirstBurstIrrelevantWhenOurSettingsMakeItSo) {
  OperationalConfig config;
  config.initial_r2t = true;
  config.immediate_data = false;
  Negotiator negotiator(SessionType::kNormal, config);
  ASSERT_TRUE(negotiator.Offer().ok());
  auto replies = negotiator.OnTargetKeys({{"FirstBurstLength", "8192"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_THAT(*replies,
              ElementsAre(TextPair{"FirstBurstLength", "Irrelevant"}));
}

TEST(NegotiationProposalTest, KeyRepeatedInLaterKeySetFails) {
  Negotiator negotiator(SessionType::kNormal, OperationalConfig{});
  ASSERT_TRUE(negotiator.Offer().ok());
  ASSERT_TRUE(negotiator.OnTargetKeys({{"MaxBurstLength", "65536"}}).ok());
  auto again = negotiator.OnTargetKeys({{"MaxBurstLength", "32768"}});
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(),
              HasSubstr("MaxBurstLength more than once"));
  // So is a proposal we already answered.
  ASSERT_TRUE(negotiator.OnTargetKeys({{"X-vendor", "1"}}).ok());
  EXPECT_FALSE(negotiator.OnTargetKeys({{"X-vendor", "1"}}).ok());
}

TEST(ParseNumericalValueTest, AcceptsDecimalAndHexOnly) {
  EXPECT_EQ(*ParseNumericalValue("0"), 0u);
  EXPECT_EQ(*ParseNumericalValue("4294967295"), 4294967295u);
  EXPECT_EQ(*ParseNumericalValue("0xFFFFFFFF"), 4294967295u);
  EXPECT_EQ(*ParseNumericalValue("0x10"), 16u);
  for (const char* bad : {"", "4294967296", "0x", "0x100000000", " 1", "1 ",
                          "-1", "+1", "1e3", "0b1234", "12a"}) {
    EXPECT_FALSE(ParseNumericalValue(bad).ok()) << "accepted \"" << bad << "\"";
  }
}

}  // namespace
}  // namespace kiscsi

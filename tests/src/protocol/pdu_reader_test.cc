// SerializePdu and PduReader: padding, digests, limits and arbitrary chunking.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/protocol/crc32c.h"
#include "src/protocol/pdu.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

Pdu NopWithData(std::vector<uint8_t> data, uint32_t itt = 1) {
  NopOut nop;
  nop.itt = itt;
  nop.data = std::move(data);
  return Encode(nop);
}

std::vector<uint8_t> Concat(const std::vector<std::vector<uint8_t>>& parts) {
  std::vector<uint8_t> out;
  for (const auto& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

void ExpectSamePdu(const Pdu& got, const Pdu& want) {
  EXPECT_EQ(got.bhs, want.bhs);
  EXPECT_EQ(got.ahs, want.ahs);
  EXPECT_EQ(got.data, want.data);
}

TEST(SerializePduTest, PadsDataToFourBytesWithZeros) {
  const Pdu pdu = NopWithData({1, 2, 3, 4, 5});
  const std::vector<uint8_t> wire = SerializePdu(pdu);
  ASSERT_EQ(wire.size(), 48u + 8u);
  EXPECT_TRUE(std::equal(pdu.bhs.begin(), pdu.bhs.end(), wire.begin()));
  EXPECT_THAT(std::vector<uint8_t>(wire.begin() + 48, wire.end()),
              ElementsAre(1, 2, 3, 4, 5, 0, 0, 0));
}

TEST(SerializePduTest, DigestsFollowHeaderAndPaddedData) {
  const Pdu pdu = NopWithData({1, 2, 3, 4, 5});
  const std::vector<uint8_t> wire =
      SerializePdu(pdu, {.header = true, .data = true});
  ASSERT_EQ(wire.size(), 48u + 4u + 8u + 4u);
  uint8_t header_digest[4];
  Crc32cToWire(Crc32c(absl::MakeConstSpan(wire).subspan(0, 48)), header_digest);
  EXPECT_TRUE(std::equal(header_digest, header_digest + 4, wire.begin() + 48));
  const std::vector<uint8_t> padded = {1, 2, 3, 4, 5, 0, 0, 0};
  EXPECT_TRUE(std::equal(padded.begin(), padded.end(), wire.begin() + 52));
  uint8_t data_digest[4];
  Crc32cToWire(Crc32c(padded), data_digest);
  EXPECT_TRUE(std::equal(data_digest, data_digest + 4, wire.begin() + 60));
}

TEST(SerializePduTest, NoDataDigestWithoutData) {
  const std::vector<uint8_t> wire =
      SerializePdu(NopWithData({}), {.header = true, .data = true});
  EXPECT_EQ(wire.size(), 48u + 4u);
}

// The RFC 3720 B.4 READ (10) PDU with a header digest ends in 56 3a 96 d9.
TEST(SerializePduTest, HeaderDigestOfRfcReadCommand) {
  ScsiCommand cmd;
  cmd.read = true;
  cmd.task_attr = 0;
  cmd.itt = 0x14000000;
  cmd.expected_data_length = 0x400;
  cmd.cmdsn = 0x14;
  cmd.exp_statsn = 0x18;
  cmd.cdb = {0x28, 0, 0, 0, 0, 0, 0, 0, 0x02};
  const std::vector<uint8_t> wire = SerializePdu(Encode(cmd), {.header = true});
  ASSERT_EQ(wire.size(), 52u);
  EXPECT_THAT(std::vector<uint8_t>(wire.begin() + 48, wire.end()),
              ElementsAre(0x56, 0x3a, 0x96, 0xd9));
}

TEST(SerializePduTest, UpdatesStaleLengths) {
  Pdu pdu = NopWithData({1, 2, 3, 4});
  pdu.data.push_back(5);
  const std::vector<uint8_t> wire = SerializePdu(pdu);
  EXPECT_EQ(wire[7], 5);
}

std::string DigestsName(const DigestOptions& digests) {
  if (digests.header && digests.data) return "HeaderAndDataDigests";
  if (digests.header) return "HeaderDigest";
  if (digests.data) return "DataDigest";
  return "NoDigests";
}

class PduReaderDigestTest : public ::testing::TestWithParam<DigestOptions> {};

// Feeds a stream of varied PDUs one byte at a time and checks each arrives
// intact, with BytesWanted() counting down exactly to each PDU boundary.
TEST_P(PduReaderDigestTest, OneByteChunks) {
  const DigestOptions digests = GetParam();
  Pdu with_ahs = NopWithData({7, 7, 7}, 3);
  with_ahs.ahs = {0, 5, 1, 0, 0xaa, 0xbb, 0xcc, 0xdd};
  with_ahs.UpdateLengths();
  const std::vector<Pdu> pdus = {
      NopWithData({}, 1), NopWithData({1, 2, 3, 4, 5}, 2), with_ahs,
      NopWithData(std::vector<uint8_t>(4096, 0x5a), 4)};
  PduReader reader({.max_data_segment_length = 8192, .digests = digests});
  for (const Pdu& pdu : pdus) {
    const std::vector<uint8_t> wire = SerializePdu(pdu, digests);
    for (size_t i = 0; i < wire.size(); ++i) {
      ASSERT_FALSE(reader.Next().has_value()) << "early PDU at byte " << i;
      const size_t wanted = reader.BytesWanted();
      ASSERT_GE(wanted, 1u);
      ASSERT_LE(wanted, wire.size() - i)
          << "would read past the PDU at byte " << i;
      ASSERT_TRUE(reader.Feed(absl::MakeConstSpan(&wire[i], 1)).ok());
    }
    auto got = reader.Next();
    ASSERT_TRUE(got.has_value());
    ExpectSamePdu(*got, pdu);
    EXPECT_EQ(reader.BytesWanted(), kBhsSize);
  }
}

// A blocking caller that reads exactly BytesWanted() each time gets every PDU.
TEST_P(PduReaderDigestTest, ReadingExactlyBytesWanted) {
  const DigestOptions digests = GetParam();
  const std::vector<Pdu> pdus = {NopWithData({1, 2, 3}, 1), NopWithData({}, 2),
                                 NopWithData(std::vector<uint8_t>(1000, 1), 3)};
  std::vector<uint8_t> stream;
  for (const Pdu& pdu : pdus) {
    const auto wire = SerializePdu(pdu, digests);
    stream.insert(stream.end(), wire.begin(), wire.end());
  }
  PduReader reader({.digests = digests});
  size_t pos = 0;
  std::vector<Pdu> got;
  while (pos < stream.size()) {
    const size_t n = reader.BytesWanted();
    ASSERT_LE(pos + n, stream.size());
    ASSERT_TRUE(reader.Feed(absl::MakeConstSpan(stream).subspan(pos, n)).ok());
    pos += n;
    while (auto pdu = reader.Next()) got.push_back(*std::move(pdu));
  }
  ASSERT_EQ(got.size(), pdus.size());
  for (size_t i = 0; i < pdus.size(); ++i) ExpectSamePdu(got[i], pdus[i]);
}

INSTANTIATE_TEST_SUITE_P(
    Digests, PduReaderDigestTest,
    ::testing::Values(DigestOptions{false, false}, DigestOptions{true, false},
                      DigestOptions{false, true}, DigestOptions{true, true}),
    [](const auto& info) { return DigestsName(info.param); });

TEST(PduReaderTest, MultiplePdusInOneFeed) {
  const std::vector<Pdu> pdus = {NopWithData({1}, 1), NopWithData({1, 2}, 2),
                                 NopWithData({}, 3)};
  const std::vector<uint8_t> stream = Concat(
      {SerializePdu(pdus[0]), SerializePdu(pdus[1]), SerializePdu(pdus[2])});
  PduReader reader;
  ASSERT_TRUE(reader.Feed(stream).ok());
  for (const Pdu& pdu : pdus) {
    auto got = reader.Next();
    ASSERT_TRUE(got.has_value());
    ExpectSamePdu(*got, pdu);
  }
  EXPECT_FALSE(reader.Next().has_value());
}

TEST(PduReaderTest, KeepsPartialPduAcrossFeeds) {
  const std::vector<uint8_t> stream =
      Concat({SerializePdu(NopWithData({1, 2, 3}, 1)),
              SerializePdu(NopWithData({4}, 2))});
  PduReader reader;
  ASSERT_TRUE(reader.Feed(absl::MakeConstSpan(stream).subspan(0, 60)).ok());
  ASSERT_TRUE(reader.Next().has_value());
  EXPECT_FALSE(reader.Next().has_value());
  // 8 of the second PDU's 52 bytes are in.
  EXPECT_EQ(reader.BytesWanted(), 40u);
  ASSERT_TRUE(reader.Feed(absl::MakeConstSpan(stream).subspan(60)).ok());
  auto second = reader.Next();
  ASSERT_TRUE(second.has_value());
  EXPECT_THAT(second->data, ElementsAre(4));
}

TEST(PduReaderTest, HeaderDigestMismatchIsAnError) {
  std::vector<uint8_t> wire =
      SerializePdu(NopWithData({1, 2, 3}), {.header = true});
  wire[20] ^= 0x01;
  PduReader reader({.digests = {.header = true}});
  const absl::Status status = reader.Feed(wire);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(status),
              MatchesRegex("header digest mismatch \\(got 0x[0-9a-f]{8}, "
                           "computed 0x[0-9a-f]{8}\\)"));
  EXPECT_FALSE(reader.Next().has_value());
  // The reader stays failed.
  EXPECT_EQ(reader.Feed(SerializePdu(NopWithData({}), {.header = true})),
            status);
  EXPECT_FALSE(reader.Next().has_value());
}

TEST(PduReaderTest, HeaderDigestMismatchReportsBothValues) {
  std::vector<uint8_t> wire = SerializePdu(NopWithData({}), {.header = true});
  const uint32_t computed = Crc32c(absl::MakeConstSpan(wire).subspan(0, 48));
  Crc32cToWire(0x12345678, &wire[48]);
  PduReader reader({.digests = {.header = true}});
  const absl::Status status = reader.Feed(wire);
  char expected[80];
  snprintf(expected, sizeof(expected),
           "header digest mismatch (got 0x12345678, computed 0x%08x)",
           computed);
  EXPECT_EQ(Message(status), expected);
}

TEST(PduReaderTest, DataDigestMismatchIsAnError) {
  std::vector<uint8_t> wire =
      SerializePdu(NopWithData({1, 2, 3}), {.header = true, .data = true});
  wire[53] ^= 0x80;  // second data byte
  PduReader reader({.digests = {.header = true, .data = true}});
  const absl::Status status = reader.Feed(wire);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(Message(status), HasSubstr("data digest mismatch (got 0x"));
  EXPECT_FALSE(reader.Next().has_value());
}

TEST(PduReaderTest, PaddingIsCoveredByDataDigest) {
  std::vector<uint8_t> wire =
      SerializePdu(NopWithData({1, 2, 3}), {.data = true});
  wire[48 + 3] = 0xff;  // the pad byte
  PduReader reader({.digests = {.data = true}});
  EXPECT_THAT(Message(reader.Feed(wire)), HasSubstr("data digest mismatch"));
}

TEST(PduReaderTest, PdusBeforeAnErrorAreStillDelivered) {
  std::vector<uint8_t> bad = SerializePdu(NopWithData({9}, 2), {.data = true});
  bad.back() ^= 1;
  const std::vector<uint8_t> stream =
      Concat({SerializePdu(NopWithData({1}, 1), {.data = true}), bad});
  PduReader reader({.digests = {.data = true}});
  EXPECT_FALSE(reader.Feed(stream).ok());
  auto first = reader.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_THAT(first->data, ElementsAre(1));
  EXPECT_FALSE(reader.Next().has_value());
}

TEST(PduReaderTest, OversizedDeclaredLengthIsRejectedFromTheHeaderAlone) {
  Pdu pdu = NopWithData({});
  pdu.bhs[5] = 0xff;  // DataSegmentLength 16 MiB - 1
  pdu.bhs[6] = 0xff;
  pdu.bhs[7] = 0xff;
  PduReader reader({.max_data_segment_length = 8192, .digests = {}});
  // Only the 48-byte BHS is fed: the limit is enforced before any data arrives.
  const absl::Status status =
      reader.Feed(absl::MakeConstSpan(pdu.bhs.data(), pdu.bhs.size()));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(status),
            "NOP-Out declares a data segment of 16777215 bytes, over the limit "
            "of 8192");
}

TEST(PduReaderTest, DataAtTheLimitIsAccepted) {
  PduReader reader({.max_data_segment_length = 512, .digests = {}});
  EXPECT_TRUE(
      reader.Feed(SerializePdu(NopWithData(std::vector<uint8_t>(512, 3))))
          .ok());
  EXPECT_TRUE(reader.Next().has_value());
  EXPECT_FALSE(
      reader.Feed(SerializePdu(NopWithData(std::vector<uint8_t>(513, 3))))
          .ok());
}

TEST(PduReaderTest, WithHeaderDigestOnlyTheHeaderIsWantedFirst) {
  const std::vector<uint8_t> wire =
      SerializePdu(NopWithData(std::vector<uint8_t>(100, 1)), {.header = true});
  PduReader reader({.digests = {.header = true}});
  ASSERT_TRUE(reader.Feed(absl::MakeConstSpan(wire).subspan(0, 48)).ok());
  EXPECT_EQ(reader.BytesWanted(), 4u);
  ASSERT_TRUE(reader.Feed(absl::MakeConstSpan(wire).subspan(48, 4)).ok());
  EXPECT_EQ(reader.BytesWanted(), 100u);
}

TEST(PduReaderTest, BytesWantedStartsWithTheBhs) {
  PduReader reader;
  EXPECT_EQ(reader.BytesWanted(), 48u);
  const uint8_t some[10] = {};
  ASSERT_TRUE(reader.Feed(some).ok());
  EXPECT_EQ(reader.BytesWanted(), 38u);
}

TEST(PduReaderTest, EnablingDigestsBetweenPdus) {
  PduReader reader;
  ASSERT_TRUE(reader.Feed(SerializePdu(NopWithData({1}, 1))).ok());
  reader.SetLimits({.digests = {.header = true, .data = true}});
  ASSERT_TRUE(reader
                  .Feed(SerializePdu(NopWithData({2}, 2),
                                     {.header = true, .data = true}))
                  .ok());
  EXPECT_THAT(reader.Next()->data, ElementsAre(1));
  EXPECT_THAT(reader.Next()->data, ElementsAre(2));
}

}  // namespace
}  // namespace kiscsi

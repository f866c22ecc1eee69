#include "src/login/chap.h"

#include <numeric>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/src/base/param_name.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;

std::vector<uint8_t> Bytes0To15() {
  std::vector<uint8_t> bytes(16);
  std::iota(bytes.begin(), bytes.end(), 0);
  return bytes;
}

// Expected digests computed independently with Python's hashlib over id ||
// secret || challenge.
struct Vector {
  ChapAlgorithm algorithm;
  const char* expected_hex;
};

std::string AlgorithmName(ChapAlgorithm algorithm) {
  return std::string(ChapAlgorithmName(algorithm));
}

void PrintTo(const Vector& v, std::ostream* os) {
  *os << AlgorithmName(v.algorithm);
}

class ChapVectorTest : public ::testing::TestWithParam<Vector> {};

TEST_P(ChapVectorTest, MatchesIndependentDigest) {
  const Vector& vector = GetParam();
  const std::vector<uint8_t> response =
      ChapResponse(vector.algorithm, 1, "secret", Bytes0To15());
  EXPECT_EQ(EncodeHexValue(response), vector.expected_hex);
  EXPECT_EQ(response.size(), ChapDigestSize(vector.algorithm));
}

INSTANTIATE_TEST_SUITE_P(
    AllAlgorithms, ChapVectorTest,
    ::testing::Values(
        Vector{ChapAlgorithm::kMd5, "0x740e86463bda3a4d7017d6e0fba0699d"},
        Vector{ChapAlgorithm::kSha1,
               "0x3890198f5112376188a9742805758384545583a6"},
        Vector{ChapAlgorithm::kSha256,
               "0x28b96c916cf784528bbfaa6ad7e012cab293437604aae8d66a3295b319132"
               "cef"},
        Vector{ChapAlgorithm::kSha3_256,
               "0xbdceca071be509f41acf88309bb6d12e51526c23a2d18f22c2bb8ed199c36"
               "fd8"}),
    [](const auto& info) {
      return ParamName(AlgorithmName(info.param.algorithm));
    });

TEST(ChapTest, Md5WithLongChallenge) {
  const std::vector<uint8_t> challenge(32, 0xa5);
  EXPECT_EQ(EncodeHexValue(ChapResponse(ChapAlgorithm::kMd5, 0x2a,
                                        "Kiscsi-Secret", challenge)),
            "0xb48bd4ab29795e0c7dc66efad61f87f5");
}

TEST(ChapTest, DigestSizes) {
  EXPECT_EQ(ChapDigestSize(ChapAlgorithm::kMd5), 16u);
  EXPECT_EQ(ChapDigestSize(ChapAlgorithm::kSha1), 20u);
  EXPECT_EQ(ChapDigestSize(ChapAlgorithm::kSha256), 32u);
  EXPECT_EQ(ChapDigestSize(ChapAlgorithm::kSha3_256), 32u);
}

TEST(ChapTest, AlgorithmNamesAndNumbers) {
  EXPECT_EQ(ChapAlgorithmName(ChapAlgorithm::kSha3_256), "SHA3-256");
  EXPECT_EQ(ChapAlgorithmFromName("sha3-256"), ChapAlgorithm::kSha3_256);
  EXPECT_EQ(ChapAlgorithmFromName("Md5"), ChapAlgorithm::kMd5);
  EXPECT_EQ(ChapAlgorithmFromName("SHA256"), ChapAlgorithm::kSha256);
  EXPECT_EQ(ChapAlgorithmFromName("SHA-1"), std::nullopt);
  EXPECT_EQ(ChapAlgorithmFromName(""), std::nullopt);
  EXPECT_EQ(ChapAlgorithmFromNumber(5), ChapAlgorithm::kMd5);
  EXPECT_EQ(ChapAlgorithmFromNumber(6), ChapAlgorithm::kSha1);
  EXPECT_EQ(ChapAlgorithmFromNumber(7), ChapAlgorithm::kSha256);
  EXPECT_EQ(ChapAlgorithmFromNumber(8), ChapAlgorithm::kSha3_256);
  EXPECT_EQ(ChapAlgorithmFromNumber(4), std::nullopt);
  EXPECT_EQ(ChapAlgorithmFromNumber(-5), std::nullopt);
}

TEST(ChapTest, DecodesHex) {
  auto bytes = DecodeBinaryValue("0xDEadbeef");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ElementsAre(0xde, 0xad, 0xbe, 0xef));
  bytes = DecodeBinaryValue("0X0a");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ElementsAre(0x0a));
}

TEST(ChapTest, OddHexDigitCountHasImpliedLeadingZero) {
  auto bytes = DecodeBinaryValue("0xabc");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ElementsAre(0x0a, 0xbc));
  bytes = DecodeBinaryValue("0x1");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ElementsAre(0x01));
}

TEST(ChapTest, DecodesBase64) {
  auto bytes = DecodeBinaryValue("0b3q2+7wE=");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ElementsAre(0xde, 0xad, 0xbe, 0xef, 0x01));
  bytes = DecodeBinaryValue("0BAAEC");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ElementsAre(0x00, 0x01, 0x02));
}

TEST(ChapTest, RejectsInvalidEncodings) {
  for (const char* bad : {"", "0", "0x", "0b", "deadbeef", "1234", "0xg0",
                          "0x12 34", "0x-1", "0b!!!!", "0b3q2+7wE",
                          "0b3q2+7w===", "0b=AAA", "0bAA=A", "0z00", "x00"}) {
    EXPECT_FALSE(DecodeBinaryValue(bad).ok()) << "accepted \"" << bad << "\"";
  }
}

TEST(ChapTest, EncodesAndRoundTrips) {
  const std::vector<uint8_t> bytes = {0x00, 0x7f, 0x80, 0xff, 0x10};
  EXPECT_EQ(EncodeHexValue(bytes), "0x007f80ff10");
  EXPECT_EQ(EncodeBase64Value(bytes), "0bAH+A/xA=");
  auto from_hex = DecodeBinaryValue(EncodeHexValue(bytes));
  ASSERT_TRUE(from_hex.ok());
  EXPECT_EQ(*from_hex, bytes);
  auto from_base64 = DecodeBinaryValue(EncodeBase64Value(bytes));
  ASSERT_TRUE(from_base64.ok());
  EXPECT_EQ(*from_base64, bytes);
}

TEST(ChapTest, ConstantTimeEqual) {
  const std::vector<uint8_t> a = {1, 2, 3};
  const std::vector<uint8_t> b = {1, 2, 3};
  const std::vector<uint8_t> c = {1, 2, 4};
  const std::vector<uint8_t> shorter = {1, 2};
  EXPECT_TRUE(ConstantTimeEqual(a, b));
  EXPECT_FALSE(ConstantTimeEqual(a, c));
  EXPECT_FALSE(ConstantTimeEqual(a, shorter));
  EXPECT_FALSE(ConstantTimeEqual(shorter, a));
  EXPECT_TRUE(ConstantTimeEqual({}, {}));
  EXPECT_FALSE(ConstantTimeEqual({}, a));
}

TEST(ChapTest, RandomBytesHaveRequestedLengthAndVary) {
  for (size_t length : {0u, 1u, 16u, 1024u}) {
    auto bytes = RandomBytes(length);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(bytes->size(), length);
  }
  auto first = RandomBytes(32);
  auto second = RandomBytes(32);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
}

}  // namespace
}  // namespace kiscsi

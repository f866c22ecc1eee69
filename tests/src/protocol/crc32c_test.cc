#include "src/protocol/crc32c.h"

#include <array>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace kiscsi {
namespace {

// RFC 3720 appendix B.4 test vectors.
TEST(Crc32cTest, ThirtyTwoZeroBytes) {
  const std::vector<uint8_t> bytes(32, 0x00);
  EXPECT_EQ(Crc32c(bytes), 0x8a9136aau);
}

TEST(Crc32cTest, ThirtyTwoOnesBytes) {
  const std::vector<uint8_t> bytes(32, 0xff);
  EXPECT_EQ(Crc32c(bytes), 0x62a8ab43u);
}

TEST(Crc32cTest, IncrementingBytes) {
  std::vector<uint8_t> bytes(32);
  for (int i = 0; i < 32; ++i) bytes[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(Crc32c(bytes), 0x46dd794eu);
}

TEST(Crc32cTest, DecrementingBytes) {
  std::vector<uint8_t> bytes(32);
  for (int i = 0; i < 32; ++i) bytes[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(Crc32c(bytes), 0x113fdb5cu);
}

// The SCSI Read (10) command PDU of RFC 3720 B.4 and the digest bytes it lists.
TEST(Crc32cTest, IscsiReadCommandPduOnTheWire) {
  const std::array<uint8_t, 48> bhs = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,  //
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,  //
      0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
      0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  uint8_t wire[4];
  Crc32cToWire(Crc32c(bhs), wire);
  EXPECT_EQ(wire[0], 0x56);
  EXPECT_EQ(wire[1], 0x3a);
  EXPECT_EQ(wire[2], 0x96);
  EXPECT_EQ(wire[3], 0xd9);
}

TEST(Crc32cTest, WireByteOrderOfZeroVector) {
  const std::vector<uint8_t> bytes(32, 0x00);
  uint8_t wire[4];
  Crc32cToWire(Crc32c(bytes), wire);
  EXPECT_EQ(wire[0], 0xaa);
  EXPECT_EQ(wire[1], 0x36);
  EXPECT_EQ(wire[2], 0x91);
  EXPECT_EQ(wire[3], 0x8a);
  EXPECT_EQ(Crc32cFromWire(wire), 0x8a9136aau);
}

TEST(Crc32cTest, EmptyInputIsZero) { EXPECT_EQ(Crc32c({}), 0u); }

TEST(Crc32cTest, ChainingEqualsOneShotAtEverySplit) {
  std::vector<uint8_t> bytes(100);
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(i * 37 + 11);
  }
  const uint32_t whole = Crc32c(bytes);
  const absl::Span<const uint8_t> span(bytes);
  for (size_t split = 0; split <= bytes.size(); ++split) {
    EXPECT_EQ(Crc32c(span.subspan(split), Crc32c(span.subspan(0, split))),
              whole)
        << "split at " << split;
  }
}

// The standard CRC-32C check value ("123456789"), which also exercises the
// bytewise tail after an 8-byte block.
TEST(Crc32cTest, CheckValue) {
  const std::vector<uint8_t> bytes = {'1', '2', '3', '4', '5',
                                      '6', '7', '8', '9'};
  EXPECT_EQ(Crc32c(bytes), 0xe3069283u);
}

}  // namespace
}  // namespace kiscsi

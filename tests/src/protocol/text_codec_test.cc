#include "src/protocol/text_codec.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

// Decodes `s` (which may hold NULs) and returns the status message.
std::string DecodeError(const std::string& s, const TextLimits& limits = {}) {
  auto pairs = DecodeText(Bytes(s), limits);
  if (pairs.ok()) return "ok";
  EXPECT_EQ(pairs.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(pairs.status().message());
}

using namespace std::string_literals;  // "..."s keeps embedded NULs

TEST(EncodeTextTest, GoldenBytes) {
  EXPECT_EQ(EncodeText({{"InitiatorName", "iqn.x"}, {"TargetAlias", ""}}),
            Bytes("InitiatorName=iqn.x\0TargetAlias=\0"s));
  EXPECT_TRUE(EncodeText({}).empty());
}

TEST(DecodeTextTest, RoundTrip) {
  const TextPairs pairs = {{"HeaderDigest", "CRC32C,None"},
                           {"MaxRecvDataSegmentLength", "262144"},
                           {"TargetAlias", ""},
                           {"X-com.example.key_1+@", "a=b=c"}};
  auto decoded = DecodeText(EncodeText(pairs));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, pairs);
}

TEST(DecodeTextTest, EmptyInputHasNoPairs) {
  auto decoded = DecodeText({});
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(DecodeTextTest, EmptyValue) {
  auto decoded = DecodeText(Bytes("TargetAlias=\0"s));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_THAT(*decoded, ElementsAre(TextPair{"TargetAlias", ""}));
}

TEST(DecodeTextTest, TrailingNulsAreAllowed) {
  auto decoded = DecodeText(Bytes("a=1\0b=2\0\0\0\0"s));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_THAT(*decoded, ElementsAre(TextPair{"a", "1"}, TextPair{"b", "2"}));
  EXPECT_EQ(DecodeError("\0\0"s), "ok");
}

TEST(DecodeTextTest, StrayNulBetweenPairsIsAnError) {
  EXPECT_EQ(DecodeError("a=1\0\0b=2\0"s),
            "empty text pair (a stray NUL byte) at offset 4");
}

TEST(DecodeTextTest, UnterminatedPairIsAnError) {
  EXPECT_EQ(DecodeError("a=1\0b=2"s),
            "text pair \"b=2\": not terminated by a NUL byte");
}

TEST(DecodeTextTest, PairWithoutEqualsIsAnError) {
  EXPECT_EQ(DecodeError("SendTargets\0"s),
            "text pair \"SendTargets\": no '=' between key and value");
}

TEST(DecodeTextTest, EmptyKeyIsAnError) {
  EXPECT_EQ(DecodeError("=value\0"s), "text pair \"=value\": empty key");
}

TEST(DecodeTextTest, BadKeyCharactersAreEscapedInTheMessage) {
  EXPECT_EQ(DecodeError("Bad\x01Key=v\0"s),
            "text pair \"Bad\\x01Key=v\": key has the character '\\x01', which "
            "RFC 7143 does not allow in key names");
  EXPECT_THAT(DecodeError("a b=c\0"s), HasSubstr("the character ' '"));
  EXPECT_THAT(DecodeError("a/b=c\0"s), HasSubstr("the character '/'"));
}

TEST(DecodeTextTest, KeyLengthLimit) {
  const std::string key63(63, 'k');
  EXPECT_EQ(DecodeError(key63 + "=v\0"s), "ok");
  EXPECT_THAT(DecodeError(key63 + "k=v\0"s),
              HasSubstr("key of 64 bytes, over the limit of 63"));
}

TEST(DecodeTextTest, LongPairsAreTruncatedInMessages) {
  const std::string message = DecodeError(std::string(100, 'k') + "=v\0"s);
  EXPECT_THAT(message,
              HasSubstr("text pair \"" + std::string(32, 'k') + "...\""));
  EXPECT_LT(message.size(), 120u);
}

TEST(DecodeTextTest, ValueLengthLimit) {
  TextLimits limits;
  limits.max_value_length = 4;
  EXPECT_EQ(DecodeError("k=1234\0"s, limits), "ok");
  EXPECT_THAT(DecodeError("k=12345\0"s, limits),
              HasSubstr("value of 5 bytes, over the limit of 4"));
}

// Bytes bound an exchange, not a count of pairs: 2100 targets' names and
// addresses (4200 pairs) decode.
TEST(DecodeTextTest, NoLimitOnTheNumberOfPairs) {
  TextPairs pairs;
  for (int i = 0; i < 2100; ++i) {
    pairs.push_back(
        {"TargetName", "iqn.2024-01.com.example:t" + std::to_string(i)});
    pairs.push_back({"TargetAddress", "192.0.2.1:3260,1"});
  }
  auto decoded = DecodeText(EncodeText(pairs));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->size(), 4200u);
}

TEST(DecodeTextTest, TotalLengthLimit) {
  TextLimits limits;
  limits.max_total_length = 8;
  EXPECT_EQ(DecodeError("a=1\0b=2\0"s, limits), "ok");
  EXPECT_EQ(DecodeError("a=1\0b=22\0"s, limits),
            "text of 9 bytes, over the limit of 8");
}

TEST(DecodeTextTest, ValuesMustBeUtf8) {
  EXPECT_EQ(
      DecodeError("TargetAlias=caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xbe\0"s),
      "ok");
  EXPECT_THAT(DecodeError("TargetAlias=caf\xe9\0"s),
              HasSubstr("value is not UTF-8 (byte 3)"));
  // Overlong
  EXPECT_THAT(DecodeError("k=\xc0\xaf\0"s), HasSubstr("not UTF-8"));
  // Surrogate
  EXPECT_THAT(DecodeError("k=\xed\xa0\x80\0"s), HasSubstr("not UTF-8"));
  // Above U+10FFFF
  EXPECT_THAT(DecodeError("k=\xf4\x90\x80\x80\0"s), HasSubstr("not UTF-8"));
  // Truncated
  EXPECT_THAT(DecodeError("k=\xe2\x82\0"s), HasSubstr("not UTF-8"));
}

TEST(FindTextValueTest, FirstMatchOrNull) {
  const TextPairs pairs = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  const std::string* value = FindTextValue(pairs, "a");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, "1");
  EXPECT_EQ(FindTextValue(pairs, "c"), nullptr);
  EXPECT_EQ(FindTextValue(pairs, "A"), nullptr);
}

TEST(SplitTextSegmentsTest, SplitsAnywhere) {
  const std::vector<uint8_t> bytes = Bytes("abc=defgh\0"s);
  const auto segments = SplitTextSegments(bytes, 4);
  EXPECT_THAT(segments,
              ElementsAre(Bytes("abc="), Bytes("defg"), Bytes("h\0"s)));
}

TEST(SplitTextSegmentsTest, EmptyInputGivesOneEmptySegment) {
  const auto segments = SplitTextSegments({}, 512);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_TRUE(segments[0].empty());
}

TEST(SplitTextSegmentsTest, ZeroMaxMeansOneByte) {
  EXPECT_EQ(SplitTextSegments(Bytes("ab"), 0).size(), 2u);
}

TEST(TextAssemblerTest, ReassemblesPairsSplitAcrossPdus) {
  TextPairs pairs;
  for (int i = 0; i < 50; ++i) {
    pairs.push_back(
        {"TargetName", "iqn.2024-01.com.example:target" + std::to_string(i)});
    pairs.push_back(
        {"TargetAddress", "192.0.2." + std::to_string(i) + ":3260,1"});
  }
  const auto segments = SplitTextSegments(EncodeText(pairs), 512);
  ASSERT_GT(segments.size(), 2u);
  TextAssembler assembler;
  for (size_t i = 0; i < segments.size(); ++i) {
    EXPECT_FALSE(assembler.complete());
    ASSERT_TRUE(assembler.Append(segments[i], i + 1 < segments.size()).ok());
  }
  EXPECT_TRUE(assembler.complete());
  auto decoded = assembler.Take();
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, pairs);

  // Ready for the next exchange.
  EXPECT_FALSE(assembler.complete());
  ASSERT_TRUE(assembler.Append(Bytes("a=1\0"s), false).ok());
  auto next = assembler.Take();
  ASSERT_TRUE(next.ok());
  EXPECT_THAT(*next, ElementsAre(TextPair{"a", "1"}));
}

TEST(TextAssemblerTest, TakeBeforeCompleteFails) {
  TextAssembler assembler;
  ASSERT_TRUE(assembler.Append(Bytes("a=1\0"s), true).ok());
  EXPECT_EQ(assembler.Take().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TextAssemblerTest, AppendAfterCompleteFails) {
  TextAssembler assembler;
  ASSERT_TRUE(assembler.Append(Bytes("a=1\0"s), false).ok());
  EXPECT_EQ(assembler.Append(Bytes("b=2\0"s), false).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TextAssemblerTest, TotalLimitAcrossSegments) {
  TextLimits limits;
  limits.max_total_length = 10;
  TextAssembler assembler(limits);
  ASSERT_TRUE(assembler.Append(Bytes("abcdef"), true).ok());
  const absl::Status status = assembler.Append(Bytes("ghijk"), true);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "text exchange of at least 11 bytes, over the limit of 10");
}

TEST(TextAssemblerTest, DecodeErrorsSurfaceFromTake) {
  TextAssembler assembler;
  ASSERT_TRUE(assembler.Append(Bytes("no-equals\0"s), false).ok());
  EXPECT_THAT(std::string(assembler.Take().status().message()),
              HasSubstr("no '=' between key and value"));
  EXPECT_FALSE(assembler.complete());
}

// Decodes `pieces` through a TextStreamDecoder.
absl::StatusOr<TextPairs> DecodeStream(const std::vector<std::string>& pieces,
                                       const TextLimits& limits = {}) {
  TextStreamDecoder decoder(limits);
  for (const std::string& piece : pieces) {
    absl::Status appended = decoder.Append(Bytes(piece));
    if (!appended.ok()) return appended;
  }
  return decoder.Finish();
}

TEST(TextStreamDecoderTest, PairsCutAnywhereAcrossPieces) {
  TextPairs pairs;
  for (int i = 0; i < 40; ++i) {
    pairs.push_back(
        {"TargetName", "iqn.2024-01.com.example:target" + std::to_string(i)});
    pairs.push_back({"TargetAddress", "192.0.2.1:3260,1"});
  }
  const std::vector<uint8_t> encoded = EncodeText(pairs);
  // Every piece size from 1 byte up, so every cut point is tried: inside a
  // key, on '=', inside a value, right before and right after a NUL.
  for (size_t size = 1; size < 90; ++size) {
    std::vector<std::string> pieces;
    for (const auto& segment : SplitTextSegments(encoded, size))
      pieces.emplace_back(segment.begin(), segment.end());
    auto decoded = DecodeStream(pieces);
    ASSERT_TRUE(decoded.ok()) << size << ": " << decoded.status();
    EXPECT_EQ(*decoded, pairs) << size;
  }
}

TEST(TextStreamDecoderTest, TgtdStyleCutInTheMiddleOfAName) {
  auto decoded =
      DecodeStream({"TargetName=iqn.2024-01.org"s,
                    ".example:a\0TargetAddress=10.0.0.1:3260,1\0Target"s,
                    "Name=iqn.2024-01.org.example:b\0"s});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_THAT(*decoded,
              ElementsAre(TextPair{"TargetName", "iqn.2024-01.org.example:a"},
                          TextPair{"TargetAddress", "10.0.0.1:3260,1"},
                          TextPair{"TargetName", "iqn.2024-01.org.example:b"}));
}

TEST(TextStreamDecoderTest, PaddingEndsAPieceButAStrayNulIsAnError) {
  auto padded = DecodeStream({"a=1\0\0\0"s, "b=2\0"s});
  ASSERT_TRUE(padded.ok()) << padded.status();
  EXPECT_THAT(*padded, ElementsAre(TextPair{"a", "1"}, TextPair{"b", "2"}));
  EXPECT_THAT(std::string(DecodeStream({"a=1\0\0b=2\0"s}).status().message()),
              HasSubstr("stray NUL byte"));
}

TEST(TextStreamDecoderTest, UnterminatedPairAtTheEndIsNamed) {
  auto decoded = DecodeStream({"a=1\0TargetN"s, "ame=iqn"s});
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(std::string(decoded.status().message()),
              HasSubstr("\"TargetName=iqn\": not terminated by a NUL byte"));
}

TEST(TextStreamDecoderTest, LimitsHold) {
  TextLimits limits;
  limits.max_total_length = 10;
  EXPECT_EQ(DecodeStream({"a=1\0b=2\0"s, "c=3\0"s}, limits).status().message(),
            "text exchange of at least 12 bytes, over the limit of 10");
  limits = {};
  limits.max_key_length = 1;
  limits.max_value_length = 8;
  // A partial pair cannot grow past what a key and value may hold.
  EXPECT_THAT(
      std::string(
          DecodeStream({"k=123", "456789", "0123"}, limits).status().message()),
      HasSubstr("longer than the key and value limits"));
  EXPECT_THAT(
      std::string(
          DecodeStream({"k=12", "3456789\0"s}, limits).status().message()),
      HasSubstr("value of 9 bytes"));
  EXPECT_THAT(std::string(DecodeStream({"no", "equals\0"s}).status().message()),
              HasSubstr("\"noequals\": no '='"));
}

}  // namespace
}  // namespace kiscsi

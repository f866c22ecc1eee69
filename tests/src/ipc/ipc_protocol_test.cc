// Golden bytes, round trips and rejection of malformed messages for the
// kiscsiadm <-> kiscsid protocol.
#include "src/ipc/ipc_protocol.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"

namespace kiscsi::ipc {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> Bytes(std::initializer_list<int> values) {
  std::vector<uint8_t> bytes;
  for (int value : values) bytes.push_back(static_cast<uint8_t>(value));
  return bytes;
}

void Append(std::vector<uint8_t>& bytes, const std::string& text) {
  bytes.insert(bytes.end(), text.begin(), text.end());
}

std::vector<uint8_t> HeaderBytes(uint16_t version, uint16_t type, uint32_t id,
                                 uint32_t length) {
  return Bytes(
      {'K', 'S', 'C', 'I', version >> 8, version & 0xff, type >> 8, type & 0xff,
       static_cast<int>(id >> 24), static_cast<int>((id >> 16) & 0xff),
       static_cast<int>((id >> 8) & 0xff), static_cast<int>(id & 0xff),
       static_cast<int>(length >> 24), static_cast<int>((length >> 16) & 0xff),
       static_cast<int>((length >> 8) & 0xff),
       static_cast<int>(length & 0xff)});
}

absl::Span<const uint8_t> PayloadOf(const std::vector<uint8_t>& message) {
  return absl::MakeConstSpan(message).subspan(kHeaderSize);
}

// Decodes a whole encoded request through DecodeHeader and DecodeRequest.
absl::StatusOr<Request> Decode(const std::vector<uint8_t>& message) {
  absl::StatusOr<Header> header = DecodeHeader(message);
  if (!header.ok()) return header.status();
  EXPECT_EQ(header->payload_length, message.size() - kHeaderSize);
  return DecodeRequest(*header, PayloadOf(message));
}

TEST(IpcProtocolTest, PingGoldenBytes) {
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeRequest(1, PingRequest{});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, HeaderBytes(1, 1, 1, 0));
}

TEST(IpcProtocolTest, LoginGoldenBytes) {
  LoginRequest login{{"iqn.x", "10.0.0.1", 3260, std::nullopt, "default"}};
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeRequest(7, login);
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> expected = HeaderBytes(1, 2, 7, 48);
  for (int b : {0x00, 0x01, 0x00, 0x00, 0x00, 0x05}) expected.push_back(b);
  Append(expected, "iqn.x");
  for (int b : {0x00, 0x02, 0x00, 0x00, 0x00, 0x08}) expected.push_back(b);
  Append(expected, "10.0.0.1");
  for (int b : {0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x0c, 0xbc}) {
    expected.push_back(b);
  }
  for (int b : {0x00, 0x04, 0x00, 0x00, 0x00, 0x07}) expected.push_back(b);
  Append(expected, "default");
  EXPECT_EQ(*bytes, expected);
  absl::StatusOr<Request> decoded = Decode(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, Request(login));
}

TEST(IpcProtocolTest, ReplyGoldenBytes) {
  Reply reply;
  reply.code = absl::StatusCode::kNotFound;
  reply.exit_code = ExitCode::kNoObjectsFound;
  reply.message = "No records found";
  reply.out_lines = {"a"};
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeReply(3, reply);
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> expected = HeaderBytes(1, 128, 3, 49);
  for (int b : {0x00, 0x10, 0, 0, 0, 4, 0, 0, 0, 5}) expected.push_back(b);
  for (int b : {0x00, 0x11, 0, 0, 0, 4, 0, 0, 0, 21}) expected.push_back(b);
  for (int b : {0x00, 0x12, 0, 0, 0, 16}) expected.push_back(b);
  Append(expected, "No records found");
  for (int b : {0x00, 0x13, 0, 0, 0, 1}) expected.push_back(b);
  Append(expected, "a");
  EXPECT_EQ(*bytes, expected);

  absl::StatusOr<Reply> decoded = DecodeReply(PayloadOf(*bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, reply);
}

TEST(IpcProtocolTest, LoginFilterAndProgressGoldenBytes) {
  LoginRequest login;
  login.nodes.target = "iqn.x";
  login.nodes.tpgt = 2;
  login.progress = true;
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeRequest(9, login);
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> expected = HeaderBytes(1, 2, 9, 31);
  for (int b : {0x00, 0x01, 0x00, 0x00, 0x00, 0x05}) expected.push_back(b);
  Append(expected, "iqn.x");
  for (int b : {0x00, 0x08, 0, 0, 0, 4, 0, 0, 0, 2}) expected.push_back(b);
  for (int b : {0x00, 0x09, 0, 0, 0, 4, 0, 0, 0, 1}) expected.push_back(b);
  EXPECT_EQ(*bytes, expected);
  EXPECT_TRUE(WantsProgress(login));
  EXPECT_FALSE(WantsProgress(LoginRequest{}));
  EXPECT_TRUE(WantsProgress(LoginAllRequest{StartupFilter::kAll, true}));
  EXPECT_FALSE(WantsProgress(PingRequest{}));
}

TEST(IpcProtocolTest, ProgressGoldenBytes) {
  absl::StatusOr<std::vector<uint8_t>> bytes =
      EncodeProgress(4, {"Logging in to x", ""});
  ASSERT_TRUE(bytes.ok());
  std::vector<uint8_t> expected = HeaderBytes(1, 129, 4, 27);
  for (int b : {0x00, 0x13, 0, 0, 0, 15}) expected.push_back(b);
  Append(expected, "Logging in to x");
  for (int b : {0x00, 0x13, 0, 0, 0, 0}) expected.push_back(b);
  EXPECT_EQ(*bytes, expected);
  absl::StatusOr<std::vector<std::string>> lines =
      DecodeProgress(PayloadOf(*bytes));
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ(*lines, (std::vector<std::string>{"Logging in to x", ""}));
}

TEST(IpcProtocolTest, BadLoginFiltersAreRefused) {
  // tpgt 65536, progress 2, a NUL byte in a progress line.
  EXPECT_FALSE(
      DecodeRequest(Header{kProtocolVersion, MessageType::kLogin, 1, 10},
                    Bytes({0, 8, 0, 0, 0, 4, 0, 1, 0, 0}))
          .ok());
  EXPECT_FALSE(
      DecodeRequest(Header{kProtocolVersion, MessageType::kLoginAll, 1, 20},
                    Bytes({0, 6, 0, 0, 0, 4, 0, 0, 0, 0,  //
                           0, 9, 0, 0, 0, 4, 0, 0, 0, 2}))
          .ok());
  EXPECT_FALSE(DecodeProgress(Bytes({0, 0x13, 0, 0, 0, 1, 0})).ok());
  // A Progress message is not a request.
  EXPECT_FALSE(
      DecodeRequest(Header{kProtocolVersion, MessageType::kProgress, 1, 0}, {})
          .ok());
}

TEST(IpcProtocolTest, EveryRequestRoundTrips) {
  const std::vector<Request> requests = {
      PingRequest{},
      LoginRequest{{"iqn.2001-04.com.example:disk", "fe80::1", 65535,
                    std::nullopt, "eth0"}},
      LoginRequest{{"iqn.x", "10.0.0.1", 3260, 1, "default"}, true},
      LoginRequest{
          {"iqn.x", std::nullopt, std::nullopt, std::nullopt, std::nullopt},
          true},
      LoginRequest{
          {std::nullopt, "10.0.0.1", std::nullopt, 65535, std::nullopt}},
      LoginRequest{},
      LoginRequest{{}, true, /*firmware=*/true},
      LogoutRequest{42},
      LogoutRequest{},
      LogoutRequest{std::nullopt,
                    {"iqn.x", "fd00::1", std::nullopt, 1, "default"}},
      LogoutRequest{
          7, {std::nullopt, "10.0.0.1", 3261, std::nullopt, std::nullopt}},
      LogoutAllRequest{StartupFilter::kManual},
      LoginAllRequest{StartupFilter::kOnboot},
      LoginAllRequest{StartupFilter::kAll, true},
      StatsRequest{7},
      StatsRequest{std::nullopt},
      ReloadRequest{},
  };
  uint32_t id = 1;
  for (const Request& request : requests) {
    absl::StatusOr<std::vector<uint8_t>> bytes = EncodeRequest(id, request);
    ASSERT_TRUE(bytes.ok());
    absl::StatusOr<Header> header = DecodeHeader(*bytes);
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(header->request_id, id);
    EXPECT_EQ(header->type, TypeOf(request));
    absl::StatusOr<Request> decoded = DecodeRequest(*header, PayloadOf(*bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, request) << MessageTypeName(TypeOf(request));
    ++id;
  }
}

TEST(IpcProtocolTest, ReplyWithLinesRoundTrips) {
  Reply reply;
  reply.out_lines = {"tcp: [1] 10.0.0.1:3260,1 iqn.x (non-flash)", "", "b"};
  reply.err_lines = {"warning: one", "warning: two"};
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeReply(5, reply);
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<Reply> decoded = DecodeReply(PayloadOf(*bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, reply);
}

// The reply fields of success (status 0, exit code 0, empty message).
std::vector<uint8_t> OkReplyFields() {
  return Bytes({0, 0x10, 0, 0, 0, 4, 0, 0, 0, 0,  //
                0, 0x11, 0, 0, 0, 4, 0, 0, 0, 0,  //
                0, 0x12, 0, 0, 0, 0});
}

TEST(IpcProtocolTest, StatsReplyGoldenBytes) {
  Reply reply;
  reply.stats.push_back(
      SessionStats{3, {{"txdata_octets", 0x100000000}}, {{"eh_abort_cnt", 2}}});
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeReply(4, reply);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  std::vector<uint8_t> expected = HeaderBytes(1, 128, 4, 26 + 6 + 51);
  const std::vector<uint8_t> fields = OkReplyFields();
  expected.insert(expected.end(), fields.begin(), fields.end());
  for (int b : {0x00, 0x15, 0, 0, 0, 51}) expected.push_back(b);  // tag 21
  for (int b : {0, 0, 0, 3, 0, 1, 0, 1}) expected.push_back(b);   // sid, 1, 1
  expected.push_back(13);
  Append(expected, "txdata_octets");
  for (int b : {0, 0, 0, 1, 0, 0, 0, 0}) expected.push_back(b);  // 2^32
  expected.push_back(12);
  Append(expected, "eh_abort_cnt");
  for (int b : {0, 0, 0, 0, 0, 0, 0, 2}) expected.push_back(b);
  EXPECT_EQ(*bytes, expected);

  absl::StatusOr<Reply> decoded = DecodeReply(PayloadOf(*bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, reply);
}

TEST(IpcProtocolTest, StatsOfSeveralSessionsRoundTrip) {
  Reply reply;
  reply.stats = {SessionStats{1, {{"scsicmd_pdus", 19}, {"digest_err", 0}}, {}},
                 SessionStats{2, {}, {}},
                 SessionStats{7,
                              {{std::string(255, 'n'), ~uint64_t{0}}},
                              {{"tx_sendpage_failures", 0}}}};
  reply.out_lines = {"a"};
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeReply(5, reply);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<Reply> decoded = DecodeReply(PayloadOf(*bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, reply);
}

TEST(IpcProtocolTest, UnnameableCountersAreNotEncoded) {
  for (const std::string& name :
       {std::string(), std::string(256, 'n'), std::string("a\0b", 3)}) {
    Reply reply;
    reply.stats = {SessionStats{1, {}, {{name, 1}}}};
    absl::StatusOr<std::vector<uint8_t>> bytes = EncodeReply(1, reply);
    ASSERT_FALSE(bytes.ok()) << name.size();
    EXPECT_THAT(bytes.status().message(), HasSubstr("a counter named"));
    EXPECT_EQ(ExitCodeOf(bytes.status()), ExitCode::kInvalid);
  }
}

TEST(IpcProtocolTest, MalformedStatsRecordsAreRejected) {
  // sid 1, one SNMP counter "ab" = 5.
  const std::vector<uint8_t> record =
      Bytes({0, 0, 0, 1, 0, 1, 0, 0, 2, 'a', 'b', 0, 0, 0, 0, 0, 0, 0, 5});
  auto reply_with = [](const std::vector<uint8_t>& value) {
    std::vector<uint8_t> payload = OkReplyFields();
    for (int b : {0x00, 0x15, 0, 0, 0, static_cast<int>(value.size())}) {
      payload.push_back(static_cast<uint8_t>(b));
    }
    payload.insert(payload.end(), value.begin(), value.end());
    return DecodeReply(payload);
  };
  absl::StatusOr<Reply> whole = reply_with(record);
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(whole->stats.size(), 1u);
  EXPECT_EQ(whole->stats[0], (SessionStats{1, {{"ab", 5}}, {}}));

  for (size_t length = 0; length < record.size(); ++length) {
    absl::StatusOr<Reply> cut = reply_with(
        std::vector<uint8_t>(record.begin(), record.begin() + length));
    ASSERT_FALSE(cut.ok()) << length;
    EXPECT_EQ(ExitCodeOf(cut.status()), ExitCode::kDaemonComm);
  }
  std::vector<uint8_t> longer = record;
  longer.push_back(0);
  EXPECT_THAT(reply_with(longer).status().message(),
              HasSubstr("bytes after the last stats counter"));
  std::vector<uint8_t> nul = record;
  nul[10] = 0;
  EXPECT_THAT(reply_with(nul).status().message(), HasSubstr("NUL byte"));
  std::vector<uint8_t> unnamed =
      Bytes({0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5});
  EXPECT_THAT(reply_with(unnamed).status().message(),
              HasSubstr("unnamed stats counter"));
}

TEST(IpcProtocolTest, StatusConversions) {
  absl::Status failure = WithExitCode(absl::NotFoundError("no session 3"),
                                      ExitCode::kSessionNotFound);
  Reply reply = ReplyFromStatus(failure);
  EXPECT_EQ(reply.code, absl::StatusCode::kNotFound);
  EXPECT_EQ(reply.exit_code, ExitCode::kSessionNotFound);
  EXPECT_EQ(reply.message, "no session 3");
  absl::Status back = ReplyStatus(reply);
  EXPECT_EQ(back.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(back.message(), "no session 3");
  EXPECT_EQ(ExitCodeOf(back), ExitCode::kSessionNotFound);
  EXPECT_TRUE(ReplyStatus(ReplyFromStatus(absl::OkStatus())).ok());
}

TEST(IpcProtocolTest, StartupFilterNames) {
  for (absl::string_view name : {"all", "manual", "automatic", "onboot"}) {
    absl::StatusOr<StartupFilter> filter = ParseStartupFilter(name);
    ASSERT_TRUE(filter.ok()) << name;
    EXPECT_EQ(StartupFilterName(*filter), name);
  }
  absl::StatusOr<StartupFilter> bad = ParseStartupFilter("Automatic");
  EXPECT_EQ(ExitCodeOf(bad.status()), ExitCode::kInvalid);
  EXPECT_THAT(bad.status().message(), HasSubstr("'Automatic'"));
}

TEST(IpcProtocolTest, UnknownFieldsAreSkipped) {
  std::vector<uint8_t> message = HeaderBytes(1, 3, 2, 20);
  for (int b : {0x7f, 0xff, 0, 0, 0, 4, 1, 2, 3, 4}) message.push_back(b);
  for (int b : {0x00, 0x05, 0, 0, 0, 4, 0, 0, 1, 0}) message.push_back(b);
  absl::StatusOr<Request> decoded = Decode(message);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, Request(LogoutRequest{256}));
}

struct MalformedCase {
  const char* name;
  uint16_t type;
  std::vector<uint8_t> payload;
  const char* error;
};

TEST(IpcProtocolTest, MalformedPayloadsAreRejected) {
  const std::vector<MalformedCase> cases = {
      {"missing filter", 4, {}, "required field 6 is missing"},
      {"truncated field header", 3, Bytes({0, 5, 0}), "truncated field header"},
      {"overrun", 3, Bytes({0, 5, 0, 0, 0, 9, 0, 0, 0, 1}), "overruns"},
      {"short u32", 3, Bytes({0, 5, 0, 0, 0, 2, 0, 1}), "expected 4"},
      {"repeated sid", 3,
       Bytes({0, 5, 0, 0, 0, 4, 0, 0, 0, 1, 0, 5, 0, 0, 0, 4, 0, 0, 0, 2}),
       "repeats"},
      {"bad filter", 5, Bytes({0, 6, 0, 0, 0, 4, 0, 0, 0, 4}),
       "unknown startup filter 4"},
      {"port too big", 2, Bytes({0, 1, 0, 0, 0, 1, 't',           // target
                                 0, 2, 0, 0, 0, 1, 'a',           // address
                                 0, 3, 0, 0, 0, 4, 0,   1, 0, 0,  // port 65536
                                 0, 4, 0, 0, 0, 0}),              // iface
       "port 65536"},
      {"NUL in text", 2,
       Bytes({0, 1, 0, 0, 0, 2, 't', 0, 0, 2, 0, 0, 0, 1, 'a', 0,
              3, 0, 0, 0, 4, 0, 0,   0, 1, 0, 4, 0, 0, 0, 0}),
       "NUL byte"},
  };
  for (const MalformedCase& c : cases) {
    Header header;
    header.type = static_cast<MessageType>(c.type);
    header.payload_length = static_cast<uint32_t>(c.payload.size());
    absl::StatusOr<Request> decoded = DecodeRequest(header, c.payload);
    ASSERT_FALSE(decoded.ok()) << c.name;
    EXPECT_THAT(decoded.status().message(), HasSubstr(c.error)) << c.name;
    EXPECT_EQ(ExitCodeOf(decoded.status()), ExitCode::kDaemonComm) << c.name;
  }
}

TEST(IpcProtocolTest, UnknownRequestTypeIsInvalidRequest) {
  for (uint16_t type : {0, 6, 7, 10, 128, 0xffff}) {
    Header header;
    header.type = static_cast<MessageType>(type);
    absl::StatusOr<Request> decoded = DecodeRequest(header, {});
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(ExitCodeOf(decoded.status()), ExitCode::kInvalidRequest);
    EXPECT_THAT(decoded.status().message(),
                HasSubstr("unknown request type " + std::to_string(type)));
  }
}

TEST(IpcProtocolTest, VersionMismatchNamesBothVersions) {
  Header header;
  header.version = 2;
  absl::StatusOr<Request> decoded = DecodeRequest(header, {});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(),
            "kiscsiadm speaks protocol 2, kiscsid 1: restart kiscsid after "
            "upgrading");
  EXPECT_EQ(ExitCodeOf(decoded.status()), ExitCode::kDaemonComm);

  // Seen from the CLI, with a newer daemon.
  EXPECT_EQ(VersionMismatchError(3, /*peer_is_daemon=*/true).message(),
            "kiscsiadm speaks protocol 1, kiscsid 3: use the kiscsiadm "
            "installed with the running kiscsid");
}

TEST(IpcProtocolTest, BadHeadersAreRejected) {
  std::vector<uint8_t> bad_magic = HeaderBytes(1, 1, 1, 0);
  bad_magic[3] = '1';
  EXPECT_THAT(DecodeHeader(bad_magic).status().message(),
              HasSubstr("bad magic"));
  EXPECT_THAT(DecodeHeader(HeaderBytes(1, 1, 1, kMaxPayloadLength + 1))
                  .status()
                  .message(),
              HasSubstr("exceeds the limit"));
  EXPECT_TRUE(DecodeHeader(HeaderBytes(1, 1, 1, kMaxPayloadLength)).ok());
  EXPECT_FALSE(DecodeHeader(Bytes({'K', 'S', 'C', 'I'})).ok());
  // Any version passes the header check, for the mismatch reply.
  absl::StatusOr<Header> future = DecodeHeader(HeaderBytes(9, 77, 5, 0));
  ASSERT_TRUE(future.ok());
  EXPECT_EQ(future->version, 9);
  EXPECT_EQ(static_cast<int>(future->type), 77);
}

TEST(IpcProtocolTest, MalformedRepliesAreRejected) {
  // Success with a failure exit code.
  EXPECT_FALSE(DecodeReply(Bytes({0, 0x10, 0, 0, 0, 4, 0, 0, 0, 0,  //
                                  0, 0x11, 0, 0, 0, 4, 0, 0, 0, 5,  //
                                  0, 0x12, 0, 0, 0, 0}))
                   .ok());
  // Unknown status code.
  EXPECT_FALSE(DecodeReply(Bytes({0, 0x10, 0, 0, 0, 4, 0, 0, 0, 17,  //
                                  0, 0x11, 0, 0, 0, 4, 0, 0, 0, 1,   //
                                  0, 0x12, 0, 0, 0, 0}))
                   .ok());
  // No message.
  EXPECT_FALSE(DecodeReply(Bytes({0, 0x10, 0, 0, 0, 4, 0, 0, 0, 0,  //
                                  0, 0x11, 0, 0, 0, 4, 0, 0, 0, 0}))
                   .ok());
}

TEST(IpcProtocolTest, OversizedMessagesAreNotEncoded) {
  LoginRequest login{
      {std::string(kMaxPayloadLength, 'x'), "a", 1, std::nullopt, "default"}};
  absl::StatusOr<std::vector<uint8_t>> request = EncodeRequest(1, login);
  ASSERT_FALSE(request.ok());
  EXPECT_THAT(request.status().message(), HasSubstr("exceeds the limit"));

  Reply reply;
  reply.out_lines.assign(kMaxPayloadLength / 100, std::string(100, 'y'));
  EXPECT_FALSE(EncodeReply(1, reply).ok());
  // Just under the limit is fine: 6 bytes of field header per line.
  reply.out_lines.assign((kMaxPayloadLength - 64) / 106, std::string(100, 'y'));
  EXPECT_TRUE(EncodeReply(1, reply).ok());
}

TEST(IpcProtocolTest, TextWithNulIsNotEncoded) {
  Reply reply;
  reply.message = std::string("a\0b", 3);
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeReply(1, reply);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(bytes.status().message(), HasSubstr("NUL byte"));
}

TEST(MessageReaderTest, SplitsAStreamFedByteByByte) {
  std::vector<uint8_t> stream = *EncodeRequest(1, PingRequest{});
  std::vector<uint8_t> second = *EncodeRequest(2, LogoutRequest{5});
  stream.insert(stream.end(), second.begin(), second.end());
  MessageReader reader;
  std::vector<Message> messages;
  for (uint8_t byte : stream) {
    ASSERT_TRUE(reader.Feed(absl::MakeConstSpan(&byte, 1)).ok());
    while (std::optional<Message> message = reader.Next()) {
      messages.push_back(std::move(*message));
    }
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].header.request_id, 1u);
  EXPECT_TRUE(messages[0].payload.empty());
  EXPECT_EQ(messages[1].header.type, MessageType::kLogout);
  EXPECT_EQ(messages[1].payload.size(), 10u);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(MessageReaderTest, HoldsAPartialMessage) {
  std::vector<uint8_t> bytes = *EncodeRequest(1, LogoutRequest{5});
  MessageReader reader;
  ASSERT_TRUE(
      reader.Feed(absl::MakeConstSpan(bytes).subspan(0, bytes.size() - 1))
          .ok());
  EXPECT_FALSE(reader.Next().has_value());
  EXPECT_EQ(reader.buffered(), bytes.size() - 1);
  ASSERT_TRUE(
      reader.Feed(absl::MakeConstSpan(bytes).subspan(bytes.size() - 1)).ok());
  EXPECT_TRUE(reader.Next().has_value());
}

TEST(MessageReaderTest, BadHeaderIsFinal) {
  MessageReader reader;
  std::vector<uint8_t> oversized = HeaderBytes(1, 1, 1, kMaxPayloadLength + 1);
  absl::Status status = reader.Feed(oversized);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kDaemonComm);
  // Even a good message afterwards is refused: the stream is lost.
  EXPECT_FALSE(reader.Feed(*EncodeRequest(2, PingRequest{})).ok());
  EXPECT_FALSE(reader.Next().has_value());
}

}  // namespace
}  // namespace kiscsi::ipc

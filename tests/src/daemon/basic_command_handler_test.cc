// The daemon's own commands before sessions are wired in: Ping, Reload, and
// the refusal of everything else.
#include "src/daemon/basic_command_handler.h"

#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/base/exit_code.h"
#include "tests/src/ipc/socket_testing.h"

namespace kiscsi::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Runs a handler method that answers before returning.
template <typename Method>
ipc::Reply Answer(Method method) {
  std::optional<ipc::Reply> answer;
  method([&answer](ipc::Reply reply) { answer = std::move(reply); });
  EXPECT_TRUE(answer.has_value());
  return answer.value_or(ipc::Reply{});
}

class BasicCommandHandlerTest : public ::testing::Test {
 protected:
  void Write(const std::string& text) { std::ofstream(path_) << text; }

  std::string path_ = ipc::testing::MakeTempDir() + "/iscsid.conf";
  BasicCommandHandler handler_{path_, conf::IscsidConf()};
};

TEST_F(BasicCommandHandlerTest, PingNamesTheDaemon) {
  ipc::Reply reply =
      Answer([this](ReplyCallback done) { handler_.Ping(std::move(done)); });
  EXPECT_TRUE(ipc::ReplyStatus(reply).ok());
  EXPECT_THAT(
      reply.out_lines,
      ElementsAre(AllOf(StartsWith("kiscsid "),
                        HasSubstr(", pid " + std::to_string(::getpid())),
                        HasSubstr(", protocol 1"))));
}

TEST_F(BasicCommandHandlerTest, SessionRequestsAreNotSupportedYet) {
  const ipc::Request requests[] = {
      ipc::LoginRequest{"iqn.x", "192.0.2.1", 3260, std::nullopt, "default"},
      ipc::LogoutRequest{1},
      ipc::LogoutAllRequest{},
      ipc::LoginAllRequest{ipc::StartupFilter::kAutomatic},
      ipc::ListSessionsRequest{},
      ipc::RescanRequest{},
      ipc::StatsRequest{},
  };
  for (const ipc::Request& request : requests) {
    ipc::Reply reply = Answer([this, &request](ReplyCallback done) {
      Dispatch(
          handler_, request, [](std::vector<std::string>) {}, std::move(done));
    });
    EXPECT_EQ(reply.exit_code, ExitCode::kOperationNotSupported);
    EXPECT_EQ(reply.message,
              std::string(ipc::MessageTypeName(ipc::TypeOf(request))) +
                  ": not wired yet (this kiscsid cannot manage sessions)");
  }
}

TEST_F(BasicCommandHandlerTest, ReloadReadsTheFileAgain) {
  Write("node.session.cmds_max = 64\nnode.sesion.queue_depth = 8\n");
  ipc::Reply reply =
      Answer([this](ReplyCallback done) { handler_.Reload(std::move(done)); });
  EXPECT_TRUE(ipc::ReplyStatus(reply).ok()) << reply.message;
  EXPECT_THAT(reply.out_lines, ElementsAre("reloaded " + path_));
  // The typo is reported as a warning line.
  ASSERT_EQ(reply.err_lines.size(), 1u);
  EXPECT_THAT(reply.err_lines[0], StartsWith("warning: " + path_ + ":2:"));
  EXPECT_EQ(handler_.conf().GetInt("node.session.cmds_max"), 64);
}

TEST_F(BasicCommandHandlerTest, InvalidFileKeepsThePreviousSettings) {
  Write("node.session.cmds_max = 64\n");
  Answer([this](ReplyCallback done) { handler_.Reload(std::move(done)); });
  Write("node.session.cmds_max = abc\n");
  ipc::Reply reply =
      Answer([this](ReplyCallback done) { handler_.Reload(std::move(done)); });
  EXPECT_EQ(reply.exit_code, ExitCode::kInvalid);
  EXPECT_THAT(reply.message, HasSubstr(":1: invalid value 'abc'"));
  EXPECT_THAT(reply.message, HasSubstr("(keeping the previous settings)"));
  EXPECT_EQ(handler_.conf().GetInt("node.session.cmds_max"), 64);
}

}  // namespace
}  // namespace kiscsi::daemon

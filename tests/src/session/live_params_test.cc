#include "src/session/live_params.h"

#include <errno.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netlink/testing/fake_iscsi_kernel.h"
#include "src/base/unique_fd.h"

namespace kiscsi {
namespace {

using ::testing::ElementsAre;

class LiveParamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ours_ = UniqueFd(fds[0]);
    peer_ = UniqueFd(fds[1]);
    absl::StatusOr<CreatedSession> session = kernel_.CreateSession(1, 128, 32);
    ASSERT_TRUE(session.ok());
    sid_ = session->sid;
    absl::StatusOr<uint32_t> cid = kernel_.CreateConn(sid_, 0);
    ASSERT_TRUE(cid.ok());
    cid_ = *cid;
    ASSERT_TRUE(kernel_.BindConn(sid_, cid_, ours_.get(), true).ok());
  }

  // The SET_PARAM calls the fake saw, in order.
  std::vector<std::string> SetParamCalls() const {
    std::vector<std::string> calls;
    for (const std::string& call : kernel_.calls()) {
      if (call.rfind("SET_PARAM", 0) == 0) calls.push_back(call);
    }
    return calls;
  }

  static SessionTimeouts Timeouts() {
    SessionTimeouts t;
    t.recovery_tmo = 7;
    t.abort_tmo = 11;
    t.lu_reset_tmo = 12;
    t.tgt_reset_tmo = 13;
    t.noop_out_interval = 3;
    t.noop_out_timeout = 4;
    return t;
  }

  FakeIscsiKernel kernel_;
  UniqueFd ours_, peer_;
  uint32_t sid_ = 0, cid_ = 0;
};

TEST_F(LiveParamsTest, SetsEveryTimeoutFromTheRecord) {
  ASSERT_TRUE(ApplyTimeoutParams(kernel_, sid_, cid_, Timeouts()).ok());
  EXPECT_THAT(SetParamCalls(),
              ElementsAre("SET_PARAM 1 0 19=7", "SET_PARAM 1 0 27=11",
                          "SET_PARAM 1 0 28=12", "SET_PARAM 1 0 35=13",
                          "SET_PARAM 1 0 30=4", "SET_PARAM 1 0 31=3"));
  EXPECT_EQ(kernel_.GetParam(sid_, cid_, IscsiParam::kSessRecoveryTmo), "7");
  EXPECT_EQ(kernel_.GetParam(sid_, cid_, IscsiParam::kRecvTmo), "3");
}

// A kernel without a parameter (ENOSYS) is not a failure: the others are
// still set, for a login and for a live change alike.
TEST_F(LiveParamsTest, KernelWithoutAParameterIsNotAFailure) {
  kernel_.FailNext("SET_PARAM", -ENOSYS);
  ASSERT_TRUE(ApplyTimeoutParams(kernel_, sid_, cid_, Timeouts()).ok());
  EXPECT_EQ(kernel_.GetParam(sid_, cid_, IscsiParam::kSessRecoveryTmo),
            std::nullopt);
  EXPECT_EQ(kernel_.GetParam(sid_, cid_, IscsiParam::kAbortTmo), "11");
  EXPECT_EQ(kernel_.GetParam(sid_, cid_, IscsiParam::kPingTmo), "4");
  EXPECT_EQ(kernel_.GetParam(sid_, cid_, IscsiParam::kRecvTmo), "3");
}

TEST_F(LiveParamsTest, UnsupportedParameterIsSkippedToo) {
  kernel_.FailNext("SET_PARAM", -EOPNOTSUPP);
  EXPECT_TRUE(
      SetKernelParam(kernel_, sid_, cid_, IscsiParam::kFastAbort, "1").ok());
  EXPECT_EQ(kernel_.GetParam(sid_, cid_, IscsiParam::kFastAbort), std::nullopt);
}

TEST_F(LiveParamsTest, OtherErrorsStopAndAreReturned) {
  kernel_.FailNext("SET_PARAM", -ENOMEM);
  const absl::Status status =
      ApplyTimeoutParams(kernel_, sid_, cid_, Timeouts());
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_THAT(SetParamCalls(), ElementsAre("SET_PARAM 1 0 19=7"));
}

TEST_F(LiveParamsTest, UnknownConnectionIsAnError) {
  EXPECT_FALSE(ApplyTimeoutParams(kernel_, sid_, cid_ + 5, Timeouts()).ok());
}

}  // namespace
}  // namespace kiscsi

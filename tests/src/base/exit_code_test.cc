#include "src/base/exit_code.h"

#include "gtest/gtest.h"

namespace kiscsi {
namespace {

TEST(ExitCodeTest, OkIsSuccess) {
  EXPECT_EQ(ExitCodeOf(absl::OkStatus()), ExitCode::kSuccess);
}

TEST(ExitCodeTest, AttachedCodeWinsOverStatusCode) {
  absl::Status status = WithExitCode(absl::InvalidArgumentError("bad secret"),
                                     ExitCode::kLoginAuthFailed);
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kLoginAuthFailed);
  EXPECT_EQ(status.message(), "bad secret");
}

TEST(ExitCodeTest, DerivedFromStatusCode) {
  EXPECT_EQ(ExitCodeOf(absl::NotFoundError("x")), ExitCode::kNoObjectsFound);
  EXPECT_EQ(ExitCodeOf(absl::InvalidArgumentError("x")), ExitCode::kInvalid);
  EXPECT_EQ(ExitCodeOf(absl::UnavailableError("x")), ExitCode::kTransport);
  EXPECT_EQ(ExitCodeOf(absl::UnknownError("x")), ExitCode::kUnknown);
}

TEST(ExitCodeTest, InvalidParameterIsExit7) {
  absl::Status status = InvalidParameterError("invalid mode 'nodes'");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "invalid mode 'nodes'");
  EXPECT_EQ(ExitCodeOf(status), ExitCode::kInvalid);
}

TEST(ExitCodeTest, OkStaysOk) {
  EXPECT_TRUE(WithExitCode(absl::OkStatus(), ExitCode::kLogin).ok());
}

}  // namespace
}  // namespace kiscsi

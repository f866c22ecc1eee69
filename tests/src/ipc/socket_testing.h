// Helpers for tests that talk over unix sockets: temporary directories and a
// raw connection that sends arbitrary bytes and reads whole messages.
#ifndef KISCSI_TESTS_SRC_IPC_SOCKET_TESTING_H_
#define KISCSI_TESTS_SRC_IPC_SOCKET_TESTING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "src/base/unique_fd.h"
#include "src/ipc/ipc_protocol.h"

namespace kiscsi::ipc::testing {

// A new empty directory under the test's temporary directory, removed when
// the test binary exits (tests/src/base/temp_dir.h).
std::string MakeTempDir();

// A listening unix stream socket at `path`.
UniqueFd ListenAt(const std::string& path, int backlog = 16);

// A blocking client connection that speaks raw bytes.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path);
  explicit RawConnection(UniqueFd fd) : fd_(std::move(fd)) {}

  bool connected() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  void Send(const std::vector<uint8_t>& bytes);
  // The next whole message, or nullopt on end of stream, a bad header or
  // `timeout`.
  std::optional<Message> Read(absl::Duration timeout = absl::Seconds(10));
  // Whether the peer closes the connection within `timeout` (having sent
  // nothing more).
  bool ClosedWithin(absl::Duration timeout);

 private:
  UniqueFd fd_;
  MessageReader reader_;
};

// Decodes the reply in `message` (which must be one).
Reply ReplyIn(const Message& message);

}  // namespace kiscsi::ipc::testing

#endif  // KISCSI_TESTS_SRC_IPC_SOCKET_TESTING_H_

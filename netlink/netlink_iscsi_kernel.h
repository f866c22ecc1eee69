// IscsiKernel on the real kernel: NETLINK_ISCSI requests to
// scsi_transport_iscsi for the iscsi_tcp transport, and the events it
// multicasts back.
//
//   ASSIGN_OR_RETURN(uint64_t handle, ReadTransportHandle());
//   ASSIGN_OR_RETURN(auto kernel, NetlinkIscsiKernel::Open(handle));
//   ASSIGN_OR_RETURN(CreatedSession s, kernel->CreateSession(0, 128, 32));
//
// A refused request becomes a Status naming it and the kernel's errno:
// "BIND_CONN sid 3 cid 0: Transport endpoint is not connected (-107)".
#ifndef KISCSI_NETLINK_NETLINK_ISCSI_KERNEL_H_
#define KISCSI_NETLINK_NETLINK_ISCSI_KERNEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "netlink/iscsi_kernel.h"
#include "netlink/netlink_socket.h"

namespace kiscsi {

// The iscsi_tcp transport handle: <sysfs_root>/class/iscsi_transport/tcp/handle
// (a decimal number). When the handle is missing, runs `<modprobe_path> -q
// iscsi_tcp` first, once per process (ignoring its failure; an empty path
// skips it): later calls only look again. A transport still missing is an
// error with ExitCode kTransportNotFound.
absl::StatusOr<uint64_t> ReadTransportHandle(
    const std::string& sysfs_root = "/sys",
    const std::string& modprobe_path = "/sbin/modprobe");

class NetlinkIscsiKernel : public IscsiKernel {
 public:
  // Opens the NETLINK_ISCSI socket (see NetlinkSocket::Open for the errors).
  static absl::StatusOr<std::unique_ptr<NetlinkIscsiKernel>> Open(
      uint64_t transport_handle,
      const NetlinkSocketOptions& options = NetlinkSocketOptions());

  absl::StatusOr<CreatedSession> CreateSession(uint32_t initial_cmdsn,
                                               uint16_t cmds_max,
                                               uint16_t queue_depth) override;
  absl::Status DestroySession(uint32_t sid) override;
  absl::Status DestroySessionAsync(uint32_t sid) override;
  absl::Status UnbindSession(uint32_t sid) override;
  absl::StatusOr<uint32_t> CreateConn(uint32_t sid, uint32_t cid) override;
  absl::Status DestroyConn(uint32_t sid, uint32_t cid) override;
  absl::Status BindConn(uint32_t sid, uint32_t cid, int socket_fd,
                        bool is_leading) override;
  absl::Status SetParam(uint32_t sid, uint32_t cid, IscsiParam param,
                        absl::string_view value) override;
  absl::Status StartConn(uint32_t sid, uint32_t cid) override;
  absl::Status StopConn(uint32_t sid, uint32_t cid, StopConnFlag flag) override;
  absl::Status SendPdu(uint32_t sid, uint32_t cid,
                       absl::Span<const uint8_t> bhs,
                       absl::Span<const uint8_t> data) override;
  absl::Status SetHostParam(uint32_t host_no, HostParam param,
                            absl::string_view value) override;
  absl::StatusOr<ConnStats> GetStats(uint32_t sid, uint32_t cid) override;

  int event_fd() const override;
  absl::StatusOr<std::vector<KernelEvent>> ReadEvents() override;

 private:
  NetlinkIscsiKernel(std::unique_ptr<NetlinkSocket> socket,
                     uint64_t transport_handle);
  RequestHeader NextHeader();
  // Sends `message` and returns the reply, or the refusal (IF_ERROR; with
  // `check_retcode`, also a nonzero r.retcode) as a Status naming `what`.
  absl::StatusOr<KernelReply> Call(const std::vector<uint8_t>& message,
                                   absl::string_view what, bool check_retcode);

  std::unique_ptr<NetlinkSocket> socket_;
  uint64_t transport_handle_;
};

}  // namespace kiscsi

#endif  // KISCSI_NETLINK_NETLINK_ISCSI_KERNEL_H_

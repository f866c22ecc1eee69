// A bidirectional stream of iSCSI PDUs, and its implementation over a userspace
// TCP socket.
//
// Userspace speaks iSCSI itself for discovery sessions and for --probe logins;
// PduChannel is what those drivers (tcp_login.h, src/discovery/) talk through,
// so tests and other transports can stand in for the socket. TcpPduChannel owns
// a connected non-blocking socket: every wait is a poll(2) with a millisecond
// timeout, and input goes through a PduReader whose limits
// (MaxRecvDataSegmentLength, digests) bound what the peer can make us allocate.
//
// Errors carry ExitCodes: kTransport (4) for connection failures, a closed
// connection or a malformed byte stream; kTransportTimeout (8) for timeouts.
#ifndef KISCSI_SRC_TRANSPORT_PDU_CHANNEL_H_
#define KISCSI_SRC_TRANSPORT_PDU_CHANNEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/base/unique_fd.h"
#include "src/protocol/pdu.h"
#include "src/transport/portal.h"

namespace kiscsi {

// RFC 7143 13.12: the MaxRecvDataSegmentLength in force until login negotiates
// one.
inline constexpr uint32_t kLoginMaxRecvDataSegmentLength = 8192;

class PduChannel {
 public:
  virtual ~PduChannel() = default;

  virtual absl::Status Send(const Pdu& pdu) = 0;
  // The next PDU from the peer. A timeout is DeadlineExceeded (ExitCode
  // kTransportTimeout); the peer closing the connection is Unavailable
  // (ExitCode kTransport).
  virtual absl::StatusOr<Pdu> Receive(absl::Duration timeout) = 0;
  // Header/data digests for both directions, from the next PDU on.
  virtual void SetDigests(DigestOptions digests) = 0;
  // The largest data segment accepted from the peer (what we declared).
  virtual void SetMaxRecvDataSegmentLength(uint32_t length) = 0;
};

class TcpPduChannel : public PduChannel {
 public:
  // `fd` is a connected, non-blocking stream socket; `peer` names it in
  // messages.
  TcpPduChannel(UniqueFd fd, std::string peer);

  absl::Status Send(const Pdu& pdu) override;
  absl::StatusOr<Pdu> Receive(absl::Duration timeout) override;
  void SetDigests(DigestOptions digests) override;
  void SetMaxRecvDataSegmentLength(uint32_t length) override;

  // How long Send() waits for the peer to drain its receive window (default 15
  // s).
  void SetSendTimeout(absl::Duration timeout) { send_timeout_ = timeout; }
  const std::string& peer() const { return peer_; }

 private:
  UniqueFd fd_;
  std::string peer_;
  PduReaderLimits limits_;
  PduReader reader_;
  DigestOptions send_digests_;
  absl::Duration send_timeout_ = absl::Seconds(15);
  // A failure that leaves the stream unusable (closed, malformed); returned
  // again thereafter.
  absl::Status broken_;
};

// Resolves `portal` (numeric or host name) and connects within `timeout`,
// trying each address in turn, with TCP_NODELAY set. Connection refused and
// similar: ExitCode kTransport, e.g. "cannot connect to 127.0.0.1:3260:
// Connection refused"; timeout: kTransportTimeout.
absl::StatusOr<std::unique_ptr<TcpPduChannel>> ConnectTcp(
    const Portal& portal, absl::Duration timeout);

}  // namespace kiscsi

#endif  // KISCSI_SRC_TRANSPORT_PDU_CHANNEL_H_

// A real tgtd for host tests: a private instance on 127.0.0.1 at a free port,
// with its own management socket (TGT_IPC_SOCKET), configured through tgtadm,
// killed when the object dies.
#ifndef KISCSI_TESTS_HOST_TGTD_H_
#define KISCSI_TESTS_HOST_TGTD_H_

#include <cstdint>
#include <string>
#include <vector>

namespace kiscsi::testing {

class Tgtd {
 public:
  // Starts tgtd in `work_dir` (created if needed). Fails the current test on
  // error.
  explicit Tgtd(const std::string& work_dir);
  ~Tgtd();
  Tgtd(const Tgtd&) = delete;
  Tgtd& operator=(const Tgtd&) = delete;

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  std::string portal() const { return "127.0.0.1:" + std::to_string(port_); }

  // A target open to every initiator, with one LUN backed by a sparse file of
  // `lun_bytes`.
  void AddTarget(int tid, const std::string& name,
                 uint64_t lun_bytes = 1 << 20);
  // A CHAP account for a target: the initiator's credentials, or with
  // `outgoing` the target's own (mutual CHAP).
  void AddAccount(int tid, const std::string& user, const std::string& password,
                  bool outgoing = false);
  // Runs tgtadm with the instance's management socket; returns its exit status.
  int Admin(const std::vector<std::string>& args);

 private:
  void Start();

  std::string work_dir_;
  std::string ipc_socket_;
  uint16_t port_ = 0;
  int pid_ = -1;
};

}  // namespace kiscsi::testing

#endif  // KISCSI_TESTS_HOST_TGTD_H_

#include "tests/src/session/sysfs_session_writer.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

namespace kiscsi {

void WriteSysfsSession(const std::string& sysfs_root, uint32_t sid,
                       const std::string& target, const std::string& address,
                       uint16_t port) {
  const std::string id = std::to_string(sid);
  const std::string session =
      sysfs_root + "/class/iscsi_session/session" + id + "/";
  const std::string connection =
      sysfs_root + "/class/iscsi_connection/connection" + id + ":0/";
  const std::pair<std::string, std::string> attributes[] = {
      {session + "targetname", target},
      {session + "tpgt", "1"},
      {session + "state", "LOGGED_IN"},
      {connection + "state", "up"},
      {connection + "address", address},
      {connection + "port", std::to_string(port)},
      {connection + "persistent_address", address},
      {connection + "persistent_port", std::to_string(port)},
  };
  std::filesystem::create_directories(session);
  std::filesystem::create_directories(connection);
  for (const auto& [path, value] : attributes) {
    std::ofstream(path) << value << "\n";
  }
}

}  // namespace kiscsi

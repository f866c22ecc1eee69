// kiscsistart -N's applier against the real kernel: each test forks a child
// that unshares its network namespace (so the host's network is never
// touched), makes a veth pair there, applies a plan over rtnetlink and reads
// the result back with `ip`. Needs root (CAP_SYS_ADMIN for the namespace);
// skipped otherwise.
#include "src/netconfig/firmware_network.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "src/netconfig/network_plan.h"
#include "tests/host/subprocess.h"

namespace kiscsi::netconfig {
namespace {

using ::kiscsi::testing::RunProcess;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

// What the child reports: named sections of text.
using Sections = std::map<std::string, std::string>;

constexpr char kSkip[] = "skip";

// Runs `body` in a forked child in a new network namespace and returns the
// sections it filled. A child that cannot unshare reports kSkip.
Sections RunInNewNetns(const std::function<void(Sections&)>& body) {
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    Sections sections;
    if (unshare(CLONE_NEWNET) != 0) {
      sections[kSkip] =
          absl::StrCat("cannot unshare the network namespace (needs root): ",
                       std::strerror(errno));
    } else {
      body(sections);
    }
    std::string text;
    for (const auto& [name, value] : sections) {
      absl::StrAppend(&text, name, "\n", value.size(), "\n", value);
    }
    const char* p = text.data();
    size_t left = text.size();
    while (left > 0) {
      ssize_t n = write(fds[1], p, left);
      if (n <= 0) _exit(2);
      p += n;
      left -= static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) text.append(buffer, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child status " << status;
  Sections sections;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t name_end = text.find('\n', pos);
    size_t size_end = text.find('\n', name_end + 1);
    if (name_end == std::string::npos || size_end == std::string::npos) break;
    std::string name = text.substr(pos, name_end - pos);
    size_t size =
        std::stoul(text.substr(name_end + 1, size_end - name_end - 1));
    sections[name] = text.substr(size_end + 1, size);
    pos = size_end + 1 + size;
  }
  return sections;
}

// Runs `ip` and returns its output, or the failure as text.
std::string Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  kiscsi::testing::ProcessResult result = RunProcess(argv);
  if (result.exit_code != 0) {
    return absl::StrCat("FAILED ", result.exit_code, ": ", result.err);
  }
  return result.out;
}

// Makes veth pair v0/v1 with v1 up (so that v0 gets a carrier once up);
// false and a kSkip section when the kernel has no veth.
bool MakeVeth(Sections& sections) {
  std::string made =
      Ip({"link", "add", "v0", "type", "veth", "peer", "name", "v1"});
  if (made.starts_with("FAILED")) {
    sections[kSkip] = absl::StrCat("no veth devices in this kernel: ", made);
    return false;
  }
  Ip({"link", "set", "v1", "up"});
  return true;
}

void Apply(const NetworkPlan& plan, Sections& sections,
           const std::string& name) {
  std::string lines;
  absl::Status status = ApplyNetworkPlan(plan, [&lines](std::string_view line) {
    absl::StrAppend(&lines, std::string(line), "\n");
  });
  sections[name] = lines;
  sections[name + ".status"] = status.ToString();
}

conf::FirmwareBootEntry Entry(std::string nic_ip, int prefix,
                              std::string gateway, std::string target_ip,
                              std::string target_id) {
  conf::FirmwareBootEntry entry;
  entry.source = "ibft";
  entry.nic.id = "ethernet0";
  entry.nic.flags = 3;
  entry.nic.ip_address = std::move(nic_ip);
  entry.nic.prefix_length = prefix;
  entry.nic.gateway = std::move(gateway);
  entry.nic.origin = 1;
  entry.nic.mac = "52:54:00:12:34:56";
  entry.nic.net_device = "v0";
  entry.target.id = std::move(target_id);
  entry.target.flags = 3;
  entry.target.ip_address = std::move(target_ip);
  return entry;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(FirmwareNetworkHostTest, AppliesAddressesAndRoutesAndCanRunTwice) {
  std::vector<conf::FirmwareBootEntry> entries = {
      Entry("10.0.2.15", 24, "10.0.2.1", "10.0.2.2", "target0"),
      Entry("10.0.2.15", 24, "10.0.2.1", "192.168.7.9", "target1"),
      Entry("fd00::15", 64, "fd00::1", "fd01::9", "target2"),
  };
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork(entries);
  ASSERT_TRUE(plan.ok()) << plan.status();

  Sections got = RunInNewNetns([&](Sections& sections) {
    if (!MakeVeth(sections)) return;
    Apply(*plan, sections, "first");
    Apply(*plan, sections, "second");
    sections["link"] = Ip({"-o", "link", "show", "dev", "v0"});
    sections["addr"] = Ip({"-o", "addr", "show", "dev", "v0"});
    sections["route"] = Ip({"route", "show"});
    sections["route6"] = Ip({"-6", "route", "show"});
  });
  if (got.count(kSkip)) GTEST_SKIP() << got[kSkip];

  EXPECT_EQ(got["first.status"], "OK") << got["first"];
  EXPECT_EQ(Lines(got["first"]),
            (std::vector<std::string>{
                "Setting up software interface v0",
                "  v0: brought up",
                "  v0: address 10.0.2.15/24 added",
                "  route 10.0.2.2/32 dev v0 scope link set",
                "  route 192.168.7.9/32 via 10.0.2.1 dev v0 set",
                "  route default via 10.0.2.1 dev v0 added",
                "Setting up software interface v0",
                "  v0: already up",
                "  v0: address fd00::15/64 added",
                "  route fd01::9/128 via fd00::1 dev v0 set",
                "  route default via fd00::1 dev v0 added",
            }));
  // Again, as an initramfs retry loop would: nothing fails, nothing doubles.
  EXPECT_EQ(got["second.status"], "OK") << got["second"];
  EXPECT_THAT(Lines(got["second"]),
              AllOf(Contains("  v0: address 10.0.2.15/24 already set"),
                    Contains("  v0: address fd00::15/64 already set"),
                    Contains("  route default via 10.0.2.1 dev v0: a default "
                             "route exists, left as it is")));

  EXPECT_THAT(got["link"], HasSubstr(",UP"));
  EXPECT_THAT(got["addr"], HasSubstr("inet 10.0.2.15/24 brd 10.0.2.255 scope "
                                     "global v0"));
  // No duplicate address detection: the address is usable at once.
  EXPECT_THAT(got["addr"], HasSubstr("inet6 fd00::15/64 scope global nodad"));
  EXPECT_THAT(Lines(got["route"]),
              AllOf(Contains("default via 10.0.2.1 dev v0 "),
                    Contains("10.0.2.2 dev v0 scope link "),
                    Contains("192.168.7.9 via 10.0.2.1 dev v0 ")))
      << got["route"];
  EXPECT_EQ(Lines(got["route"]).size(), 4u) << got["route"];  // + 10.0.2.0/24
  // The host route once, replaced by the second run rather than doubled.
  EXPECT_THAT(
      Lines(got["route6"]),
      AllOf(Contains("fd01::9 via fd00::1 dev v0 metric 1024 pref medium"),
            Contains("default via fd00::1 dev v0 metric 1024 pref medium"),
            ::testing::Not(Contains(HasSubstr("nexthop")))))
      << got["route6"];
}

TEST(FirmwareNetworkHostTest, HostRouteReplacesOneThroughAnotherDevice) {
  absl::StatusOr<NetworkPlan> plan =
      PlanFirmwareNetwork({Entry("10.0.2.15", 24, "", "10.0.2.2", "target0")});
  ASSERT_TRUE(plan.ok()) << plan.status();
  Sections got = RunInNewNetns([&](Sections& sections) {
    if (!MakeVeth(sections)) return;
    Ip({"addr", "add", "10.0.9.1/24", "dev", "v1"});
    sections["stale"] = Ip({"route", "add", "10.0.2.2/32", "dev", "v1"});
    Apply(*plan, sections, "apply");
    sections["route"] = Ip({"route", "show", "10.0.2.2/32"});
  });
  if (got.count(kSkip)) GTEST_SKIP() << got[kSkip];
  ASSERT_EQ(got["stale"], "");
  EXPECT_EQ(got["apply.status"], "OK") << got["apply"];
  EXPECT_EQ(got["route"], "10.0.2.2 dev v0 scope link \n");
}

TEST(FirmwareNetworkHostTest, MissingDeviceFailsWithOpenIscsisLine) {
  conf::FirmwareBootEntry entry =
      Entry("10.0.2.15", 24, "", "10.0.2.2", "target0");
  entry.nic.net_device = "nosuch0";
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  Sections got = RunInNewNetns(
      [&](Sections& sections) { Apply(*plan, sections, "apply"); });
  if (got.count(kSkip)) GTEST_SKIP() << got[kSkip];
  EXPECT_THAT(got["apply.status"], HasSubstr("nosuch0"));
  EXPECT_EQ(Lines(got["apply"]),
            (std::vector<std::string>{
                "Setting up software interface nosuch0",
                "Setting up software interface nosuch0 failed"}));
}

TEST(FirmwareNetworkHostTest, CreatesTheVlanDeviceOnce) {
  conf::FirmwareBootEntry entry =
      Entry("10.0.5.15", 24, "", "10.0.5.2", "target0");
  entry.nic.vlan = 5;
  absl::StatusOr<NetworkPlan> plan = PlanFirmwareNetwork({entry});
  ASSERT_TRUE(plan.ok()) << plan.status();
  Sections got = RunInNewNetns([&](Sections& sections) {
    if (!MakeVeth(sections)) return;
    std::string probe = Ip({"link", "add", "link", "v0", "name", "probe",
                            "type", "vlan", "id", "9"});
    if (probe.starts_with("FAILED")) {
      sections[kSkip] = absl::StrCat(
          "no VLAN devices in this kernel (8021q not built in or loaded): ",
          probe);
      return;
    }
    Ip({"link", "del", "probe"});
    Apply(*plan, sections, "first");
    Apply(*plan, sections, "second");
    sections["link"] = Ip({"-d", "-o", "link", "show", "dev", "v0.5"});
    sections["addr"] = Ip({"-o", "addr", "show", "dev", "v0.5"});
  });
  if (got.count(kSkip)) GTEST_SKIP() << got[kSkip];
  EXPECT_EQ(got["first.status"], "OK") << got["first"];
  EXPECT_THAT(Lines(got["first"]), Contains("  v0.5: created as VLAN 5 on v0"));
  EXPECT_EQ(got["second.status"], "OK") << got["second"];
  EXPECT_THAT(Lines(got["second"]), Contains("  v0.5: VLAN 5 on v0, exists"));
  EXPECT_THAT(got["link"], HasSubstr("vlan protocol 802.1Q id 5"));
  EXPECT_THAT(got["addr"], HasSubstr("inet 10.0.5.15/24"));
}

}  // namespace
}  // namespace kiscsi::netconfig

// The programs do what their man pages say: every program answers -h/--help
// and -V/--version with exit 0 and its own base name, and every exit status a
// page lists under EXIT STATUS is provoked here, or named as one that needs a
// target and the kernel (the vm suite's). A status added to a page without a
// run here, or a run whose status the page lacks, fails.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/host/subprocess.h"

extern char** environ;

namespace kiscsi {
namespace {

using ::kiscsi::testing::ProcessResult;
using ::kiscsi::testing::RunProcess;
using ::kiscsi::testing::StartProcess;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uid_t kNobody = 65534;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path) << content;
}

// The exit statuses man/`page`.8 lists: its EXIT STATUS section as tagged
// paragraphs (".TP" then ".B N").
std::set<int> DocumentedExits(const std::string& page) {
  const std::string roff = ReadFile(std::string(MAN_DIR "/") + page + ".8");
  EXPECT_FALSE(roff.empty()) << page;
  size_t start = roff.find(".SH EXIT STATUS\n");
  EXPECT_NE(start, std::string::npos) << page;
  if (start == std::string::npos) return {};
  size_t end = roff.find("\n.SH ", start + 1);
  const std::string section = roff.substr(start, end - start + 1);
  std::set<int> codes;
  static const std::regex kTagged(R"(\.TP\n\.B (\d+)\n)");
  for (auto it = std::sregex_iterator(section.begin(), section.end(), kTagged);
       it != std::sregex_iterator(); ++it) {
    codes.insert(std::stoi((*it)[1]));
  }
  return codes;
}

// Runs argv as nobody (from root), so that permission checks apply; output
// goes through files in `dir`.
ProcessResult RunAsNobody(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env,
                          const std::string& dir) {
  const std::string out_path = dir + "/nobody.out";
  const std::string err_path = dir + "/nobody.err";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (getuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 ||
                          setuid(kNobody) != 0)) {
      _exit(126);
    }
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execve(args[0], args.data(), environ);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ProcessResult result;
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

class ProgramDocsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/kiscsi-docs-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    // nobody must reach the files the unprivileged runs use.
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A boot firmware table (iBFT) as the kernel shows it, under
  // `root`/firmware/ibft: one NIC (MAC 02:00:5e:00:53:99, which the fake
  // sysfs gives no interface unless asked) and one boot-selected target.
  void WriteTable(const std::string& root) {
    const std::string t = root + "/firmware/ibft/";
    WriteFile(t + "initiator/index", "0\n");
    WriteFile(t + "initiator/flags", "3\n");
    WriteFile(t + "initiator/initiator-name", "iqn.2026-12.test.boot:host\n");
    WriteFile(t + "ethernet0/index", "0\n");
    WriteFile(t + "ethernet0/flags", "3\n");
    WriteFile(t + "ethernet0/ip-addr", "192.0.2.15\n");
    WriteFile(t + "ethernet0/prefix-len", "24\n");
    WriteFile(t + "ethernet0/origin", "1\n");
    WriteFile(t + "ethernet0/gateway", "192.0.2.1\n");
    WriteFile(t + "ethernet0/vlan", "0\n");
    WriteFile(t + "ethernet0/mac", "02:00:5e:00:53:99\n");
    WriteFile(t + "target0/index", "0\n");
    WriteFile(t + "target0/flags", "3\n");
    WriteFile(t + "target0/ip-addr", "192.0.2.2\n");
    WriteFile(t + "target0/port", "3260\n");
    WriteFile(t + "target0/lun", "00000000\n");
    WriteFile(t + "target0/chap-type", "0\n");
    WriteFile(t + "target0/nic-assoc", "0\n");
    WriteFile(t + "target0/target-name", "iqn.2026-12.test.boot:root\n");
    // The fake tree is read by nobody too.
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(root)) {
      if (entry.is_directory()) chmod(entry.path().c_str(), 0755);
    }
  }

  std::string dir_;
};

// One documented exit status and the run that provoked it.
struct Provoked {
  int code;
  ProcessResult result;
  std::string skipped;       // non-empty: not run on this machine, and why
  std::string err_has = "";  // the reason the program gives on stderr
};

void ExpectDocumentedExactly(const std::string& page,
                             const std::vector<Provoked>& provoked,
                             const std::map<int, std::string>& needs_kernel) {
  std::set<int> tested;
  for (const Provoked& p : provoked) {
    tested.insert(p.code);
    if (!p.skipped.empty()) {
      std::cout << page << ": exit " << p.code << " not provoked: " << p.skipped
                << "\n";
      continue;
    }
    EXPECT_EQ(p.result.exit_code, p.code)
        << page << " should exit " << p.code << "; out: " << p.result.out
        << " err: " << p.result.err;
    EXPECT_THAT(p.result.err, HasSubstr(p.err_has)) << page;
  }
  for (const auto& [code, why] : needs_kernel) tested.insert(code);
  EXPECT_EQ(DocumentedExits(page), tested)
      << page << "(8)'s EXIT STATUS and the statuses this test provokes differ";
}

// --- -h/--help and -V/--version -------------------------------------------

struct Program {
  const char* path;
  std::vector<std::string> version_options;
};

std::vector<Program> Programs() {
  return {
      {KISCSIADM_PATH, {"-V", "--version"}},
      {KISCSID_PATH, {"-V", "--version", "-v"}},
      {KISCSISTART_PATH, {"-V", "--version", "-v"}},
      {KISCSI_INAME_PATH, {"-V", "--version"}},
      {KISCSI_UDEV_PATH, {"-V", "--version"}},
  };
}

TEST_F(ProgramDocsTest, EveryProgramAnswersHelpWithItsBaseName) {
  for (const Program& program : Programs()) {
    const std::string name = std::filesystem::path(program.path).filename();
    for (const char* help : {"-h", "--help"}) {
      ProcessResult result = RunProcess({program.path, help});
      EXPECT_EQ(result.exit_code, 0)
          << name << " " << help << ": " << result.err;
      EXPECT_THAT(result.out, StartsWith("Usage: " + name + " "))
          << name << " " << help;
      EXPECT_THAT(result.out, ::testing::Not(HasSubstr(program.path)))
          << name << " " << help << " shows the full path";
    }
  }
}

TEST_F(ProgramDocsTest, EveryProgramAnswersVersion) {
  for (const Program& program : Programs()) {
    const std::string name = std::filesystem::path(program.path).filename();
    for (const std::string& option : program.version_options) {
      ProcessResult result = RunProcess({program.path, option});
      EXPECT_EQ(result.exit_code, 0) << name << " " << option;
      EXPECT_EQ(result.out, name + " version " KISCSI_VERSION "\n")
          << name << " " << option;
    }
  }
}

// --- kiscsi-iname
// -------------------------------------------------------------

TEST_F(ProgramDocsTest, KiscsiInameExits) {
  const std::string etc = dir_ + "/etc";
  const std::vector<std::string> env = {"KISCSI_SYSCONFDIR=" + etc};
  std::vector<Provoked> runs;
  // -w writes SYSCONFDIR/initiatorname.iscsi (making the directory), mode
  // 0644, and prints the name.
  ProcessResult written = RunProcess({KISCSI_INAME_PATH, "-w"}, env);
  runs.push_back({0, written, ""});
  const std::string file = etc + "/initiatorname.iscsi";
  EXPECT_EQ(ReadFile(file), "InitiatorName=" + written.out);
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  // Again: the name is kept and printed.
  ProcessResult kept = RunProcess({KISCSI_INAME_PATH, "-w"}, env);
  runs.push_back({0, kept, ""});
  EXPECT_EQ(kept.out, written.out);
  EXPECT_THAT(kept.err, HasSubstr("-f replaces it"));
  // -f replaces it.
  ProcessResult forced = RunProcess({KISCSI_INAME_PATH, "-w", "-f"}, env);
  runs.push_back({0, forced, ""});
  EXPECT_NE(forced.out, written.out);
  EXPECT_EQ(ReadFile(file), "InitiatorName=" + forced.out);
  // 7: a bad option, a bad prefix, a malformed name kept without -f.
  runs.push_back({7, RunProcess({KISCSI_INAME_PATH, "-x"}), ""});
  runs.push_back({7, RunProcess({KISCSI_INAME_PATH, "-p", "eui.1:2"}), ""});
  WriteFile(dir_ + "/bad.iscsi", "InitiatorName=not-a-name\n");
  runs.push_back(
      {7, RunProcess({KISCSI_INAME_PATH, "-w", dir_ + "/bad.iscsi"}), ""});
  // 6: FILE cannot be written (its directory is a file).
  WriteFile(dir_ + "/plain", "x");
  runs.push_back(
      {6, RunProcess({KISCSI_INAME_PATH, "-w", dir_ + "/plain/sub/name"}), ""});
  ExpectDocumentedExactly("kiscsi-iname", runs, {});
}

// --- kiscsid
// ------------------------------------------------------------------

TEST_F(ProgramDocsTest, KiscsidExits) {
  const std::string etc = dir_ + "/etc";
  const std::string run = dir_ + "/run";
  std::filesystem::create_directories(etc);
  const std::vector<std::string> env = {
      "KISCSI_SYSCONFDIR=" + etc, "KISCSI_RUNDIR=" + run,
      "LISTEN_PID=", "LISTEN_FDS=", "NOTIFY_SOCKET="};
  std::vector<Provoked> runs;
  runs.push_back({7, RunProcess({KISCSID_PATH, "--bogus"}, env), ""});
  WriteFile(dir_ + "/bad.conf", "node.startup = sometimes\n");
  runs.push_back(
      {7, RunProcess({KISCSID_PATH, "-c", dir_ + "/bad.conf"}, env), ""});
  // 21: the run directory's parent is missing.
  runs.push_back(
      {21,
       RunProcess({KISCSID_PATH}, {"KISCSI_SYSCONFDIR=" + etc,
                                   "KISCSI_RUNDIR=" + dir_ + "/no/such/run"}),
       "", "No such file or directory"});
  // 1: the run directory is a file.
  WriteFile(dir_ + "/runfile", "");
  runs.push_back(
      {1,
       RunProcess({KISCSID_PATH}, {"KISCSI_SYSCONFDIR=" + etc,
                                   "KISCSI_RUNDIR=" + dir_ + "/runfile"}),
       "", "Not a directory"});
  // 13: nobody may not create the run directory in a directory of root's.
  if (getuid() == 0) {
    std::filesystem::create_directories(dir_ + "/rootonly");
    chmod((dir_ + "/rootonly").c_str(), 0755);
    runs.push_back({13,
                    RunAsNobody({KISCSID_PATH},
                                {"KISCSI_SYSCONFDIR=" + etc,
                                 "KISCSI_RUNDIR=" + dir_ + "/rootonly/run"},
                                dir_),
                    "", "Permission denied"});
  } else {
    runs.push_back(
        {13,
         RunProcess({KISCSID_PATH}, {"KISCSI_SYSCONFDIR=" + etc,
                                     "KISCSI_RUNDIR=/kiscsi-docs-test-run"}),
         "", "Permission denied"});
  }
  // 28: a second daemon on the same socket; 0: the first after SIGTERM.
  const std::string log = dir_ + "/kiscsid.log";
  pid_t first = StartProcess({KISCSID_PATH}, env, log);
  bool ready = false;
  for (int i = 0; i < 1000 && !ready; ++i) {
    ready = ReadFile(log).find("ready") != std::string::npos;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(ready) << ReadFile(log);
  runs.push_back({28, RunProcess({KISCSID_PATH}, env), "", "already"});
  kill(first, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(first, &status, 0), first);
  ProcessResult stopped;
  stopped.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  stopped.err = ReadFile(log);
  runs.push_back({0, stopped, ""});
  ExpectDocumentedExactly("kiscsid", runs, {});
}

// --- kiscsistart
// --------------------------------------------------------------

// True when a login attempt could load iscsi_tcp or reach the kernel: the
// transport is there, or root could modprobe it.
bool LoginCouldTouchTheKernel() {
  if (std::filesystem::exists("/sys/class/iscsi_transport")) return true;
  if (getuid() != 0) return false;
  std::string release = ReadFile("/proc/sys/kernel/osrelease");
  while (!release.empty() && release.back() == '\n') release.pop_back();
  const std::string modules = "/lib/modules/" + release;
  return ReadFile(modules + "/modules.dep").find("iscsi_tcp") !=
             std::string::npos ||
         ReadFile(modules + "/modules.builtin").find("iscsi_tcp") !=
             std::string::npos;
}

TEST_F(ProgramDocsTest, KiscsistartExits) {
  const std::string empty = dir_ + "/empty-sysfs";
  const std::string sysfs = dir_ + "/sysfs";
  std::filesystem::create_directories(empty);
  WriteTable(sysfs);
  std::vector<Provoked> runs;
  runs.push_back(
      {0, RunProcess({KISCSISTART_PATH, "-f"}, {"KISCSI_SYSFS=" + sysfs}), ""});
  // 7: a bad option, a bad -P, a bad value in the table.
  runs.push_back({7, RunProcess({KISCSISTART_PATH, "-x"}), ""});
  runs.push_back({7,
                  RunProcess({KISCSISTART_PATH, "-b", "-P", "node.bogus=1"},
                             {"KISCSI_SYSFS=" + sysfs}),
                  "", "node.bogus"});
  // 21: no table; a table without a boot-selected target.
  runs.push_back(
      {21, RunProcess({KISCSISTART_PATH, "-f"}, {"KISCSI_SYSFS=" + empty}),
       ""});
  runs.push_back(
      {21, RunProcess({KISCSISTART_PATH, "-b"}, {"KISCSI_SYSFS=" + empty}),
       ""});
  // 22: -N, and no interface in (the fake) sysfs has the table's MAC. The
  // plan fails before anything touches the network.
  runs.push_back(
      {22, RunProcess({KISCSISTART_PATH, "-N"}, {"KISCSI_SYSFS=" + sysfs}), "",
       "no network interface has MAC 02:00:5e:00:53:99"});
  // 13: the table cannot be read (root only on a real machine).
  {
    const std::string name = sysfs + "/firmware/ibft/target0/target-name";
    chmod(name.c_str(), 0400);
    runs.push_back(
        {13,
         RunAsNobody({KISCSISTART_PATH, "-f"}, {"KISCSI_SYSFS=" + sysfs}, dir_),
         "", "target-name"});
    chmod(name.c_str(), 0644);
  }
  // 27: -N for a NIC the firmware configured by DHCP, without an address.
  {
    const std::string dhcp = dir_ + "/dhcp-sysfs";
    WriteTable(dhcp);
    WriteFile(dhcp + "/firmware/ibft/ethernet0/origin", "3\n");
    WriteFile(dhcp + "/firmware/ibft/ethernet0/ip-addr", "0.0.0.0\n");
    WriteFile(dhcp + "/class/net/kt0/address", "02:00:5e:00:53:99\n");
    std::filesystem::create_directories(dhcp + "/class/net/kt0/device");
    runs.push_back(
        {27, RunProcess({KISCSISTART_PATH, "-N"}, {"KISCSI_SYSFS=" + dhcp}), "",
         "DHCP"});
  }
  // 12: no iSCSI transport, when a login attempt cannot load one.
  if (LoginCouldTouchTheKernel()) {
    runs.push_back({12, {}, "iscsi_tcp is loaded or loadable here"});
  } else {
    runs.push_back(
        {12,
         RunProcess({KISCSISTART_PATH, "-i", "iqn.2026-12.test:host", "-t",
                     "iqn.2026-12.test:disk", "-g", "1", "-a", "127.0.0.1",
                     "-P", "node.session.initial_login_retry_max=1"},
                    {"KISCSI_SYSFS=" + empty}),
         "", "iscsi_tcp"});
  }
  ExpectDocumentedExactly(
      "kiscsistart", runs,
      {{4, "a connection failure needs the kernel's transport (vm suite)"},
       {19, "an unknown target needs a login through the kernel (vm suite)"},
       {24, "an authentication failure needs a login through the kernel"}});
}

}  // namespace
}  // namespace kiscsi

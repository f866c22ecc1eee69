#include "src/login/target_address.h"

#include <ostream>

#include "gtest/gtest.h"
#include "tests/src/base/param_name.h"

namespace kiscsi {
namespace {

struct AddressCase {
  const char* value;
  const char* address;
  uint16_t port;
  int tpgt;  // -1: none
};

void PrintTo(const AddressCase& c, std::ostream* os) {
  *os << '"' << c.value << '"';
}

class TargetAddressTest : public ::testing::TestWithParam<AddressCase> {};

TEST_P(TargetAddressTest, Parses) {
  const AddressCase& c = GetParam();
  auto parsed = ParseTargetAddress(c.value);
  ASSERT_TRUE(parsed.ok()) << c.value << ": " << parsed.status();
  EXPECT_EQ(parsed->address, c.address);
  EXPECT_EQ(parsed->port, c.port);
  if (c.tpgt < 0) {
    EXPECT_FALSE(parsed->portal_group_tag.has_value());
  } else {
    ASSERT_TRUE(parsed->portal_group_tag.has_value());
    EXPECT_EQ(*parsed->portal_group_tag, c.tpgt);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Forms, TargetAddressTest,
    ::testing::Values(
        AddressCase{"192.168.1.10", "192.168.1.10", 3260, -1},
        AddressCase{"192.168.1.10:3261", "192.168.1.10", 3261, -1},
        AddressCase{"192.168.1.10:3261,2", "192.168.1.10", 3261, 2},
        AddressCase{"192.168.1.10,1", "192.168.1.10", 3260, 1},
        AddressCase{"[fe80::1]", "fe80::1", 3260, -1},
        AddressCase{"[fe80::1%eth0]:3261", "fe80::1%eth0", 3261, -1},
        AddressCase{"[2001:db8::5]:860", "2001:db8::5", 860, -1},
        AddressCase{"[2001:db8::5]:860,65535", "2001:db8::5", 860, 65535},
        AddressCase{"[::ffff:10.0.0.1],3", "::ffff:10.0.0.1", 3260, 3},
        AddressCase{"storage.example.com", "storage.example.com", 3260, -1},
        AddressCase{"storage-2.example.com:3262,7", "storage-2.example.com",
                    3262, 7}),
    [](const auto& info) { return ParamName(info.param.value); });

TEST(TargetAddressErrorTest, RejectsMalformed) {
  for (const char* bad : {"", ":3260", "10.0.0.1:", "10.0.0.1:0",
                          "10.0.0.1:65536", "10.0.0.1:port", "10.0.0.1,",
                          "10.0.0.1,70000", "[fe80::1", "[fe80::1]x", "[]:3260",
                          "[fe80::1]:", "host name", "host/evil", "a:b:c",
                          // Brackets hold IPv6 (found by target_address_fuzzer)
                          "[fd1%e2h0]:3261,2", "[10.0.0.1]", "[%eth0]"}) {
    EXPECT_FALSE(ParseTargetAddress(bad).ok()) << "accepted \"" << bad << "\"";
  }
}

}  // namespace
}  // namespace kiscsi

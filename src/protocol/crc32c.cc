#include "src/protocol/crc32c.h"

#include <array>
#include <cstddef>
#include <cstdint>

namespace kiscsi {
namespace {

// The Castagnoli polynomial 0x1EDC6F41, bit-reflected (iSCSI feeds bits least
// significant first).
constexpr uint32_t kReflectedPoly = 0x82f63b78;

// Slicing-by-8: table[0] is the classic byte table; table[k][b] is the CRC
// contribution of byte b followed by k zero bytes, so eight input bytes can be
// folded in with eight lookups.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables tables{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) ? (crc >> 1) ^ kReflectedPoly : crc >> 1;
    }
    tables[0][b] = crc;
  }
  for (size_t k = 1; k < tables.size(); ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      const uint32_t prev = tables[k - 1][b];
      tables[k][b] = (prev >> 8) ^ tables[0][prev & 0xff];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();

}  // namespace

uint32_t Crc32c(absl::Span<const uint8_t> bytes, uint32_t previous) {
  uint32_t crc = ~previous;
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    // Assemble little-endian words byte by byte: no alignment or host byte
    // order assumptions.
    const uint32_t lo = crc ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 |
                               uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    crc = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^
          kTables[5][(lo >> 16) & 0xff] ^ kTables[4][lo >> 24] ^
          kTables[3][p[4]] ^ kTables[2][p[5]] ^ kTables[1][p[6]] ^
          kTables[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xff];
  }
  return ~crc;
}

// RFC 3720 appendix B.4: the register is sent least significant byte first.
void Crc32cToWire(uint32_t crc, uint8_t out[4]) {
  out[0] = static_cast<uint8_t>(crc);
  out[1] = static_cast<uint8_t>(crc >> 8);
  out[2] = static_cast<uint8_t>(crc >> 16);
  out[3] = static_cast<uint8_t>(crc >> 24);
}

uint32_t Crc32cFromWire(const uint8_t in[4]) {
  return uint32_t{in[0]} | uint32_t{in[1]} << 8 | uint32_t{in[2]} << 16 |
         uint32_t{in[3]} << 24;
}

}  // namespace kiscsi

// Throughput of the protocol codecs: CRC32C, PDU framing with digests, and the
// text codec on a SendTargets-sized answer.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "src/protocol/crc32c.h"
#include "src/protocol/pdu.h"
#include "src/protocol/text_codec.h"

namespace kiscsi {
namespace {

std::vector<uint8_t> Pattern(size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<uint8_t>(i * 131 + 7);
  return bytes;
}

void BM_Crc32c(benchmark::State& state) {
  const std::vector<uint8_t> bytes =
      Pattern(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(Crc32c(bytes));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(4 << 10)->Arg(256 << 10);

// Serialize a 256 KiB data PDU with header and data digests and read it back.
void BM_PduRoundTripWithDigests(benchmark::State& state) {
  NopIn nop;
  nop.data = Pattern(256 << 10);
  const Pdu pdu = Encode(nop);
  const PduReaderLimits limits{.max_data_segment_length = 256 << 10,
                               .digests = {.header = true, .data = true}};
  PduReader reader(limits);
  size_t wire_size = 0;
  for (auto _ : state) {
    const std::vector<uint8_t> wire = SerializePdu(pdu, limits.digests);
    wire_size = wire.size();
    if (!reader.Feed(wire).ok()) {
      state.SkipWithError("reader failed");
      break;
    }
    std::optional<Pdu> got = reader.Next();
    benchmark::DoNotOptimize(got);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire_size));
}
BENCHMARK(BM_PduRoundTripWithDigests);

// A SendTargets answer for 200 targets, each with two portals.
TextPairs SendTargetsAnswer() {
  TextPairs pairs;
  for (int i = 0; i < 200; ++i) {
    pairs.push_back(
        {"TargetName",
         "iqn.2024-01.com.example.storage:array1.lun" + std::to_string(i)});
    pairs.push_back({"TargetAddress", "192.0.2.10:3260,1"});
    pairs.push_back({"TargetAddress", "[2001:db8::10]:3260,2"});
  }
  return pairs;
}

void BM_EncodeText(benchmark::State& state) {
  const TextPairs pairs = SendTargetsAnswer();
  size_t size = 0;
  for (auto _ : state) {
    std::vector<uint8_t> bytes = EncodeText(pairs);
    size = bytes.size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  state.counters["pairs"] = static_cast<double>(pairs.size());
}
BENCHMARK(BM_EncodeText);

void BM_DecodeText(benchmark::State& state) {
  const std::vector<uint8_t> bytes = EncodeText(SendTargetsAnswer());
  for (auto _ : state) {
    auto pairs = DecodeText(bytes);
    if (!pairs.ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    benchmark::DoNotOptimize(pairs);
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_DecodeText);

}  // namespace
}  // namespace kiscsi

BENCHMARK_MAIN();

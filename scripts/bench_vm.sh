#!/usr/bin/env bash
# Side-by-side login benchmark of kiscsi against open-iscsi 2.1.8 in the test VM (Debian's kernel
# under qemu, LIO targets on 127.0.0.1 inside the guest):
#   - builds kiscsiadm and kiscsid (cmake + ninja) in BUILD (default build-bench/),
#   - fetches Debian's open-iscsi and the libraries it needs into the VM cache without installing
#     them (bench/vm/fetch_open_iscsi.sh),
#   - runs bench/vm/login_bench.sh in one VM and prints its table and BENCH lines.
#
#   bash scripts/bench_vm.sh [--build DIR] [--timeout SECONDS] [--no-build] [SCENARIO ARGS...]
#
# SCENARIO ARGS go to login_bench.sh: --single N (5), --multi N (3), --targets N (32),
# --warmup N (1), --poll SECONDS (0.005), --kiscsid-debug N (1).
# Environment: KISCSI_VM_CACHE, KISCSI_VM_QUIET=1 (no live console), KISCSI_VM_MEM, KISCSI_VM_SMP.
# Exits with the scenario's exit code (non-zero when any login of either system failed).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build-bench
timeout_s=900
do_build=1
die() { echo "bench_vm: error: $*" >&2; exit 1; }

while (($#)); do
  case $1 in
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) break ;;
  esac
done

if ((do_build)); then
  for tool in cmake ninja; do
    command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
  done
  echo "bench_vm: building kiscsiadm and kiscsid in $build"
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S "$repo" -B "$build" -G Ninja -DKISCSI_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      || die "cmake configure failed"
  fi
  cmake --build "$build" -j"${KISCSI_BUILD_JOBS:-2}" --target kiscsiadm kiscsid \
    || die "build failed"
fi
for b in kiscsiadm kiscsid; do
  [ -x "$build/bin/$b" ] || die "$build/bin/$b is not built"
done

echo "bench_vm: fetching open-iscsi"
fetched=$(bash "$repo/bench/vm/fetch_open_iscsi.sh") || die "fetching open-iscsi failed"
oi_root=$(sed -n 's/^root=//p' <<<"$fetched")
if [ -z "$oi_root" ] || [ ! -x "$oi_root/sbin/iscsid" ]; then die "fetch_open_iscsi.sh gave no usable root"; fi

log_dir=${KISCSI_VM_LOG_DIR:-$build/Testing/vm}
mkdir -p "$log_dir"
log=$log_dir/login_bench.log
rc=0
bash "$repo/tests/vm/run.sh" --build "$build" --timeout "$timeout_s" --log "$log" \
  "$repo/bench/vm/login_bench.sh" --open-iscsi "$oi_root" "$@" || rc=$?

echo
echo "bench_vm: results (console log $log)"
if grep -q '^==== BENCH TABLE' <(tr -d '\r' <"$log"); then
  tr -d '\r' <"$log" | sed -n '/^==== BENCH TABLE/,/^==== END BENCH TABLE/p'
  tr -d '\r' <"$log" | grep -E '^BENCH(_SAMPLE)? ' || true
else
  echo "bench_vm: no result table: the scenario failed (rc=$rc); samples so far:" >&2
  tr -d '\r' <"$log" | grep -E '^BENCH_SAMPLE ' >&2 || true
fi
exit "$rc"

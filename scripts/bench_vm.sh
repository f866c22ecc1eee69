#!/usr/bin/env bash
# Side-by-side benchmarks of kiscsi against open-iscsi 2.1.8 in the test VM (Debian's kernel
# under qemu, LIO targets on 127.0.0.1 inside the guest), each in its own VM:
#   - login:    bench/vm/login_bench.sh (one login to a usable disk; 32 sessions with -L all;
#               daemon memory),
#   - recovery: bench/vm/recovery_bench.sh (target back -> first write completes; adoption of 32
#               sessions by a restarted daemon: re-logins and the longest write pause),
#   - boot:     only with --only boot: the vm scenario ibft (an iBFT from the firmware, LIO with
#               mutual CHAP) with --boot-rounds N (7) rounds of `iscsistart -b` and `kiscsistart
#               -b`, each timed from its start to the boot LUN's /dev node. The vm suite runs the
#               same scenario with 5 rounds; .ci/run prints its figures.
# It builds kiscsiadm, kiscsid, io_probe and login_timer (cmake + ninja) in BUILD (default build-bench/),
# fetches Debian's open-iscsi and the libraries it needs into the VM cache without installing
# them (bench/vm/fetch_open_iscsi.sh), and prints each benchmark's table and BENCH lines.
#
#   bash scripts/bench_vm.sh [--build DIR] [--timeout SECONDS] [--no-build]
#                            [--only login|recovery|boot] [BENCH ARGS...]
#
# BENCH ARGS go to the benchmark that knows them: --single N (5), --multi N (3), --warmup N (1), --phases N (3),
# --poll SECONDS, --kiscsid-debug N to login_bench.sh; --outages N (5), --outage-ms MS (3000),
# --settle-ms MS, --parts LIST, --kiscsi-conf K=V to recovery_bench.sh; --targets N (32) to both.
# Environment: KISCSI_VM_CACHE, KISCSI_VM_QUIET=1 (no live console), KISCSI_VM_MEM, KISCSI_VM_SMP.
# Exits non-zero when any step of either system failed in either benchmark.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build-bench
timeout_s=900
do_build=1
only=""
login_args=() recovery_args=()
boot_rounds=7
die() { echo "bench_vm: error: $*" >&2; exit 1; }

while (($#)); do
  case $1 in
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --only) only=${2:?--only needs login or recovery}; shift 2 ;;
    --single|--multi|--warmup|--phases|--poll|--kiscsid-debug) login_args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --outages|--outage-ms|--settle-ms|--parts|--kiscsi-conf) recovery_args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --targets) login_args+=("$1" "${2:?}"); recovery_args+=("$1" "$2"); shift 2 ;;
    --boot-rounds) boot_rounds=${2:?--boot-rounds needs a number}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

if ((do_build)); then
  for tool in cmake ninja; do
    command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
  done
  echo "bench_vm: building kiscsiadm, kiscsid, kiscsistart, kiscsi-udev, io_probe and login_timer in $build"
  # Always with the build type: a tree configured without one builds unoptimised binaries.
  cmake -S "$repo" -B "$build" -G Ninja -DKISCSI_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >/dev/null || die "cmake configure failed"

  cmake --build "$build" -j"${KISCSI_BUILD_JOBS:-2}" --target kiscsiadm kiscsid kiscsistart kiscsi-udev io_probe login_timer \
    || die "build failed"
fi
for b in bin/kiscsiadm bin/kiscsid bench/vm/io_probe bench/vm/login_timer; do
  [ -x "$build/$b" ] || die "$build/$b is not built"
done

echo "bench_vm: fetching open-iscsi"
fetched=$(bash "$repo/bench/vm/fetch_open_iscsi.sh") || die "fetching open-iscsi failed"
oi_root=$(sed -n 's/^root=//p' <<<"$fetched")
if [ -z "$oi_root" ] || [ ! -x "$oi_root/sbin/iscsid" ]; then die "fetch_open_iscsi.sh gave no usable root"; fi

log_dir=${KISCSI_VM_LOG_DIR:-$build/Testing/vm}
mkdir -p "$log_dir"
rc=0
run_bench() { # NAME ARGS...: one benchmark in its own VM, then its table
  local name=$1 log=$log_dir/$1.log brc=0
  shift
  bash "$repo/tests/vm/run.sh" --build "$build" --timeout "$timeout_s" --log "$log" \
    "$repo/bench/vm/$name.sh" --open-iscsi "$oi_root" "$@" || brc=$?
  echo
  echo "bench_vm: $name results (console log $log)"
  if grep -q '^==== BENCH TABLE' <(tr -d '\r' <"$log"); then
    tr -d '\r' <"$log" | sed -n '/^==== BENCH TABLE/,/^==== END BENCH TABLE/p'
    tr -d '\r' <"$log" | grep -E '^BENCH(_SAMPLE)? ' || true
  else
    echo "bench_vm: no result table: $name failed (rc=$brc); samples so far:" >&2
    tr -d '\r' <"$log" | grep -E '^BENCH_SAMPLE ' >&2 || true
  fi
  ((brc == 0)) || rc=$brc
}
run_boot() { # the ibft scenario with $boot_rounds rounds, then its BOOT-LOGIN lines
  local log=$log_dir/ibft.log brc=0
  mkdir -p "$build/Testing"
  echo "root=$oi_root" >"$build/Testing/open-iscsi.env"
  bash "$repo/tests/vm/run.sh" --build "$build" --timeout "$timeout_s" --log "$log" \
    ibft "$boot_rounds" || brc=$?
  echo
  echo "bench_vm: boot login results (console log $log)"
  tr -d '\r' <"$log" | grep '^BOOT-LOGIN ' || echo "bench_vm: no figures: ibft failed (rc=$brc)" >&2
  ((brc == 0)) || rc=$brc
}
case $only in
  "") run_bench login_bench "${login_args[@]}"; run_bench recovery_bench "${recovery_args[@]}" ;;
  login) run_bench login_bench "${login_args[@]}" ;;
  recovery) run_bench recovery_bench "${recovery_args[@]}" ;;
  boot) run_boot ;;
  *) die "--only takes login, recovery or boot, not '$only'" ;;
esac
exit "$rc"

#!/usr/bin/env bash
# The end-to-end demo in a VM (Debian's kernel under qemu, LIO inside): discovery, a login
# through the kernel with mutual CHAP, the disk written and read back, a target outage survived,
# logout. Installs what it needs (packages, the kernel package, an initramfs; cached in
# ~/.cache/kiscsi-vm), builds the programs, boots, and streams the guest's console. The scenario: tests/vm/scenarios/demo.sh.
# Progress goes out as whole lines (a terminal and a CI log read the same): each step, and the
# build every 10 % (full build log in $build/demo-build.log).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${KISCSI_BUILD_DIR:-$top/build-demo}
started=$SECONDS
step() { echo "demo: [$((SECONDS - started)) s] $*"; }

# Ninja writes one "[N/M] what" line per build step when its output is not a terminal: of these,
# the first, one every 10 % and the last; any other line (a warning, an error) as it comes.
build_progress() {
  awk '
    match($0, /^\[[0-9]+\/[0-9]+\] /) {
      split(substr($0, 2, RLENGTH - 3), nm, "/")
      done = nm[1] + 0; total = nm[2] + 0
      pct = total > 0 ? int(100 * done / total) : 100
      if (done == 1 || pct >= next_pct || done == total) {
        printf "demo:   build %3d%% (%d/%d) %s\n", pct, done, total, substr($0, RLENGTH + 1)
        fflush()
        while (next_pct <= pct) next_pct += 10
      }
      next
    }
    { print; fflush() }'
}

step "1/4 packages (scripts/setup.sh)"
bash scripts/setup.sh
step "2/4 configure $build"
mkdir -p "$build"
if ! cmake -S . -B "$build" -G Ninja -DKISCSI_BENCH=OFF >"$build/demo-configure.log" 2>&1; then
  cat "$build/demo-configure.log" >&2
  exit 1
fi
step "3/4 build kiscsiadm and kiscsid ($(nproc) jobs; minutes on a small machine)"
NINJA_STATUS='[%f/%t] ' cmake --build "$build" -j"$(nproc)" --target kiscsiadm kiscsid 2>&1 |
  tee "$build/demo-build.log" | build_progress
step "4/4 boot the VM and run the scenario (the first run fetches the kernel and makes an initramfs)"
exec bash tests/vm/run.sh --build "$build" demo

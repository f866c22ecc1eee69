#!/usr/bin/env bash
# The end-to-end demo, in two VMs (Debian's kernel under qemu):
#   1. root on iSCSI: a Debian 12 machine boots from a disk served by tgtd on this machine; its
#      initramfs (Debian's initramfs-tools with kiscsi's hook) logs in with kiscsistart, the
#      system's kiscsid takes the session over without a second login, udev tunes the disk; then
#      the target goes away for 10 s twice under writes to / (once while kiscsid restarts),
#      nothing is lost, and the machine powers off cleanly (tests/vm/rootboot/boot.sh).
#   2. the daemon and CLI with LIO inside the guest: discovery, a login through the kernel with
#      mutual CHAP, the disk written and read back, a target outage survived, logout
#      (tests/vm/scenarios/demo.sh).
# Installs what it needs (packages, the kernel package, an initramfs, a debootstrap'd Debian;
# cached in ~/.cache/kiscsi-vm), builds the programs, boots, and streams the guests' consoles.
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

step "1/5 packages (scripts/setup.sh)"
bash scripts/setup.sh
step "2/5 configure $build"
mkdir -p "$build"
if ! cmake -S . -B "$build" -G Ninja -DKISCSI_BENCH=OFF >"$build/demo-configure.log" 2>&1; then
  cat "$build/demo-configure.log" >&2
  exit 1
fi
step "3/5 build the programs ($(nproc) jobs; minutes on a small machine)"
NINJA_STATUS='[%f/%t] ' cmake --build "$build" -j"$(nproc)" \
  --target kiscsiadm kiscsid kiscsistart kiscsi-iname kiscsi-udev 2>&1 |
  tee "$build/demo-build.log" | build_progress
step "4/5 root on iSCSI: make the disk (the first run debootstraps Debian 12, ~2 min), boot it from tgtd"
bash tests/vm/rootboot/boot.sh --build "$build" itools_cmdline
step "5/5 the daemon and CLI against LIO in a VM"
exec bash tests/vm/run.sh --build "$build" demo

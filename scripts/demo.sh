#!/usr/bin/env bash
# The end-to-end demo in a VM (Debian's kernel under qemu, LIO inside): discovery, a login
# through the kernel with mutual CHAP, the disk written and read back, a target outage survived,
# logout. Installs what it needs (packages, the kernel package, an initramfs; cached in
# ~/.cache/kiscsi-vm), builds the programs, boots, and streams the guest's console. The scenario: tests/vm/scenarios/demo.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
build=${KISCSI_BUILD_DIR:-$top/build-demo}
cmake -S . -B "$build" -G Ninja -DKISCSI_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target kiscsiadm kiscsid >/dev/null
exec bash tests/vm/run.sh --build "$build" demo

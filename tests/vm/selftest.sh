#!/usr/bin/env bash
# Checks the VM harness itself (not registered with ctest; about 40 s): the scenario's exit code
# and arguments reach the host, a hung guest is stopped by the timeout (124), and a guest that
# dies without reporting (kernel panic) gives 125.
#   bash tests/vm/selftest.sh [BUILD_DIR]
set -euo pipefail
vm_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-${KISCSI_BUILD:-$vm_dir/../../build}}
cache=${KISCSI_VM_CACHE:-${HOME:-/root}/.cache/kiscsi-vm}
mkdir -p "$cache/selftest"
dir=$(mktemp -d "$cache/selftest/run.XXXXXX")
trap 'rm -rf "$dir"' EXIT
failures=0

expect() { # WANT_RC NAME SCRIPT_BODY [ARGS...]
  local want=$1 name=$2 body=$3 rc
  shift 3
  printf '%s\n' "$body" >"$dir/$name.sh"
  set +e
  KISCSI_VM_QUIET=1 bash "$vm_dir/run.sh" --build "$build" --timeout "${TIMEOUT:-60}" \
    --log "$dir/$name.log" "$dir/$name.sh" "$@" >"$dir/$name.out" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq "$want" ]; then
    echo "ok   $name (rc=$rc): $(tail -n 1 "$dir/$name.out")"
  else
    echo "FAIL $name: rc=$rc, expected $want"
    cat "$dir/$name.out"
    failures=$((failures + 1))
  fi
}

expect 7 exit_code 'exit 7'
# shellcheck disable=SC2016
expect 0 arguments '[ "$#" -eq 3 ] && [ "$1" = "a b" ] && [ "$2" = "" ] && [ "$3" = "c*" ]' \
  "a b" "" "c*"
# shellcheck disable=SC2016
expect 0 environment 'set -e; [ -x "$KISCSI_BUILD/bin/kiscsiadm" ]; [ "$PWD" = "$KISCSI_VM_TMP" ]
  touch "$KISCSI_BUILD/written-by-guest" 2>/dev/null || true
  ip -o addr show lo | grep -q "inet 127.0.0.1/"'
[ ! -e "$build/written-by-guest" ] || { echo "FAIL the guest wrote into the host's build tree"; failures=$((failures + 1)); }
# Header lines: extra qemu arguments (a NIC) and an iBFT made with quoted generator options.
# shellcheck disable=SC2016
expect 0 header_lines '# vm-qemu-args: -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,addr=0x5
# vm-ibft: --nic-hostname "two words" --nic-pci 00:05.0
set -e; grep -q "two words" /sys/firmware/acpi/tables/iBFT
cmp /sys/firmware/acpi/tables/iBFT "$KISCSI_VM_RUNDIR/ibft.bin"
grep -qx 0x1af4 /sys/bus/pci/devices/0000:00:05.0/vendor'
TIMEOUT=20 expect 124 timeout 'while :; do sleep 0.1; done'
expect 125 panic 'echo c >/proc/sysrq-trigger'

if ((failures)); then
  echo "$failures harness checks failed"
  exit 1
fi
echo "harness checks passed"

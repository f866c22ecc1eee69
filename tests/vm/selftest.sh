#!/usr/bin/env bash
# Checks the VM harness itself (not registered with ctest; about 80 s): the scenario's exit code
# and arguments reach the host, a hung guest is stopped by the timeout (124), a guest that
# dies without reporting (kernel panic) gives 125, and with --kiscsid (a sanitizer build's
# kiscsid) a sanitizer report or a kiscsid never started fails the scenario.
#   bash tests/vm/selftest.sh [BUILD_DIR [CHECK...]]   (CHECKs: names below, default all)
set -euo pipefail
vm_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-${KISCSI_BUILD:-$vm_dir/../../build}}
only=("${@:2}")
cache=${KISCSI_VM_CACHE:-${HOME:-/root}/.cache/kiscsi-vm}
mkdir -p "$cache/selftest"
dir=$(mktemp -d "$cache/selftest/run.XXXXXX")
trap 'rm -rf "$dir"' EXIT
failures=0

selected() { # NAME
  ((${#only[@]} == 0)) && return 0
  local name
  for name in "${only[@]}"; do [ "$name" = "$1" ] && return 0; done
  return 1
}

expect() { # WANT_RC NAME SCRIPT_BODY [ARGS...]; KISCSID=FILE passes --kiscsid FILE
  local want=$1 name=$2 body=$3 rc
  shift 3
  selected "$name" || return 0
  local extra=()
  if [ -n "${KISCSID:-}" ]; then extra=(--kiscsid "$KISCSID"); fi
  printf '%s\n' "$body" >"$dir/$name.sh"
  set +e
  KISCSI_VM_QUIET=1 bash "$vm_dir/run.sh" --build "$build" --timeout "${TIMEOUT:-60}" \
    --log "$dir/$name.log" "${extra[@]}" "$dir/$name.sh" "$@" >"$dir/$name.out" 2>&1
  rc=$?
  set -e
  if [ -n "${WANT_LOG:-}" ] && ! grep -q "$WANT_LOG" "$dir/$name.log"; then
    echo "FAIL $name: the console has no '$WANT_LOG'"
    failures=$((failures + 1))
  elif [ "$rc" -eq "$want" ]; then
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

# --kiscsid: two ASan+UBSan programs stand in for a sanitizer build's kiscsid, one clean and
# one reading past a heap block. The scenario starts "$KISCSI_BUILD/bin/kiscsid" as the real
# ones do and ignores its exit status: the harness alone must notice.
if selected sanitizer_clean || selected sanitizer_report || selected sanitizer_unused; then
  printf '%s\n' '#include <stdio.h>' '#include <stdlib.h>' \
    'int main(int argc, char** argv) {' \
    '  int* block = malloc(4 * sizeof(int)); block[0] = argc;' \
    '  int value = argc > 1 ? block[argc + 3] : block[0];' \
    '  printf("kiscsid: %d %s\n", value, argv[0]); free(block); return 0;' '}' >"$dir/fake.c"
  clang -g -fsanitize=address,undefined -o "$dir/fake-kiscsid" "$dir/fake.c"
  # shellcheck disable=SC2016
  KISCSID=$dir/fake-kiscsid expect 0 sanitizer_clean \
    '"$KISCSI_BUILD/bin/kiscsid" | grep -q "^kiscsid: 1 .*/fake-kiscsid$"'
  # shellcheck disable=SC2016
  KISCSID=$dir/fake-kiscsid WANT_LOG=heap-buffer-overflow expect 1 sanitizer_report \
    '"$KISCSI_BUILD/bin/kiscsid" -f || true'
  KISCSID=$dir/fake-kiscsid WANT_LOG="never started kiscsid" expect 1 sanitizer_unused 'true'
fi

if ((failures)); then
  echo "$failures harness checks failed"
  exit 1
fi
echo "harness checks passed"

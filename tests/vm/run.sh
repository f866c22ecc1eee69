#!/usr/bin/env bash
# Boots one kiscsi test VM (Debian's kernel under qemu/TCG, the host's root read-only over 9p with
# a tmpfs overlay) and runs one scenario script inside it; exits with the scenario's exit code.
#
#   tests/vm/run.sh [--build DIR] [--timeout SECONDS] [--log FILE] [--kiscsid FILE] SCENARIO [ARGS...]
#
# SCENARIO is a path, or a name from tests/vm/scenarios/ (with or without .sh). ARGS are passed
# to it. Inside the guest the scenario runs as root in /tmp with KISCSI_BUILD (the build tree),
# KISCSI_VM_DIR (tests/vm) and KISCSI_VM_GUEST (tests/vm/guest) set.
# --kiscsid FILE: a sanitizer build's kiscsid (ASan+UBSan) runs wherever the scenario starts
# $KISCSI_BUILD/bin/kiscsid, its reports written to files; a report, or a scenario that never
# started it, fails the run (guest/stage2.sh).
# Setup (packages, kernel, initramfs) happens on the first run and is cached: see setup.sh.
#
# A scenario's header comment (the comment lines at its top) may hold:
#   # vm-qemu-args: ARGS...   extra qemu arguments for this scenario (several lines add up)
#   # vm-ibft: [OPTIONS...]   an iBFT made by tests/vm/ibft_gen.py OPTIONS (defaults when none)
#                             into the run folder, passed as -acpitable file=...
#   # vm-retry-if-oops-after: STEP-REGEX   one more run when the run failed after a guest
#                             kernel oops whose last step line ("== [...] ...") matches STEP-REGEX
# Both are split into words as xargs does (quotes group, no variables or globs). The harness's
# own PCI devices sit in slots 0x1e/0x1f, so a scenario's devices may take fixed low addresses.
#
# Environment: KISCSI_BUILD (default <repo>/build), KISCSI_VM_TIMEOUT (default 300),
# KISCSI_VM_CACHE, KISCSI_VM_QUIET=1 (no live console; the log is printed on failure),
# KISCSI_VM_MEM (MiB, default 2048), KISCSI_VM_SMP (default 2), KISCSI_VM_QEMU_ARGS (extra args,
# after the scenario's own).
# Exit codes: the scenario's; 124 on timeout; 125 when the VM ended without a result.
set -euo pipefail

vm_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$vm_dir/../.." && pwd)

usage() {
  sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
  exit 2
}
die() { echo "vm: error: $*" >&2; exit 125; }
original_args=("$@")

build=${KISCSI_BUILD:-$repo/build}
timeout_s=${KISCSI_VM_TIMEOUT:-300}
log=""
kiscsid=""
while (($#)); do
  case $1 in
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --timeout) timeout_s=${2:?--timeout needs seconds}; shift 2 ;;
    --log) log=${2:?--log needs a file}; shift 2 ;;
    --kiscsid) kiscsid=${2:?--kiscsid needs a file}; shift 2 ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) echo "vm: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
(($#)) || usage
scenario=$1
shift

if [[ $scenario != */* ]]; then
  scenario=$vm_dir/scenarios/${scenario%.sh}.sh
fi
[ -f "$scenario" ] || die "no scenario $scenario"
scenario=$(realpath "$scenario")
[ -d "$build" ] || die "build tree $build does not exist (set KISCSI_BUILD or --build)"
build=$(realpath "$build")
[[ $timeout_s =~ ^[0-9]+$ ]] || die "timeout must be whole seconds, got '$timeout_s'"
name=$(basename "$scenario" .sh)
if [ -n "$kiscsid" ]; then
  if [ ! -f "$kiscsid" ] || [ ! -x "$kiscsid" ]; then die "--kiscsid $kiscsid is not an executable file"; fi
  kiscsid=$(realpath "$kiscsid")
fi
for p in "$scenario" "$build" "$vm_dir" "$kiscsid"; do
  [[ $p != *[[:space:]]* ]] || die "paths with blanks cannot go on the kernel command line: $p"
done

started=$(date +%s.%N)
setup_out=$(bash "$vm_dir/setup.sh") || die "setup failed"
kernel=$(sed -n 's/^kernel=//p' <<<"$setup_out")
initrd=$(sed -n 's/^initrd=//p' <<<"$setup_out")
kver=$(sed -n 's/^kver=//p' <<<"$setup_out")
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then die "setup gave no kernel/initrd"; fi

cache=${KISCSI_VM_CACHE:-${HOME:-/root}/.cache/kiscsi-vm}
mkdir -p "$cache/runs"
rundir=$(mktemp -d "$cache/runs/$name.XXXXXX")
qemu_pid=""
tail_pid=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; fi
  if [ -n "$tail_pid" ]; then kill "$tail_pid" 2>/dev/null || true; fi
  rm -rf "$rundir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Scenario arguments, NUL-separated; the guest reads them over 9p.
if (($#)); then printf '%s\0' "$@" >"$rundir/args"; else : >"$rundir/args"; fi

if [ -z "$log" ]; then
  log_dir=${KISCSI_VM_LOG_DIR:-$build/Testing/vm}
  mkdir -p "$log_dir"
  log=$log_dir/$name.log
fi
: >"$log"
result=$rundir/result
: >"$result"

append="console=ttyS0 quiet panic=-1 kiscsi.init=$vm_dir/guest/stage2.sh"
append+=" kiscsi.scenario=$scenario kiscsi.build=$build kiscsi.rundir=$rundir"
if [ -n "$kiscsid" ]; then append+=" kiscsi.kiscsid=$kiscsid"; fi
# shellcheck disable=SC2054  # commas inside qemu option values
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "${KISCSI_VM_MEM:-2048}"
      -smp "${KISCSI_VM_SMP:-2}" -nodefaults -no-user-config -display none -monitor none
      -no-reboot -kernel "$kernel" -initrd "$initrd" -append "$append"
      -serial "file:$log" -serial "file:$result"
      -fsdev "local,id=hostfs,path=/,security_model=none,readonly=on,multidevs=remap"
      -device virtio-9p-pci,fsdev=hostfs,mount_tag=host,addr=0x1e
      -device virtio-rng-pci,addr=0x1f)

# The scenario's header lines: "# vm-qemu-args: ..." and "# vm-ibft: ...".
split_words() { # TEXT: sets `words` to TEXT split as xargs does (quotes group words)
  xargs -r printf '%s\0' <<<"$1" >"$rundir/words" || die "cannot split into words: $1"
  mapfile -d '' -t words <"$rundir/words"
}
ibft_requested=0
ibft_opts=()
retry_oops_after=""
while IFS= read -r line; do
  [[ $line == \#* ]] || break
  case $line in
    "# vm-qemu-args:"*)
      split_words "${line#"# vm-qemu-args:"}"
      qemu+=("${words[@]}")
      ;;
    "# vm-retry-if-oops-after:"*)
      retry_oops_after=${line#"# vm-retry-if-oops-after:"}
      retry_oops_after=${retry_oops_after# }
      ;;
    "# vm-ibft:"*)
      ibft_requested=1
      split_words "${line#"# vm-ibft:"}"
      ibft_opts+=("${words[@]}")
      ;;
  esac
done <"$scenario"
if ((ibft_requested)); then
  python3 "$vm_dir/ibft_gen.py" --out "$rundir/ibft.bin" "${ibft_opts[@]}" \
    || die "ibft_gen.py ${ibft_opts[*]} failed"
  qemu+=(-acpitable "file=$rundir/ibft.bin")
  echo "vm: iBFT from ibft_gen.py ${ibft_opts[*]}"
fi
if [ -n "${KISCSI_VM_QEMU_ARGS:-}" ]; then
  read -r -a extra <<<"$KISCSI_VM_QEMU_ARGS"
  qemu+=("${extra[@]}")
fi

echo "vm: $name on $kver (timeout ${timeout_s}s, log $log${kiscsid:+, kiscsid $kiscsid})"
boot_started=$(date +%s.%N)
timeout --kill-after=5 "$timeout_s" "${qemu[@]}" </dev/null >>"$log" 2>&1 &
qemu_pid=$!
if [ "${KISCSI_VM_QUIET:-0}" != 1 ]; then
  tail -n +1 -F --pid="$qemu_pid" "$log" 2>/dev/null | sed -u 's/\r$//' &
  tail_pid=$!
fi
set +e
wait "$qemu_pid"
qemu_rc=$?
set -e
qemu_pid=""
if [ -n "$tail_pid" ]; then wait "$tail_pid" 2>/dev/null || true; tail_pid=""; fi
ended=$(date +%s.%N)

field() { sed -n "s/^$1 *\([0-9.]*\).*/\1/p" "$result" | tr -d '\r' | tail -n 1; }
rc=$(sed -n 's/^KISCSI-VM-RESULT rc=\([0-9]*\).*/\1/p' "$result" | tail -n 1)
start_up=$(field 'KISCSI-VM-START uptime=')
end_up=$(field 'KISCSI-VM-END uptime=')
if [ -z "$rc" ]; then
  # Fall back to the console, in case the second serial port was lost.
  rc=$(tr -d '\r' <"$log" | sed -n 's/^KISCSI-VM-RESULT rc=\([0-9]*\)$/\1/p' | tail -n 1)
fi
if [ -z "$rc" ]; then
  if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
    echo "vm: $name TIMED OUT after ${timeout_s}s" >&2
    rc=124
  else
    echo "vm: $name: the VM ended (qemu rc=$qemu_rc) without a result" >&2
    rc=125
  fi
  if [ "${KISCSI_VM_QUIET:-0}" = 1 ]; then
    echo "----- last 60 console lines ($log):" >&2
    tail -n 60 "$log" | tr -d '\r' >&2
  fi
elif [ "$rc" -ne 0 ] && [ "${KISCSI_VM_QUIET:-0}" = 1 ]; then
  echo "----- console ($log):" >&2
  tr -d '\r' <"$log" >&2
fi

secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.1f", e - s }'; }
summary="vm: $name rc=$rc in $(secs "$started" "$ended")s"
summary+=" (setup $(secs "$started" "$boot_started")s"
if [ -n "$start_up" ]; then
  summary+=", boot to scenario ${start_up}s"
  [ -n "$end_up" ] && summary+=", scenario $(secs "$start_up" "$end_up")s"
fi
summary+=", qemu $(secs "$boot_started" "$ended")s)"
echo "$summary"
# A kernel oops while another initiator (open-iscsi) drove the kernel is that kernel's bug, not
# kiscsi's: with the scenario's "# vm-retry-if-oops-after: STEP-PATTERN" header, a failed run
# whose first oops came after a step line ("== [...] ...") matching the pattern runs once more.
# The first console is kept beside the log; an oops in any other step fails as usual.
if [ "$rc" -ne 0 ] && [ -n "$retry_oops_after" ] && [ -z "${KISCSI_VM_RETRIED:-}" ]; then
  oops_step=$(tr -d '\r' <"$log" | awk '
    /^== \[/ { step = $0 }
    /(BUG: |Oops: )/ { print step; exit }')
  if [ -n "$oops_step" ] && grep -qE -- "$retry_oops_after" <<<"$oops_step"; then
    cp "$log" "$log.oops"
    echo "vm: $name: the guest kernel oopsed during '$oops_step' (console kept in $log.oops);" \
      "that step is not kiscsi's, so the scenario runs once more" >&2
    KISCSI_VM_RETRIED=1 exec bash "$0" "${original_args[@]}"
  fi
fi
exit "$rc"

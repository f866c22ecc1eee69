#!/bin/bash
# PID 1 of the kiscsi VM after switch_root (the root is the host's, read-only over 9p, under a
# tmpfs overlay). Reads from the kernel command line:
#   kiscsi.scenario=/abs/script   the scenario to run (with bash)
#   kiscsi.build=/abs/dir         the kiscsi build tree (exported to it as KISCSI_BUILD)
#   kiscsi.rundir=/abs/dir        host folder with "args" (NUL-separated scenario arguments)
#   kiscsi.kiscsid=/abs/file      optional: a sanitizer build's kiscsid, run in place of
#                                 $KISCSI_BUILD/bin/kiscsid (see sanitized_kiscsid below)
# Runs the scenario in a fresh $KISCSI_VM_TMP (/tmp/kiscsi-vm-guest, in the overlay) with its
# output on the console, then reports on the second serial port (ttyS1, a file on the host) and on the console:
#   KISCSI-VM-START uptime=SECONDS
#   KISCSI-VM-RESULT rc=N
#   KISCSI-VM-END uptime=SECONDS
# and powers off. This script must never exit: PID 1 exiting panics the kernel (qemu then stops
# because of -no-reboot and panic=-1, and the host reports "no result").
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8 LC_ALL=C.UTF-8

report() {
  local line=$1
  echo "$line" >/dev/console
  echo "$line" >/dev/ttyS1 2>/dev/null || true
}

uptime_s() { local u _; read -r u _ </proc/uptime; echo "$u"; }

finish() {
  report "KISCSI-VM-RESULT rc=$1"
  report "KISCSI-VM-END uptime=$(uptime_s)"
  sync
  echo o >/proc/sysrq-trigger
  # sysrq poweroff is asynchronous; wait for it in short steps.
  for ((i = 0; i < 100; i++)); do sleep 0.1; done
  busybox poweroff -f
  while :; do sleep 1; done
}

scenario="" build="" rundir="" kiscsid=""
read -r -a cmdline </proc/cmdline
for arg in "${cmdline[@]}"; do
  case $arg in
    kiscsi.scenario=*) scenario=${arg#kiscsi.scenario=} ;;
    kiscsi.build=*) build=${arg#kiscsi.build=} ;;
    kiscsi.rundir=*) rundir=${arg#kiscsi.rundir=} ;;
    kiscsi.kiscsid=*) kiscsid=${arg#kiscsi.kiscsid=} ;;
  esac
done

if [ -z "$scenario" ] || [ ! -r "$scenario" ]; then
  echo "stage2: no readable scenario (kiscsi.scenario=$scenario)" >/dev/console
  finish 125
fi
args=()
if [ -n "$rundir" ] && [ -f "$rundir/args" ]; then
  mapfile -d '' -t args <"$rundir/args"
fi

hostname kiscsi-vm 2>/dev/null || true
ip link set lo up || { echo "stage2: cannot bring lo up" >/dev/console; finish 125; }
grep -q ' /sys/kernel/config ' /proc/mounts \
  || mount -t configfs configfs /sys/kernel/config 2>/dev/null || true
# Kernel messages at warning and above go to the console (quiet), the rest stays in dmesg.

export KISCSI_BUILD=$build
KISCSI_VM_DIR=$(cd "$(dirname "$0")/.." && pwd)
export KISCSI_VM_DIR KISCSI_VM_GUEST=$KISCSI_VM_DIR/guest
export KISCSI_VM_TMP=/tmp/kiscsi-vm-guest
# The host's run folder (read-only here): args, and ibft.bin when the scenario asked for one.
export KISCSI_VM_RUNDIR=$rundir
rm -rf "$KISCSI_VM_TMP"
if ! mkdir -p "$KISCSI_VM_TMP" || ! cd "$KISCSI_VM_TMP"; then finish 125; fi
export TMPDIR=$KISCSI_VM_TMP

# kiscsid from a sanitizer build (ASan+UBSan): $KISCSI_BUILD/bin/kiscsid becomes, in the overlay
# only, a script that notes the start and execs it (same pid, so the scenario's `kill` and
# `wait` work), every report going to a file of $sanitizer_dir rather than to kiscsid's stderr
# (which scenarios read). After the scenario, a report fails it, and so does a sanitizer kiscsid
# that never ran (nothing would have been tested).
sanitizer_dir=/run/kiscsi-sanitizer
sanitized_kiscsid() {
  local wrapper=$build/bin/kiscsid
  mkdir -p "$sanitizer_dir" || return 1
  rm -f "$wrapper" 2>/dev/null
  {
    echo '#!/bin/sh'
    echo '# Written by tests/vm/guest/stage2.sh for one VM run (in its tmpfs overlay only).'
    echo "echo \$\$ >>$sanitizer_dir/started"
    echo "export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:log_path=$sanitizer_dir/report"
    echo "export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$sanitizer_dir/report"
    echo "exec $kiscsid \"\$@\""
  } >"$wrapper" || return 1
  chmod 0755 "$wrapper"
}
sanitizer_verdict() { # RC: shows the reports; returns RC, or 1 for a report or no start
  local rc=$1 started=0 reports count=0
  [ -f "$sanitizer_dir/started" ] && started=$(wc -l <"$sanitizer_dir/started")
  reports=$(find "$sanitizer_dir" -name 'report*' -type f | sort)
  [ -n "$reports" ] && count=$(wc -l <<<"$reports")
  report "KISCSI-VM-SANITIZER kiscsid starts=$started reports=$count"
  if ((count > 0)); then
    echo "----- stage2: sanitizer reports from kiscsid ($kiscsid):" >/dev/console
    # shellcheck disable=SC2086  # file names without blanks
    cat $reports >/dev/console
    ((rc != 0)) || rc=1
  elif ((started == 0)); then
    echo "----- stage2: the scenario never started kiscsid ($kiscsid)" >/dev/console
    ((rc != 0)) || rc=1
  fi
  return "$rc"
}
if [ -n "$kiscsid" ]; then
  if [ ! -x "$kiscsid" ] || ! sanitized_kiscsid; then
    echo "stage2: cannot put $kiscsid in place of $build/bin/kiscsid" >/dev/console
    finish 125
  fi
fi

dmesg_lines=$(dmesg | wc -l)
report "KISCSI-VM-START uptime=$(uptime_s)"
bash "$scenario" "${args[@]}" </dev/null
rc=$?
if [ -n "$kiscsid" ]; then
  sanitizer_verdict "$rc"
  rc=$?
fi
if [ "$rc" -ne 0 ]; then
  echo "----- stage2: scenario failed (rc=$rc); kernel messages since it started:" >/dev/console
  dmesg | tail -n "+$((dmesg_lines + 1))" | tail -n 60 >/dev/console
fi
finish "$rc"

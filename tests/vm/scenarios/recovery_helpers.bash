# shellcheck shell=bash
# Shared by the recovery scenarios (outage, replacement_timeout, adopt); sourced after lib.sh.
# Not a scenario itself (not in scenarios.list).
#   now_ms                         CLOCK_MONOTONIC-ish milliseconds (/proc/uptime is 10 ms)
#   writes_at_least N, session_state_is SID STATE, device_state_is DISK STATE: for wait_for
#   session_disk SID               the sdX of the session's first disk
#   sess_state SID / conn_state SID / local_port SID
#   start_writer DISK BLOCKS       writes numbered 64 KiB blocks: write i puts block i % BLOCKS of
#                                  a random pattern at block i % BLOCKS of DISK, with dd
#                                  oflag=direct, in the background until writer.stop exists;
#                                  progress in writer.count (writes done), the first failure in
#                                  writer.fail ("WRITE MS") and writer.err
#   verify_blocks DISK N           compares what N writes put on DISK with the pattern
#   open_lio_target IQN            an open LIO target with one LUN on 127.0.0.1:3260, plus the
#                                  initiator's modules
#   start_kiscsid                  kiscsid in the background ($daemon), its log in kiscsid.log and
#                                  printed if the scenario fails
now_ms() { local s; s=$(date +%s%N); echo $((s / 1000000)); }

# Predicates for wait_for, which runs its command again on every poll (a "$(...)" in its
# arguments would be expanded only once, when wait_for is called).
writes_at_least() { [ "$(cat writer.count)" -ge "$1" ]; }
session_state_is() { [ "$(sess_state "$1")" = "$2" ]; }
device_state_is() { [ "$(cat "/sys/block/$1/device/state")" = "$2" ]; }

session_disk() {
  local b
  for b in /sys/class/iscsi_session/session"$1"/device/target*/*/block/*; do
    [ -e "$b" ] && { basename "$b"; return 0; }
  done
  return 1
}
sess_state() { cat "/sys/class/iscsi_session/session$1/state"; }
conn_state() { cat "/sys/class/iscsi_connection/connection$1:0/state"; }
local_port() { cat "/sys/class/iscsi_connection/connection$1:0/local_port"; }

start_writer() { # DISK BLOCKS
  local disk=$1 blocks=$2
  head -c $((blocks * 65536)) /dev/urandom >pattern
  rm -f writer.stop writer.fail
  echo 0 >writer.count
  (
    i=0
    while [ ! -e writer.stop ]; do
      b=$((i % blocks))
      if ! dd if=pattern of="/dev/$disk" bs=64K skip="$b" seek="$b" count=1 \
        oflag=direct conv=notrunc status=none 2>writer.err; then
        echo "$i $(now_ms)" >writer.fail
        exit 1
      fi
      i=$((i + 1))
      echo "$i" >writer.count
    done
  ) &
  WRITER=$!
}

verify_blocks() { # DISK N
  local disk=$1 n=$2 blocks
  [ "$n" -gt 0 ] || fail "nothing was written"
  blocks=$(($(stat -c %s pattern) / 65536))
  [ "$n" -le "$blocks" ] || n=$blocks
  cmp -n $((n * 65536)) pattern "/dev/$disk" || fail "data on /dev/$disk differs from what was written"
}

open_lio_target() { # IQN
  step "LIO: $1 on 127.0.0.1:3260"
  lio_load
  lio_open_target "$1" 1
  lio_portal "$1" 127.0.0.1 3260
  lio_enable "$1"
  modprobe iscsi_tcp
  modprobe sd_mod
  modprobe crc32c_generic
}

start_kiscsid() {
  "$KISCSI_BUILD/bin/kiscsid" -f -d "${KISCSID_DEBUG:-4}" >kiscsid.log 2>&1 &
  daemon=$!
  trap 'rc=$?; [ $rc -eq 0 ] || { echo "---- kiscsid.log (last 80 lines)"; tail -80 kiscsid.log; }' EXIT
  wait_for 10 test -S "$KISCSI_RUNDIR/kiscsid.sock"
}

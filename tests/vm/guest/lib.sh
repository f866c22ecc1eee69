# shellcheck shell=bash
# Helpers for scenarios running inside the kiscsi test VM. Source it first:
#   . "$KISCSI_VM_GUEST/lib.sh"
# It sets `set -euo pipefail`, sources lio.sh, and provides:
#   step TEXT                      prints a "== TEXT" heading with the guest's uptime
#   fail TEXT                      prints "FAIL: TEXT" and exits 1
#   run CMD...                     runs CMD, capturing RUN_OUT, RUN_ERR and RUN_RC (never exits)
#   assert_rc N [TEXT]             checks RUN_RC
#   assert_out_eq EXPECTED         checks RUN_OUT exactly (trailing newline ignored, as with $())
#   assert_out_has TEXT            checks that RUN_OUT contains the line fragment TEXT
#   assert_err_has TEXT            same for RUN_ERR
#   assert_not_has TEXT            checks that neither RUN_OUT nor RUN_ERR contains TEXT
#   kiscsi_scratch [INITIATOR]     makes a scratch KISCSI_SYSCONFDIR/KISCSI_RUNDIR in $KISCSI_VM_TMP with
#                                  initiatorname.iscsi (default iqn.2026-11.test.vm:initiator)
#   adm ARGS...                    run kiscsiadm from the build tree (with `run`)
#   wait_for SECONDS CMD...        polls CMD every 0.1 s until it succeeds; fails after SECONDS
#   kiscsid_start [ARGS...]        starts kiscsid -f ARGS in the background (log appended to
#                                  ./kiscsid.log, pid in $daemon) and waits until it is ready
#   udev_start [RULES_FILE...]     copies the rule files into /run/udev/rules.d (the tmpfs /run:
#                                  read with /etc/udev/rules.d and /lib/udev/rules.d, a file
#                                  there hides a same-named one of /lib), starts the host's
#                                  systemd-udevd (log ./udevd.log, pid in $udevd_pid) and waits
#                                  until it answers; it then handles new kernel events; devices
#                                  that existed before need `udevadm trigger`
#   udev_settle [SECONDS]          udevadm settle (default 30 s); fails if the queue stays busy
#   udev_stop                      stops udevd (udevadm control --exit)
# Variables: KISCSI_BUILD (build tree), KISCSI_VM_GUEST (this folder), KISCSI_VM_TMP (the
# scenario's scratch folder, also its working directory), ADM (kiscsiadm path).
set -euo pipefail

: "${KISCSI_BUILD:?KISCSI_BUILD is not set: run scenarios through tests/vm/run.sh}"
: "${KISCSI_VM_GUEST:?KISCSI_VM_GUEST is not set: run scenarios through tests/vm/run.sh}"
: "${KISCSI_VM_TMP:?KISCSI_VM_TMP is not set: run scenarios through tests/vm/run.sh}"
# shellcheck source=tests/vm/guest/lio.sh
. "$KISCSI_VM_GUEST/lio.sh"

ADM=$KISCSI_BUILD/bin/kiscsiadm
INITIATOR_IQN=${INITIATOR_IQN:-iqn.2026-11.test.vm:initiator}

_uptime() { local u _; read -r u _ </proc/uptime; echo "$u"; }

step() { echo "== [$(_uptime)] $*"; }

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

_show_run() {
  echo "---- command: ${RUN_CMD}" >&2
  echo "---- exit code: ${RUN_RC}" >&2
  echo "---- stdout:" >&2
  printf '%s\n' "$RUN_OUT" >&2
  echo "---- stderr:" >&2
  printf '%s\n' "$RUN_ERR" >&2
  echo "----" >&2
}

run() {
  local out_file err_file
  out_file=$(mktemp) err_file=$(mktemp)
  RUN_CMD="$*"
  set +e
  "$@" >"$out_file" 2>"$err_file"
  RUN_RC=$?
  set -e
  RUN_OUT=$(cat "$out_file")
  RUN_ERR=$(cat "$err_file")
  rm -f "$out_file" "$err_file"
  if [ -n "${VERBOSE:-}" ]; then _show_run; fi
  return 0
}

assert_rc() {
  if [ "$RUN_RC" -ne "$1" ]; then
    _show_run
    fail "${2:-$RUN_CMD}: exit code $RUN_RC, expected $1"
  fi
}

assert_out_eq() {
  if [ "$RUN_OUT" != "$1" ]; then
    _show_run
    echo "---- expected stdout:" >&2
    printf '%s\n' "$1" >&2
    fail "$RUN_CMD: unexpected output"
  fi
}

assert_out_has() {
  if [[ $RUN_OUT != *"$1"* ]]; then
    _show_run
    fail "$RUN_CMD: stdout lacks '$1'"
  fi
}

assert_err_has() {
  if [[ $RUN_ERR != *"$1"* ]]; then
    _show_run
    fail "$RUN_CMD: stderr lacks '$1'"
  fi
}

assert_not_has() {
  if [[ $RUN_OUT == *"$1"* || $RUN_ERR == *"$1"* ]]; then
    _show_run
    fail "$RUN_CMD: output contains '$1'"
  fi
}

# shellcheck disable=SC2120  # the initiator name is optional
kiscsi_scratch() {
  local initiator=${1:-$INITIATOR_IQN}
  export KISCSI_SYSCONFDIR=$KISCSI_VM_TMP/kiscsi-etc KISCSI_RUNDIR=$KISCSI_VM_TMP/kiscsi-run
  rm -rf "$KISCSI_SYSCONFDIR" "$KISCSI_RUNDIR"
  mkdir -p "$KISCSI_SYSCONFDIR" "$KISCSI_RUNDIR"
  printf 'InitiatorName=%s\n' "$initiator" >"$KISCSI_SYSCONFDIR/initiatorname.iscsi"
  [ -x "$ADM" ] || fail "$ADM is not built"
}

adm() { run "$ADM" "$@"; }

wait_for() {
  local seconds=$1 i
  shift
  for ((i = 0; i < seconds * 10; i++)); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  fail "timed out after ${seconds}s waiting for: $*"
}

# kiscsid_start [ARGS...]: kiscsid -f ARGS in the background, its log appended to ./kiscsid.log;
# sets daemon to its pid and returns once this run has logged "ready". The "ready" lines are
# counted, so a restart takes neither an earlier run's line nor the socket file a killed daemon
# left behind as a sign of life.
kiscsid_start() {
  local before
  before=$(grep -c '^kiscsid: ready$' kiscsid.log 2>/dev/null) || before=0
  "$KISCSI_BUILD/bin/kiscsid" -f "$@" >>kiscsid.log 2>&1 &
  daemon=$!
  wait_for 10 _kiscsid_ready_since "$before"
}
_kiscsid_ready_since() { # READY_LINES_BEFORE
  kill -0 "$daemon" 2>/dev/null || fail "kiscsid exited at start: $(tail -5 kiscsid.log)"
  local now
  now=$(grep -c '^kiscsid: ready$' kiscsid.log) || now=0
  ((now > $1))
}

# udev_start [RULES_FILE...]: the host's systemd-udevd (package udev, installed by setup.sh) in
# the background with its log on stderr -> ./udevd.log. Nothing is triggered: a scenario asks
# for the events it wants (udevadm trigger --action=add --subsystem-match=block), so network
# interfaces keep their kernel names unless a scenario triggers the net subsystem.
UDEVD=/lib/systemd/systemd-udevd
udev_start() {
  local rules
  [ -x "$UDEVD" ] || fail "$UDEVD does not exist (setup.sh installs the package udev)"
  mkdir -p /run/udev/rules.d
  for rules in "$@"; do
    cp "$rules" /run/udev/rules.d/ || fail "cannot copy $rules to /run/udev/rules.d"
  done
  SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=${UDEV_LOG_LEVEL:-info} \
    "$UDEVD" >>udevd.log 2>&1 </dev/null &
  udevd_pid=$!
  wait_for 20 _udevd_answers
}
_udevd_answers() {
  kill -0 "$udevd_pid" 2>/dev/null || fail "systemd-udevd exited at start: $(tail -5 udevd.log)"
  udevadm control --ping >/dev/null 2>&1
}

udev_settle() {
  udevadm settle --timeout="${1:-30}" || fail "udevadm settle: events still queued after ${1:-30}s"
}

udev_stop() {
  udevadm control --exit || true
  if [ -n "${udevd_pid:-}" ]; then wait "$udevd_pid" 2>/dev/null || true; fi
  udevd_pid=""
}

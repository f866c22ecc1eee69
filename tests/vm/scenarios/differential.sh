#!/usr/bin/env bash
# Differential test of kiscsiadm against open-iscsi's iscsiadm (2.1.8, Debian's package): the
# command lines that storage drivers run (tests/vm/differential/sequences, taken from the
# consumers listed in tests/vm/differential/CONSUMERS.md) run twice in one boot against the same
# LIO targets, (a) with open-iscsi's iscsid + iscsiadm, (b) with kiscsid + kiscsiadm installed
# under the name iscsiadm, each from an empty /etc/iscsi with the same iscsid.conf and initiator
# name. Every command's exit code, stdout and stderr are compared after normalisation (session
# ids, SCSI host numbers, sd names); see tests/vm/differential/README.md for the rules.
# A difference fails the scenario unless tests/vm/differential/KNOWN_DIFFERENCES lists it, and an
# entry there that matches no difference fails it too.
# Debian's 6.1 iscsi_tcp can oops while iscsid cleans up after a refused CHAP login (a NULL
# dereference in iscsi_sw_tcp_release_conn from the conn cleanup work, seen once in CI): a run
# whose oops comes during open-iscsi's half runs once more.
# vm-retry-if-oops-after: \] \(a\) 
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
shopt -s nullglob

diff_dir=$KISCSI_VM_DIR/differential
sequences=$diff_dir/sequences
known=$diff_dir/KNOWN_DIFFERENCES
[ -r "$sequences" ] || fail "no $sequences"
[ -r "$known" ] || fail "no $known"

env_file=$KISCSI_BUILD/Testing/open-iscsi.env
[ -r "$env_file" ] || fail "$env_file is missing: the vm_open_iscsi fixture fetches open-iscsi"
oi_root=$(sed -n 's/^root=//p' "$env_file")
OI_LIB=$oi_root/usr/lib/x86_64-linux-gnu:$oi_root/lib/x86_64-linux-gnu
for b in "$oi_root/sbin/iscsiadm" "$oi_root/sbin/iscsid" "$KISCSI_BUILD/bin/kiscsiadm" \
  "$KISCSI_BUILD/bin/kiscsid"; do
  [ -x "$b" ] || fail "$b is missing"
done

# Names the sequences file uses (through eval).
PORTAL=127.0.0.1
T_OPEN=iqn.2026-11.test.diff:open
T_CHAP=iqn.2026-11.test.diff:chap
T_MUT=iqn.2026-11.test.diff:mutual
# shellcheck disable=SC2034  # used by the sequences file only
T_MISSING=iqn.2026-11.test.diff:missing
CHAP_USER=diff-initiator
CHAP_PASS="initiator-secret-1"
MUT_USER=diff-target
MUT_PASS="target-secret-22"
INITIATOR=iqn.2026-11.test.vm:differential

sid_of() { # TARGET -> the id of its first session ("none" when there is none)
  local s t
  for s in /sys/class/iscsi_session/session*; do
    read -r t <"$s/targetname" || continue
    if [ "$t" = "$1" ]; then echo "${s##*session}"; return 0; fi
  done
  echo none
}
session_dir_of() { # TARGET -> /sys/devices/platform/hostN/sessionM, as Debian's logout-all.sh has
  local sid
  sid=$(sid_of "$1")
  readlink -f "/sys/class/iscsi_session/session$sid/device"
}
count_disks() {
  local b n=0
  for b in /sys/class/iscsi_session/session*/device/target*/*:*:*:*/block/*; do
    [ -b "/dev/${b##*/}" ] && n=$((n + 1))
  done
  echo "$n"
}
disks_at_least() { [ "$(count_disks)" -ge "$1" ]; }
wait_disks() { wait_for 30 disks_at_least "$1"; }
session_count() { local s=(/sys/class/iscsi_session/session*); echo "${#s[@]}"; }

step "LIO: $T_OPEN (2 LUNs), $T_CHAP (CHAP), $T_MUT (mutual CHAP) on $PORTAL:3260"
lio_load
lio_open_target "$T_OPEN" 2
lio_chap_target "$T_CHAP" "$INITIATOR" "$CHAP_USER" "$CHAP_PASS"
lio_chap_target "$T_MUT" "$INITIATOR" "$CHAP_USER" "$CHAP_PASS" "$MUT_USER" "$MUT_PASS"
for t in "$T_OPEN" "$T_CHAP" "$T_MUT"; do
  lio_portal "$t" "$PORTAL" 3260
  lio_enable "$t"
done
# Discovery credentials (mutual), not enforced: SendTargets with and without CHAP both work.
disc_auth=$LIO_CFS/iscsi/discovery_auth
printf '%s' "$CHAP_USER" >"$disc_auth/userid"
printf '%s' "$CHAP_PASS" >"$disc_auth/password"
printf '%s' "$MUT_USER" >"$disc_auth/userid_mutual"
printf '%s' "$MUT_PASS" >"$disc_auth/password_mutual"
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic

# fresh_etc: the same empty database for each system: Debian's iscsid.conf (iscsiadm must not
# start a daemon through systemd), the initiator name, nothing else.
fresh_etc() {
  rm -rf /etc/iscsi /run/lock/iscsi /var/lib/iscsi
  mkdir -p /etc/iscsi /run/lock/iscsi /var/lib/iscsi
  sed 's|^iscsid.startup = .*|iscsid.startup = /bin/false|' "$oi_root/etc/iscsi/iscsid.conf" \
    >/etc/iscsi/iscsid.conf
  printf 'InitiatorName=%s\n' "$INITIATOR" >/etc/iscsi/initiatorname.iscsi
}

iscsid_listening() { grep -q '@ISCSIADM_ABSTRACT_NAMESPACE' /proc/net/unix; }
iscsid_pid=""
daemon_logs() {
  local rc=$? f
  ((rc != 0)) || return 0
  for f in iscsid.log kiscsid.log; do
    if [ -s "$f" ]; then echo "---- $f (last 40 lines)"; tail -40 "$f"; fi
  done
}
trap daemon_logs EXIT

# run_sequences SYSTEM: every line of the sequences file with iscsiadm from $PATH; results in
# $KISCSI_VM_TMP/results/SYSTEM/LABEL.{rc,out,err}.
run_sequences() {
  local sys=$1 line label args out=$KISCSI_VM_TMP/results/$1 n=0 t0 t1
  mkdir -p "$out"
  t0=${EPOCHREALTIME/[.,]/}
  while IFS= read -r line || [ -n "$line" ]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ $line == '!'* ]]; then
      eval "${line#!}"
      continue
    fi
    label=${line%%|*}
    label=${label//[[:space:]]/}
    args=${line#*|}
    [[ $label =~ ^[a-z0-9_]+$ ]] || fail "sequences: bad label in '$line'"
    [ ! -e "$out/$label.rc" ] || fail "sequences: label $label is used twice"
    eval "set -- $args"
    printf '%s\n' "$*" >"$out/$label.cmd"
    echo "$label" >>"$out/order"
    t1=${EPOCHREALTIME/[.,]/}
    set +e
    timeout 60 iscsiadm "$@" >"$out/$label.out" 2>"$out/$label.err"
    echo $? >"$out/$label.rc"
    set -e
    t1=$((${EPOCHREALTIME/[.,]/} - t1))
    echo "$((t1 / 1000)) $label" >>"$out/times"
    n=$((n + 1))
  done <"$sequences"
  echo "$sys: $n commands in $(((${EPOCHREALTIME/[.,]/} - t0) / 1000)) ms; each (ms):"
  paste -d' ' - - - - - - <"$out/times" | sed 's/^/    /'
}

no_sessions_left() { [ "$(session_count)" -eq 0 ]; }

# ---- (a) open-iscsi -------------------------------------------------------------------------
step "(a) open-iscsi $(LD_LIBRARY_PATH=$OI_LIB "$oi_root/sbin/iscsiadm" --version)"
fresh_etc
bin_a=$KISCSI_VM_TMP/bin-open-iscsi
mkdir -p "$bin_a"
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$OI_LIB" "$oi_root/sbin/iscsiadm" \
  >"$bin_a/iscsiadm"
chmod +x "$bin_a/iscsiadm"
# Its own session: iscsid signals its whole process group when it stops.
LD_LIBRARY_PATH=$OI_LIB setsid "$oi_root/sbin/iscsid" -f >>iscsid.log 2>&1 &
iscsid_pid=$!
wait_for 10 iscsid_listening
PATH=$bin_a:$PATH run_sequences open-iscsi
step "(a) done: logging out what is left, stopping iscsid"
echo "iscsid's CPU time (user, system ticks): $(cut -d' ' -f14,15 "/proc/$iscsid_pid/stat")"
PATH=$bin_a:$PATH timeout 30 iscsiadm -m session -u >/dev/null 2>&1 || true
wait_for 20 no_sessions_left
kill -TERM "$iscsid_pid"
wait "$iscsid_pid" || true
wait_for 10 eval '! iscsid_listening'

# ---- (b) kiscsi as iscsiadm ------------------------------------------------------------------
step "(b) kiscsi ($("$KISCSI_BUILD/bin/kiscsiadm" --version)) installed as iscsiadm"
fresh_etc
unset KISCSI_SYSCONFDIR KISCSI_RUNDIR
bin_b=$KISCSI_VM_TMP/bin-kiscsi
mkdir -p "$bin_b"
ln -sf "$KISCSI_BUILD/bin/kiscsiadm" "$bin_b/iscsiadm"
ln -sf "$KISCSI_BUILD/bin/kiscsid" "$bin_b/iscsid"
# shellcheck disable=SC2119  # no arguments: kiscsid's defaults
kiscsid_start
PATH=$bin_b:$PATH run_sequences kiscsi
step "(b) done: logging out what is left, stopping kiscsid"
echo "kiscsid's CPU time (user, system ticks): $(cut -d' ' -f14,15 "/proc/$daemon/stat")"
PATH=$bin_b:$PATH timeout 30 iscsiadm -m session -u >/dev/null 2>&1 || true
wait_for 20 no_sessions_left
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"

# ---- comparison (tests/vm/differential/compare.py; one process: forks are dear under emulation)
step "comparing"
rc=0
python3 "$diff_dir/compare.py" "$KISCSI_VM_TMP/results/open-iscsi" "$KISCSI_VM_TMP/results/kiscsi" \
  "$known" || rc=$?
((rc == 0)) || fail "open-iscsi and kiscsi differ (see UNEXPECTED DIFFERENCE and stale entries above)"
step "differential passed"

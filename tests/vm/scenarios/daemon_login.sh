#!/usr/bin/env bash
# The user's path through kiscsid: discovery, `-m node -l` through the kernel (iscsi_tcp) with
# iscsiadm's output, the disk usable on the next line, `-m session -P 3`, a pattern written and
# read back, a second login refused with 15, CHAP SHA256 and mutual CHAP through the kernel, a
# wrong secret refused with 24 and nothing left behind, logout, and node.session.nr_sessions = 2
# (one login makes two sessions with their own ISIDs and disks, a third is refused with 15, the
# node's logout ends both).
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

open=iqn.2026-11.test.vm:open
chap=iqn.2026-11.test.vm:chap
step "LIO: $open (2 LUNs), $chap (mutual CHAP) on 127.0.0.1:3260"
lio_load
lio_open_target "$open" 2
lio_chap_target "$chap" "$INITIATOR_IQN" user1 initiator-secret-1 target1 target-secret-22
for t in "$open" "$chap"; do
  lio_portal "$t" 127.0.0.1 3260
  lio_enable "$t"
done
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic

kiscsi_scratch
step "start kiscsid"
"$KISCSI_BUILD/bin/kiscsid" -f >kiscsid.log 2>&1 &
daemon=$!
wait_for 10 test -S "$KISCSI_RUNDIR/kiscsid.sock"

adm -m discovery -t st -p 127.0.0.1
assert_rc 0

step "login $open"
adm -m node -T "$open" -p 127.0.0.1 -l
assert_rc 0
assert_out_eq "Logging in to [iface: default, target: $open, portal: 127.0.0.1,3260]
Login to [iface: default, target: $open, portal: 127.0.0.1,3260] successful."

step "session listing"
adm -m session
assert_rc 0
assert_out_eq "tcp: [1] 127.0.0.1:3260,1 $open (non-flash)"
adm -m session -P 3
assert_rc 0
echo "$RUN_OUT"
assert_out_has "Attached scsi disk sd"
disks=$(echo "$RUN_OUT" | sed -n 's/.*Attached scsi disk \(sd[a-z]*\).*/\1/p')
[ "$(echo "$disks" | wc -l)" -eq 2 ] || fail "expected 2 disks, got: $disks"

step "the disk is usable on the next line: write a pattern and read it back"
disk=$(echo "$disks" | head -1)
[ -b "/dev/$disk" ] || fail "/dev/$disk is not there right after login"
head -c 4194304 /dev/urandom >pattern
dd if=pattern of="/dev/$disk" bs=1M oflag=direct status=none
dd if="/dev/$disk" of=readback bs=1M count=4 iflag=direct status=none
cmp pattern readback || fail "data read back differs"

step "a second login is refused with 15"
adm -m node -T "$open" -p 127.0.0.1 -l
assert_rc 15
assert_err_has "1 session requested, but 1 already present."

step "mutual CHAP with SHA256 through the kernel"
for kv in node.session.auth.authmethod=CHAP node.session.auth.username=user1 \
  node.session.auth.password=initiator-secret-1 node.session.auth.username_in=target1 \
  node.session.auth.password_in=target-secret-22 node.session.auth.chap_algs=SHA256; do
  adm -m node -T "$chap" -p 127.0.0.1 -o update -n "${kv%%=*}" -v "${kv#*=}"
  assert_rc 0
done
adm -m node -T "$chap" -p 127.0.0.1 -l
assert_rc 0
assert_out_has "Login to [iface: default, target: $chap, portal: 127.0.0.1,3260] successful."
[ "$(cat /sys/class/iscsi_session/session2/username)" = user1 ] ||
  fail "the kernel does not hold the CHAP user name of session 2"

step "logout of $chap, then a wrong secret: 24 and nothing left behind"
adm -m node -T "$chap" -p 127.0.0.1 -u
assert_rc 0
assert_out_has "Logout of [sid: 2, target: $chap, portal: 127.0.0.1,3260] successful."
adm -m node -T "$chap" -p 127.0.0.1 -o update -n node.session.auth.password -v wrong-secret-9
adm -m node -T "$chap" -p 127.0.0.1 -l
assert_rc 24
assert_not_has wrong-secret-9
n=$(ls -d /sys/class/iscsi_session/session* | wc -l)
[ "$n" -eq 1 ] || fail "a failed login left a session behind ($n sessions)"

step "logout of $open"
adm -m node -T "$open" -p 127.0.0.1 -u
assert_rc 0
assert_out_eq "Logging out of session [sid: 1, target: $open, portal: 127.0.0.1,3260]
Logout of [sid: 1, target: $open, portal: 127.0.0.1,3260] successful."
adm -m session
assert_rc 21
assert_err_has "No active sessions."

step "node.session.nr_sessions = 2: one login makes two sessions, each with its disks"
adm -m node -T "$open" -p 127.0.0.1 -o update -n node.session.nr_sessions -v 2
assert_rc 0
start=$(date +%s.%N)
adm -m node -T "$open" -p 127.0.0.1 -l
end=$(date +%s.%N)
assert_rc 0
echo "the login of 2 sessions took $(echo "$end - $start" | bc 2>/dev/null || echo "?") s"
assert_out_eq "Logging in to [iface: default, target: $open, portal: 127.0.0.1,3260]
Logging in to [iface: default, target: $open, portal: 127.0.0.1,3260]
Login to [iface: default, target: $open, portal: 127.0.0.1,3260] successful.
Login to [iface: default, target: $open, portal: 127.0.0.1,3260] successful."
adm -m session
assert_rc 0
echo "$RUN_OUT"
[ "$(echo "$RUN_OUT" | grep -c " $open (non-flash)\$")" -eq 2 ] || fail "not 2 sessions to $open"
isids=()
for sid in $(echo "$RUN_OUT" | sed -n 's/^tcp: \[\([0-9]*\)\].*/\1/p'); do
  s=/sys/class/iscsi_session/session$sid
  [ "$(cat "$s/state")" = LOGGED_IN ] || fail "session $sid is $(cat "$s/state")"
  n=$(find "$s"/device/target*/*/block -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  [ "$n" -eq 2 ] || fail "session $sid has $n disks instead of 2"
  # iscsi_tcp does not show the ISID in sysfs; kiscsid logs the one it set.
  isid=$(sed -n "s/.*session $sid (.*): logged in (host [0-9]*, isid \([0-9a-f]*\)).*/\1/p" kiscsid.log)
  [ -n "$isid" ] || fail "kiscsid.log names no ISID for session $sid"
  isids+=("$isid")
done
echo "ISIDs: ${isids[*]}"
[ "$(printf '%s\n' "${isids[@]}" | sort -u | wc -l)" -eq 2 ] ||
  fail "the sessions do not have two ISIDs: ${isids[*]}"
# LIO keeps both: a second login with the first one's ISID would have reinstated (ended) it.
lio=$(lio_sessions "$open")
echo "LIO's sessions on $open: $lio"
[ "$(echo "$lio" | grep -cx "$INITIATOR_IQN")" -eq 2 ] || fail "LIO does not see 2 sessions"

step "with both present a login is refused with 15"
adm -m node -T "$open" -p 127.0.0.1 -l
assert_rc 15
assert_err_has "2 sessions requested, but 2 already present."
assert_not_has "Logging in to"

step "logout of the node logs out both"
adm -m node -T "$open" -p 127.0.0.1 -u
assert_rc 0
[ "$(echo "$RUN_OUT" | grep -c "^Logout of \[sid: [0-9]*, target: $open, portal: 127.0.0.1,3260\] successful\.\$")" -eq 2 ] ||
  fail "not 2 logouts"
adm -m session
assert_rc 21
lio_has_none() { [ -z "$(lio_sessions "$open")" ]; }
wait_for 5 lio_has_none
adm -m node -T "$open" -p 127.0.0.1 -o update -n node.session.nr_sessions -v 1
assert_rc 0

step "discovery with -l logs in to what it finds; -U all logs out"
adm -m node -T "$chap" -p 127.0.0.1 -o update -n node.session.auth.password -v initiator-secret-1
adm -m discovery -t st -p 127.0.0.1 -l
assert_rc 0
assert_out_has "Login to [iface: default, target: $open, portal: 127.0.0.1,3260] successful."
assert_out_has "Login to [iface: default, target: $chap, portal: 127.0.0.1,3260] successful."
adm -m node -U all
assert_rc 0
assert_out_has "Logout of [sid: "

step "kiscsid stops on SIGTERM"
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
cat kiscsid.log
step "daemon_login passed"

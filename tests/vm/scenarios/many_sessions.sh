#!/usr/bin/env bash
# 32 LIO targets logged in at once with `kiscsiadm -m node -L all`: every login completes, every
# session is LOGGED_IN with its disk attached, the netlink traffic of 32 parallel logins loses
# nothing (no 1011 from undelivered PDUs), and `-U all` logs them all out.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

count=32
step "LIO: $count targets on 127.0.0.1:3260"
lio_load
for i in $(seq 1 $count); do
  t=iqn.2026-11.test.vm:many$i
  lio_open_target "$t" 1
  lio_portal "$t" 127.0.0.1 3260
  lio_enable "$t"
done
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic

kiscsi_scratch
kiscsid_start -d 1
adm -m discovery -t st -p 127.0.0.1
assert_rc 0
[ "$(echo "$RUN_OUT" | wc -l)" -eq $count ] || fail "discovery found $(echo "$RUN_OUT" | wc -l) targets"

step "-L all: $count logins at once"
start=$(date +%s.%N)
adm -m node -L all
end=$(date +%s.%N)
assert_rc 0
echo "-L all of $count sessions took $(echo "$end - $start" | bc 2>/dev/null || echo "?") s"
[ "$(echo "$RUN_OUT" | grep -c '^Logging in to ')" -eq $count ] || fail "not $count 'Logging in' lines"
[ "$(echo "$RUN_OUT" | grep -c ' successful\.$')" -eq $count ] || fail "not $count successful logins"

step "every session LOGGED_IN with its disk"
n=0
for s in /sys/class/iscsi_session/session*; do
  [ "$(cat "$s/state")" = LOGGED_IN ] || fail "$(basename "$s") is $(cat "$s/state")"
  ls "$s"/device/target*/*/block/* >/dev/null 2>&1 || fail "$(basename "$s") has no disk"
  n=$((n + 1))
done
[ $n -eq $count ] || fail "$n sessions instead of $count"
step "-m session"
adm -m session
assert_rc 0
[ "$(echo "$RUN_OUT" | wc -l)" -eq $count ] || fail "-m session lists $(echo "$RUN_OUT" | wc -l)"
step "kiscsid log"
if grep -q "1011" kiscsid.log; then cat kiscsid.log; fail "connection errors during the logins"; fi

step "-U all"
adm -m node -U all
assert_rc 0
[ "$(echo "$RUN_OUT" | grep -c ' successful\.$')" -eq $count ] || fail "not $count logouts"
shopt -s nullglob
left=(/sys/class/iscsi_session/session*)
[ ${#left[@]} -eq 0 ] || fail "${#left[@]} sessions left after -U all"

kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
step "many_sessions passed"

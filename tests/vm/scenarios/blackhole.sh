#!/usr/bin/env bash
# A blackholed target (packets dropped, no reset) with NOP-Outs on: the kernel declares the
# connection dead with error 1022 after the NOP timeout, kiscsid recovers once packets flow
# again, and no write fails meanwhile.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
# shellcheck source=tests/vm/scenarios/recovery_helpers.bash
. "$(dirname "${BASH_SOURCE[0]}")/recovery_helpers.bash"

t=iqn.2026-11.test.vm:blackhole
step "LIO: $t on 127.0.0.1:3260"
lio_load
lio_open_target "$t" 1
lio_portal "$t" 127.0.0.1 3260
lio_enable "$t"
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic
modprobe sch_netem
kiscsi_scratch
kiscsid_start -d 4
trap 'rc=$?; tc qdisc del dev lo root 2>/dev/null || true; [ $rc -eq 0 ] || { echo "---- kiscsid.log (last 60 lines)"; tail -60 kiscsid.log; }' EXIT

step "NOP-Out every 2 s, 2 s to answer; log in"
adm -m discovery -t st -p 127.0.0.1
assert_rc 0
for kv in node.conn[0].timeo.noop_out_interval=2 node.conn[0].timeo.noop_out_timeout=2; do
  adm -m node -T "$t" -p 127.0.0.1 -o update -n "${kv%%=*}" -v "${kv#*=}"
  assert_rc 0
done
adm -m node -T "$t" -p 127.0.0.1 -l
assert_rc 0
disk=$(session_disk 1) || fail "no disk after login"
[ "$(cat /sys/class/iscsi_connection/connection1:0/ping_tmo)" = 2 ] || fail "ping_tmo not set"

step "blackhole: every packet on lo dropped, no reset"
start_writer "$disk" 512
wait_for 30 writes_at_least 10
tc qdisc add dev lo root netem loss 100%
down_at=$(now_ms)
wait_for 15 session_state_is 1 FAILED
echo "session FAILED $(($(now_ms) - down_at)) ms into the blackhole"
wait_for 5 grep -q "1022" kiscsid.log
grep -m1 "1022" kiscsid.log
sleep 2
tc qdisc del dev lo root
up_at=$(now_ms)
while [ "$(sess_state 1)" != LOGGED_IN ] || [ "$(conn_state 1)" != up ]; do
  [ $(($(now_ms) - up_at)) -lt 30000 ] || fail "not LOGGED_IN 30 s after the blackhole ended"
  sleep 0.01
done
echo "RECOVERY: LOGGED_IN $(($(now_ms) - up_at)) ms after the blackhole ended"
wait_for 30 writes_at_least $(($(cat writer.count) + 20))
touch writer.stop
wait "$WRITER" || fail "a write failed: $(cat writer.fail 2>/dev/null) $(cat writer.err)"
verify_blocks "$disk" "$(cat writer.count)"
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
step "blackhole passed"

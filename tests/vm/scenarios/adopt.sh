#!/usr/bin/env bash
# Adoption: a session made without the daemon (kiscsistart, as in an initramfs) is taken over by
# kiscsid without a re-login (its TCP connection, seen as sysfs local_port, is untouched) and then
# recovered by it through a target outage; the node record's timeouts are applied to the live
# session; kiscsid killed with SIGKILL during writes and started
# again adopts the session once more, still without a re-login, and no write fails.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
# shellcheck source=tests/vm/scenarios/recovery_helpers.bash
. "$(dirname "${BASH_SOURCE[0]}")/recovery_helpers.bash"

t=iqn.2026-11.test.vm:adopt
step "LIO: $t (mutual CHAP) on 127.0.0.1:3260"
lio_load
lio_chap_target "$t" "$INITIATOR_IQN" boot-user boot-secret-1 boot-target boot-secret-2
lio_portal "$t" 127.0.0.1 3260
lio_enable "$t"
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic
kiscsi_scratch

step "kiscsistart logs in, no daemon"
run "$KISCSI_BUILD/bin/kiscsistart" -i "$INITIATOR_IQN" -t "$t" -g 1 -a 127.0.0.1 \
  -u boot-user -w boot-secret-1 -U boot-target -W boot-secret-2
assert_rc 0
disk=$(session_disk 1) || fail "no disk after kiscsistart"
port0=$(local_port 1)
echo "disk $disk, local port $port0"

trap 'rc=$?; [ $rc -eq 0 ] || { echo "---- kiscsid.log (last 60 lines)"; tail -60 kiscsid.log; }' EXIT

step "a node record for it, with replacement_timeout 600 (the initramfs used 120)"
adm -m node -T "$t" -p 127.0.0.1 -o new
assert_rc 0
for kv in node.session.timeo.replacement_timeout=600 node.session.auth.authmethod=CHAP \
  node.session.auth.username=boot-user node.session.auth.password=boot-secret-1 \
  node.session.auth.username_in=boot-target node.session.auth.password_in=boot-secret-2; do
  adm -m node -T "$t" -p 127.0.0.1 -o update -n "${kv%%=*}" -v "${kv#*=}"
  assert_rc 0
done
[ "$(cat /sys/class/iscsi_session/session1/recovery_tmo)" = 120 ] || fail "unexpected recovery_tmo"

step "kiscsid starts and adopts the session without a re-login, applying the record"
start_writer "$disk" 512
wait_for 30 writes_at_least 10
kiscsid_start -d 4
wait_for 10 writes_at_least 30
[ "$(local_port 1)" = "$port0" ] || fail "local_port changed: kiscsid logged in again"
[ "$(cat /sys/class/iscsi_session/session1/recovery_tmo)" = 600 ] ||
  fail "recovery_tmo is $(cat /sys/class/iscsi_session/session1/recovery_tmo), not the record's 600"
adm -m session
assert_rc 0
assert_out_eq "tcp: [1] 127.0.0.1:3260,1 $t (non-flash)"

step "an outage of 3 s: recovered by kiscsid (credentials from the node record)"
lio_disable "$t"
wait_for 5 session_state_is 1 FAILED
sleep 3
lio_enable "$t"
up_at=$(now_ms)
while [ "$(sess_state 1)" != LOGGED_IN ] || [ "$(conn_state 1)" != up ]; do
  [ $(($(now_ms) - up_at)) -lt 30000 ] || fail "not LOGGED_IN 30 s after the target came back"
  sleep 0.01
done
echo "RECOVERY: LOGGED_IN $(($(now_ms) - up_at)) ms after lio_enable"
port1=$(local_port 1)
[ "$port1" != "$port0" ] || fail "local_port unchanged after the outage: no re-login happened"
wait_for 30 writes_at_least $(($(cat writer.count) + 20))

step "SIGKILL kiscsid during writes, start it again: adopted again, no re-login"
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null || true
rm -f "$KISCSI_RUNDIR/kiscsid.sock"
before=$(cat writer.count)
: >kiscsid.log
kiscsid_start -d 4
wait_for 30 writes_at_least $((before + 30))
[ "$(local_port 1)" = "$port1" ] || fail "local_port changed after the restart: a re-login"

touch writer.stop
wait "$WRITER" || fail "a write failed: $(cat writer.fail 2>/dev/null) $(cat writer.err)"
written=$(cat writer.count)
verify_blocks "$disk" "$written"
echo "writer: $written blocks, all intact"
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
step "adopt passed"

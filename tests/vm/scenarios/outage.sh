#!/usr/bin/env bash
# Recovery from a target outage: kiscsid logged in to LIO, a writer puts numbered 64 KiB blocks on
# the disk with O_DIRECT while the target is disabled for 3 s and enabled again. No write fails,
# every block reads back intact, the session is LOGGED_IN again on a new connection (local_port
# changed), and it was back in use within a second of the target's return (measured here from
# sysfs, and in kiscsid's log as "recovered after N attempts in T ms").
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
# shellcheck source=tests/vm/scenarios/recovery_helpers.bash
. "$(dirname "${BASH_SOURCE[0]}")/recovery_helpers.bash"

t=iqn.2026-11.test.vm:outage
open_lio_target "$t"
kiscsi_scratch
step "start kiscsid, log in"
start_kiscsid
adm -m discovery -t st -p 127.0.0.1
assert_rc 0
adm -m node -T "$t" -p 127.0.0.1 -l
assert_rc 0
disk=$(session_disk 1) || fail "no disk after login"
port_before=$(local_port 1)
echo "disk $disk, local port $port_before"

step "writer on /dev/$disk; outage of 3 s once it is under way"
start_writer "$disk" 512
wait_for 30 writes_at_least 20
before=$(cat writer.count)
lio_disable "$t"
down_at=$(now_ms)
wait_for 5 session_state_is 1 FAILED
echo "session FAILED $(($(now_ms) - down_at)) ms after lio_disable; writer at block $before"
sleep 3
during=$(cat writer.count)
lio_enable "$t"
up_at=$(now_ms)
while [ "$(sess_state 1)" != LOGGED_IN ] || [ "$(conn_state 1)" != up ]; do
  [ $(($(now_ms) - up_at)) -lt 30000 ] || fail "not LOGGED_IN 30 s after the target came back"
  sleep 0.01
done
back_ms=$(($(now_ms) - up_at))
echo "RECOVERY: LOGGED_IN ${back_ms} ms after lio_enable (outage $((up_at - down_at)) ms)"
# The writer was blocked by the outage, not finished before it.
wait_for 30 writes_at_least $((during + 20))
touch writer.stop
wait "$WRITER" || fail "a write failed during the outage: $(cat writer.fail 2>/dev/null) $(cat writer.err)"
written=$(cat writer.count)
echo "writer: $written blocks, $before before the outage, $during when it ended"

step "every block reads back intact; a new connection"
verify_blocks "$disk" "$written"
port_after=$(local_port 1)
[ "$port_after" != "$port_before" ] || fail "local_port unchanged: no re-login happened"
adm -m session
assert_rc 0
assert_out_eq "tcp: [1] 127.0.0.1:3260,1 $t (non-flash)"
grep -E "session 1 .*(error|recovered|recovery)" kiscsid.log || true
grep -q "session 1 (.*): recovered after" kiscsid.log || fail "kiscsid did not log the recovery"
[ "$back_ms" -lt 1000 ] || fail "recovery took ${back_ms} ms after the target came back (limit 1000)"

step "logout, kiscsid stops"
adm -m node -T "$t" -p 127.0.0.1 -u
assert_rc 0
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
step "outage passed"

#!/usr/bin/env bash
# The kernel's replacement timeout during a long outage: replacement_timeout 5 in the node record,
# the target disabled for about 10 s. Writes fail after about 5 s (measured from lio_disable to the
# first failed write), kiscsid keeps trying, and when the target returns the session is LOGGED_IN
# again, its disk back to running, and new I/O works.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
# shellcheck source=tests/vm/scenarios/recovery_helpers.bash
. "$(dirname "${BASH_SOURCE[0]}")/recovery_helpers.bash"

t=iqn.2026-11.test.vm:replacement
open_lio_target "$t"
kiscsi_scratch
step "start kiscsid; replacement_timeout 5; log in"
start_kiscsid
adm -m discovery -t st -p 127.0.0.1
assert_rc 0
adm -m node -T "$t" -p 127.0.0.1 -o update -n node.session.timeo.replacement_timeout -v 5
assert_rc 0
adm -m node -T "$t" -p 127.0.0.1 -l
assert_rc 0
[ "$(cat /sys/class/iscsi_session/session1/recovery_tmo)" = 5 ] ||
  fail "recovery_tmo is $(cat /sys/class/iscsi_session/session1/recovery_tmo), not 5"
disk=$(session_disk 1) || fail "no disk after login"

step "writer on /dev/$disk; the target goes away for about 10 s"
start_writer "$disk" 64
wait_for 30 writes_at_least 10
lio_disable "$t"
down_at=$(now_ms)
wait_for 20 test -e writer.fail
read -r _ failed_at <writer.fail
fail_ms=$((failed_at - down_at))
echo "REPLACEMENT: the first write failed ${fail_ms} ms after lio_disable ($(cat writer.err))"
[ "$fail_ms" -ge 4000 ] || fail "I/O failed after ${fail_ms} ms, before the 5 s replacement timeout"
[ "$fail_ms" -le 9000 ] || fail "I/O failed only after ${fail_ms} ms (replacement timeout 5 s)"
wait "$WRITER" || true
echo "device state: $(cat /sys/block/"$disk"/device/state), session $(sess_state 1)"
while [ $(($(now_ms) - down_at)) -lt 10000 ]; do sleep 0.1; done
grep -q "session 1 (.*): still recovering: " kiscsid.log || fail "kiscsid is not retrying"

step "the target returns: LOGGED_IN again, the disk running, new I/O works"
lio_enable "$t"
up_at=$(now_ms)
while [ "$(sess_state 1)" != LOGGED_IN ] || [ "$(conn_state 1)" != up ]; do
  [ $(($(now_ms) - up_at)) -lt 30000 ] || fail "not LOGGED_IN 30 s after the target came back"
  sleep 0.01
done
echo "RECOVERY: LOGGED_IN $(($(now_ms) - up_at)) ms after lio_enable"
wait_for 10 device_state_is "$disk" running
head -c 1048576 /dev/urandom >after
dd if=after of="/dev/$disk" bs=64K oflag=direct status=none || fail "write after recovery failed"
dd if="/dev/$disk" of=readback bs=64K count=16 iflag=direct status=none ||
  fail "read after recovery failed"
cmp after readback || fail "data read back after recovery differs"
grep -E "session 1 .*(error|recovered|running)" kiscsid.log | head -20 || true

step "logout, kiscsid stops"
adm -m node -T "$t" -p 127.0.0.1 -u
assert_rc 0
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
step "replacement_timeout passed"

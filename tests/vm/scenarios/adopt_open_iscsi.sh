#!/usr/bin/env bash
# The initramfs of a machine that still boots with open-iscsi: its iscsistart (2.1.8, Debian's
# package) makes the session, then kiscsid takes it over without a re-login (local_port
# unchanged) and recovers it through a target outage while writes go on.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
# shellcheck source=tests/vm/scenarios/recovery_helpers.bash
. "$(dirname "${BASH_SOURCE[0]}")/recovery_helpers.bash"

env_file=$KISCSI_BUILD/Testing/open-iscsi.env
[ -r "$env_file" ] || fail "$env_file is missing: the vm_open_iscsi fixture fetches open-iscsi"
oi_root=$(sed -n 's/^root=//p' "$env_file")
[ -x "$oi_root/sbin/iscsistart" ] || fail "no iscsistart under $oi_root"
oi_lib=$oi_root/usr/lib/x86_64-linux-gnu:$oi_root/lib/x86_64-linux-gnu

t=iqn.2026-11.test.vm:oi-root
step "LIO: $t on 127.0.0.1:3260"
lio_load
lio_open_target "$t" 1
lio_portal "$t" 127.0.0.1 3260
lio_enable "$t"
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic
kiscsi_scratch

step "open-iscsi's iscsistart logs in (as its initramfs hook does)"
run env LD_LIBRARY_PATH="$oi_lib" "$oi_root/sbin/iscsistart" -i "$INITIATOR_IQN" -t "$t" \
  -g 1 -a 127.0.0.1 -d 1
echo "$RUN_OUT" "$RUN_ERR" | tail -5
assert_rc 0
wait_for 10 session_disk 1
disk=$(session_disk 1)
port0=$(local_port 1)
echo "disk $disk, local port $port0, made by open-iscsi"

trap 'rc=$?; [ $rc -eq 0 ] || { echo "---- kiscsid.log (last 60 lines)"; tail -60 kiscsid.log; }' EXIT
step "kiscsid takes the session over without a re-login"
start_writer "$disk" 512
wait_for 30 writes_at_least 10
kiscsid_start -d 4
wait_for 10 writes_at_least 30
[ "$(local_port 1)" = "$port0" ] || fail "local_port changed: kiscsid logged in again"

step "an outage of 3 s, recovered by kiscsid"
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
[ "$(local_port 1)" != "$port0" ] || fail "no re-login after the outage"
wait_for 30 writes_at_least $(($(cat writer.count) + 20))
touch writer.stop
wait "$WRITER" || fail "a write failed: $(cat writer.fail 2>/dev/null) $(cat writer.err)"
verify_blocks "$disk" "$(cat writer.count)"
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
step "adopt_open_iscsi passed"

#!/usr/bin/env bash
# 20 connection kills in a row at the target under write load (tgtd, which can drop one
# connection: tgtadm --op delete --mode conn): every kill is recovered, no session gets stuck,
# no write fails, nothing is lost.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
# shellcheck source=tests/vm/scenarios/recovery_helpers.bash
. "$(dirname "${BASH_SOURCE[0]}")/recovery_helpers.bash"

kills=${1:-20}
t=iqn.2026-11.test.vm:kills
export TGT_IPC_SOCKET=$KISCSI_VM_TMP/tgtd.ipc
step "tgtd: $t on 127.0.0.1:3260"
command -v tgtd >/dev/null || fail "tgtd is not installed (Debian package tgt)"
truncate -s 64M lun.img
setsid tgtd -f --iscsi portal=127.0.0.1:3260 >tgtd.log 2>&1 &
tgtd_pid=$!
wait_for 10 tgtadm --lld iscsi --op show --mode target
tgtadm --lld iscsi --op new --mode target --tid 1 -T "$t"
tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$KISCSI_VM_TMP/lun.img"
tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic

kiscsi_scratch
kiscsid_start -d 4
trap 'rc=$?; kill -9 $tgtd_pid 2>/dev/null || true; [ $rc -eq 0 ] || { echo "---- kiscsid.log (last 60 lines)"; tail -60 kiscsid.log; }' EXIT
adm -m discovery -t st -p 127.0.0.1
assert_rc 0
adm -m node -T "$t" -p 127.0.0.1 -l
assert_rc 0
disk=$(session_disk 1) || fail "no disk"

tgt_session() { tgtadm --lld iscsi --op show --mode conn --tid 1 | sed -n 's/^ *Session: *\([0-9]*\).*/\1/p' | head -1; }
has_tgt_session() { [ -n "$(tgt_session)" ]; }
logged_in() { [ "$(sess_state 1)" = LOGGED_IN ] && [ "$(conn_state 1)" = up ]; }

step "$kills connection kills under write load"
start_writer "$disk" 512
wait_for 30 writes_at_least 10
start=$(now_ms)
for i in $(seq 1 "$kills"); do
  wait_for 30 has_tgt_session
  wait_for 30 logged_in
  port=$(local_port 1)
  tgtadm --lld iscsi --op delete --mode conn --tid 1 --sid "$(tgt_session)" --cid 0 ||
    fail "tgtadm could not drop the connection (kill $i)"
  killed_at=$(now_ms)
  while [ "$(local_port 1 2>/dev/null)" = "$port" ] || ! logged_in; do
    [ $(($(now_ms) - killed_at)) -lt 30000 ] || fail "kill $i: not recovered within 30 s"
    sleep 0.05
  done
  echo "kill $i: recovered in $(($(now_ms) - killed_at)) ms"
done
echo "RECOVERED: $kills kills in $(($(now_ms) - start)) ms"
wait_for 30 writes_at_least $(($(cat writer.count) + 20))
touch writer.stop
wait "$WRITER" || fail "a write failed: $(cat writer.fail 2>/dev/null) $(cat writer.err)"
verify_blocks "$disk" "$(cat writer.count)"
echo "writer: $(cat writer.count) blocks, all intact"
adm -m session
assert_rc 0
assert_out_eq "tcp: [1] 127.0.0.1:3260,1 $t (non-flash)"
adm -m node -T "$t" -p 127.0.0.1 -u
assert_rc 0
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
step "conn_kills passed"

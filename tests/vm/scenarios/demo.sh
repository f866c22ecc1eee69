#!/usr/bin/env bash
# The end-to-end demo, narrated: inside a VM running Debian's kernel, an LIO target with
# mutual CHAP; kiscsid starts; kiscsiadm discovers the target, logs in through the kernel
# (iscsi_tcp), the disk appears, data written through it reads back, the target goes away for
# 3 s in the middle of a write and comes back: the write completes, nothing is lost; logout.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

t=iqn.2026-11.demo:root-disk
show() { echo "\$ kiscsiadm $*"; adm "$@"; printf '%s' "$RUN_OUT"; [ -z "$RUN_OUT" ] || echo; printf '%s' "$RUN_ERR" >&2; echo "(exit $RUN_RC)"; }

step "target: LIO $t (256 MiB, mutual CHAP) on 127.0.0.1:3260"
lio_load
lio_chap_target "$t" "$INITIATOR_IQN" demo-user demo-secret-1 demo-target demo-secret-2
lio_portal "$t" 127.0.0.1 3260
lio_enable "$t"
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic

step "initiator: kiscsid"
kiscsi_scratch
kiscsid_start

step "discover"
show -m discovery -t sendtargets -p 127.0.0.1
assert_rc 0
for kv in node.session.auth.authmethod=CHAP node.session.auth.username=demo-user \
  node.session.auth.password=demo-secret-1 node.session.auth.username_in=demo-target \
  node.session.auth.password_in=demo-secret-2; do
  adm -m node -T "$t" -p 127.0.0.1 -o update -n "${kv%%=*}" -v "${kv#*=}"
  assert_rc 0
done

step "log in through the kernel"
show -m node -T "$t" -p 127.0.0.1 -l
assert_rc 0
show -m session -P 3
assert_rc 0
disk=$(echo "$RUN_OUT" | sed -n 's/.*Attached scsi disk \(sd[a-z]*\).*/\1/p' | head -1)
[ -b "/dev/$disk" ] || fail "no disk"

step "write 16 MiB through /dev/$disk and read it back"
head -c 16777216 /dev/urandom >pattern
dd if=pattern of="/dev/$disk" bs=1M oflag=direct status=none
dd if="/dev/$disk" of=readback bs=1M count=16 iflag=direct status=none
cmp pattern readback || fail "data read back differs"
echo "sha256 written:   $(sha256sum <pattern | cut -c1-16)"
echo "sha256 read back: $(sha256sum <readback | cut -c1-16)"

step "survive a target outage: the target disappears for 3 s in the middle of a 16 MiB write"
head -c 16777216 /dev/urandom >pattern2
port_before=$(cat /sys/class/iscsi_connection/connection1:0/local_port)
( dd if=pattern2 of="/dev/$disk" bs=64K oflag=direct status=none; echo $? >writer.rc ) &
writer=$!
sleep 0.3
lio_disable "$t"
echo "target disabled"
sleep 3
lio_enable "$t"
echo "target enabled"
wait "$writer"
[ "$(cat writer.rc)" = 0 ] || fail "the write failed during the outage"
dd if="/dev/$disk" of=readback2 bs=1M count=16 iflag=direct status=none
cmp pattern2 readback2 || fail "data read back differs after the outage"
echo "sha256 written:   $(sha256sum <pattern2 | cut -c1-16)"
echo "sha256 read back: $(sha256sum <readback2 | cut -c1-16)"
echo "connection: local port $port_before before, $(cat /sys/class/iscsi_connection/connection1:0/local_port) after (a new connection, same session)"
grep -E "error|recovered" kiscsid.log | sed 's/^/  /'

step "log out"
show -m node -T "$t" -p 127.0.0.1 -u
assert_rc 0
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
step "demo passed"

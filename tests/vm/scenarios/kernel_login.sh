#!/usr/bin/env bash
# Login through the kernel without a daemon: kiscsistart drives iscsi_tcp over NETLINK_ISCSI
# against LIO on 127.0.0.1, the LUN appears as a block device, a pattern written through it
# reads back, and the session is visible in sysfs.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

t=iqn.2026-11.test.vm:kdisk
step "LIO: $t (1 LUN) on 127.0.0.1:3260; initiator modules"
lio_load
lio_open_target "$t" 1
lio_portal "$t" 127.0.0.1 3260
lio_enable "$t"
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic

step "kiscsistart login through the kernel"
run "$KISCSI_BUILD/bin/kiscsistart" -d 4 -i "$INITIATOR_IQN" -t "$t" -g 1 -a 127.0.0.1
assert_rc 0
assert_out_has "is operational now"
echo "$RUN_OUT"
echo "$RUN_ERR" | tail -40

step "sysfs session"
s=$(ls -d /sys/class/iscsi_session/session* | head -1)
[ -n "$s" ] || fail "no session in sysfs"
echo "targetname=$(cat "$s/targetname") state=$(cat "$s/state")"
[ "$(cat "$s/targetname")" = "$t" ] || fail "wrong target name in sysfs"
[ "$(cat "$s/state")" = "LOGGED_IN" ] || fail "session not LOGGED_IN"
disk=$(ls "$s"/device/target*/*/block/ 2>/dev/null | head -1)
[ -n "$disk" ] || fail "no block device under $s"
echo "disk=$disk"
[ -b "/dev/$disk" ] || fail "/dev/$disk is not a block device"

step "write a pattern through /dev/$disk and read it back"
head -c 4194304 /dev/urandom > pattern
dd if=pattern of="/dev/$disk" bs=1M oflag=direct status=none
dd if="/dev/$disk" of=readback bs=1M count=4 iflag=direct status=none
cmp pattern readback || fail "data read back differs from what was written"

step "kernel_login passed"

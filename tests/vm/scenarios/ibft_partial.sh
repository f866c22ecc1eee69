#!/usr/bin/env bash
# A partial firmware boot table the kernel publishes: the NIC structure's length is wrong
# (ibft_gen.py --corrupt truncate: iscsi_ibft skips it) and the target has no name. kiscsistart
# and kiscsiadm must name what is missing and exit non-zero, never crash or log in.
# vm-qemu-args: -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,addr=0x3
# vm-ibft: --corrupt truncate --no-target-name
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

ibft=/sys/firmware/ibft
step "iscsi_ibft publishes what it can"
modprobe virtio_net || fail "modprobe virtio_net failed"
modprobe iscsi_ibft || fail "modprobe iscsi_ibft failed"
dmesg | grep -i ibft || true
[ -d "$ibft/target0" ] || fail "$ibft/target0 is missing"
[ ! -e "$ibft/target0/target-name" ] || fail "target0 has a name: $(cat "$ibft/target0/target-name")"
[ ! -e "$ibft/ethernet0" ] || fail "$ibft/ethernet0 exists although its structure is cut short"

env_file=$KISCSI_BUILD/Testing/open-iscsi.env
oi_root=$(sed -n 's/^root=//p' "$env_file")
oi_lib=$oi_root/usr/lib/x86_64-linux-gnu:$oi_root/lib/x86_64-linux-gnu
run env LD_LIBRARY_PATH="$oi_lib" "$oi_root/sbin/iscsistart" -f
echo "iscsistart -f on this table: rc=$RUN_RC $RUN_OUT $RUN_ERR"

step "kiscsistart -f/-b/-N and kiscsiadm -m fw name the missing file"
kiscsi_scratch
for args in -f -b -N; do
  run "$KISCSI_BUILD/bin/kiscsistart" $args
  [ "$RUN_RC" -ne 0 ] || fail "kiscsistart $args exited 0 on a table with no target name"
  [ "$RUN_RC" -lt 128 ] || fail "kiscsistart $args died of a signal ($RUN_RC)"
  assert_err_has "target0/target-name"
  assert_not_has "BEGIN RECORD"
done
adm -m fw
[ "$RUN_RC" -ne 0 ] || fail "kiscsiadm -m fw exited 0"
assert_err_has "target0/target-name"
[ ! -e /sys/class/iscsi_session/session1 ] || fail "a session was made"

step "ibft_partial passed"

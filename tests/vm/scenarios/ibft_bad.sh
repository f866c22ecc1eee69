#!/usr/bin/env bash
# A firmware boot table the kernel refuses: ibft_gen.py --corrupt revision (table revision 2;
# iscsi_ibft knows only revision 1). The raw table reaches the guest, but nothing is published
# under /sys/firmware/ibft and dmesg says why. (--corrupt checksum cannot be tested this way:
# qemu's -acpitable recomputes every table's checksum.)
# vm-qemu-args: -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,addr=0x3
# vm-ibft: --corrupt revision
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

ibft=/sys/firmware/ibft

step "the raw table reaches the guest"
modprobe virtio_net || fail "modprobe virtio_net failed"
raw=/sys/firmware/acpi/tables/iBFT
[ -e "$raw" ] || fail "no ACPI table iBFT: qemu did not pass -acpitable"
revision=$(od -An -tu1 -j8 -N1 "$raw" | tr -d ' ')
echo "ACPI iBFT revision byte: $revision"
[ "$revision" = 2 ] || fail "the table's revision is $revision, expected the corrupt 2"

step "iscsi_ibft refuses it"
run modprobe iscsi_ibft
echo "modprobe iscsi_ibft: rc=$RUN_RC $RUN_ERR"
dmesg | grep -i ibft || true
dmesg | grep -q 'iBFT module supports only revision 1' \
  || fail "dmesg does not say why the iBFT was refused"
[ ! -e "$ibft/target0" ] || fail "$ibft/target0 exists although the table is invalid"
[ ! -e "$ibft/ethernet0" ] || fail "$ibft/ethernet0 exists although the table is invalid"
[ ! -e "$ibft/initiator" ] || fail "$ibft/initiator exists although the table is invalid"

step "kiscsistart -f/-b and kiscsiadm -m fw: no usable table, a clear error, exit 21 as open-iscsi"
env_file=$KISCSI_BUILD/Testing/open-iscsi.env
oi_root=$(sed -n 's/^root=//p' "$env_file")
oi_lib=$oi_root/usr/lib/x86_64-linux-gnu:$oi_root/lib/x86_64-linux-gnu
run env LD_LIBRARY_PATH="$oi_lib" "$oi_root/sbin/iscsistart" -f
echo "iscsistart -f: rc=$RUN_RC $RUN_OUT $RUN_ERR"
oi_rc=$RUN_RC
kiscsi_scratch
for args in -f -b -N; do
  run "$KISCSI_BUILD/bin/kiscsistart" $args
  assert_rc 21
  assert_err_has "no iSCSI boot firmware table"
  assert_not_has "BEGIN RECORD"
done
[ "$oi_rc" = 21 ] || echo "note: iscsistart -f exits $oi_rc here"
adm -m fw
assert_rc 21
assert_err_has "no iSCSI boot firmware table"

step "ibft_bad passed"

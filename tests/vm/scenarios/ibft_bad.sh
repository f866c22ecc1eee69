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

# kiscsi checks follow: kiscsistart -f (and kiscsiadm -m fw) must say there is no usable boot
# table and exit with the "no firmware" code, not crash or invent a target.

step "ibft_bad passed"

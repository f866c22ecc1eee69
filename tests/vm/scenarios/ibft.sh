#!/usr/bin/env bash
# The firmware boot table: qemu hands the guest an iBFT made by ibft_gen.py with its defaults
# (IBFT_* below) and a virtio NIC with the table's MAC at the table's PCI address (00:03.0);
# iscsi_ibft must publish exactly those values under /sys/firmware/ibft. Then the host's
# systemd-udevd runs in the guest and handles triggered block events with a rule of ours.
# The kiscsi checks share this boot: they follow at the end.
# vm-qemu-args: -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,addr=0x3
# vm-ibft:
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

# What ibft_gen.py was told (its defaults).
IBFT_INITIATOR=iqn.2026-12.test.boot:initiator
IBFT_NIC_IP=10.0.2.15
IBFT_NIC_PREFIX=24
IBFT_NIC_GW=10.0.2.2
IBFT_NIC_DNS1=10.0.2.3
IBFT_NIC_MAC=52:54:00:12:34:56
IBFT_NIC_PCI=0000:00:03.0
IBFT_NIC_HOSTNAME=ibftguest
IBFT_TARGET_IP=10.0.2.2
IBFT_TARGET_PORT=3261
IBFT_TARGET_NAME=iqn.2026-12.test.boot:root
ibft=/sys/firmware/ibft

# expect_file FILE VALUE: FILE (under $ibft) holds VALUE (trailing newline ignored).
expect_file() {
  local got
  [ -e "$ibft/$1" ] || fail "$ibft/$1 does not exist"
  got=$(cat "$ibft/$1") || fail "cannot read $ibft/$1"
  [ "$got" = "$2" ] || fail "$ibft/$1 holds '$got', expected '$2'"
}
expect_absent() { [ ! -e "$ibft/$1" ] || fail "$ibft/$1 exists ('$(cat "$ibft/$1")')"; }

step "the NIC: virtio_net"
modprobe virtio_net || fail "modprobe virtio_net failed"
_has_nic() { grep -qx "$IBFT_NIC_MAC" /sys/class/net/*/address; }
wait_for 10 _has_nic
NIC=""
for dev in /sys/class/net/*; do
  if [ "$(cat "$dev/address")" = "$IBFT_NIC_MAC" ]; then NIC=${dev##*/}; fi
done
[ -n "$NIC" ] || fail "no netdev has the MAC $IBFT_NIC_MAC"
echo "netdev of the iBFT NIC: $NIC ($(readlink -f "/sys/class/net/$NIC/device"))"

step "iscsi_ibft publishes the table"
[ -e /sys/firmware/acpi/tables/iBFT ] || fail "no ACPI table iBFT: qemu did not pass -acpitable"
cmp /sys/firmware/acpi/tables/iBFT "$KISCSI_VM_RUNDIR/ibft.bin" \
  || fail "the guest's ACPI iBFT differs from the table ibft_gen.py wrote"
modprobe iscsi_ibft || fail "modprobe iscsi_ibft failed"
dmesg | grep -i ibft || true
[ -d "$ibft" ] || fail "$ibft does not exist after loading iscsi_ibft"
echo "--- $ibft:"
(cd "$ibft" && grep -r . --exclude=device . | LC_ALL=C sort) || true

step "sysfs values equal what the generator was told"
expect_file acpi_header/signature iBFT
expect_file acpi_header/oem_id KISCSI
expect_file acpi_header/oem_table_id TESTIBFT
expect_file initiator/initiator-name "$IBFT_INITIATOR"
expect_file initiator/index 0
expect_file initiator/flags 3
expect_file ethernet0/index 0
expect_file ethernet0/flags 3
expect_file ethernet0/ip-addr "$IBFT_NIC_IP"
expect_file ethernet0/prefix-len "$IBFT_NIC_PREFIX"
expect_file ethernet0/subnet-mask 255.255.255.0
expect_file ethernet0/origin 1
expect_file ethernet0/gateway "$IBFT_NIC_GW"
expect_file ethernet0/primary-dns "$IBFT_NIC_DNS1"
expect_absent ethernet0/secondary-dns
expect_absent ethernet0/dhcp
expect_file ethernet0/vlan 0
expect_file ethernet0/mac "$IBFT_NIC_MAC"
expect_file ethernet0/hostname "$IBFT_NIC_HOSTNAME"
pci=$(readlink -f "$ibft/ethernet0/device") || fail "ethernet0/device is not a link"
[ "${pci##*/}" = "$IBFT_NIC_PCI" ] || fail "ethernet0/device points at $pci, not $IBFT_NIC_PCI"
# virtio-net: the netdev hangs below the virtio device, not directly below the PCI function.
ls -d "$pci"/virtio*/net/"$NIC" >/dev/null 2>&1 \
  || fail "ethernet0/device ($pci) does not lead to the netdev $NIC"
expect_file target0/index 0
expect_file target0/flags 3
expect_file target0/ip-addr "$IBFT_TARGET_IP"
expect_file target0/port "$IBFT_TARGET_PORT"
expect_file target0/lun 01000000
expect_file target0/chap-type 0
expect_file target0/nic-assoc 0
expect_file target0/target-name "$IBFT_TARGET_NAME"
expect_absent target0/chap-name
expect_absent target0/rev-chap-name
expect_absent ethernet1
expect_absent target1

step "udev: systemd-udevd runs and handles triggered block events"
cat >"$KISCSI_VM_TMP/65-kiscsi-vm-probe.rules" <<'EOF'
ACTION=="add", SUBSYSTEM=="block", KERNEL=="loop0", ENV{KISCSI_VM_PROBE}="seen-%k", RUN+="/bin/touch /run/kiscsi-vm-probe-%k"
EOF
modprobe loop || fail "modprobe loop failed"
[ -e /sys/class/block/loop0 ] || fail "no loop0 after modprobe loop"
udev_start "$KISCSI_VM_TMP/65-kiscsi-vm-probe.rules"
echo "udevd $(udevadm --version) running, pid $udevd_pid"
run udevadm trigger --action=add --subsystem-match=block
assert_rc 0
udev_settle
[ -e /run/kiscsi-vm-probe-loop0 ] || fail "our rule's RUN did not run for loop0: $(tail -20 udevd.log)"
run udevadm info --query=property --name=/dev/loop0
assert_rc 0
assert_out_has "KISCSI_VM_PROBE=seen-loop0"
echo "NIC name after udev: $(basename "$(ls -d "$pci"/virtio*/net/*)")"

# kiscsi checks follow (same boot: $NIC, $IBFT_*, udevd running with the rules of
# /run/udev/rules.d; the NIC is still down and has no address).

step "ibft passed"

#!/usr/bin/env bash
# The firmware boot table: qemu hands the guest an iBFT made by ibft_gen.py with its defaults
# (IBFT_* below) and a virtio NIC with the table's MAC at the table's PCI address (00:03.0);
# iscsi_ibft must publish exactly those values under /sys/firmware/ibft. Then the host's
# systemd-udevd runs in the guest and handles triggered block events with a rule of ours.
# The kiscsi checks share this boot: they follow at the end.
# vm-qemu-args: -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,addr=0x3
# vm-ibft: --target-ip 10.0.2.15 --target-port 3260 --chap-name bootuser --chap-secret bootsecret12 --rchap-name tgtuser --rchap-secret tgtsecret123
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
IBFT_TARGET_IP=10.0.2.15
IBFT_TARGET_PORT=3260
IBFT_TARGET_NAME=iqn.2026-12.test.boot:root
IBFT_CHAP_NAME=bootuser
IBFT_CHAP_SECRET=bootsecret12
IBFT_RCHAP_NAME=tgtuser
IBFT_RCHAP_SECRET=tgtsecret123
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
expect_file target0/chap-type 2
expect_file target0/nic-assoc 0
expect_file target0/target-name "$IBFT_TARGET_NAME"
expect_file target0/chap-name "$IBFT_CHAP_NAME"
expect_file target0/chap-secret "$IBFT_CHAP_SECRET"
expect_file target0/rev-chap-name "$IBFT_RCHAP_NAME"
expect_file target0/rev-chap-name-secret "$IBFT_RCHAP_SECRET"
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

# ---- kiscsi against open-iscsi 2.1.8 on the same table, in this boot.
env_file=$KISCSI_BUILD/Testing/open-iscsi.env
[ -r "$env_file" ] || fail "$env_file is missing: the vm_open_iscsi fixture fetches open-iscsi"
oi_root=$(sed -n 's/^root=//p' "$env_file")
oi_lib=$oi_root/usr/lib/x86_64-linux-gnu:$oi_root/lib/x86_64-linux-gnu
# text_diff A B: a diff of two texts (the guest has no /dev/fd for <(...)).
text_diff() {
  printf '%s\n' "$1" >"$KISCSI_VM_TMP/diff.a"
  printf '%s\n' "$2" >"$KISCSI_VM_TMP/diff.b"
  diff "$KISCSI_VM_TMP/diff.a" "$KISCSI_VM_TMP/diff.b"
}
ISCSISTART=(env LD_LIBRARY_PATH="$oi_lib" "$oi_root/sbin/iscsistart")
ISCSIADM=(env LD_LIBRARY_PATH="$oi_lib" "$oi_root/sbin/iscsiadm")
KSTART=$KISCSI_BUILD/bin/kiscsistart
TIMER=$KISCSI_BUILD/bench/vm/login_timer
kiscsi_scratch

step "-f: kiscsistart and kiscsiadm -m fw print what iscsistart -f and iscsiadm -m fw print"
run "${ISCSISTART[@]}" -f
assert_rc 0
oi_f=$RUN_OUT
echo "$oi_f"
run "$KSTART" -f
assert_rc 0
[ "$RUN_OUT" = "$oi_f" ] || fail "kiscsistart -f differs from iscsistart -f:
$(text_diff "$oi_f" "$RUN_OUT")"
assert_out_has "node.session.auth.password_in = $IBFT_RCHAP_SECRET"
run "${ISCSIADM[@]}" -m fw
assert_rc 0
oi_fw=$RUN_OUT
adm -m fw
assert_rc 0
[ "$RUN_OUT" = "$oi_fw" ] || fail "kiscsiadm -m fw differs from iscsiadm -m fw:
$(text_diff "$oi_fw" "$RUN_OUT")"

step "-N: the same addresses and routes as iscsistart -N, plus the default route"
# IPv4 only: slirp's router advertisements add IPv6 addresses whenever they come.
net_state() {
  ip -o -4 addr show dev "$NIC" | awk '{print $3, $4}'
  ip -4 route show | sed 's/ *$//' | LC_ALL=C sort
}
run "${ISCSISTART[@]}" -N
assert_rc 0
oi_net=$(net_state)
echo "after iscsistart -N:"; echo "$oi_net"
ip addr flush dev "$NIC"; ip route flush dev "$NIC" 2>/dev/null || true; ip link set "$NIC" down
run "$KSTART" -N
assert_rc 0
assert_out_has "Setting up software interface $NIC"
k_net=$(net_state)
echo "after kiscsistart -N:"; echo "$k_net"
want=$(printf '%s\n%s\n' "$oi_net" "default via $IBFT_NIC_GW dev $NIC" | LC_ALL=C sort)
[ "$(echo "$k_net" | LC_ALL=C sort)" = "$want" ] || fail "kiscsistart -N left a different network:
$(text_diff "$want" "$(echo "$k_net" | LC_ALL=C sort)")"
run "$KSTART" -N
assert_rc 0
[ "$(net_state)" = "$k_net" ] || fail "a second kiscsistart -N changed the network"

step "the target: LIO on the NIC's own address with the table's mutual CHAP"
lio_load
lio_chap_target "$IBFT_TARGET_NAME" "$IBFT_INITIATOR" "$IBFT_CHAP_NAME" "$IBFT_CHAP_SECRET" \
  "$IBFT_RCHAP_NAME" "$IBFT_RCHAP_SECRET" 2
lio_portal "$IBFT_TARGET_NAME" "$IBFT_TARGET_IP" "$IBFT_TARGET_PORT"
lio_enable "$IBFT_TARGET_NAME"
modprobe iscsi_tcp; modprobe sd_mod; modprobe crc32c_generic

# udevd runs kiscsi-udev with the device's properties only: it reads /etc/iscsi/iscsid.conf
# (the guest's /etc is a tmpfs overlay).
mkdir -p /etc/iscsi
cat >/etc/iscsi/iscsid.conf <<EOF
kiscsi.disk.timeout = 47
kiscsi.disk.scheduler = none
EOF
sed "s|[^\"]*/kiscsi-udev |$KISCSI_BUILD/bin/kiscsi-udev |" \
  "$KISCSI_BUILD/contrib/udev/65-kiscsi-udev.rules" >/run/udev/rules.d/65-kiscsi-udev.rules \
  || fail "cannot install the kiscsi-udev rule"
udevadm control --reload

# session_of_target: the sid of the session to the table's target, if any.
session_of_target() {
  local s
  for s in /sys/class/iscsi_session/session*; do
    [ -e "$s" ] || continue
    [ "$(cat "$s/targetname")" = "$IBFT_TARGET_NAME" ] && { echo "${s##*session}"; return 0; }
  done
  return 1
}
# the block disk of LUN 1 of session SID
disk_of() {
  local d
  for d in /sys/class/iscsi_session/session"$1"/device/target*/*:*:*:1/block/*; do
    [ -e "$d" ] && { echo "${d##*/}"; return 0; }
  done
  return 1
}
kiscsid_start
logout_session() { # SID
  adm -m session -r "$1" -u
  assert_rc 0
  wait_for 10 bash -c "! [ -e /sys/class/iscsi_session/session$1 ]"
}

step "-b: open-iscsi's iscsistart logs in with the table's CHAP"
run "${ISCSISTART[@]}" -b
assert_rc 0
sid=$(session_of_target) || fail "iscsistart -b made no session"
wait_for 10 disk_of "$sid"
logout_session "$sid"

step "-b: kiscsistart logs in with the table's mutual CHAP; the LUN's disk reads back"
run "$KSTART" -b
assert_rc 0
assert_out_has "is operational now"
sid=$(session_of_target) || fail "kiscsistart -b made no session"
disk=$(disk_of "$sid") || fail "no disk for LUN 1 of session $sid"
dd if=/dev/urandom of=pattern bs=64k count=16 status=none
dd if=pattern of="/dev/$disk" bs=64k oflag=direct status=none || fail "write to $disk failed"
dd if="/dev/$disk" of=readback bs=64k count=16 iflag=direct status=none \
  || fail "read from $disk failed"
cmp readback pattern || fail "$disk did not read back what was written"
[ "$(cat /sys/class/iscsi_session/session$sid/username)" = "$IBFT_CHAP_NAME" ] \
  || fail "session $sid did not log in as $IBFT_CHAP_NAME"
[ "$(cat /sys/class/iscsi_connection/connection$sid:0/recv_tmo 2>/dev/null || echo x)" = 0 ] \
  || echo "note: recv_tmo $(cat /sys/class/iscsi_connection/connection$sid:0/recv_tmo 2>/dev/null)"

step "-b again: the session exists, nothing new is made"
run "$KSTART" -b
assert_rc 0
assert_out_has "already logged in (session $sid)"
[ "$(ls -d /sys/class/iscsi_session/session* | wc -l)" = 1 ] || fail "a second session appeared"

step "kiscsi-udev: the iSCSI disk got the configured timeout and scheduler none"
udev_settle
dev=$(readlink -f "/sys/class/block/$disk/device")
[ "$(cat "$dev/timeout")" = 47 ] || fail "$disk timeout is $(cat "$dev/timeout"), not 47: $(tail -20 udevd.log)"
grep -q '\[none\]' "/sys/class/block/$disk/queue/scheduler" \
  || fail "$disk scheduler: $(cat "/sys/class/block/$disk/queue/scheduler")"
grep -q "kiscsi-udev" udevd.log && grep "kiscsi-udev" udevd.log | tail -3
step "kiscsi-udev at coldplug: a disk that was there before udevd started gets the same values"
udev_stop
echo 30 >"$dev/timeout"
echo mq-deadline >"/sys/class/block/$disk/queue/scheduler"
udev_start
run udevadm trigger --action=add --subsystem-match=scsi --subsystem-match=block
assert_rc 0
udev_settle
[ "$(cat "$dev/timeout")" = 47 ] || fail "coldplug: $disk timeout is $(cat "$dev/timeout"), not 47"
grep -q '\[none\]' "/sys/class/block/$disk/queue/scheduler" \
  || fail "coldplug: $disk scheduler: $(cat "/sys/class/block/$disk/queue/scheduler")"
step "kiscsi-udev: a disk that is not iSCSI (scsi_debug) keeps its values"
modprobe scsi_debug dev_size_mb=8 || fail "modprobe scsi_debug failed"
udev_settle
sdbg=""
for d in /sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*:*:*:*/block/*; do
  [ -e "$d" ] && sdbg=${d##*/}
done
[ -n "$sdbg" ] || fail "scsi_debug made no disk"
[ "$(cat "/sys/class/block/$sdbg/device/timeout")" = 30 ] \
  || fail "the scsi_debug disk's timeout changed: $(cat "/sys/class/block/$sdbg/device/timeout")"
grep -q '\[none\]' "/sys/class/block/$sdbg/queue/scheduler" \
  && fail "the scsi_debug disk's scheduler changed to none"

step "kiscsiadm -m host: the session's host as iscsiadm lists it"
run "${ISCSIADM[@]}" -m host
oi_host=$RUN_OUT
adm -m host
assert_rc 0
[ "$RUN_OUT" = "$oi_host" ] || fail "kiscsiadm -m host differs:
$(text_diff "$oi_host" "$RUN_OUT")"
run "${ISCSIADM[@]}" -m host -P 1
oi_host1=$RUN_OUT
adm -m host -P 1
assert_rc 0
[ "$RUN_OUT" = "$oi_host1" ] || fail "kiscsiadm -m host -P 1 differs:
$(text_diff "$oi_host1" "$RUN_OUT")"

step "kiscsid keeps the iBFT session: an outage with no node record recovers with the table's CHAP"
kill "$daemon"; wait "$daemon" 2>/dev/null || true
kiscsid_start
lio_disable "$IBFT_TARGET_NAME"
sleep 1
lio_enable "$IBFT_TARGET_NAME"
dd if="/dev/$disk" of=/dev/null bs=64k count=16 iflag=direct status=none \
  || fail "reading $disk after the outage failed: $(tail -20 kiscsid.log)"
grep -q "session $sid" kiscsid.log || fail "kiscsid did not adopt session $sid"
grep "session $sid\|session$sid" kiscsid.log | tail -5

step "-U all and -L all leave the boot session alone"
adm -m node -U all
[ -e "/sys/class/iscsi_session/session$sid" ] || fail "-U all logged out the boot session"

step "kiscsiadm -m discovery -t fw writes onboot records; -m fw -l sees the session"
adm -m discovery -t fw
assert_rc 0
assert_out_has "$IBFT_TARGET_IP:$IBFT_TARGET_PORT,1 $IBFT_TARGET_NAME"
adm -m node -T "$IBFT_TARGET_NAME" -o show
assert_out_has "node.startup = onboot"
assert_out_has "node.discovery_type = fw"
logout_session "$sid"
adm -m node -L all
assert_rc 21
[ ! -e /sys/class/iscsi_session/session* ] 2>/dev/null || fail "-L all logged in to an onboot record"
adm -m fw -l
assert_rc 0
assert_out_has "Login to [iface: default, target: $IBFT_TARGET_NAME"
sid=$(session_of_target) || fail "-m fw -l made no session"
logout_session "$sid"

BOOT_ROUNDS=${1:-5}  # scripts/bench_vm.sh --only boot passes --boot-rounds
step "benchmark: -b to the boot LUN's /dev node, iscsistart against kiscsistart ($BOOT_ROUNDS rounds each)"
declare -a oi_ms k_ms
for ((i = 0; i < BOOT_ROUNDS; i++)); do
  for sys in open-iscsi kiscsi; do
    if [ "$sys" = kiscsi ]; then cmd=("$KSTART" -b); else cmd=("${ISCSISTART[@]}" -b); fi
    line=$("$TIMER" --disks 1 --timeout-ms 60000 --log "$KISCSI_VM_TMP/boot.out" -- "${cmd[@]}") \
      || fail "$sys -b under login_timer: $line: $(cat "$KISCSI_VM_TMP/boot.out")"
    [[ $line =~ ^disk_ms=([0-9.]+)\ cmd_ms=([0-9.]+)\ rc=0$ ]] || fail "$sys: login_timer: $line"
    if [ "$sys" = kiscsi ]; then k_ms+=("${BASH_REMATCH[1]}"); else oi_ms+=("${BASH_REMATCH[1]}"); fi
    logout_session "$(session_of_target)"
  done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mk=$(median "${k_ms[@]}"); mo=$(median "${oi_ms[@]}")
echo "BOOT-LOGIN kiscsistart -b: ${k_ms[*]} ms (median $mk)"
echo "BOOT-LOGIN iscsistart -b: ${oi_ms[*]} ms (median $mo)"
echo "BOOT-LOGIN ratio $(awk -v a="$mk" -v b="$mo" 'BEGIN {printf "%.2f", a / b}') (goal at most 0.5)"


step "ibft passed"

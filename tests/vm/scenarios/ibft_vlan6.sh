#!/usr/bin/env bash
# A firmware boot table with a VLAN and IPv6: the NIC is fd00:2::15/64 on VLAN 100, the gateway
# fd00:2::1, the target on the NIC's own address. open-iscsi's iscsistart -N only looks for a VLAN
# device that already exists; kiscsistart -N makes eth0.100, its address (no duplicate address
# detection: the firmware used it already), the route to the target and the default route, and
# kiscsistart -b logs in over it. -f prints what iscsistart -f prints.
# vm-qemu-args: -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,addr=0x3
# vm-ibft: --nic-ip fd00:2::15 --nic-prefix 64 --nic-gw fd00:2::1 --nic-dns1 none --nic-vlan 100 --target-ip fd00:2::15 --target-port 3260 --target-lun 0
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

TARGET=iqn.2026-12.test.boot:root
ADDR=fd00:2::15
GW=fd00:2::1
env_file=$KISCSI_BUILD/Testing/open-iscsi.env
oi_root=$(sed -n 's/^root=//p' "$env_file")
oi_lib=$oi_root/usr/lib/x86_64-linux-gnu:$oi_root/lib/x86_64-linux-gnu
KSTART=$KISCSI_BUILD/bin/kiscsistart

step "the table"
modprobe virtio_net || fail "modprobe virtio_net failed"
modprobe 8021q || fail "modprobe 8021q failed"
modprobe iscsi_ibft || fail "modprobe iscsi_ibft failed"
_has_nic() { grep -qx 52:54:00:12:34:56 /sys/class/net/*/address; }
wait_for 10 _has_nic
(cd /sys/firmware/ibft && grep -r . --exclude=device ethernet0 target0 | LC_ALL=C sort)
NIC=eth0

step "-f: as iscsistart -f"
run env LD_LIBRARY_PATH="$oi_lib" "$oi_root/sbin/iscsistart" -f
assert_rc 0
oi_f=$RUN_OUT
echo "$oi_f"
run "$KSTART" -f
assert_rc 0
[ "$RUN_OUT" = "$oi_f" ] || fail "kiscsistart -f differs from iscsistart -f: ---- kiscsistart:
$RUN_OUT"

step "-N: iscsistart needs an existing VLAN device; kiscsistart makes it"
run env LD_LIBRARY_PATH="$oi_lib" "$oi_root/sbin/iscsistart" -N
echo "iscsistart -N: rc=$RUN_RC $RUN_OUT $RUN_ERR"
ip link del "$NIC.100" 2>/dev/null || true
run "$KSTART" -N
assert_rc 0
ip -d link show "$NIC.100" | tee link.txt
grep -q 'vlan protocol 802.1Q id 100' link.txt || fail "no VLAN 100 device on $NIC"
ip -6 -o addr show dev "$NIC.100" | tee addr.txt
grep -q "inet6 $ADDR/64" addr.txt || fail "$NIC.100 has no $ADDR/64"
grep "inet6 $ADDR/" addr.txt | grep -q tentative && fail "$ADDR is tentative (duplicate address detection ran)"
# (slirp's router advertisements add routes on eth0 with a running expiry: only eth0.100's count.)
ip -6 route show dev "$NIC.100" | tee route.txt
grep -q "^default via $GW" route.txt || fail "no default route via $GW on $NIC.100"
grep -q "^$ADDR " route.txt || fail "no route to the target $ADDR on $NIC.100"
run "$KSTART" -N
assert_rc 0
[ "$(ip -6 route show dev "$NIC.100")" = "$(cat route.txt)" ] || fail "a second -N changed the routes"
[ "$(ip -6 -o addr show dev "$NIC.100" | grep -c "$ADDR")" = 1 ] || fail "a second -N added an address"

step "-b over IPv6 on the VLAN: LIO on [$ADDR]:3260"
lio_load
lio_open_target "$TARGET" 1
lio_portal "$TARGET" "$ADDR" 3260
lio_enable "$TARGET"
modprobe iscsi_tcp; modprobe sd_mod; modprobe crc32c_generic
kiscsi_scratch
run "$KSTART" -b
assert_rc 0
assert_out_has "is operational now"
assert_out_has "attached disk sd"
disk=$(sed -n 's/.*attached disk \(sd[a-z]*\) .*/\1/p' <<<"$RUN_OUT" | head -1)
dd if="/dev/$disk" of=/dev/null bs=64k count=16 iflag=direct status=none || fail "reading $disk failed"
s=$(ls -d /sys/class/iscsi_connection/connection*:0 | head -1)
cat "$s/persistent_address" "$s/address"
step "ibft_vlan6 passed"

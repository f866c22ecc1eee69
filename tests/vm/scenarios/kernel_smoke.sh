#!/usr/bin/env bash
# The initiator side of the kernel: iscsi_tcp and its dependencies load, the tcp transport
# registers in sysfs, and the NETLINK_ISCSI (8) kernel socket exists.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

step "modprobe iscsi_tcp sd_mod crc32c_generic"
modprobe iscsi_tcp || fail "modprobe iscsi_tcp failed"
modprobe sd_mod || fail "modprobe sd_mod failed"
modprobe crc32c_generic || fail "modprobe crc32c_generic failed"
for m in scsi_mod scsi_transport_iscsi libiscsi libiscsi_tcp iscsi_tcp sd_mod crc32c_generic; do
  [ -d "/sys/module/$m" ] || fail "module $m is not loaded"
done
grep -q '^name *: crc32c$' /proc/crypto || fail "no crc32c in /proc/crypto"

step "sysfs: /sys/class/iscsi_transport/tcp"
handle_file=/sys/class/iscsi_transport/tcp/handle
[ -r "$handle_file" ] || fail "$handle_file does not exist"
handle=$(cat "$handle_file")
[[ $handle =~ ^[0-9]+$ ]] || fail "$handle_file holds '$handle', not a decimal number"
echo "tcp transport handle: $handle"
echo "tcp transport caps: $(cat /sys/class/iscsi_transport/tcp/caps)"
for d in iscsi_host iscsi_session iscsi_connection iscsi_endpoint iscsi_iface; do
  [ -d "/sys/class/$d" ] || fail "/sys/class/$d does not exist"
done

step "NETLINK_ISCSI kernel socket"
# /proc/net/netlink: sk Eth Pid Groups ...; the kernel's own socket has Pid 0.
awk 'NR > 1 && $2 == 8 && $3 == 0 { found = 1 } END { exit !found }' /proc/net/netlink \
  || { cat /proc/net/netlink; fail "no NETLINK_ISCSI (8) kernel socket in /proc/net/netlink"; }
if command -v python3 >/dev/null; then
  python3 - <<'PY' || fail "cannot open and bind a NETLINK_ISCSI socket"
import socket
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 8)
s.bind((0, 1))
print("NETLINK_ISCSI socket bound to group 1, port id", s.getsockname()[0])
PY
fi

step "kernel_smoke passed"

#!/usr/bin/env bash
# Two LIO targets on 127.0.0.1:3260 (one with two LUNs): SendTargets discovery with kiscsiadm,
# the node records it writes, and a userspace login probe of each target.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

t1=iqn.2026-11.test.vm:disk1
t2=iqn.2026-11.test.vm:disk2

step "LIO: $t1 (1 LUN), $t2 (2 LUNs) on 127.0.0.1:3260"
lio_load
lio_open_target "$t1" 1
lio_open_target "$t2" 2
for t in "$t1" "$t2"; do
  lio_portal "$t" 127.0.0.1 3260
  lio_enable "$t"
done
[ -d "/sys/kernel/config/target/iscsi/$t2/tpgt_1/lun/lun_1" ] || fail "LIO has no lun_1 on $t2"

kiscsi_scratch

step "discovery"
adm -m discovery -t st -p 127.0.0.1
assert_rc 0
assert_out_eq "127.0.0.1:3260,1 $t1
127.0.0.1:3260,1 $t2"

step "node records"
adm -m node
assert_rc 0
assert_out_eq "127.0.0.1:3260,1 $t1
127.0.0.1:3260,1 $t2"
for t in "$t1" "$t2"; do
  [ -f "$KISCSI_SYSCONFDIR/nodes/$t/127.0.0.1,3260,1/default" ] || fail "no node record for $t"
done

for t in "$t1" "$t2"; do
  step "probe $t"
  adm -m node -T "$t" -p 127.0.0.1:3260 --probe
  assert_rc 0
  assert_out_has "Login to [iface: default, target: $t, portal: 127.0.0.1,3260] successful (probe"
  assert_out_has "Logout of [iface: default, target: $t, portal: 127.0.0.1,3260] successful (probe"
  assert_out_has $'\tAuthentication: None\n'
  assert_out_has $'\tTarget Portal Group Tag: 1\n'
  printf '%s\n' "$RUN_OUT"
done

# LIO answers an unknown TargetName with "service unavailable" (0x0301), not "not found" (0x0203)
# as tgtd does.
step "probe of a target name LIO does not know"
adm -m node -o new -T iqn.2026-11.test.vm:ghost -p 127.0.0.1:3260,1
assert_rc 0
adm -m node -T iqn.2026-11.test.vm:ghost -p 127.0.0.1:3260 --probe
assert_rc 29
assert_err_has "login to iqn.2026-11.test.vm:ghost: target service unavailable (status 0x0301)"

step "target outage: lio_disable, then lio_enable"
lio_disable "$t1"
adm -m node -T "$t1" -p 127.0.0.1:3260 --probe
echo "probe of a disabled target: exit $RUN_RC"
[ "$RUN_RC" -ne 0 ] || fail "probe of a disabled target succeeded"
lio_enable "$t1"
adm -m node -T "$t1" -p 127.0.0.1:3260 --probe
assert_rc 0

step "all targets deleted: the portal is gone"
lio_delete_all
if compgen -G "/sys/kernel/config/target/iscsi/*/tpgt_*/" >/dev/null \
    || compgen -G "/sys/kernel/config/target/core/fileio_*/" >/dev/null; then
  ls -lR /sys/kernel/config/target/core /sys/kernel/config/target/iscsi >&2
  fail "LIO targets or backstores left after lio_delete_all"
fi
adm -m discovery -t st -p 127.0.0.1
echo "discovery with no portal: exit $RUN_RC"
assert_rc 4
assert_err_has "Connection refused"

step "discovery_probe passed"

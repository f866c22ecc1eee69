#!/bin/bash
# Tests of kiscsi's initramfs-tools integration (contrib/initramfs/initramfs-tools):
#  * installing it (the install script of this directory, into a scratch DESTDIR) gives the hook
#    and both boot scripts with their paths filled in, and the example;
#  * shellcheck -s sh is clean on what is installed;
#  * the hook, run by busybox sh with a recording hook-functions, asks for the files and modules
#    a root-on-iSCSI image needs (compared with the expected call list);
#  * local-top, run by busybox ash in a chroot with a recording /scripts/functions and recording
#    kiscsistart, modprobe and sleep, makes the logins a user configured, retries them as it
#    should, finds the root of root=iscsi:, records the interface, and never prints a CHAP secret;
#  * local-bottom forgets the interface only when there is no iSCSI disk.
# Usage: initramfs_tools_test.sh SOURCE_DIR BINARY_DIR. Nothing outside a scratch directory is
# touched; the chroot needs root or an unprivileged user namespace (else: skipped, exit 77).
set -u

src=${1:?usage: initramfs_tools_test.sh SOURCE_DIR BINARY_DIR}
bin=${2:?usage: initramfs_tools_test.sh SOURCE_DIR BINARY_DIR}
busybox=/bin/busybox
work=$(mktemp -d "${TMPDIR:-/tmp}/kiscsi-itools-test.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# --- 1. install ---------------------------------------------------------------------------------
dest=$work/dest
itools=$dest/usr/share/initramfs-tools
if ! DESTDIR=$dest cmake -DCMAKE_INSTALL_PREFIX=/usr \
  -P "$bin/contrib/initramfs/initramfs-tools/cmake_install.cmake" >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  echo "FAIL: cmake_install.cmake of contrib/initramfs/initramfs-tools failed"
  exit 1
fi
for f in hooks/kiscsi scripts/local-top/kiscsi scripts/local-bottom/kiscsi; do
  [[ -f $itools/$f ]] || { fail "$f not installed"; continue; }
  [[ $(stat -c %a "$itools/$f") == 755 ]] || fail "$f has mode $(stat -c %a "$itools/$f"), not 755"
  if grep -n '@[A-Z_]*@' "$itools/$f"; then fail "$f has an unconfigured @VARIABLE@"; fi
done
[[ -f $dest/usr/share/doc/kiscsi/iscsi.initramfs.example ]] ||
  fail "share/doc/kiscsi/iscsi.initramfs.example not installed"
grep -q '^KISCSISTART="/usr/sbin/kiscsistart"$' "$itools/scripts/local-top/kiscsi" ||
  fail "local-top does not name /usr/sbin/kiscsistart"
grep -q '^sbindir="/usr/sbin"$' "$itools/hooks/kiscsi" || fail "the hook does not name /usr/sbin"
grep -qF "/usr/lib/udev/rules.d/\$rules_name" "$itools/hooks/kiscsi" ||
  fail "the hook does not look for the rule in /usr/lib/udev/rules.d"
(( failures == 0 )) || { echo "$failures failure(s)"; exit 1; }

# --- 2. shellcheck ------------------------------------------------------------------------------
if ! command -v shellcheck >/dev/null; then
  fail "shellcheck is not installed (setup.sh installs it)"
else
  for f in hooks/kiscsi scripts/local-top/kiscsi scripts/local-bottom/kiscsi; do
    shellcheck -s sh "$itools/$f" || fail "shellcheck -s sh $f"
  done
  shellcheck -s sh "$src/contrib/initramfs/initramfs-tools/iscsi.initramfs.example" ||
    fail "shellcheck -s sh iscsi.initramfs.example"
  shellcheck "${BASH_SOURCE[0]}" || fail "shellcheck of this test"
fi

# --- the chroot ---------------------------------------------------------------------------------
if [[ ! -x $busybox ]]; then
  fail "$busybox is missing (busybox-static; setup.sh installs it)"
  echo "$failures failure(s)"
  exit 1
fi
if (( $(id -u) == 0 )); then
  chroot=(chroot)
else
  chroot=(unshare -r chroot)
fi
template=$work/template
mkdir -p "$template"/{bin,sbin,usr/sbin,usr/bin,stub,scripts/local-top,scripts/local-bottom} \
  "$template"/{conf,etc/iscsi,run/initramfs,proc,sys/class/net,dev/disk/by-path,tmp} \
  "$template/usr/share/initramfs-tools/hooks" "$template/usr/lib/udev/rules.d"
cp "$busybox" "$template/bin/busybox"
if ! "${chroot[@]}" "$template" /bin/busybox --install -s /bin 2>"$work/chroot.err"; then
  echo "SKIP: cannot chroot here ($(cat "$work/chroot.err"))"
  exit 77
fi
: >"$template/calls"

# Stubs: each records its arguments in /calls.
cat >"$template/usr/sbin/kiscsistart" <<'EOF'
#!/bin/sh
# kiscsistart stub: records the call; exits with the first line of /stub/kiscsistart.rc, which is
# then dropped unless it is the last (the last one holds).
echo "kiscsistart $*" >>/calls
rc=0
if [ -s /stub/kiscsistart.rc ]; then
  read -r rc </stub/kiscsistart.rc
  [ "$(wc -l </stub/kiscsistart.rc)" -gt 1 ] && sed -i 1d /stub/kiscsistart.rc
fi
echo "kiscsistart (stub): exit $rc"
exit "$rc"
EOF
cat >"$template/sbin/modprobe" <<'EOF'
#!/bin/sh
echo "modprobe $*" >>/calls
EOF
cat >"$template/stub/sleep" <<'EOF'
#!/bin/sh
echo "sleep $*" >>/calls
EOF
cat >"$template/stub/udevadm" <<'EOF'
#!/bin/sh
# udevadm stub: "info" prints /stub/udev-props (the disk's properties).
[ "$1" = info ] && [ -f /stub/udev-props ] && cat /stub/udev-props
exit 0
EOF
cat >"$template/scripts/functions" <<'EOF'
# /scripts/functions of initramfs-tools, recording what the boot script asks of it.
log_success_msg() { echo "Success: $*"; }
log_failure_msg() { echo "Failure: $*"; }
log_warning_msg() { echo "Warning: $*"; }
log_begin_msg() { echo "Begin: $* ... "; }
log_end_msg() { echo "done."; }
panic() { echo "panic $*" >>/calls; echo "PANIC: $*"; }
wait_for_udev() { echo "wait_for_udev $*" >>/calls; }
configure_networking() {
  echo "configure_networking IP=${IP:-}" >>/calls
  DEVICE=${DEVICE:-ens3}
}
EOF
chmod 755 "$template/usr/sbin/kiscsistart" "$template/sbin/modprobe" "$template/stub/"*
cp "$itools/scripts/local-top/kiscsi" "$template/scripts/local-top/kiscsi"
cp "$itools/scripts/local-bottom/kiscsi" "$template/scripts/local-bottom/kiscsi"
printf 'InitiatorName=iqn.2026-12.test.boot:from-file\n' >"$template/etc/iscsi/initiatorname.iscsi"
printf 'node.session.timeo.replacement_timeout = 86400\n' >"$template/etc/iscsi/iscsid.conf"
echo "console=ttyS0 ro" >"$template/proc/cmdline"

n=0
# A fresh copy of the template in $root, for one case named $1.
new_root() {
  n=$((n + 1))
  case_name=$1
  root=$work/case$n
  cp -a "$template" "$root"
}
cmdline() { echo "$*" >"$root/proc/cmdline"; }
# Runs a script of the root with the environment init exports (quiet, IP and "$@").
run_script() {
  local script=$1
  shift
  "${chroot[@]}" "$root" /bin/busybox env -i PATH=/stub:/sbin:/usr/sbin:/bin:/usr/bin \
    quiet=n "$@" /bin/sh "$script" >"$root/out" 2>&1
  echo $? >"$root/rc"
}
run_top() { run_script /scripts/local-top/kiscsi "$@"; }
# The calls of the last run must be exactly stdin.
expect_calls() {
  if ! diff -u - "$root/calls" >"$root/calls.diff"; then
    fail "$case_name: calls differ (- expected, + made):"
    sed 's/^/    /' "$root/calls.diff"
    sed 's/^/    output: /' "$root/out"
  fi
}
expect_rc() {
  [[ $(cat "$root/rc") == "$1" ]] || fail "$case_name: exit status $(cat "$root/rc"), not $1"
}
expect_file() { # PATH CONTENT
  if [[ ! -f $root$1 ]]; then
    fail "$case_name: $1 missing"
  elif [[ $(cat "$root$1") != "$2" ]]; then
    fail "$case_name: $1 is '$(cat "$root$1")', not '$2'"
  fi
}
expect_no_file() { [[ ! -e $root$1 ]] || fail "$case_name: $1 exists: $(cat "$root$1")"; }
expect_not_printed() {
  if grep -q -- "$1" "$root/out"; then
    fail "$case_name: the output shows '$1':"
    sed 's/^/    output: /' "$root/out"
  fi
}
expect_printed() {
  grep -q -- "$1" "$root/out" || fail "$case_name: the output does not say '$1'"
}

T=iqn.2026-12.test.boot:root
I=iqn.2026-12.test.boot:initiator
BYPATH=/dev/disk/by-path/ip-10.0.2.2:3261-iscsi-$T-lun-1
CONF=/etc/iscsi/iscsid.conf

# --- 3. the hook --------------------------------------------------------------------------------
cat >"$template/usr/share/initramfs-tools/hook-functions" <<'EOF'
# hook-functions of initramfs-tools, recording the calls; copy_file returns 1 ("already in the
# image") for a source listed in /stub/in-image.
copy_exec() { echo "copy_exec $*" >>/calls; }
copy_file() {
  echo "copy_file $*" >>/calls
  if [ -f /stub/in-image ] && grep -qx "$2" /stub/in-image; then return 1; fi
  return 0
}
manual_add_modules() { echo "manual_add_modules $*" >>/calls; }
auto_add_modules() { echo "auto_add_modules $*" >>/calls; }
add_loaded_modules() { echo "add_loaded_modules $*" >>/calls; }
force_load() { echo "force_load $*" >>/calls; }
EOF
cp "$itools/hooks/kiscsi" "$template/usr/share/initramfs-tools/hooks/kiscsi"
printf '# rule\n' >"$template/usr/lib/udev/rules.d/65-kiscsi-udev.rules"
: >"$template/usr/sbin/kiscsi-udev"
chmod 755 "$template/usr/sbin/kiscsi-udev"
run_hook() {
  "${chroot[@]}" "$root" /bin/busybox env -i PATH=/sbin:/usr/sbin:/bin:/usr/bin DESTDIR=/dest \
    CONFDIR=/etc/initramfs-tools verbose=n "$@" /bin/sh -e /usr/share/initramfs-tools/hooks/kiscsi \
    >"$root/out" 2>&1
  echo $? >"$root/rc"
}
hook_calls_base="copy_exec /usr/sbin/kiscsistart /usr/sbin/kiscsistart
copy_exec /usr/sbin/kiscsi-udev /usr/sbin/kiscsi-udev
copy_file rules /usr/lib/udev/rules.d/65-kiscsi-udev.rules /usr/lib/udev/rules.d/65-kiscsi-udev.rules
copy_file config /etc/iscsi/initiatorname.iscsi /etc/iscsi/initiatorname.iscsi
copy_file config /etc/iscsi/iscsid.conf /etc/iscsi/iscsid.conf"
hook_modules="manual_add_modules iscsi_tcp libiscsi libiscsi_tcp scsi_transport_iscsi iscsi_ibft iscsi_boot_sysfs crc32c"

new_root "hook prereqs"
"${chroot[@]}" "$root" /bin/sh /usr/share/initramfs-tools/hooks/kiscsi prereqs >"$root/out" 2>&1
[[ $(cat "$root/out") == udev ]] || fail "$case_name: prints '$(cat "$root/out")', not 'udev'"
expect_calls </dev/null

new_root "hook, MODULES=most"
install -m 0600 /dev/null "$root/etc/iscsi/iscsi.initramfs"
run_hook MODULES=most
expect_rc 0
printf '%s\ncopy_file config /etc/iscsi/iscsi.initramfs /etc/iscsi/iscsi.initramfs\n%s\n' \
  "$hook_calls_base" "$hook_modules" | expect_calls

new_root "hook, MODULES=dep, no iscsi.initramfs, files already in the image"
printf '/etc/iscsi/iscsid.conf\n/usr/lib/udev/rules.d/65-kiscsi-udev.rules\n' >"$root/stub/in-image"
run_hook MODULES=dep
expect_rc 0
printf '%s\n%s\nauto_add_modules net\n' "$hook_calls_base" "$hook_modules" | expect_calls

new_root "hook, an administrator's rule in /etc/udev/rules.d"
mkdir -p "$root/etc/udev/rules.d"
printf '# mine\n' >"$root/etc/udev/rules.d/65-kiscsi-udev.rules"
run_hook MODULES=most
expect_rc 0
printf '%s\n%s\n' "$hook_calls_base" "$hook_modules" |
  sed '/^copy_file rules/a copy_file rules /etc/udev/rules.d/65-kiscsi-udev.rules /etc/udev/rules.d/65-kiscsi-udev.rules' |
  expect_calls

new_root "hook, NO_ISCSI_IN_INITRAMFS=yes"
mkdir -p "$root/etc/initramfs-tools/conf.d"
echo NO_ISCSI_IN_INITRAMFS=yes >"$root/etc/initramfs-tools/conf.d/kiscsi"
run_hook MODULES=most
expect_rc 0
expect_calls </dev/null

new_root "hook, kiscsistart missing"
rm "$root/usr/sbin/kiscsistart"
run_hook MODULES=most
[[ $(cat "$root/rc") != 0 ]] || fail "$case_name: the hook succeeded"
expect_printed "E: kiscsi: /usr/sbin/kiscsistart is missing"

# --- 4. local-top -------------------------------------------------------------------------------
new_root "nothing configured"
cmdline "root=UUID=1234 ro quiet"
run_top IP=
expect_rc 0
expect_calls </dev/null
expect_no_file /run/initramfs/kiscsi.interface
[[ ! -s $root/out ]] || fail "$case_name: says something: $(cat "$root/out")"

new_root "ISCSI_AUTO=false in the file, nothing else"
echo ISCSI_AUTO=false >"$root/etc/iscsi/iscsi.initramfs"
run_top IP=
expect_rc 0
expect_calls </dev/null

new_root "settings from iscsi.initramfs"
cat >"$root/etc/iscsi/iscsi.initramfs" <<EOF
ISCSI_INITIATOR=$I
ISCSI_TARGET_NAME=$T
ISCSI_TARGET_IP=10.0.2.2
ISCSI_TARGET_PORT=3261
ISCSI_TARGET_GROUP=1
EOF
cmdline "root=UUID=1234 ro ip=dhcp"
run_top IP=dhcp
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=dhcp
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -c $CONF
wait_for_udev 10
EOF
expect_file /run/initramfs/kiscsi.interface ens3
expect_no_file /conf/param.conf

new_root "the kernel command line wins over the file; initiator and defaults from /etc/iscsi"
cat >"$root/etc/iscsi/iscsi.initramfs" <<EOF
ISCSI_TARGET_NAME=iqn.2026-12.test.boot:other
ISCSI_TARGET_IP=192.0.2.1
ISCSI_TARGET_PORT=3999
ISCSI_TARGET_GROUP=7
EOF
rm "$root/etc/iscsi/iscsid.conf"
cmdline "iscsi_target_name=$T iscsi_target_ip=10.0.2.2 iscsi_target_port=3261 iscsi_target_group=2 ip=::::::dhcp"
run_top IP=::::::dhcp
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=::::::dhcp
kiscsistart -i iqn.2026-12.test.boot:from-file -t $T -g 2 -a 10.0.2.2 -p 3261
wait_for_udev 10
EOF

new_root "no port, no group: 3260 and 1"
cmdline "iscsi_initiator=$I iscsi_target_name=$T iscsi_target_ip=10.0.2.2"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3260 -c $CONF
wait_for_udev 10
EOF

new_root "CHAP from the command line"
cmdline "iscsi_initiator=$I iscsi_target_name=$T iscsi_target_ip=10.0.2.2 iscsi_target_port=3261 iscsi_username=alice iscsi_password=Sup3rSecretOut"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -u alice -w Sup3rSecretOut -c $CONF
wait_for_udev 10
EOF
expect_not_printed Sup3rSecretOut

new_root "root=iscsi: without CHAP"
cmdline "root=iscsi:10.0.2.2::3261:1:$T iscsi_initiator=$I ip=dhcp ro"
mkdir -p "$root/dev/disk/by-path"
: >"$root$BYPATH"
printf 'DEVNAME=/dev/sda\nID_FS_TYPE=ext4\n' >"$root/stub/udev-props"
run_top IP=dhcp
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=dhcp
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -c $CONF
wait_for_udev 10
EOF
expect_file /conf/param.conf "ROOT='$BYPATH'"

new_root "root=iscsi: with mutual CHAP, a partitioned disk"
cmdline "root=iscsi:alice:Sup3rSecretOut:tgt:Sup3rSecretIn@10.0.2.2:6:3261:1:$T iscsi_initiator=$I"
: >"$root$BYPATH"
: >"$root$BYPATH-part1"
printf 'DEVNAME=/dev/sda\nID_PART_TABLE_TYPE=dos\n' >"$root/stub/udev-props"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -u alice -w Sup3rSecretOut -U tgt -W Sup3rSecretIn -c $CONF
wait_for_udev 10
EOF
expect_file /conf/param.conf "ROOT='$BYPATH-part1'"
expect_not_printed Sup3rSecretOut
expect_not_printed Sup3rSecretIn

new_root "root=iscsi: with one-way CHAP (an @ in the secret) and an IPv6 address"
cmdline "root=iscsi:alice:Sup3r@SecretOut@[fd00::2]::3261:1:$T iscsi_initiator=$I"
: >"$root/dev/disk/by-path/ip-[fd00::2]:3261-iscsi-$T-lun-1"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a fd00::2 -p 3261 -u alice -w Sup3r@SecretOut -c $CONF
wait_for_udev 10
EOF
expect_file /conf/param.conf "ROOT='/dev/disk/by-path/ip-[fd00::2]:3261-iscsi-$T-lun-1'"
expect_not_printed Sup3r@SecretOut

new_root "root=iscsi: with a user name but no secret"
cmdline "root=iscsi:alice@10.0.2.2::3261:1:$T iscsi_initiator=$I"
run_top IP=
expect_rc 0
expect_calls </dev/null
expect_printed "credentials are USER:PASSWORD"

new_root "root=iscsi: a disk with a file system and a partition link is the root itself"
cmdline "root=iscsi:10.0.2.2::3261:1:$T iscsi_initiator=$I"
: >"$root$BYPATH"
: >"$root$BYPATH-part1"
printf 'DEVNAME=/dev/sda\nID_FS_TYPE=ext4\nID_PART_TABLE_TYPE=dos\n' >"$root/stub/udev-props"
run_top IP=
expect_rc 0
expect_file /conf/param.conf "ROOT='$BYPATH'"

new_root "root=iscsi: whose LUN never appears"
cmdline "root=iscsi:10.0.2.2::3261:1:$T iscsi_initiator=$I iscsi_timeout=2"
run_top IP=
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -c $CONF
wait_for_udev 10
sleep 1
wait_for_udev 1
sleep 1
wait_for_udev 1
panic kiscsi: LUN 1 of $T did not appear in /dev/disk/by-path
EOF
expect_no_file /conf/param.conf

new_root "a failed login is retried: after 0.2 s, then every second"
cmdline "iscsi_initiator=$I iscsi_target_name=$T iscsi_target_ip=10.0.2.2"
printf '4\n8\n0\n' >"$root/stub/kiscsistart.rc"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3260 -c $CONF
sleep 0.2
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3260 -c $CONF
sleep 1
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3260 -c $CONF
wait_for_udev 10
EOF

new_root "retries end after iscsi_timeout; root=iscsi: then panics"
cmdline "root=iscsi:10.0.2.2::3261:1:$T iscsi_initiator=$I iscsi_timeout=3"
echo 4 >"$root/stub/kiscsistart.rc"
run_top IP=
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -c $CONF
sleep 0.2
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -c $CONF
sleep 1
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -c $CONF
sleep 1
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -c $CONF
wait_for_udev 10
panic kiscsi: could not log in to the iSCSI root disk ($T)
EOF
expect_no_file /conf/param.conf

new_root "exit 15 (the session exists) is success"
cmdline "root=iscsi:10.0.2.2::3261:1:$T iscsi_initiator=$I"
echo 15 >"$root/stub/kiscsistart.rc"
: >"$root$BYPATH"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -c $CONF
wait_for_udev 10
EOF
expect_file /conf/param.conf "ROOT='$BYPATH'"

new_root "several target addresses: each is logged in to; an invalid one (7) is not retried"
cat >"$root/etc/iscsi/iscsi.initramfs" <<EOF
ISCSI_INITIATOR=$I
ISCSI_TARGET_NAME=$T
ISCSI_TARGET_IP="10.0.2.2 10.0.2.3"
ISCSI_TARGET_PORT=3261
ISCSI_USERNAME=alice
ISCSI_PASSWORD=Sup3rSecretOut
EOF
printf '7\n0\n' >"$root/stub/kiscsistart.rc"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3261 -u alice -w Sup3rSecretOut -c $CONF
kiscsistart -i $I -t $T -g 1 -a 10.0.2.3 -p 3261 -u alice -w Sup3rSecretOut -c $CONF
wait_for_udev 10
EOF
expect_printed "could not log in to $T at 10.0.2.2 (7)"
expect_not_printed Sup3rSecretOut

new_root "several target addresses on the command line, separated by commas"
cmdline "iscsi_initiator=$I iscsi_target_name=$T iscsi_target_ip=10.0.2.2,10.0.2.3"
run_top IP=
expect_calls <<EOF
modprobe iscsi_tcp
configure_networking IP=
kiscsistart -i $I -t $T -g 1 -a 10.0.2.2 -p 3260 -c $CONF
kiscsistart -i $I -t $T -g 1 -a 10.0.2.3 -p 3260 -c $CONF
wait_for_udev 10
EOF

# A fake iBFT: NIC 0 (virtio-net: its interface one level below the PCI device) boot selected.
make_ibft() {
  local e=$root/sys/firmware/ibft/ethernet0
  mkdir -p "$e/device/virtio0/net/ens3" "$root/sys/firmware/ibft/target0"
  echo 3 >"$e/flags"
  echo 0 >"$e/index"
  echo 52:54:00:12:34:56 >"$e/mac"
  echo 10.0.2.15 >"$e/ip-addr"
  printf 255.255.255.0 >"$e/subnet-mask" # no newline, as the kernel prints it
  echo 1 >"$e/origin"
  echo 10.0.2.2 >"$e/gateway"
  echo 10.0.2.3 >"$e/primary-dns"
  echo ibftguest >"$e/hostname"
}
ibft_net_conf="DEVICE='ens3'
PROTO='none'
IPV4ADDR='10.0.2.15'
IPV4BROADCAST='10.0.2.255'
IPV4NETMASK='255.255.255.0'
IPV4GATEWAY='10.0.2.2'
IPV4DNS0='10.0.2.3'
IPV4DNS1='0.0.0.0'
HOSTNAME='ibftguest'
DNSDOMAIN=''
NISDOMAIN=''
ROOTSERVER='0.0.0.0'
ROOTPATH=''
filename=''
UPTIME=''
DHCPLEASETIME='0'
DOMAINSEARCH=''"

new_root "ISCSI_AUTO=true in the file (iBFT)"
echo ISCSI_AUTO=true >"$root/etc/iscsi/iscsi.initramfs"
make_ibft
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
modprobe iscsi_ibft
wait_for_udev 10
kiscsistart -N
kiscsistart -b -c $CONF
wait_for_udev 10
EOF
expect_file /run/initramfs/kiscsi.interface ens3
expect_file /run/net-ens3.conf "$ibft_net_conf"

new_root "iscsi_auto on the command line; the interface found by MAC; retries of -N and -b"
cmdline "iscsi_auto ro"
make_ibft
rm -r "$root/sys/firmware/ibft/ethernet0/device"
mkdir -p "$root/sys/class/net/lo" "$root/sys/class/net/eth7"
echo 00:00:00:00:00:00 >"$root/sys/class/net/lo/address"
echo 52:54:00:12:34:56 >"$root/sys/class/net/eth7/address"
printf '22\n0\n4\n15\n' >"$root/stub/kiscsistart.rc"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
modprobe iscsi_ibft
wait_for_udev 10
kiscsistart -N
sleep 0.2
kiscsistart -N
kiscsistart -b -c $CONF
sleep 0.2
kiscsistart -b -c $CONF
wait_for_udev 10
EOF
expect_file /run/initramfs/kiscsi.interface eth7
[[ -f $root/run/net-eth7.conf ]] || fail "$case_name: /run/net-eth7.conf missing"

new_root "iscsi_auto without an iBFT"
cmdline "iscsi_auto"
run_top IP=
expect_rc 0
expect_calls <<EOF
modprobe iscsi_tcp
modprobe iscsi_ibft
wait_for_udev 10
EOF
expect_printed "no iSCSI boot table"
expect_no_file /run/initramfs/kiscsi.interface

new_root "quiet: kiscsistart's lines go to /run/initramfs/kiscsi.log"
cmdline "iscsi_initiator=$I iscsi_target_name=$T iscsi_target_ip=10.0.2.2 quiet"
run_top IP= quiet=y
expect_rc 0
expect_not_printed "kiscsistart (stub)"
grep -q "kiscsistart (stub): exit 0" "$root/run/initramfs/kiscsi.log" 2>/dev/null ||
  fail "$case_name: kiscsi.log does not have kiscsistart's output"

# --- 5. local-bottom ----------------------------------------------------------------------------
new_root "local-bottom without an iSCSI disk"
echo ens3 >"$root/run/initramfs/kiscsi.interface"
run_script /scripts/local-bottom/kiscsi
expect_rc 0
expect_no_file /run/initramfs/kiscsi.interface

new_root "local-bottom with an iSCSI disk"
echo ens3 >"$root/run/initramfs/kiscsi.interface"
: >"$root$BYPATH"
run_script /scripts/local-bottom/kiscsi
expect_rc 0
expect_file /run/initramfs/kiscsi.interface ens3

if (( failures )); then
  echo "$failures failure(s)"
  exit 1
fi
echo "initramfs-tools: all $n cases passed"

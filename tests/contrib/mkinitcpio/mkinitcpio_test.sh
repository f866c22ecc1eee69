#!/bin/bash
# Tests of the mkinitcpio integration (contrib/initramfs/mkinitcpio), without mkinitcpio (not in
# Debian) and without booting anything:
#   - shellcheck of every script (sh for the runtime hook and kiscsi-login, bash for the build
#     hooks), bash -n / busybox ash -n;
#   - build() of install/kiscsi and install/sd-kiscsi with recording stubs of mkinitcpio's add_*
#     functions, compared with golden lists (build-kiscsi.golden, build-sd-kiscsi.golden);
#   - run_hook of hooks/kiscsi and kiscsi-login alone (as kiscsi-initrd.service runs it) under
#     busybox ash, with kiscsistart a recording stub and sleep/modprobe/udevadm recording
#     functions (busybox ash would run its own sleep applet instead of a program in PATH).
# The .in files are configured with sed into a scratch prefix laid out as an install would lay it
# out; given the build tree as $2, the test also installs with the generated cmake_install.cmake
# and checks that both give the same files. It writes only below a temporary directory.
#
# Usage: mkinitcpio_test.sh SOURCE_DIR [BUILD_DIR]   (CMAKE: the cmake to install with)
set -u

src=${1:?usage: mkinitcpio_test.sh SOURCE_DIR [BUILD_DIR]}
build_dir=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$src/contrib/initramfs/mkinitcpio
busybox=${BUSYBOX:-/bin/busybox}

cmake=${CMAKE:-cmake}
for tool in shellcheck "$busybox"; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool is needed (scripts/setup.sh installs shellcheck and busybox-static)"
    exit 1
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

# --- configuring --------------------------------------------------------------------------------

prefix=$tmp/prefix
initcpio=$prefix/lib/initcpio
login=$initcpio/kiscsi/kiscsi-login

configure() { # SOURCE DESTINATION MODE
  mkdir -p "$(dirname "$2")"
  sed -e "s|@KISCSI_SBINDIR@|$prefix/sbin|g" \
    -e "s|@KISCSI_UDEV_RULE@|$prefix/lib/udev/rules.d/65-kiscsi-udev.rules|g" \
    -e "s|@KISCSI_LOGIN@|$login|g" \
    -e "s|@KISCSI_INITCPIO_DIR@|$initcpio|g" "$1" >"$2"
  chmod "$3" "$2"
}
configure "$dir/install/kiscsi.in" "$initcpio/install/kiscsi" 644
configure "$dir/install/sd-kiscsi.in" "$initcpio/install/sd-kiscsi" 644
configure "$dir/hooks/kiscsi.in" "$initcpio/hooks/kiscsi" 644
configure "$dir/kiscsi-login.in" "$login" 755
configure "$dir/kiscsi-initrd.service.in" "$initcpio/kiscsi/kiscsi-initrd.service" 644

if left=$(grep -rn '@[A-Z_]*@' "$initcpio"); then
  fail "placeholders the test does not fill in: $left"
fi

# Install through CMake's generated script, when the build tree has it, and compare.
install_script=$build_dir/contrib/initramfs/mkinitcpio/cmake_install.cmake
if [ -n "$build_dir" ] && grep -q kiscsi-login "$install_script" 2>/dev/null; then
  if ! out=$(DESTDIR=$tmp/destdir "$cmake" -DCMAKE_INSTALL_PREFIX="$prefix" -P "$install_script" 2>&1); then
    fail "cmake install of contrib/initramfs/mkinitcpio: $out"
  elif ! diff_out=$(diff -r "$initcpio" "$tmp/destdir$initcpio" 2>&1); then
    fail "the install differs from the test's configuring: $diff_out"
  else
    modes=$(cd "$tmp/destdir$initcpio" && find . -type f -printf '%m %p\n' | sort)
    want='644 ./hooks/kiscsi
644 ./install/kiscsi
644 ./install/sd-kiscsi
644 ./kiscsi/kiscsi-initrd.service
755 ./kiscsi/kiscsi-login'
    if [ "$modes" = "$want" ]; then
      ok "cmake install: same files, modes 0644/0755"
    else
      fail "installed modes: $modes"
    fi
  fi
else
  echo "skip: install comparison (no BUILD_DIR with the generated install script)"
fi

# --- syntax and shellcheck ----------------------------------------------------------------------

for f in "$initcpio/hooks/kiscsi" "$login"; do
  name=${f#"$initcpio"/}
  if out=$(shellcheck -s sh "$f" 2>&1) && out2=$("$busybox" ash -n "$f" 2>&1); then
    ok "shellcheck -s sh, ash -n: $name"
  else
    fail "shellcheck/ash -n $name: $out ${out2:-}"
  fi
done
for f in "$initcpio/install/kiscsi" "$initcpio/install/sd-kiscsi"; do
  name=${f#"$initcpio"/}
  if out=$(shellcheck -s bash "$f" 2>&1) && out2=$(bash -n "$f" 2>&1); then
    ok "shellcheck -s bash, bash -n: $name"
  else
    fail "shellcheck/bash -n $name: $out ${out2:-}"
  fi
done

# --- build() ------------------------------------------------------------------------------------

# The host configuration build() picks up (KISCSI_SYSCONFDIR).
mkdir -p "$tmp/hostconf/full" "$tmp/hostconf/empty"
for f in initiatorname.iscsi iscsid.conf iscsi.initramfs; do : >"$tmp/hostconf/full/$f"; done

# shellcheck disable=SC2016 # expanded by the bash that runs build()
stubs='
for fn in add_module add_checked_modules add_all_modules add_binary add_file add_dir \
  add_full_dir add_symlink add_runscript add_udev_rule add_systemd_unit add_firmware map; do
  eval "$fn() { echo \"$fn\${*:+ \$*}\"; }"
done
warning() { local fmt=$1; shift; printf "warning $fmt\n" "$@"; }
'
run_build() { # HOOK CONFDIR
  KISCSI_SYSCONFDIR=$2 bash -c "$stubs"'
set -e
. "$1"
build' build "$1" 2>&1 | sed "s|$tmp|@TMP@|g"
}

for hook in kiscsi sd-kiscsi; do
  actual=$(run_build "$initcpio/install/$hook" "$tmp/hostconf/full")
  if diff_out=$(diff -u "$here/build-$hook.golden" <(printf '%s\n' "$actual")); then
    ok "build() of $hook: the recorded calls match build-$hook.golden"
  else
    fail "build() of $hook differs from build-$hook.golden:
$diff_out"
  fi
done

actual=$(run_build "$initcpio/install/kiscsi" "$tmp/hostconf/empty")
if grep -q '^warning kiscsi: .*/initiatorname.iscsi not found' <<<"$actual" &&
  grep -q '^warning kiscsi: .*/iscsid.conf not found' <<<"$actual" &&
  ! grep -q '^add_file .*/etc/iscsi/' <<<"$actual"; then
  ok "build() without host configuration: warns for the initiator name and iscsid.conf, adds none"
else
  fail "build() without host configuration:
$actual"
fi

for hook in kiscsi sd-kiscsi; do
  text=$(bash -c '. "$1"; help' help "$initcpio/install/$hook" 2>&1)
  case $hook:$text in
    kiscsi:*"HOOKS=("*kiscsi*"x-systemd.requires=kiscsid.service"*) ok "help() of $hook" ;;
    sd-kiscsi:*"HOOKS=("*sd-kiscsi*) ok "help() of $hook" ;;
    *) fail "help() of $hook: $text" ;;
  esac
done

# --- run_hook and kiscsi-login --------------------------------------------------------------------

# kiscsistart: records its arguments (one "|"-separated line), prints what a login prints and
# exits with the next status of $tmp/rc (one a line; 0 when empty, $tmp/rc.default if present).
mkdir -p "$prefix/sbin"
cat >"$prefix/sbin/kiscsistart" <<EOF
#!/bin/sh
{ printf 'kiscsistart'; printf '|%s' "\$@"; echo; } >>"$tmp/calls"
rc=\$(head -n 1 "$tmp/rc" 2>/dev/null)
sed -i 1d "$tmp/rc" 2>/dev/null
[ -n "\$rc" ] || rc=\$(cat "$tmp/rc.default" 2>/dev/null)
echo "kiscsistart: Logging into a target"
exit "\${rc:-0}"
EOF
chmod 755 "$prefix/sbin/kiscsistart"

# kiscsi-login as installed, run by busybox ash with recording sleep/modprobe/udevadm.
cp "$login" "$tmp/kiscsi-login.real"
cat >"$login" <<EOF
#!$busybox ash
sleep() { { printf 'sleep'; printf '|%s' "\$@"; echo; } >>"$tmp/calls"; }
modprobe() { { printf 'modprobe'; printf '|%s' "\$@"; echo; } >>"$tmp/calls"; }
udevadm() { { printf 'udevadm'; printf '|%s' "\$@"; echo; } >>"$tmp/calls"; }
. "$tmp/kiscsi-login.real"
EOF
chmod 755 "$login"

conf=$tmp/etc/iscsi
# A fresh scenario: /etc/iscsi with iscsid.conf and the initiator name, an empty sysfs.
reset() {
  rm -rf "${tmp:?}/etc" "$tmp/sys" "$tmp/calls" "$tmp/rc" "$tmp/rc.default" "$tmp/out"
  mkdir -p "$conf" "$tmp/sys"
  echo 'node.session.timeo.replacement_timeout = 86400' >"$conf/iscsid.conf"
  printf '## generated\nInitiatorName=iqn.2026-12.test:host\n' >"$conf/initiatorname.iscsi"
  : >"$tmp/calls"
}

# run_hook with the given NAME=VALUE shell variables, as mkinitcpio's init sets them from the
# kernel command line. Output in $tmp/out, exit status in $status. XTRACE=1: with set -x.
run_hook() {
  # shellcheck disable=SC2016 # expanded by busybox ash
  KISCSI_SYSCONFDIR=$conf KISCSI_SYSFS=$tmp/sys XTRACE=${XTRACE:-} "$busybox" ash -c '
    hook=$1
    shift
    for assignment in "$@"; do eval "${assignment%%=*}=\${assignment#*=}"; done
    [ -n "$XTRACE" ] && set -x
    . "$hook"
    run_hook' run_hook "$initcpio/hooks/kiscsi" "$@" >"$tmp/out" 2>&1
  status=$?
}

# kiscsi-login as kiscsi-initrd.service runs it: no arguments, the command line from a file.
run_unit() { # CMDLINE
  printf '%s\n' "$1" >"$tmp/cmdline"
  KISCSI_SYSCONFDIR=$conf KISCSI_SYSFS=$tmp/sys KISCSI_CMDLINE=$tmp/cmdline "$login" \
    >"$tmp/out" 2>&1
  status=$?
}

calls() { sed "s|$tmp|@TMP@|g" "$tmp/calls"; }

expect() { # NAME STATUS EXPECTED-CALLS
  local got
  got=$(calls)
  if [ "$status" = "$2" ] && [ "$got" = "$3" ]; then
    ok "$1"
  else
    fail "$1: status $status (want $2); calls:
$got
want:
$3
output:
$(cat "$tmp/out")"
  fi
}

expect_output() { # NAME PATTERN
  if grep -q -- "$2" "$tmp/out"; then ok "$1"; else fail "$1: no '$2' in: $(cat "$tmp/out")"; fi
}

settle='udevadm|settle|--timeout=30'
cfg='-c|@TMP@/etc/iscsi/iscsid.conf'

reset
run_hook kiscsi_initiator=iqn.2026-12.test:cmdline kiscsi_target=iqn.2026-12.test:root \
  kiscsi_portal=10.0.2.2:3261 kiscsi_tpgt=2
expect "kernel parameters kiscsi_*" 0 "modprobe|iscsi_tcp
kiscsistart|-i|iqn.2026-12.test:cmdline|-t|iqn.2026-12.test:root|-g|2|-a|10.0.2.2|-p|3261|$cfg
$settle"

reset
run_hook iscsi_target_name=iqn.2026-12.test:root iscsi_target_ip=10.0.2.3 iscsi_target_port=3262 \
  iscsi_target_group=3
expect "Debian's kernel parameters iscsi_*, initiator from initiatorname.iscsi" 0 "modprobe|iscsi_tcp
kiscsistart|-i|iqn.2026-12.test:host|-t|iqn.2026-12.test:root|-g|3|-a|10.0.2.3|-p|3262|$cfg
$settle"

reset
cat >"$conf/iscsi.initramfs" <<'EOF'
ISCSI_INITIATOR=iqn.2026-12.test:file
ISCSI_TARGET_NAME=iqn.2026-12.test:file-root
ISCSI_TARGET_IP=192.0.2.1
EOF
run_hook
expect "settings from iscsi.initramfs (port 3260, tpgt 1 by default)" 0 "modprobe|iscsi_tcp
kiscsistart|-i|iqn.2026-12.test:file|-t|iqn.2026-12.test:file-root|-g|1|-a|192.0.2.1|-p|3260|$cfg
$settle"

reset
printf 'ISCSI_TARGET_NAME=t\nISCSI_TARGET_IP="192.0.2.1 192.0.2.2"\n' >"$conf/iscsi.initramfs"
printf '24\n0\n' >"$tmp/rc"
run_hook
expect "ISCSI_TARGET_IP with two portals: a login to each, one is enough" 0 "modprobe|iscsi_tcp
kiscsistart|-i|iqn.2026-12.test:host|-t|t|-g|1|-a|192.0.2.1|-p|3260|$cfg
kiscsistart|-i|iqn.2026-12.test:host|-t|t|-g|1|-a|192.0.2.2|-p|3260|$cfg
$settle"

reset
cat >"$conf/iscsi.initramfs" <<'EOF'
ISCSI_INITIATOR=iqn.2026-12.test:file
ISCSI_TARGET_NAME=iqn.2026-12.test:file-root
ISCSI_TARGET_IP=192.0.2.1
ISCSI_TARGET_PORT=3000
ISCSI_TARGET_GROUP=5
EOF
run_hook iscsi_target_name=iqn.2026-12.test:debian kiscsi_target=iqn.2026-12.test:kiscsi \
  iscsi_target_ip=192.0.2.2 kiscsi_portal='[fd00::1]:3263'
expect "the command line beats the file, kiscsi_* beats iscsi_*" 0 "modprobe|iscsi_tcp
kiscsistart|-i|iqn.2026-12.test:file|-t|iqn.2026-12.test:kiscsi|-g|5|-a|fd00::1|-p|3263|$cfg
$settle"

reset
cat >"$conf/iscsi.initramfs" <<'EOF'
ISCSI_TARGET_NAME=iqn.2026-12.test:root
ISCSI_TARGET_IP=192.0.2.1
ISCSI_USERNAME=fileuser
ISCSI_PASSWORD=FileSecret123
EOF
XTRACE=1 run_hook kiscsi_username=alice kiscsi_password=CmdSecret456 kiscsi_in_username=bob \
  kiscsi_in_password=InSecret789
expect "mutual CHAP from the command line" 0 "modprobe|iscsi_tcp
kiscsistart|-i|iqn.2026-12.test:host|-t|iqn.2026-12.test:root|-g|1|-a|192.0.2.1|-p|3260|-u|alice|-w|CmdSecret456|-U|bob|-W|InSecret789|$cfg
$settle"
if grep -qE 'Secret' "$tmp/out"; then
  fail "a CHAP secret was printed (under set -x): $(cat "$tmp/out")"
else
  ok "no CHAP secret in the output, even under set -x (rd.debug)"
fi
expect_output "the login message says mutual CHAP" 'with mutual CHAP'

reset
printf 'ISCSI_TARGET_NAME=t\nISCSI_TARGET_IP=192.0.2.1\nISCSI_USERNAME=u\nISCSI_PASSWORD=FileSecret123\n' \
  >"$conf/iscsi.initramfs"
run_hook
expect "CHAP from iscsi.initramfs" 0 "modprobe|iscsi_tcp
kiscsistart|-i|iqn.2026-12.test:host|-t|t|-g|1|-a|192.0.2.1|-p|3260|-u|u|-w|FileSecret123|$cfg
$settle"
if grep -q Secret "$tmp/out"; then
  fail "the file's CHAP secret was printed"
else
  ok "the file's secret is not printed"
fi

reset
run_hook kiscsi_target=t kiscsi_portal=192.0.2.1 kiscsi_username=u
expect "CHAP user without password: no login" 1 ""
expect_output "... with a clear message" 'CHAP needs both'

reset
run_hook iscsi_auto=y
expect "iBFT (iscsi_auto): -N then -b" 0 "modprobe|iscsi_tcp
modprobe|iscsi_ibft
kiscsistart|-N
kiscsistart|-b|$cfg
$settle"

reset
echo ISCSI_AUTO=true >"$conf/iscsi.initramfs"
run_hook
expect "iBFT (ISCSI_AUTO=true in iscsi.initramfs)" 0 "modprobe|iscsi_tcp
modprobe|iscsi_ibft
kiscsistart|-N
kiscsistart|-b|$cfg
$settle"

reset
mkdir -p "$tmp/sys/firmware/ibft/target0"
run_hook
expect "iBFT found without settings" 0 "modprobe|iscsi_ibft
modprobe|iscsi_tcp
modprobe|iscsi_ibft
kiscsistart|-N
kiscsistart|-b|$cfg
$settle"

reset
printf '4\n4\n0\n0\n' >"$tmp/rc"
run_hook kiscsi_auto=y
expect "iBFT: -N retried until the network is up, then -b" 0 "modprobe|iscsi_tcp
modprobe|iscsi_ibft
kiscsistart|-N
sleep|0.2
kiscsistart|-N
sleep|1
kiscsistart|-N
kiscsistart|-b|$cfg
$settle"

login_call="kiscsistart|-i|iqn.2026-12.test:host|-t|t|-g|1|-a|192.0.2.1|-p|3260|$cfg"

reset
printf '4\n0\n' >"$tmp/rc"
run_hook kiscsi_target=t kiscsi_portal=192.0.2.1
expect "a failure, then success: retried after 0.2 s" 0 "modprobe|iscsi_tcp
$login_call
sleep|0.2
$login_call
$settle"

reset
printf '15\n' >"$tmp/rc"
run_hook kiscsi_target=t kiscsi_portal=192.0.2.1
expect "exit 15 (session exists) counts as logged in" 0 "modprobe|iscsi_tcp
$login_call
$settle"
expect_output "... and says so" 'exists already'

reset
printf '24\n' >"$tmp/rc"
run_hook kiscsi_target=t kiscsi_portal=192.0.2.1
expect "exit 24 (authentication failed) is not retried" 24 "modprobe|iscsi_tcp
$login_call"

reset
echo 8 >"$tmp/rc.default"
run_hook kiscsi_target=t kiscsi_portal=192.0.2.1 kiscsi_timeout=2
expect "retries end after kiscsi_timeout=2 (0.2 s, then 1 s pauses)" 8 "modprobe|iscsi_tcp
$login_call
sleep|0.2
$login_call
sleep|1
$login_call
sleep|1
$login_call"
expect_output "... with a message" 'giving up after 2 s'

reset
run_hook
expect "no settings and no iBFT: no login" 0 "modprobe|iscsi_ibft"
expect_output "... with a clear message" 'no iSCSI root configured'

reset
run_hook kiscsi_target=t
expect "a target without a portal: no login" 1 ""
expect_output "... with a clear message" 'incomplete iSCSI root settings'

reset
rm "$conf/initiatorname.iscsi"
run_hook kiscsi_target=t kiscsi_portal=192.0.2.1
expect "no initiator name: no login" 1 ""
expect_output "... with a clear message" 'no initiator name'

reset
run_unit 'root=UUID=1234 rw quiet kiscsi_target=iqn.2026-12.test:unit kiscsi_portal=192.0.2.9:3264 iscsi_target_group=7 kiscsi_password="UnitSecret" kiscsi_username=u'
expect "kiscsi-login alone (kiscsi-initrd.service) reads the kernel command line" 0 "modprobe|iscsi_tcp
kiscsistart|-i|iqn.2026-12.test:host|-t|iqn.2026-12.test:unit|-g|7|-a|192.0.2.9|-p|3264|-u|u|-w|UnitSecret|$cfg
$settle"
if grep -q Secret "$tmp/out"; then
  fail "kiscsi-login printed the secret"
else
  ok "kiscsi-login alone prints no secret"
fi

reset
run_unit 'root=UUID=1234 kiscsi_auto'
expect "kiscsi-login alone: the flag kiscsi_auto (no value) on the command line means iBFT" 0 \
  "modprobe|iscsi_tcp
modprobe|iscsi_ibft
kiscsistart|-N
kiscsistart|-b|$cfg
$settle"

reset
run_unit 'root=UUID=1234 iscsi_auto=0 kiscsi_target=t kiscsi_portal=192.0.2.1'
expect "kiscsi-login alone: iscsi_auto=0 is no iBFT" 0 "modprobe|iscsi_tcp
$login_call
$settle"

# The runtime hook must hand on every parameter kiscsi-login reads, and nothing else.
accepted=$(grep -oE '^ +(debian|kiscsi):[a-z_]+\)' "$dir/kiscsi-login.in" | sed -E 's/^ +[a-z]+://; s/\)$//' | sort)
passed=$(sed -n '/for _kiscsi_name in/,/; do/p' "$dir/hooks/kiscsi.in" | tr -s ' \134' '\n' |
  grep -E '^k?iscsi_[a-z_]+;?$' | tr -d ';' | sort)
if [ -n "$accepted" ] && [ "$accepted" = "$passed" ]; then
  ok "the runtime hook passes on exactly the parameters kiscsi-login reads"
else
  fail "parameters read by kiscsi-login vs passed by the hook:
$(diff <(echo "$accepted") <(echo "$passed"))"
fi

unit=$initcpio/kiscsi/kiscsi-initrd.service
if grep -qx "ExecStart=$login" "$unit" &&
  grep -q '^Before=.*initrd-root-device.target' "$unit" &&
  grep -q '^Before=.*sysroot.mount' "$unit" &&
  grep -q '^After=.*network-online.target' "$unit" &&
  grep -qx 'DefaultDependencies=no' "$unit"; then
  ok "kiscsi-initrd.service: runs kiscsi-login before the root device and sysroot.mount"
else
  fail "kiscsi-initrd.service: $(cat "$unit")"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"

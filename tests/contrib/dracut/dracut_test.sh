#!/bin/bash
# shellcheck disable=SC2016  # (file-wide) the stubs and ash snippets expand their own variables
# Tests of kiscsi's dracut module (contrib/initramfs/dracut): shellcheck on every script; the
# boot scripts under busybox ash with a fake dracut-lib.sh (fake-dracut-lib.sh) reading a fake
# /proc/cmdline and stub kiscsistart/modprobe/ip/sleep that record their arguments; the
# generator's mount unit; module-setup.sh's check/install/installkernel against recorded calls
# (install.golden). Usage: dracut_test.sh SOURCE_DIR. Exits non-zero on any failed check.
set -u

src=${1:?usage: dracut_test.sh SOURCE_DIR}
mod=$src/contrib/initramfs/dracut
here=$src/tests/contrib/dracut
busybox=${BUSYBOX:-/bin/busybox}
work=$(mktemp -d /tmp/kiscsi-dracut-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

failures=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
# expect NAME EXPECTED ACTUAL
expect() {
    checks=$((checks + 1))
    if [ "$2" != "$3" ]; then
        fail "$1"
        diff -u <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /' >&2
    fi
}
expect_true() {
    checks=$((checks + 1))
    "${@:2}" || fail "$1"
}

[ -x "$busybox" ] || { echo "no $busybox (apt-get install busybox-static)" >&2; exit 1; }
command -v shellcheck > /dev/null || { echo "no shellcheck" >&2; exit 1; }

stubs=$work/stubs
libdir=$work/lib
mkdir -p "$stubs" "$libdir"

# The module's configured files as `cmake --install` makes them, pointing at the stubs.
sed -e "s|@KISCSI_SBINDIR@|$stubs|g" -e "s|@KISCSI_INSTALL_CONFDIR@|/etc/iscsi|g" \
    "$mod/kiscsi-lib.sh.in" > "$libdir/kiscsi-lib.sh"
sed -e "s|@KISCSI_SBINDIR@|/usr/sbin|g" -e "s|@KISCSI_INSTALL_CONFDIR@|/etc/iscsi|g" \
    -e "s|@KISCSI_UDEV_RULES_FULLDIR@|/usr/lib/udev/rules.d|g" \
    -e "s|@KISCSI_DOCDIR@|/usr/share/doc/kiscsi|g" \
    "$mod/module-setup.sh.in" > "$work/module-setup.sh"
cp "$here/fake-dracut-lib.sh" "$libdir/dracut-lib.sh"

# --- shellcheck --------------------------------------------------------------------------------
for f in "$libdir/kiscsi-lib.sh" "$mod/parse-kiscsiroot.sh" "$mod/kiscsiroot.sh" \
    "$mod/kiscsi-firmware.sh" "$mod/kiscsi-generator.sh" "$here/fake-dracut-lib.sh"; do
    checks=$((checks + 1))
    shellcheck -x -s sh "$f" || fail "shellcheck $f"
done
checks=$((checks + 1))
shellcheck -s bash "$work/module-setup.sh" "$0" || fail "shellcheck module-setup.sh / this test"
checks=$((checks + 1))
if grep -l '@[A-Z_]*@' "$libdir/kiscsi-lib.sh" "$work/module-setup.sh"; then
    fail "a @VARIABLE@ is left unconfigured"
fi

# --- stubs -------------------------------------------------------------------------------------
# kiscsistart: records its arguments; its exit code comes from $work/rc.N for -N (default 0) and
# from the next line of $work/rc.login for everything else (default 0).
cat > "$stubs/kiscsistart" << 'EOF'
#!/bin/sh
echo "kiscsistart $*" >> "$KISCSI_TEST_CALLS"
case " $* " in
    *" -N "*) [ -f "$KISCSI_TEST_WORK/rc.N" ] && exit "$(cat "$KISCSI_TEST_WORK/rc.N")"; exit 0 ;;
esac
f=$KISCSI_TEST_WORK/rc.login
[ -s "$f" ] || exit 0
rc=$(head -n 1 "$f")
tail -n +2 "$f" > "$f.new" && mv "$f.new" "$f"
exit "$rc"
EOF
for p in modprobe sleep udevadm systemctl; do
    printf '#!/bin/sh\necho "%s $*" >> "$KISCSI_TEST_CALLS"\n' "$p" > "$stubs/$p"
done
cat > "$stubs/ip" << 'EOF'
#!/bin/sh
echo "ip $*" >> "$KISCSI_TEST_CALLS"
[ -f "$KISCSI_TEST_WORK/no-route" ] && exit 2
exit 0
EOF
printf '#!/bin/sh\necho iqn.2026-12.test.boot:generated\n' > "$stubs/kiscsi-iname"
chmod +x "$stubs"/*

# A working directory with files that a glob like [fd00::2] would match: URIs are not globs.
mkdir -p "$work/cwd" && touch "$work/cwd/iscsi:2::3262:2:iqn.2026-12.test.boot:second" && cd "$work/cwd" || exit 1

export KISCSI_DRACUT_LIBDIR=$libdir
export KISCSI_TEST_WORK=$work
export PATH="$stubs:$PATH"

# new_root CMDLINE: a fresh fake root and fresh records.
new_root() {
    R=$work/root
    rm -rf "$R" "$work"/rc.* "$work/no-route" "$work/calls" "$work/log"
    mkdir -p "$R/proc" "$R/etc/iscsi" "$R/hooks/initqueue/finished" "$R/sbin" "$R/run"
    printf '%s\n' "$1" > "$R/proc/cmdline"
    printf '# comment\nInitiatorName=iqn.2026-12.test.boot:image\n' > "$R/etc/iscsi/initiatorname.iscsi"
    echo "node.startup = manual" > "$R/etc/iscsi/iscsid.conf"
    cp "$mod/kiscsiroot.sh" "$R/sbin/iscsiroot"
    cp "$mod/kiscsi-firmware.sh" "$R/sbin/kiscsi-firmware"
    export KISCSI_ROOT=$R
    export KISCSI_TEST_CALLS=$work/calls KISCSI_TEST_LOG=$work/log
    : > "$KISCSI_TEST_CALLS"
    : > "$KISCSI_TEST_LOG"
}
# cmdline_hook: sources the cmdline hook as dracut does (root= already read) and prints the
# variables dracut reads afterwards.
cmdline_hook() {
    "$busybox" ash -c '
        . "$KISCSI_DRACUT_LIBDIR/dracut-lib.sh"
        root=$(getarg root=)
        netroot=
        . "$1"
        echo "root=$root rootok=${rootok-} netroot=$netroot"
    ' hook "$mod/parse-kiscsiroot.sh"
}
run() { "$busybox" ash "$@"; }
calls() { cat "$KISCSI_TEST_CALLS"; }
clear_calls() { : > "$KISCSI_TEST_CALLS"; }
finished() { "$busybox" ash "$R/hooks/initqueue/finished/kiscsi.sh"; }
no_secret() {
    checks=$((checks + 1))
    if grep -r -e "$1" "$KISCSI_TEST_LOG" "$work/out" "$R/run" "$R/hooks" "$R/etc/udev" 2> /dev/null; then
        fail "$2: the secret '$1' shows up"
    fi
}
iq=iqn.2026-12.test.boot:root
conf="-c $work/root/etc/iscsi/iscsid.conf"

# --- root=iscsi: without CHAP ------------------------------------------------------------------
new_root "root=iscsi:10.0.2.2::3261:1:$iq ip=dhcp"
expect "root=iscsi: hook variables" \
    "root=block:/dev/root rootok=1 netroot=iscsi:10.0.2.2::3261:1:$iq" "$(cmdline_hook)"
expect "root=iscsi: hook calls" "modprobe -q iscsi_tcp
initqueue --settled --unique --name kiscsi-netroot $R/sbin/iscsiroot --settled
initqueue --onetime --timeout --unique --name kiscsi-netroot-timeout $R/sbin/iscsiroot --timeout
wait_for_dev /dev/root" "$(calls)"
expect "root=iscsi: udev rule" \
    "ACTION!=\"remove\", SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"disk\", ENV{ID_PATH}==\"*-iscsi-$iq-lun-1\", SYMLINK+=\"root\"" \
    "$(cat "$R/etc/udev/rules.d/99-kiscsi-root.rules")"
checks=$((checks + 1))
finished && fail "finished hook true before any login"
clear_calls
netroot="iscsi:10.0.2.2::3261:1:$iq"
run "$R/sbin/iscsiroot" eth0 "$netroot" /sysroot > "$work/out" 2>&1
expect "root=iscsi: login" "ip route get 10.0.2.2
kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 1 -a 10.0.2.2 -p 3261 -P node.session.initial_login_retry_max=3 $conf" "$(calls)"
expect_true "finished hook true after the login" finished
expect_true "initqueue told to run again" test -e "$R/hooks/initqueue/work"
clear_calls
run "$R/sbin/iscsiroot" --settled > "$work/out" 2>&1
expect "no second login for a logged-in target" "" "$(calls)"

# --- root=iscsi: default port, no LUN, generator ---------------------------------------------
new_root "root=iscsi:192.0.2.1::::$iq rootfstype=ext4 rw"
cmdline_hook > /dev/null
expect "no LUN: any LUN of the target" \
    "ACTION!=\"remove\", SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"disk\", ENV{ID_PATH}==\"*-iscsi-$iq-lun-*\", SYMLINK+=\"root\"" \
    "$(cat "$R/etc/udev/rules.d/99-kiscsi-root.rules")"
clear_calls
run "$R/sbin/iscsiroot" --settled > "$work/out" 2>&1
expect "default port 3260" "ip route get 192.0.2.1
kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 1 -a 192.0.2.1 -p 3260 -P node.session.initial_login_retry_max=3 $conf" "$(calls)"
mkdir -p "$work/gen"
run "$mod/kiscsi-generator.sh" "$work/gen" "$work/gen.early" "$work/gen.late"
expect "generator: sysroot.mount" "# Made by kiscsi's dracut module (kiscsi-generator) for an iSCSI root on a whole LUN
[Unit]
Before=initrd-root-fs.target
[Mount]
What=/dev/root
Where=/sysroot
Type=ext4
Options=rw" "$(cat "$work/gen/sysroot.mount")"
expect "generator: required by initrd-root-fs.target" "../sysroot.mount" \
    "$(readlink "$work/gen/initrd-root-fs.target.requires/sysroot.mount")"
expect "generator: /dev/root wanted, no job timeout" "../dev-root.device
[Unit]
JobTimeoutSec=0
JobRunningTimeoutSec=0" "$(readlink "$work/gen/initrd.target.wants/dev-root.device"; cat "$work/gen/dev-root.device.d/kiscsi-timeout.conf")"

# --- root=iscsi: with CHAP and mutual CHAP, secrets never shown --------------------------------
new_root "root=iscsi:alice:S3cretA@10.0.2.2::3261:1:$iq ip=dhcp rd.iscsi.initiator=iqn.2026-12.test.boot:cmdline"
cmdline_hook 2> "$work/out" > /dev/null
clear_calls
run "$R/sbin/iscsiroot" eth0 "iscsi:alice:S3cretA@10.0.2.2::3261:1:$iq" /sysroot >> "$work/out" 2>&1
expect "CHAP login" "ip route get 10.0.2.2
kiscsistart -i iqn.2026-12.test.boot:cmdline -t $iq -g 1 -a 10.0.2.2 -p 3261 -u alice -w S3cretA -P node.session.initial_login_retry_max=3 $conf" "$(calls)"
no_secret S3cretA "CHAP"
new_root "root=iscsi:alice:S3cretA:bob:S3cretB@10.0.2.2::3261:1:$iq"
cmdline_hook 2> "$work/out" > /dev/null
echo 24 > "$work/rc.login"
clear_calls
run "$R/sbin/iscsiroot" --timeout >> "$work/out" 2>&1
expect "mutual CHAP login (timeout: no route check)" "kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 1 -a 10.0.2.2 -p 3261 -u alice -w S3cretA -U bob -W S3cretB -P node.session.initial_login_retry_max=3 $conf" "$(calls)"
expect "failed login reported" "info: kiscsi: logging in to $iq at 10.0.2.2:3261 as iqn.2026-12.test.boot:image (authentication: mutual CHAP)
warn: kiscsi: login to $iq at 10.0.2.2:3261 failed (kiscsistart exit code 24); not trying again" "$(cat "$KISCSI_TEST_LOG")"
clear_calls
run "$R/sbin/iscsiroot" --settled >> "$work/out" 2>&1
expect "refused CHAP: not tried again" "" "$(calls)"
checks=$((checks + 1))
finished && fail "finished hook true after a failed login"
no_secret S3cretA "mutual CHAP"
no_secret S3cretB "mutual CHAP"
new_root "root=iscsi:alice:S3cretA@10.0.2.2::3261:x1:$iq"
checks=$((checks + 1))
cmdline_hook 2> "$work/out" > /dev/null && fail "a bad LUN must stop the boot (die)"
expect "bad URI message without credentials" "warn: kiscsi: iscsi:<credentials>@10.0.2.2::3261:x1:$iq: LUN 'x1' is not a decimal number
die: kiscsi: cannot use iscsi:<credentials>@10.0.2.2::3261:x1:$iq" "$(cat "$KISCSI_TEST_LOG")"
no_secret S3cretA "bad URI"

# --- netroot= twice with root=UUID=, rd.iscsi.username/password, rd.iscsi.target.group ---------
new_root "root=UUID=1234 netroot=iscsi:10.0.2.2::3261:1:$iq netroot=iscsi:[fd00::2]::3262:2:iqn.2026-12.test.boot:second rd.iscsi.username=carol rd.iscsi.password=S3cretC rd.iscsi.target.group=2 ip=dhcp"
expect "netroot twice: root untouched" \
    "root=UUID=1234 rootok= netroot=iscsi:10.0.2.2::3261:1:$iq" "$(cmdline_hook)"
checks=$((checks + 1))
[ -e "$R/etc/udev/rules.d/99-kiscsi-root.rules" ] && fail "no /dev/root rule with root=UUID="
expect "netroot twice: finished hook" \
    "[ -e '$R/run/kiscsi/$iq,10.0.2.2,3261.ok' ] && [ -e '$R/run/kiscsi/iqn.2026-12.test.boot:second,fd00::2,3262.ok' ]" \
    "$(cat "$R/hooks/initqueue/finished/kiscsi.sh")"
clear_calls
run "$R/sbin/iscsiroot" eth0 "iscsi:10.0.2.2::3261:1:$iq" /sysroot > "$work/out" 2>&1
expect "netroot twice: both logged in" "ip route get 10.0.2.2
kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 2 -a 10.0.2.2 -p 3261 -u carol -w S3cretC -P node.session.initial_login_retry_max=3 $conf
kiscsistart -i iqn.2026-12.test.boot:image -t iqn.2026-12.test.boot:second -g 2 -a fd00::2 -p 3262 -u carol -w S3cretC -P node.session.initial_login_retry_max=3 $conf" "$(calls)"
expect_true "netroot twice: finished" finished
no_secret S3cretC "rd.iscsi.password"

# --- root=iscsi: wins over netroot=iscsi: --------------------------------------------------------
new_root "root=iscsi:10.0.2.2::3261:1:$iq netroot=iscsi:10.0.2.9::3260:0:iqn.2026-12.test.boot:other"
expect "root= wins over netroot=" "root=block:/dev/root rootok=1 netroot=iscsi:10.0.2.2::3261:1:$iq" \
    "$(cmdline_hook)"
expect "root= wins over netroot=: warned" "warn: kiscsi: root=iscsi: is given, so netroot=iscsi: is ignored" \
    "$(cat "$KISCSI_TEST_LOG")"
clear_calls
run "$R/sbin/iscsiroot" --timeout > "$work/out" 2>&1
expect "root= wins over netroot=: one login" \
    "kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 1 -a 10.0.2.2 -p 3261 -P node.session.initial_login_retry_max=3 $conf" "$(calls)"

# --- no route yet: the settled job waits, the timeout job tries ---------------------------------
new_root "netroot=iscsi:10.0.2.2::3261:1:$iq"
expect "netroot without root=: /dev/root" \
    "root=block:/dev/root rootok=1 netroot=iscsi:10.0.2.2::3261:1:$iq" "$(cmdline_hook)"
touch "$work/no-route"
clear_calls
run "$R/sbin/iscsiroot" --settled > "$work/out" 2>&1
expect "no route: the settled job only looks" "ip route get 10.0.2.2" "$(calls)"
expect "no route: exit 0 (called again)" "0" "$(run "$R/sbin/iscsiroot" --settled > /dev/null 2>&1; echo $?)"
clear_calls
run "$R/sbin/iscsiroot" --timeout > "$work/out" 2>&1
expect "timeout job logs in without a route check" \
    "kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 1 -a 10.0.2.2 -p 3261 -P node.session.initial_login_retry_max=3 $conf" "$(calls)"

# --- a failure a retry may mend is retried --------------------------------------------------------
new_root "root=iscsi:10.0.2.2::3261:1:$iq"
cmdline_hook > /dev/null
echo 4 > "$work/rc.login"
run "$R/sbin/iscsiroot" --settled > "$work/out" 2>&1
expect "netroot: connection failure is a failure" "1" "$?"
clear_calls
run "$R/sbin/iscsiroot" --settled > "$work/out" 2>&1
expect "netroot: retried on the next round" "ip route get 10.0.2.2
kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 1 -a 10.0.2.2 -p 3261 -P node.session.initial_login_retry_max=3 $conf" "$(calls)"
expect_true "netroot: logged in on the retry" finished

# --- exit code 15 (session exists) is a success ------------------------------------------------
new_root "root=iscsi:10.0.2.2::3261:1:$iq"
cmdline_hook > /dev/null
echo 15 > "$work/rc.login"
run "$R/sbin/iscsiroot" --settled > "$work/out" 2>&1
expect "netroot: exit 15 is logged in" "0" "$?"
expect_true "netroot: exit 15 satisfies the finished hook" finished

# --- rd.iscsi.param and rd.iscsi.login_retry_max -----------------------------------------------
new_root "root=iscsi:10.0.2.2::3261:1:$iq rd.iscsi.param=node.session.timeo.replacement_timeout=86400 rd.iscsi.param=node.conn[0].timeo.noop_out_interval=0 rd.iscsi.login_retry_max=7"
cmdline_hook > /dev/null
clear_calls
run "$R/sbin/iscsiroot" --settled > "$work/out" 2>&1
expect "rd.iscsi.param as -P, login_retry_max" "ip route get 10.0.2.2
kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 1 -a 10.0.2.2 -p 3261 -P node.session.timeo.replacement_timeout=86400 -P node.conn[0].timeo.noop_out_interval=0 -P node.session.initial_login_retry_max=7 $conf" "$(calls)"
new_root "root=iscsi:10.0.2.2::3261:1:$iq rd.iscsi.param=node.session.initial_login_retry_max=9 rd.iscsi.login_retry_max=7"
cmdline_hook > /dev/null
clear_calls
run "$R/sbin/iscsiroot" --timeout > "$work/out" 2>&1
expect "a param's retry limit wins" \
    "kiscsistart -i iqn.2026-12.test.boot:image -t $iq -g 1 -a 10.0.2.2 -p 3261 -P node.session.initial_login_retry_max=9 $conf" "$(calls)"

# --- initiator name precedence -----------------------------------------------------------------
new_root "root=iscsi:10.0.2.2::3261:1:$iq"
initiator() { "$busybox" ash -c '. "$KISCSI_DRACUT_LIBDIR/dracut-lib.sh"; . "$KISCSI_DRACUT_LIBDIR/kiscsi-lib.sh"; kiscsi_initiator'; }
expect "initiator: the image's file" "iqn.2026-12.test.boot:image" "$(initiator)"
mkdir -p "$R/sys/firmware/ibft/initiator"
echo "iqn.2026-12.test.boot:ibft" > "$R/sys/firmware/ibft/initiator/initiator-name"
expect "initiator: the iBFT's over the file" "iqn.2026-12.test.boot:ibft" "$(initiator)"
echo "root=iscsi:10.0.2.2::3261:1:$iq rd.iscsi.initiator=iqn.2026-12.test.boot:cmdline" > "$R/proc/cmdline"
expect "initiator: the command line's over all" "iqn.2026-12.test.boot:cmdline" "$(initiator)"
echo "iscsi_initiator=iqn.2026-12.test.boot:legacy" > "$R/proc/cmdline"
expect "initiator: iscsi_initiator= (old spelling)" "iqn.2026-12.test.boot:legacy" "$(initiator)"
rm -rf "$R/sys" "$R/etc/iscsi/initiatorname.iscsi"
echo "" > "$R/proc/cmdline"
expect "initiator: kiscsi-iname as the last resort" "iqn.2026-12.test.boot:generated" "$(initiator)"

# --- firmware ----------------------------------------------------------------------------------
for cmdline in "rd.iscsi.firmware=1 root=UUID=1234" "iscsi_firmware root=UUID=1234" "rd.iscsi.ibft=1 root=UUID=1234"; do
    new_root "$cmdline"
    expect "firmware ($cmdline): variables" "root=UUID=1234 rootok= netroot=" "$(cmdline_hook)"
    expect "firmware ($cmdline): hook calls" "modprobe -q iscsi_tcp
modprobe -q iscsi_boot_sysfs
modprobe -q iscsi_ibft
initqueue --settled --unique --name kiscsi-firmware $R/sbin/kiscsi-firmware" "$(calls)"
done
expect "firmware: finished hook" "[ -e '$R/run/kiscsi/firmware.ok' ]" \
    "$(cat "$R/hooks/initqueue/finished/kiscsi.sh")"
clear_calls
run "$R/sbin/kiscsi-firmware" > "$work/out" 2>&1
expect "firmware: -N then -b" "kiscsistart -N
kiscsistart -b -P node.session.initial_login_retry_max=3 $conf" "$(calls)"
expect_true "firmware: finished" finished
clear_calls
run "$R/sbin/kiscsi-firmware" > "$work/out" 2>&1
expect "firmware: nothing once logged in" "" "$(calls)"

new_root "rd.iscsi.firmware=1 rd.iscsi.param=node.session.timeo.replacement_timeout=86400"
expect "firmware without root=: /dev/root" "root=block:/dev/root rootok=1 netroot=" "$(cmdline_hook)"
expect "firmware without root=: any iSCSI disk" \
    "ACTION!=\"remove\", SUBSYSTEM==\"block\", ENV{DEVTYPE}==\"disk\", ENV{ID_PATH}==\"*-iscsi-*\", SYMLINK+=\"root\"" \
    "$(cat "$R/etc/udev/rules.d/99-kiscsi-root.rules")"
printf '4\n4\n15\n' > "$work/rc.login"
echo 1 > "$work/rc.N"
clear_calls
run "$R/sbin/kiscsi-firmware" > "$work/out" 2>&1
expect "firmware: retried (0.2 s, then 1 s), exit 15 is success" "0" "$?"
p="kiscsistart -b -P node.session.timeo.replacement_timeout=86400 -P node.session.initial_login_retry_max=3 $conf"
expect "firmware: the retries" "kiscsistart -N
$p
sleep 0.2
kiscsistart -N
$p
sleep 1
kiscsistart -N
$p" "$(calls)"
expect_true "firmware: exit 15 satisfies the finished hook" finished

new_root "rd.iscsi.firmware=1 root=UUID=1234"
cmdline_hook > /dev/null
for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do echo 4; done > "$work/rc.login"
clear_calls
run "$R/sbin/kiscsi-firmware" > "$work/out" 2>&1
expect "firmware: bounded, fails" "1" "$?"
expect "firmware: 10 tries, 9 waits" "10 9" \
    "$(grep -c -- '-b' "$KISCSI_TEST_CALLS") $(grep -c '^sleep' "$KISCSI_TEST_CALLS")"
checks=$((checks + 1))
finished && fail "firmware: finished hook true after failures"

new_root "rd.iscsi.firmware=1 root=UUID=1234"
cmdline_hook > /dev/null
echo 24 > "$work/rc.login"
clear_calls
run "$R/sbin/kiscsi-firmware" > "$work/out" 2>&1
run "$R/sbin/kiscsi-firmware" >> "$work/out" 2>&1
expect "firmware: a refused login is not retried" "kiscsistart -N
kiscsistart -b -P node.session.initial_login_retry_max=3 $conf" "$(calls)"

new_root "root=UUID=1234"
expect "no iSCSI on the command line: nothing" "root=UUID=1234 rootok= netroot=" "$(cmdline_hook)"
expect "no iSCSI on the command line: no calls" "" "$(calls)"
checks=$((checks + 1))
[ -e "$R/hooks/initqueue/finished/kiscsi.sh" ] && fail "no finished hook without iSCSI"
rm -rf "$work/gen" && mkdir -p "$work/gen"
run "$mod/kiscsi-generator.sh" "$work/gen"
checks=$((checks + 1))
[ -e "$work/gen/sysroot.mount" ] && fail "generator: no sysroot.mount for root=UUID="

# --- module-setup.sh ---------------------------------------------------------------------------
setup_calls() {
    bash -c '
        rec() { printf "%s\n" "$*"; }
        inst_multiple() { rec inst_multiple "$@"; }
        inst_simple() { rec inst_simple "$@"; }
        inst_script() { rec inst_script "$@"; }
        inst_rules() { rec inst_rules "$@"; }
        inst_hook() { rec inst_hook "$@"; }
        instmods() { rec "instmods(hostonly=$hostonly)" "$@"; }
        dracut_need_initqueue() { rec dracut_need_initqueue; }
        dfatal() { rec dfatal "$@"; }
        require_binaries() { rec require_binaries "$@"; }
        dracut_module_included() { [[ " $MODS " == *" $1 "* ]]; }
        moddir=/usr/lib/dracut/modules.d/95kiscsi
        systemdutildir=/usr/lib/systemd
        hostonly=yes
        . "$1"
        "$2"
        echo "returned $?"
    ' setup "$work/module-setup.sh" "$1"
}
expect "install(), with systemd" "$(cat "$here/install.golden")" "$(MODS="systemd systemd-initrd network" setup_calls install)"
expect "install(), without systemd" "$(grep -v generator "$here/install.golden")" \
    "$(MODS="network" setup_calls install)"
expect "install() refuses dracut's iscsi module" "dfatal kiscsi: dracut's iscsi module is included too; both would log in to the root disk.
dfatal kiscsi: add omit_dracutmodules+=\" iscsi \" (see /usr/share/doc/kiscsi/dracut-kiscsi.conf)" \
    "$(MODS="iscsi network" setup_calls install)"
expect "installkernel()" "instmods(hostonly=) iscsi_tcp iscsi_ibft iscsi_boot_sysfs crc32c sd_mod
returned 0" "$(MODS="" setup_calls installkernel)"
expect "depends()" "network rootfs-block
returned 0" "$(MODS="" setup_calls depends)"
if [ ! -d /sys/class/iscsi_session ] || [ -z "$(ls -A /sys/class/iscsi_session 2> /dev/null)" ]; then
    expect "check() without iSCSI disks: only when asked" "require_binaries /usr/sbin/kiscsistart
returned 255" "$(MODS="" setup_calls check)"
fi

echo "dracut module tests: $checks checks, $failures failed"
[ "$failures" = 0 ]

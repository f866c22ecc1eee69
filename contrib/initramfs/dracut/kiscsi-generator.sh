#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# kiscsi's dracut module: systemd generator in the initramfs. When the root is a whole iSCSI LUN
# (root=iscsi:..., or no root= with netroot=iscsi:/rd.iscsi.firmware=1), nothing else makes
# /sysroot's mount unit (systemd's fstab generator skips a root= it cannot read, dracut's only
# handles /dev/... roots), so this one mounts /dev/root, which kiscsi's udev rule names.
# Writes only into the generator directory it is given; never overrides another sysroot.mount.

# shellcheck disable=SC1091  # dracut's, in the initramfs
type getarg > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/dracut-lib.sh"
# shellcheck source=kiscsi-lib.sh.in
type kiscsi_wanted > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/kiscsi-lib.sh"

kiscsi_gen_dir=${1-}
[ -n "$kiscsi_gen_dir" ] || exit 1

case $(getarg root=) in
    iscsi:* | '') ;;
    *) exit 0 ;;
esac
kiscsi_root_id_path > /dev/null 2> /dev/null || exit 0
[ -e "$kiscsi_gen_dir/sysroot.mount" ] && exit 0

kiscsi_opts=$(getarg rootflags=)
if getargbool 0 rw; then
    kiscsi_opts=${kiscsi_opts:+$kiscsi_opts,}rw
else
    kiscsi_opts=${kiscsi_opts:+$kiscsi_opts,}ro
fi
kiscsi_type=$(getarg rootfstype=)

mkdir -p "$kiscsi_gen_dir/initrd-root-fs.target.requires"
{
    echo "# Made by kiscsi's dracut module (kiscsi-generator) for an iSCSI root on a whole LUN"
    echo "[Unit]"
    echo "Before=initrd-root-fs.target"
    echo "[Mount]"
    echo "What=/dev/root"
    echo "Where=/sysroot"
    [ -n "$kiscsi_type" ] && echo "Type=$kiscsi_type"
    echo "Options=$kiscsi_opts"
} > "$kiscsi_gen_dir/sysroot.mount"
ln -sf ../sysroot.mount "$kiscsi_gen_dir/initrd-root-fs.target.requires/sysroot.mount"

# /dev/root appears only after the login: its job waits rd.timeout= (default: no limit, dracut's
# initqueue gives up on its own), not systemd's default 90 s. Set here rather than by the
# cmdline hook's daemon-reload, which comes after the job has started.
kiscsi_timeout=$(getarg rd.timeout=)
case $kiscsi_timeout in
    '' | *[!0-9]*) kiscsi_timeout=0 ;;
esac
mkdir -p "$kiscsi_gen_dir/initrd.target.wants" "$kiscsi_gen_dir/dev-root.device.d"
ln -sf ../dev-root.device "$kiscsi_gen_dir/initrd.target.wants/dev-root.device"
{
    echo "[Unit]"
    echo "JobTimeoutSec=$kiscsi_timeout"
    echo "JobRunningTimeoutSec=$kiscsi_timeout"
} > "$kiscsi_gen_dir/dev-root.device.d/kiscsi-timeout.conf"
exit 0

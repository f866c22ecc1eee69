#!/usr/bin/env bash
# Makes the disk a root-on-iSCSI guest boots from: a Debian 12 root file system with kiscsi
# installed by `cmake --install`, and the initramfs images Debian's own generators make with
# kiscsi's integration (initramfs-tools and dracut), all inside it.
#
#   tests/vm/rootboot/make_root.sh BUILD OUT
#
# OUT receives root.img (ext4 over the whole disk, label kiscsiroot, UUID $ROOT_UUID below),
# initrd-initramfs-tools.img, initrd-dracut.img (systemd inside), initrd-dracut-nosystemd.img
# and, for the benchmark, initrd-open-iscsi.img
# (initramfs-tools with Debian's open-iscsi hook instead of kiscsi's): copies of the images in
# the disk's /boot, for qemu's -initrd; and vmlinuz. open-iscsi is installed too (its units are
# masked on the kernel command line of kiscsi's boots; kiscsi's skip open-iscsi's boot, whose
# command line holds kiscsi_off).
#
# The Debian base (debootstrap --variant=minbase with systemd, udev, initramfs-tools, dracut) is
# made once and cached in $KISCSI_VM_CACHE/rootfs-bookworm-KEY (KEY: a hash of the package
# list); a later run only copies it, installs the build and runs the generators (about a minute).
# The kernel is the VM tests' (tests/vm/setup.sh): its modules are copied into the root.
set -euo pipefail

rootboot_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_dir=$(cd "$rootboot_dir/.." && pwd)
build=$(realpath "${1:?usage: make_root.sh BUILD OUT}")
out=${2:?usage: make_root.sh BUILD OUT}
cache=${KISCSI_VM_CACHE:-${HOME:-/root}/.cache/kiscsi-vm}
mirror=${KISCSI_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# What the tests and the scenario name; keep in step with boot.sh.
ROOT_UUID=6b1c2f0e-5a1d-4e0b-9c61-2f0a6d1b7c3e
INITIATOR=iqn.2026-12.test.boot:initiator

log() { echo "rootboot: $*" >&2; }
die() { echo "rootboot: error: $*" >&2; exit 1; }
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}'; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot, mke2fs -d)"
for tool in debootstrap mke2fs chroot unshare systemctl; do
  command -v "$tool" >/dev/null || die "$tool not found (bash scripts/setup.sh installs it)"
done
setup_out=$(bash "$vm_dir/setup.sh") || die "tests/vm/setup.sh failed"
kver=$(sed -n 's/^kver=//p' <<<"$setup_out")
kernel=$(sed -n 's/^kernel=//p' <<<"$setup_out")
kroot=$(dirname "$(dirname "$kernel")")

# --- 1. the Debian base, cached ----------------------------------------------------------------
# kiscsid's shared libraries (the other programs are static), systemd and udev, both generators
# and what their network code needs (klibc's ipconfig comes with initramfs-tools; dracut's
# network-legacy needs dhclient and arping), ss (iproute2) for the checks.
packages=(systemd-sysv udev kmod iproute2 e2fsprogs procps busybox initramfs-tools
          dracut-core dracut-network isc-dhcp-client iputils-arping
          libabsl20220623 libssl3 libnl-3-200 libnl-route-3-200
          open-iscsi)  # the benchmark's other side: its initramfs-tools hook, iscsistart, iscsid
key=$(printf '%s\n' "${packages[@]}" "$mirror" | sha256sum | cut -c1-12)
base=$cache/rootfs-bookworm-$key
mkdir -p "$cache"
exec 8>"$cache/.rootfs.lock"
flock 8
if [ ! -e "$base/.complete" ]; then
  started=$(date +%s.%N)
  rm -rf "$base" "$base.tmp"
  log "debootstrap bookworm (${#packages[@]} extra packages) from $mirror"
  packages_csv=$(IFS=,; echo "${packages[*]}")
  if ! debootstrap --variant=minbase --include="$packages_csv" bookworm "$base.tmp" "$mirror" \
      >"$cache/debootstrap.log" 2>&1; then
    tail -n 20 "$cache/debootstrap.log" >&2
    die "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  rm -rf "$base.tmp/var/cache/apt/archives/"*.deb
  touch "$base.tmp/.complete"
  mv "$base.tmp" "$base"
  find "$cache" -maxdepth 1 -name 'rootfs-bookworm-*' ! -name "rootfs-bookworm-$key" \
    -exec rm -rf {} +
  log "Debian base ready in $(since "$started") s"
fi
exec 8>&-

# --- 2. this build's root --------------------------------------------------------------------
started=$(date +%s.%N)
mkdir -p "$out"
out=$(realpath "$out")
root=$out/root
rm -rf "$root"
cp -a "$base" "$root"
rm -f "$root/.complete"

# The kernel's modules (the image's initramfs generators read them) and its config.
mkdir -p "$root/lib/modules" "$root/boot"
cp -a "$kroot/lib/modules/$kver" "$root/lib/modules/"
cp "$kroot/boot/config-$kver" "$kroot/boot/System.map-$kver" "$root/boot/"

# kiscsi, as a package would install it; the initramfs hooks come with it.
DESTDIR=$root cmake --install "$build" --prefix /usr >"$out/install.log" 2>&1 \
  || { tail -n 20 "$out/install.log" >&2; die "cmake --install failed (log: $out/install.log)"; }

# Configuration a root-on-iSCSI machine has: its initiator name; the root disk's settings in
# iscsid.conf (the initramfs carries it: kiscsistart -c); the disk's SCSI command timeout for
# kiscsi-udev; fstab with the options kiscsid(8) documents.
printf 'InitiatorName=%s\n' "$INITIATOR" >"$root/etc/iscsi/initiatorname.iscsi"
# (open-iscsi's iscsid.conf is there first, and kept by kiscsi's install: both read it.)
sed -i '/^[[:space:]]*node.session.timeo.replacement_timeout/d' "$root/etc/iscsi/iscsid.conf"
cat >>"$root/etc/iscsi/iscsid.conf" <<'EOF'

# Root on iSCSI (tests/vm/rootboot): wait for the target as long as it takes.
node.session.timeo.replacement_timeout = 86400
kiscsi.disk.timeout = 91
EOF
cat >"$root/etc/fstab" <<EOF
UUID=$ROOT_UUID / ext4 _netdev,x-systemd.requires=kiscsid.service,errors=remount-ro 0 1
EOF
echo kiscsiroot >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 kiscsiroot\n' >"$root/etc/hosts"
# A fixed machine id: no boot is a "first boot" (each boot does the same work).
echo 6b1c2f0e5a1d4e0b9c612f0a6d1b7c3e >"$root/etc/machine-id"

# The checks run as a unit once the system is up (guest_check.sh), and report on ttyS1.
install -m 0755 "$rootboot_dir/guest_check.sh" "$root/usr/local/sbin/kiscsi-boot-check"
cat >"$root/etc/systemd/system/kiscsi-boot-check.service" <<'EOF'
[Unit]
Description=kiscsi root-on-iSCSI boot checks (tests/vm/rootboot)
After=multi-user.target kiscsid.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/kiscsi-boot-check
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
EOF
systemctl --root="$root" enable kiscsid.service kiscsi.service kiscsi-boot-check.service \
  >/dev/null 2>&1 || die "systemctl enable failed"
# open-iscsi's boot keeps kiscsi's units from starting with kiscsi_off on its command line: a
# condition, not a mask. The root mount requires kiscsid.service (fstab above), and with that unit
# masked systemd fails to isolate the default target, or not, depending on the order it walks the
# dependencies in (it froze one CI boot); a unit skipped by its condition fails nothing.
for unit in kiscsid.service kiscsid.socket kiscsi.service; do
  mkdir -p "$root/etc/systemd/system/$unit.d"
  printf '[Unit]\nConditionKernelCommandLine=!kiscsi_off\n' \
    >"$root/etc/systemd/system/$unit.d/rootboot.conf"
done
# Nothing else runs at boot that the test does not need (timers, a getty that waits on ttyS1).
systemctl --root="$root" mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
  fstrim.timer dpkg-db-backup.timer systemd-timesyncd.service >/dev/null 2>&1 || true

# dracut's network code: the classic one (dhclient), as with ip=dhcp on a machine without
# NetworkManager; its systemd-networkd variant needs D-Bus in the initramfs.
mkdir -p "$root/etc/dracut.conf.d"
cat >"$root/etc/dracut.conf.d/50-network-legacy.conf" <<'EOF'
add_dracutmodules+=" network-legacy "
omit_dracutmodules+=" systemd-networkd network-manager "
EOF

# --- 3. the initramfs images, made by the generators inside the root -------------------------
in_root() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  unshare -m --propagation private bash -c '
    root=$1; shift
    mount --bind /proc "$root/proc" && mount --bind /sys "$root/sys" &&
    mount --bind /dev "$root/dev" && mount -t tmpfs tmpfs "$root/run" &&
    mount -t tmpfs tmpfs "$root/tmp" && exec chroot "$root" "$@"' in_root "$root" "$@"
}
# initramfs-tools copies every boot script it has into the image, so each image is made with the
# other integration's files moved aside: kiscsi's, and open-iscsi's for the benchmark.
itools=$root/usr/share/initramfs-tools
# (Out of its tree: mkinitramfs runs and copies every file there, whatever its name.)
aside=$root/root/initramfs-tools-aside
hide() {
  local f
  for f in "$@"; do
    [ ! -e "$itools/$f" ] || { mkdir -p "$aside/$(dirname "$f")"; mv "$itools/$f" "$aside/$f"; }
  done
}
unhide() { local f; for f in "$@"; do [ ! -e "$aside/$f" ] || mv "$aside/$f" "$itools/$f"; done; }
open_iscsi_files=(hooks/iscsi scripts/local-top/iscsi scripts/local-bottom/iscsi)
kiscsi_files=(hooks/kiscsi scripts/local-top/kiscsi scripts/local-bottom/kiscsi)
mkinitramfs_to() {  # mkinitramfs_to IMAGE LOG
  in_root env PATH=/usr/sbin:/usr/bin:/sbin:/bin mkinitramfs -o "$1" "$kver" >"$2" 2>&1 \
    || { tail -n 30 "$2" >&2; die "mkinitramfs failed (log: $2)"; }
}
log "mkinitramfs (initramfs-tools with kiscsi's hook)"
hide "${open_iscsi_files[@]}"
mkinitramfs_to "/boot/initrd.img-$kver" "$out/mkinitramfs.log"
unhide "${open_iscsi_files[@]}"
log "mkinitramfs (initramfs-tools with open-iscsi's hook, for the benchmark)"
hide "${kiscsi_files[@]}"
mkinitramfs_to "/boot/initrd-open-iscsi.img-$kver" "$out/mkinitramfs-open-iscsi.log"
unhide "${kiscsi_files[@]}"
# dracut, twice: with systemd in the initramfs (dracut's default where systemd is installed) and
# without. Not host-only (the build host is not the guest); the general storage drivers are left
# out to halve the time (kernel-modules: the guest's disk is the iSCSI LUN, whose modules
# kiscsi's module installs itself; virtio comes with dracut's qemu module; ext4 is named).
dracut_image() {  # dracut_image IMAGE LOG [MORE-OMITS]
  in_root env PATH=/usr/sbin:/usr/bin:/sbin:/bin dracut --force --no-hostonly --add kiscsi \
    --omit "iscsi kernel-modules kernel-modules-extra nvdimm crypt dm lunmask resume ${3:-}" \
    --add-drivers ext4 --no-early-microcode "$1" "$kver" >"$2" 2>&1 \
    || { tail -n 30 "$2" >&2; die "dracut failed (log: $2)"; }
}
log "dracut (with kiscsi's module; systemd in the initramfs)"
dracut_image "/boot/initrd-dracut-$kver.img" "$out/dracut.log"
log "dracut (with kiscsi's module; no systemd in the initramfs)"
dracut_image "/boot/initrd-dracut-nosystemd-$kver.img" "$out/dracut-nosystemd.log" \
  "systemd systemd-initrd systemd-networkd dracut-systemd"
cp "$root/boot/initrd.img-$kver" "$out/initrd-initramfs-tools.img"
cp "$root/boot/initrd-dracut-$kver.img" "$out/initrd-dracut.img"
cp "$root/boot/initrd-dracut-nosystemd-$kver.img" "$out/initrd-dracut-nosystemd.img"
cp "$root/boot/initrd-open-iscsi.img-$kver" "$out/initrd-open-iscsi.img"
cp "$kernel" "$out/vmlinuz"

# --- 4. the disk -------------------------------------------------------------------------------
rm -f "$out/root.img"
mke2fs -q -t ext4 -L kiscsiroot -U "$ROOT_UUID" -d "$root" "$out/root.img" 2G \
  || die "mke2fs -d failed"
rm -rf "$root"
log "root disk and initramfs images ready in $(since "$started") s: $out"

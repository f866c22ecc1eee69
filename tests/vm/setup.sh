#!/usr/bin/env bash
# Prepares everything a kiscsi VM test needs and caches it, so that repeated runs only boot:
#   - Debian packages: qemu-system-x86, busybox-static, cpio, kmod, and udev (not used on the
#     host: the guest runs the host's userland, and scenarios start its systemd-udevd);
#   - Debian's generic amd64 kernel, downloaded with apt-get and unpacked (not installed) into
#     $KISCSI_VM_CACHE/<kernel version>/kernel, with modules.dep from depmod;
#   - a busybox initramfs (tests/vm/guest/initramfs-init.sh as /init, plus the modules listed in
#     tests/vm/modules.list and their dependencies), keyed by a hash of its inputs.
# On success prints three lines on stdout, for run.sh:
#   kver=VERSION  kernel=PATH  initrd=PATH
# Everything else goes to stderr.
#
# Environment:
#   KISCSI_VM_CACHE          cache folder (default $HOME/.cache/kiscsi-vm)
#   KISCSI_VM_KERNEL_PACKAGE kernel package to use (default: what linux-image-amd64 depends on)
set -euo pipefail

vm_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KISCSI_VM_CACHE:-${HOME:-/root}/.cache/kiscsi-vm}

log() { echo "vm-setup: $*" >&2; }
die() { echo "vm-setup: error: $*" >&2; exit 1; }

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

apt_updated=0
apt_update() {
  ((apt_updated)) && return 0
  log "apt-get update"
  "${as_root[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 \
    || die "apt-get update failed"
  apt_updated=1
}

# --- 1. packages -----------------------------------------------------------------------------
packages=(qemu-system-x86 busybox-static cpio kmod udev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt_update
  log "installing ${missing[*]}"
  mkdir -p "$cache"
  if ! DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get -o DPkg::Lock::Timeout=300 \
      install -y -qq --no-install-recommends "${missing[@]}" >"$cache/apt-install.log" 2>&1; then
    tail -n 30 "$cache/apt-install.log" >&2
    die "apt-get install ${missing[*]} failed (log: $cache/apt-install.log)"
  fi
fi
for tool in qemu-system-x86_64 cpio depmod modprobe udevadm; do
  command -v "$tool" >/dev/null || die "$tool not found after installing ${packages[*]}"
done
[ -x /lib/systemd/systemd-udevd ] || die "/lib/systemd/systemd-udevd not found (package udev)"
busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
[ -n "$busybox" ] || die "busybox not found (package busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked; the initramfs needs busybox-static"
fi

# --- 2. kernel -------------------------------------------------------------------------------
resolve_kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
pkg=${KISCSI_VM_KERNEL_PACKAGE:-}
if [ -z "$pkg" ]; then
  pkg=$(resolve_kernel_package)
  if [ -z "$pkg" ]; then
    apt_update
    pkg=$(resolve_kernel_package)
  fi
  [ -n "$pkg" ] || die "cannot resolve the kernel package: apt-cache depends linux-image-amd64 names none"
fi
kver=${pkg#linux-image-}
kdir=$cache/$kver
kroot=$kdir/kernel
vmlinuz=$kroot/boot/vmlinuz-$kver

mkdir -p "$kdir"
exec 9>"$kdir/.lock"
flock 9 || die "cannot lock $kdir/.lock"

if [ ! -e "$kroot/.complete" ]; then
  started=$(date +%s.%N)
  tmp=$(mktemp -d "$kdir/.unpack.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  log "downloading $pkg"
  if ! (cd "$tmp" && apt-get download -qq "$pkg" >&2 2>/dev/null); then
    apt_update
    (cd "$tmp" && apt-get download -qq "$pkg" >&2) || die "apt-get download $pkg failed"
  fi
  deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" -print -quit)
  [ -n "$deb" ] || die "apt-get download $pkg left no .deb in $tmp"
  log "unpacking $(basename "$deb")"
  dpkg -x "$deb" "$tmp/root"
  [ -f "$tmp/root/boot/vmlinuz-$kver" ] || die "$deb has no boot/vmlinuz-$kver"
  [ -d "$tmp/root/lib/modules/$kver" ] || die "$deb has no lib/modules/$kver"
  depmod -b "$tmp/root" "$kver" || die "depmod failed on the unpacked kernel"
  rm -rf "$kroot"
  mv "$tmp/root" "$kroot"
  touch "$kroot/.complete"
  rm -rf "$tmp"
  trap - EXIT
  log "kernel $kver ready in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
fi
[ -f "$vmlinuz" ] || die "$vmlinuz missing (remove $kdir and retry)"

# --- 3. initramfs ----------------------------------------------------------------------------
init_script=$vm_dir/guest/initramfs-init.sh
module_list=$vm_dir/modules.list
key=$(cat "$0" "$init_script" "$module_list" "$busybox" | sha256sum | cut -c1-16)
initrd=$kdir/initrd-$key.img

if [ ! -f "$initrd" ]; then
  started=$(date +%s.%N)
  stage=$(mktemp -d "$kdir/.initrd.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage"/{bin,dev,proc,sys,run,etc,lower,rw,newroot}
  cp "$busybox" "$stage/bin/busybox"
  cp "$init_script" "$stage/init"
  chmod 755 "$stage/init" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"

  moddir=lib/modules/$kver
  mkdir -p "$stage/$moddir"
  : >"$stage/etc/boot-modules"
  section=""
  declare -A seen=()
  while read -r line; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [ -n "$line" ] || continue
    case $line in \[*\]) section=${line//[\[\]]/}; continue ;; esac
    deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$line" 2>/dev/null) || {
      log "note: module $line is not in $kver, skipped"
      continue
    }
    while read -r kind path _; do
      case $kind in
        builtin) continue ;;
        insmod) ;;
        *) continue ;;
      esac
      rel=${path#"$kroot"/}
      rel=${rel#usr/}
      if [ -z "${seen[$rel]:-}" ]; then
        seen[$rel]=1
        mkdir -p "$stage/$(dirname "$rel")"
        cp "$path" "$stage/$rel"
        [ "$section" = boot ] && echo "/$rel" >>"$stage/etc/boot-modules"
      fi
    done <<<"$deps"
    grep -q '^insmod' <<<"$deps" || log "note: module $line is built into $kver"
  done <"$module_list"
  for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$kroot/lib/modules/$kver/$f" ] && cp "$kroot/lib/modules/$kver/$f" "$stage/$moddir/"
  done
  depmod -b "$stage" "$kver" || die "depmod failed on the initramfs module set"
  echo "$kver" >"$stage/etc/kver"
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) \
    >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  # Older initramfs images of this kernel are stale: drop them.
  find "$kdir" -maxdepth 1 -name 'initrd-*.img' ! -name "initrd-$key.img" -delete
  rm -rf "$stage"
  trap - EXIT
  log "initramfs $(basename "$initrd") built ($(du -h "$initrd" | cut -f1), ${#seen[@]} modules) in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}') s"
fi

echo "kver=$kver"
echo "kernel=$vmlinuz"
echo "initrd=$initrd"

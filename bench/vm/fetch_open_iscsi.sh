#!/usr/bin/env bash
# Fetches open-iscsi 2.1.8 (Debian's package open-iscsi) and the libraries it needs that this
# machine lacks, and unpacks them (dpkg -x, nothing is installed) into
#   $KISCSI_VM_CACHE/open-iscsi/<version>/root
# so that the VM benchmark can run its iscsid/iscsiadm inside the guest with LD_LIBRARY_PATH.
# On success prints one line on stdout:  root=PATH   (everything else goes to stderr).
#
# Environment: KISCSI_VM_CACHE (default $HOME/.cache/kiscsi-vm),
#              OPEN_ISCSI_VERSION_PREFIX (default 2.1.8: the candidate version must start with it).
set -euo pipefail

cache=${KISCSI_VM_CACHE:-${HOME:-/root}/.cache/kiscsi-vm}
want=${OPEN_ISCSI_VERSION_PREFIX:-2.1.8}

log() { echo "fetch-open-iscsi: $*" >&2; }
die() { echo "fetch-open-iscsi: error: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg dpkg-deb ldd; do
  command -v "$tool" >/dev/null || die "$tool not found (this needs a Debian machine)"
done

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
apt_updated=0
apt_update() {
  ((apt_updated)) && return 0
  log "apt-get update"
  "${as_root[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || die "apt-get update failed"
  apt_updated=1
}

candidate() { apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'; }

version=$(candidate open-iscsi)
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  apt_update
  version=$(candidate open-iscsi)
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then die "apt knows no package open-iscsi"; fi
[[ $version == "$want"* ]] || die "apt's open-iscsi is $version, not $want (set OPEN_ISCSI_VERSION_PREFIX to accept it)"

dir=$cache/open-iscsi/$version
root=$dir/root
if [ -f "$dir/.complete" ] && [ -x "$root/sbin/iscsid" ]; then
  log "cached: open-iscsi $version in $root"
  echo "root=$root"
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir/debs" "$root"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

# open-iscsi's shared-library dependencies that this machine lacks (udev, debconf and
# init-system-helpers are only needed by its maintainer scripts and units, not by the binaries).
pkgs=(open-iscsi)
for dep in $(apt-cache depends open-iscsi | awk '$1 == "Depends:" && $2 ~ /^lib/ { print $2 }'); do
  installed "$dep" || pkgs+=("$dep")
done

download() {
  # apt drops privileges to _apt for downloads when it can; a world-writable scratch folder
  # avoids its "download is performed unsandboxed" warning.
  local tmp
  tmp=$(mktemp -d)
  chmod 0777 "$tmp"
  if (cd "$tmp" && apt-get download -q "$@" >&2); then
    mv "$tmp"/*.deb "$dir/debs/"
    rm -rf "$tmp"
  else
    rm -rf "$tmp"
    return 1
  fi
}
log "apt-get download ${pkgs[*]}"
if ! download "open-iscsi=$version" "${pkgs[@]:1}"; then
  apt_update
  download "open-iscsi=$version" "${pkgs[@]:1}" || die "apt-get download ${pkgs[*]} failed"
fi
for deb in "$dir"/debs/*.deb; do
  dpkg -x "$deb" "$root" || die "dpkg -x $deb failed"
done

# Any library still missing (e.g. on a machine with fewer packages): fetch the package that
# provides it, by asking ldd which SONAMEs it cannot find. Two rounds are plenty.
libpath=$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu
# Debian 12 ships them in /sbin; later releases in /usr/sbin: link the latter to the former.
for b in iscsid iscsiadm; do
  if [ ! -x "$root/sbin/$b" ] && [ -x "$root/usr/sbin/$b" ]; then
    mkdir -p "$root/sbin"
    ln -s "../usr/sbin/$b" "$root/sbin/$b"
  fi
done
bins=("$root/sbin/iscsid" "$root/sbin/iscsiadm")
for b in "${bins[@]}"; do [ -x "$b" ] || die "$b is not in the package"; done
for round in 1 2; do
  missing=$(LD_LIBRARY_PATH=$libpath ldd "${bins[@]}" | awk '/not found/ { print $1 }' | sort -u)
  [ -n "$missing" ] || break
  ((round < 2)) || die "libraries still missing: $missing"
  more=()
  for so in $missing; do
    # Debian names library packages after their SONAME: libfoo.so.3 -> libfoo3.
    base=${so%%.so*} num=${so##*.so.}
    more+=("$base${num%%.*}")
  done
  log "missing ${missing//$'\n'/ }: apt-get download ${more[*]}"
  download "${more[@]}" || die "apt-get download ${more[*]} failed"
  for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$root"; done
done

LD_LIBRARY_PATH=$libpath "$root/sbin/iscsiadm" --version >&2 \
  || die "the unpacked iscsiadm does not run"
touch "$dir/.complete"
log "open-iscsi $version unpacked in $root"
echo "root=$root"

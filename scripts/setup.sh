#!/usr/bin/env bash
# Installs what building and testing kiscsi needs on Debian 12. Idempotent; quiet when all is there.
set -euo pipefail
packages=(cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
          libnl-route-3-dev libabsl-dev libssl-dev
          libgtest-dev libgmock-dev libbenchmark-dev tgt
          python3   # vm scenarios that talk NETLINK_ISCSI directly
          busybox-static shellcheck  # the initramfs scripts' tests (busybox ash, shellcheck)
          debootstrap e2fsprogs      # the root-on-iSCSI boots: a Debian 12 root on a disk image
          iproute2 systemd)          # ... and ss, systemctl --root (in the machine image already)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

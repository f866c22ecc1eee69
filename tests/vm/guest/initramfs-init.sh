#!/bin/sh
# /init of the kiscsi VM initramfs (busybox sh). Loads the boot modules, mounts the host's root
# (exported read-only by qemu over 9p, tag "host") under a tmpfs overlay, copies the module set
# into the new root, mounts the API file systems there and switch_roots into the program named by
# kiscsi.init= on the kernel command line (tests/vm/guest/stage2.sh). On any failure it prints
# the result marker with rc=125 and powers off, so the host never waits for a timeout.
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
  echo "kiscsi-initramfs: $*" >/dev/console
  for port in /dev/ttyS1 /dev/console; do
    echo "KISCSI-VM-RESULT rc=125" >"$port" 2>/dev/null
  done
  sync
  echo o >/proc/sysrq-trigger
  poweroff -f
  sleep 1000
}

mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
kver=$(cat /etc/kver)

stage2=""
ninep_cache=loose
read -r cmdline </proc/cmdline
for arg in $cmdline; do
  case $arg in
    kiscsi.init=*) stage2=${arg#kiscsi.init=} ;;
    kiscsi.9p_cache=*) ninep_cache=${arg#kiscsi.9p_cache=} ;;
  esac
done
[ -n "$stage2" ] || fail "no kiscsi.init= on the kernel command line"

while read -r module; do
  insmod "$module" 2>/dev/null || {
    # Already loaded, or a dependency that another line loaded: check before failing.
    name=$(basename "$module" .ko)
    grep -q "^$(echo "$name" | tr - _) " /proc/modules || fail "insmod $module failed"
  }
done </etc/boot-modules

# The 9p device appears once virtio_pci has probed; it is normally there already.
i=0
until mount -t 9p -o "trans=virtio,version=9p2000.L,ro,msize=262144,cache=$ninep_cache" \
    host /lower 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 50 ] || fail "cannot mount the host root over 9p (tag host)"
  sleep 0.1
done
mount -t tmpfs -o mode=0755,size=75% rw /rw || fail "mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot \
  || fail "mount overlay"

# /tmp stays the host's as seen through the overlay (writes land in the tmpfs upper layer), so
# build trees under the host's /tmp remain visible in the guest.
# switch_root empties the initramfs: copy the modules into the new root.
mkdir -p "/newroot/lib/modules/$kver" || fail "mkdir /lib/modules/$kver"
cp -a "/lib/modules/$kver/." "/newroot/lib/modules/$kver/" || fail "copy modules"

for d in proc sys dev run; do mkdir -p "/newroot/$d"; done
mount --move /proc /newroot/proc || fail "move /proc"
mount --move /sys /newroot/sys || fail "move /sys"
mount --move /dev /newroot/dev || fail "move /dev"
mount -t tmpfs -o mode=0755,nosuid,nodev run /newroot/run || fail "mount /run"
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=000 devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm /newroot/dev/shm
mount -t configfs configfs /newroot/sys/kernel/config 2>/dev/null || true

[ -x "/newroot$stage2" ] || fail "$stage2 is not executable in the host root"
exec switch_root /newroot "$stage2"

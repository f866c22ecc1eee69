#!/usr/bin/env bash
# Root on iSCSI, end to end: boots a Debian 12 guest whose root file system is an iSCSI disk.
#
#   tests/vm/rootboot/boot.sh [--build DIR] [--no-make] [BOOT...]
#
# The disk (make_root.sh: debootstrap'd Debian with kiscsi installed by `cmake --install`, and
# initramfs images made by Debian's initramfs-tools and dracut with kiscsi's integration) is
# served by tgtd on this machine's 127.0.0.1:3261 (control port 4261); the guest reaches it as
# 10.0.2.2 through qemu's user networking. Each boot runs Debian's kernel with one initramfs, logs
# in from the initramfs with kiscsistart (from the kernel command line, or from an iBFT given
# with -acpitable), switches to the disk's systemd, whose kiscsid adopts the session; then
# guest_check.sh checks and reports on ttyS1, and this script plays the target's part in the
# outages (tgtd killed, restarted SECONDS later) and times the shutdown.
#
# BOOTs, in this order (default: all, on one disk, so each boot also checks that the one before
# shut down cleanly):
#   itools_cmdline  initramfs-tools, iscsi_* parameters, ip=dhcp; full checks: two 10 s target
#                   outages under writes (the second while kiscsid restarts); every other kiscsi
#                   boot goes through the first of them
#   itools_ibft     initramfs-tools, iscsi_auto (iBFT)
#   dracut_cmdline  dracut with systemd in the initramfs, netroot=iscsi:... rd.iscsi.initiator=
#                   ip=dhcp
#   dracut_ibft     dracut without systemd in the initramfs, rd.iscsi.firmware=1 (iBFT)
#   open_iscsi_cmdline  the benchmark's other side: initramfs-tools with Debian's open-iscsi
#                   hook (iscsistart), the same command line; its iscsid takes the session over
# After the last boot the disk is checked on the host with e2fsck -fn, and the boot figures of
# itools_cmdline and open_iscsi_cmdline are printed side by side (ROOTBOOT-BENCH).
#
# Consoles: BUILD/Testing/rootboot/BOOT.log. Prints one ROOTBOOT line per boot with its figures
# (kernel start to switch_root, to kiscsid ready, power-off time) and exits non-zero when a check
# failed. Environment: KISCSI_VM_QUIET=1 (no live console), KISCSI_ROOTBOOT_TIMEOUT (seconds per
# boot, default 480), KISCSI_POWEROFF_BOUND (seconds, default 60),
# KISCSI_ROOTBOOT_DUMP_AFTER_OUTAGE=S (debugging: the guest's tasks onto its console S seconds
# after each outage ends; a boot that runs out of time gets this dump anyway).
set -euo pipefail

rootboot_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm_dir=$(cd "$rootboot_dir/.." && pwd)
repo=$(cd "$vm_dir/../.." && pwd)

ROOT_UUID=6b1c2f0e-5a1d-4e0b-9c61-2f0a6d1b7c3e
INITIATOR=iqn.2026-12.test.boot:initiator
TARGET=iqn.2026-12.test.boot:root
TGT_PORT=3261
TGT_CONTROL=4261

build=${KISCSI_BUILD:-$repo/build}
make=1
boots=()
while (($#)); do
  case $1 in
    --build) build=${2:?}; shift 2 ;;
    --no-make) make=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    -*) echo "rootboot: unknown option $1" >&2; exit 2 ;;
    *) boots+=("$1"); shift ;;
  esac
done
((${#boots[@]})) || boots=(itools_cmdline itools_ibft dracut_cmdline dracut_ibft open_iscsi_cmdline)
build=$(realpath "$build")
out=$build/Testing/rootboot
mkdir -p "$out"
timeout_s=${KISCSI_ROOTBOOT_TIMEOUT:-480}
poweroff_bound=${KISCSI_POWEROFF_BOUND:-60}

log() { echo "rootboot: $*" >&2; }
die() { echo "rootboot: error: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN{printf "%.1f", e-s}'; }

exec 9>/tmp/kiscsi-rootboot.lock
flock 9
# Every run starts from the disk as make_root.sh made it (kept as root.img.made).
if ((make)) || [ ! -f "$out/root.img.made" ]; then
  bash "$rootboot_dir/make_root.sh" "$build" "$out"
  cp --sparse=always "$out/root.img" "$out/root.img.made"
else
  cp --sparse=always "$out/root.img.made" "$out/root.img"
  # The checks as they are now in the source tree (debugfs writes into the image).
  debugfs -w -f - "$out/root.img" >/dev/null 2>&1 <<EOF || die "debugfs could not update the checks"
rm /usr/local/sbin/kiscsi-boot-check
write $rootboot_dir/guest_check.sh /usr/local/sbin/kiscsi-boot-check
sif /usr/local/sbin/kiscsi-boot-check mode 0100755
EOF
fi

# --- the target: tgtd on the host's loopback -----------------------------------------------------
tgtd_pid=""
tgt_up() {
  tgtd -f -C "$TGT_CONTROL" --iscsi "portal=127.0.0.1:$TGT_PORT" >>"$out/tgtd.log" 2>&1 &
  tgtd_pid=$!
  for _ in $(seq 1 100); do
    tgtadm -C "$TGT_CONTROL" --op show --mode sys >/dev/null 2>&1 && break
    sleep 0.05
  done
  if ! { tgtadm -C "$TGT_CONTROL" --lld iscsi --op new --mode target --tid 1 -T "$TARGET" &&
         tgtadm -C "$TGT_CONTROL" --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 \
           -b "$out/root.img" &&
         tgtadm -C "$TGT_CONTROL" --lld iscsi --op bind --mode target --tid 1 -I ALL; }; then
    die "tgtd did not take its configuration (log: $out/tgtd.log)"
  fi
}
tgt_down() {  # the target goes away at once, as a crashed or unplugged server does
  if [ -n "$tgtd_pid" ]; then
    kill -9 "$tgtd_pid" 2>/dev/null || true
    wait "$tgtd_pid" 2>/dev/null || true
    tgtd_pid=""
  fi
}
qemu_pid=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [ -n "$qemu_pid" ]; then kill -9 "$qemu_pid" 2>/dev/null || true; fi
  tgt_down
}
trap cleanup EXIT
if ss -tlnH "sport = :$TGT_PORT" | grep -q .; then
  die "port $TGT_PORT is taken on this machine (another tgtd?)"
fi

bash "$vm_dir/setup.sh" >/dev/null || die "tests/vm/setup.sh failed"
common_append="console=ttyS0 panic=-1 sysrq_always_enabled root=UUID=$ROOT_UUID ro"

# Blocked tasks (SysRq w) and all tasks (t) onto the console, through qemu's monitor: what a
# hung guest was waiting for.
dump_tasks() {  # dump_tasks RUNDIR
  python3 - "$1/monitor.sock" <<'EOF' || true
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for key in ("w", "t"):
    s.sendall(b"sendkey alt-sysrq-" + key.encode() + b"\n")
    time.sleep(2)
s.close()
EOF
}

# --- one boot --------------------------------------------------------------------------------
overall=0
summary=()
boot() {  # boot NAME
  local name=$1 initrd append ibft=() check=outage
  case $name in
    itools_cmdline)
      initrd=$out/initrd-initramfs-tools.img check=full
      append="ip=dhcp iscsi_initiator=$INITIATOR iscsi_target_name=$TARGET iscsi_target_ip=10.0.2.2 iscsi_target_port=$TGT_PORT iscsi_target_group=1" ;;
    itools_ibft)
      initrd=$out/initrd-initramfs-tools.img append="iscsi_auto" ibft=(yes) ;;
    dracut_cmdline)
      initrd=$out/initrd-dracut.img
      append="rd.neednet=1 ip=dhcp netroot=iscsi:10.0.2.2::$TGT_PORT:1:$TARGET rd.iscsi.initiator=$INITIATOR" ;;
    dracut_ibft)
      initrd=$out/initrd-dracut-nosystemd.img append="rd.iscsi.firmware=1" ibft=(yes) ;;
    open_iscsi_cmdline)
      initrd=$out/initrd-open-iscsi.img check=bench
      append="ip=dhcp iscsi_initiator=$INITIATOR iscsi_target_name=$TARGET iscsi_target_ip=10.0.2.2 iscsi_target_port=$TGT_PORT iscsi_target_group=1" ;;
    *) die "unknown boot $name" ;;
  esac
  # Both are installed on the disk: open-iscsi's units are masked in kiscsi's boots; kiscsi's
  # skip open-iscsi's boot (their condition on kiscsi_off, make_root.sh: the root mount requires
  # kiscsid.service, which a mask would break).
  case $name in
    open_iscsi_*) append+=" kiscsi_off" ;;
    *) append+=" systemd.mask=iscsid.service systemd.mask=iscsid.socket systemd.mask=open-iscsi.service" ;;
  esac
  local run=$out/$name.run console=$out/$name.log
  rm -rf "$run"
  mkdir -p "$run"
  : >"$console"
  # shellcheck disable=SC2054  # commas are qemu's
  local qemu_args=(-accel tcg -cpu max -m 2048 -smp 2 -nographic -no-reboot -display none
    -kernel "$out/vmlinuz" -initrd "$initrd"
    -append "$common_append $append kiscsi_check=$check"
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,addr=0x3
    -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0,addr=0x1f
    -serial "file:$console"
    -chardev "pipe,id=ctl,path=$run/ctl" -serial chardev:ctl
    -monitor "unix:$run/monitor.sock,server=on,wait=off")
  if ((${#ibft[@]})); then
    python3 "$vm_dir/ibft_gen.py" --out "$run/ibft.bin" >/dev/null || die "ibft_gen.py failed"
    qemu_args+=(-acpitable "sig=iBFT,rev=1,oem_id=KISCSI,oem_table_id=TESTIBFT,file=$run/ibft.bin")
  fi
  mkfifo "$run/ctl.in" "$run/ctl.out"
  tgt_up
  local started
  started=$(now)
  qemu-system-x86_64 "${qemu_args[@]}" </dev/null >"$run/qemu.out" 2>&1 &
  qemu_pid=$!
  local tail_pid=""
  if [ "${KISCSI_VM_QUIET:-0}" != 1 ]; then
    tail -n +1 -f "$console" --pid "$qemu_pid" &
    tail_pid=$!
  fi
  # switch_root, seen from here: the real system's systemd announcing itself on the console
  # (the second announcement when systemd ran in the initramfs too).
  (tail -n +1 -F "$console" --pid "$qemu_pid" 2>/dev/null | while IFS= read -r l; do
    case $l in *"systemd[1]: systemd "*" running in system mode"*) now >>"$run/systemd_at" ;; esac
  done) &
  exec 5<>"$run/ctl.out" 6<>"$run/ctl.in"
  local deadline line rc=0 done_seen=0 poweroff_at="" times=""
  deadline=$(awk -v s="$started" -v t="$timeout_s" 'BEGIN{printf "%d", s+t}')
  local checks=()
  while kill -0 "$qemu_pid" 2>/dev/null; do
    if (($(date +%s) > deadline)); then
      log "$name: no end within $timeout_s s; the guest's tasks are on its console (SysRq w, t)"
      dump_tasks "$run"
      rc=124
      break
    fi
    line=""
    if ! read -r -t 1 line <&5; then
      continue
    fi
    line=${line%$'\r'}
    case $line in
      KISCSI-CHECK\ *)
        checks+=("${line#KISCSI-CHECK }")
        [[ $line == "KISCSI-CHECK "*" ok"* ]] || rc=1 ;;
      KISCSI-OUTAGE\ *)
        local seconds=${line#KISCSI-OUTAGE }
        log "$name: target down for $seconds s"
        tgt_down
        sleep "$seconds"
        tgt_up
        printf 'KISCSI-OUTAGE-DONE\n' >&6
        if [ -n "${KISCSI_ROOTBOOT_DUMP_AFTER_OUTAGE:-}" ]; then  # debugging: tasks S s later
          (sleep "$KISCSI_ROOTBOOT_DUMP_AFTER_OUTAGE"; dump_tasks "$run") &
        fi ;;
      KISCSI-TIMES\ *) times=${line#KISCSI-TIMES } ;;
      KISCSI-CHECKS-DONE\ *) done_seen=1 ;;
      KISCSI-POWEROFF) poweroff_at=$(now) ;;
    esac
  done
  if [ "$rc" = 124 ]; then kill -9 "$qemu_pid" 2>/dev/null || true; fi
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=""
  [ -z "$tail_pid" ] || wait "$tail_pid" 2>/dev/null || true
  exec 5<&- 6>&-
  tgt_down
  local poweroff_s="-"
  if [ -n "$poweroff_at" ]; then
    poweroff_s=$(since "$poweroff_at")
    if awk -v p="$poweroff_s" -v b="$poweroff_bound" 'BEGIN{exit !(p > b)}'; then
      checks+=("poweroff FAIL took $poweroff_s s (bound $poweroff_bound s)")
      rc=1
    else
      checks+=("poweroff ok in $poweroff_s s")
    fi
  fi
  # No I/O error on the console, from the first kernel line to the power-off.
  local io
  io=$(tr -d '\r' <"$console" | grep -v 'kiscsi-boot-check' |
    grep -E 'I/O error|Buffer I/O|EXT4-fs error' | head -n 3 || true)
  if [ -n "$io" ]; then
    checks+=("console_io_errors FAIL ${io//$'\n'/|}")
    rc=1
  fi
  if ((!done_seen)) && [ "$rc" = 0 ]; then rc=1; checks+=("checks FAIL the guest never finished its checks"); fi
  local c
  for c in "${checks[@]}"; do echo "rootboot: $name: $c"; done | tee -a "$out/summary.txt"
  # Power-on (qemu started) to switch_root, and to the daemon holding the session.
  local switch_ms="-" ready_ms="-" after
  local nth=1
  [[ $times != *initrd_systemd=1* ]] || nth=2
  if [ -n "$(sed -n "${nth}p" "$run/systemd_at" 2>/dev/null)" ]; then
    switch_ms=$(awk -v s="$started" -v e="$(sed -n "${nth}p" "$run/systemd_at")" 'BEGIN{printf "%d", (e-s)*1000}')
    after=$(sed -n 's/.*daemon_after_switch_root_ms=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$times")
    [ -z "$after" ] || ready_ms=$((switch_ms + after))
  fi
  echo "ROOTBOOT $name rc=$rc switch_root_ms=$switch_ms daemon_ready_ms=$ready_ms ${times:-no times} poweroff_s=$poweroff_s wall_s=$(since "$started")" |
    tee -a "$out/summary.txt"
  summary+=("$name rc=$rc")
  if [ "$rc" != 0 ]; then
    overall=1
    if [ "${KISCSI_VM_QUIET:-0}" = 1 ]; then
      echo "---- $console (last 80 lines)"
      tr -d '\r' <"$console" | tail -n 80
    fi
  fi
}

: >"$out/summary.txt"
for b in "${boots[@]}"; do boot "$b"; done
if e2fsck -fn "$out/root.img" >"$out/e2fsck.log" 2>&1; then
  echo "rootboot: the disk is clean after the last power-off (e2fsck -fn)"
else
  echo "rootboot: e2fsck -fn found problems after the last power-off:"
  tail -n 20 "$out/e2fsck.log"
  overall=1
fi
# The benchmark: the same generator, command line and disk; power-on to switch_root (the
# initramfs's network and login included; host clock), and to the daemon's taking the session
# over (kiscsid: READY=1 after adoption; open-iscsi: its iscsid's re-login completed; the
# guest's clock from switch_root).
figure() { sed -n "s/^ROOTBOOT $1 .*[[:space:]]$2=\([0-9]*\).*/\1/p" "$out/summary.txt" | tail -n 1; }
k_sr=$(figure itools_cmdline switch_root_ms) o_sr=$(figure open_iscsi_cmdline switch_root_ms)
k_rd=$(figure itools_cmdline daemon_ready_ms) o_rd=$(figure open_iscsi_cmdline daemon_ready_ms)
if [ -n "$k_sr" ] && [ -n "$o_sr" ] && [ -n "$k_rd" ] && [ -n "$o_rd" ]; then
  awk -v ks="$k_sr" -v os="$o_sr" -v kr="$k_rd" -v or="$o_rd" 'BEGIN {
    printf "ROOTBOOT-BENCH power-on to switch_root: kiscsi %d ms vs open-iscsi %d ms (ratio %.2f); to the daemon holding the session: %d ms vs %d ms (ratio %.2f)\n", ks, os, ks / os, kr, or, kr / or }' |
    tee -a "$out/summary.txt"
fi
echo "rootboot: ${summary[*]}"
exit "$overall"

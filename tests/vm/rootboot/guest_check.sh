#!/bin/bash
# The checks of a root-on-iSCSI boot, run inside the booted guest by kiscsi-boot-check.service
# (installed by make_root.sh) once the system is up. Talks to the host (boot.sh) over ttyS1:
#   guest -> host  "KISCSI-CHECK NAME ok|FAIL DETAIL"   one line per check
#                  "KISCSI-OUTAGE SECONDS"               the host takes the target away
#                  "KISCSI-POWEROFF"                     the clock of the shutdown starts
#                  "KISCSI-CHECKS-DONE FAILED=N"
#   host -> guest  "KISCSI-OUTAGE-DONE"                  the target is back
# The kernel command line says what to check: kiscsi_check=basic (the disk, the hand-over, the
# udev settings, a clean file system), kiscsi_check=outage (also a 10 s target outage under
# writes), kiscsi_check=full (and a second outage while kiscsid restarts) or kiscsi_check=bench (open-iscsi's boot: the disk and when its
# iscsid took the session over); then the guest powers off.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

failed=0
ctl_dev=/dev/ttyS1
stty -F "$ctl_dev" raw -echo 115200 2>/dev/null
exec 3<>"$ctl_dev"
say() { printf '%s\n' "$*" >&3; echo "kiscsi-boot-check: $*"; }
check() {  # check NAME ok|FAIL DETAIL...
  local name=$1 result=$2
  shift 2
  [ "$result" = ok ] || failed=$((failed + 1))
  say "KISCSI-CHECK $name $result $*"
}
cmdline_arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
mode=$(cmdline_arg kiscsi_check)
mode=${mode:-basic}

tcp_active_opens() {
  awk '/^Tcp:/ { if (!n) { for (i = 1; i <= NF; i++) col[$i] = i; n = 1 } else print $col["ActiveOpens"] }' \
    /proc/net/snmp
}
# Kernel messages only: this script's own lines (forwarded to the console) are not counted.
io_errors() {
  dmesg | grep -v 'kiscsi-boot-check' |
    grep -Ec 'I/O error|Buffer I/O|EXT4-fs error|Remounting filesystem read-only' || true
}
conn_errors() { dmesg | grep -c 'detected conn error' || true; }

# --- the root disk ------------------------------------------------------------------------------
source_dev=$(findmnt -no SOURCE /)
disk=$(basename "$source_dev")
sys_disk=$(readlink -f "/sys/class/block/$disk" 2>/dev/null)
id_path=$(udevadm info -q property -n "$source_dev" 2>/dev/null | sed -n 's/^ID_PATH=//p')
if [[ $sys_disk == */session*/* && $id_path == *-iscsi-iqn.2026-12.test.boot:root-lun-1 ]]; then
  check root_on_iscsi ok "/ is $source_dev ($id_path)"
else
  check root_on_iscsi FAIL "/ is '$source_dev' at '$sys_disk', ID_PATH '$id_path'"
fi
session=$(grep -o 'session[0-9]*' <<<"$sys_disk" | head -n 1)

# --- open-iscsi's side of the benchmark: its iscsid takes the session over by logging in again --
if [ "$mode" = bench ]; then
  # Debian's iscsid is started by its udev rule when the disk appears; it re-logs in to take the
  # session over ("operational after recovery"): that is when its daemon is ready.
  line=""
  for _ in $(seq 1 300); do
    line=$(journalctl -b -o short-monotonic --no-pager | grep -m1 'operational after recovery' || true)
    [ -n "$line" ] && break
    sleep 0.2
  done
  userspace=$(systemctl show -p UserspaceTimestampMonotonic --value)
  if [ -n "$line" ]; then
    ready_us=$(sed -n 's/^\[ *\([0-9]*\)\.\([0-9]*\)\].*/\1\2/p' <<<"$line")
    check iscsid_took_over ok "${line#*] }"
    say "KISCSI-TIMES daemon_after_switch_root_ms=$(((10#$ready_us - userspace) / 1000)) daemon=iscsid"
  else
    check iscsid_took_over FAIL "iscsid $(systemctl is-active iscsid.service): $(journalctl -b -u iscsid.service --no-pager -o cat | tail -n 5 | tr '\n' '|')"
  fi
  say "KISCSI-CHECKS-DONE FAILED=$failed"
  say "KISCSI-POWEROFF"
  systemctl poweroff
  exit 0
fi

# --- the hand-over: kiscsid adopted the initramfs's session, with no second login ---------------
for _ in $(seq 1 100); do
  [ "$(systemctl is-active kiscsid.service)" = active ] && break
  sleep 0.2
done
state=$(systemctl is-active kiscsid.service)
adopted=$(journalctl -b -u kiscsid.service --no-pager -o cat | grep -c 'adopted' || true)
if [ "$state" = active ] && [ "$adopted" -ge 1 ]; then
  check kiscsid_adopted ok "kiscsid active, $adopted adoption line(s)"
else
  check kiscsid_adopted FAIL "kiscsid $state, adoption lines $adopted: $(journalctl -b -u kiscsid.service --no-pager -o cat | tail -n 5 | tr '\n' '|')"
fi
# Every TCP connection this guest opened since it booted: the initramfs's login is the only one.
opens=$(tcp_active_opens)
conns=$(ss -tnH state established dst 10.0.2.2 | wc -l)
if [ "$opens" = 1 ] && [ "$conns" = 1 ]; then
  check one_login ok "1 TCP connection opened since boot, 1 established to the target"
else
  check one_login FAIL "TCP ActiveOpens $opens, established to the target $conns: $(ss -tnH dst 10.0.2.2 | tr '\n' '|')"
fi
# Where kiscsid took the session's settings from. A boot from the command line leaves no record
# of its own: kiscsid writes one (node.startup = onboot, 0600) for the next start. An iBFT boot
# needs none: kiscsid reads the firmware's boot entry (or a record an earlier boot left).
adoption=$(journalctl -b -u kiscsid.service --no-pager -o cat | grep -m1 ': adopted (' || true)
record=$(grep -rls 'node.startup = onboot' /etc/iscsi/nodes 2>/dev/null | head -n 1)
if grep -qw -e iscsi_auto -e rd.iscsi.firmware=1 /proc/cmdline; then
  if [[ $adoption == *"firmware's boot entry)"* || $adoption == *"node record)"* ]]; then
    check settings_source ok "$adoption"
  else
    check settings_source FAIL "kiscsid did not take the settings from the iBFT or a record: '$adoption'"
  fi
elif [ -n "$record" ] && [ "$(stat -c %a "$record")" = 600 ]; then
  check onboot_record ok "$record"
else
  check onboot_record FAIL "no node record with node.startup = onboot (mode 0600) under /etc/iscsi/nodes: $(find /etc/iscsi/nodes 2>/dev/null | tr '\n' ' '); adoption '$adoption'"
fi
nops=$(cat "/sys/class/iscsi_connection/connection${session#session}:0/ping_tmo" 2>/dev/null)
recovery=$(cat "/sys/class/iscsi_session/$session/recovery_tmo" 2>/dev/null)
if [ "$recovery" = 86400 ]; then
  check root_settings ok "replacement_timeout $recovery"
else
  check root_settings FAIL "recovery_tmo '$recovery' (want 86400 from iscsid.conf), ping_tmo '$nops'"
fi

# --- udev: kiscsi-udev set the disk's timeout and scheduler ------------------------------------
timeout=$(cat "/sys/class/block/$disk/device/timeout" 2>/dev/null)
scheduler=$(cat "/sys/class/block/$disk/queue/scheduler" 2>/dev/null)
if [ "$timeout" = 91 ] && [[ $scheduler == *"[none]"* ]]; then
  check disk_tuning ok "timeout $timeout, scheduler $scheduler"
else
  check disk_tuning FAIL "timeout '$timeout' (want 91), scheduler '$scheduler' (want [none])"
fi

# --- the file system was clean when it was mounted (the previous boot shut down cleanly) --------
if dmesg | grep -q 'EXT4-fs.*recovery complete\|EXT4-fs.*orphan'; then
  check fs_clean FAIL "$(dmesg | grep 'EXT4-fs' | tr '\n' '|')"
else
  check fs_clean ok "$(dmesg | grep -m1 'EXT4-fs.*mounted' | sed 's/^\[[^]]*\] //')"
fi

# --- when the daemon held the session, counted from switch_root (the real system's systemd
# starting), both on this guest's CLOCK_MONOTONIC: kiscsid's READY=1, after the adoption; and
# whether systemd ran in the initramfs too (then it announced itself twice on the console). (The
# time from power-on to switch_root is taken by the host from the console: under emulation the
# guest's early clocks disagree with each other by seconds.)
userspace=$(systemctl show -p UserspaceTimestampMonotonic --value 2>/dev/null)
ready=$(systemctl show -p ActiveEnterTimestampMonotonic --value kiscsid.service 2>/dev/null)
initrd_systemd=0
[ "$(systemctl show -p InitRDTimestampMonotonic --value 2>/dev/null)" -gt 0 ] 2>/dev/null && initrd_systemd=1
say "KISCSI-TIMES daemon_after_switch_root_ms=$(((${ready:-0} - ${userspace:-0}) / 1000)) daemon=kiscsid initrd_systemd=$initrd_systemd"

# --- target outages under writes ---------------------------------------------------------------
# A writer puts 1 MiB chunks of random data on / with O_DIRECT and fsync, each one's checksum
# kept in memory, until told to stop; afterwards every chunk is read back from the disk.
work=/var/tmp/kiscsi-outage
writer() {  # writer DIR STOPFILE
  local dir=$1 stop=$2 i=0
  while [ ! -e "$stop" ]; do
    i=$((i + 1))
    head -c 1048576 /dev/urandom >/dev/shm/chunk || return 1
    sha256sum </dev/shm/chunk | cut -d' ' -f1 >"/dev/shm/sums.$i"
    dd if=/dev/shm/chunk of="$dir/chunk.$i" bs=1M oflag=direct conv=fsync status=none || return 1
  done
  echo "$i" >/dev/shm/chunks
}
verify_chunks() {  # verify_chunks DIR -> prints the number of bad chunks
  local dir=$1 n bad=0 i
  n=$(cat /dev/shm/chunks)
  sync
  echo 3 >/proc/sys/vm/drop_caches
  for i in $(seq 1 "$n"); do
    [ "$(dd if="$dir/chunk.$i" bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1)" = "$(cat "/dev/shm/sums.$i")" ] \
      || bad=$((bad + 1))
  done
  echo "$bad"
}
outage() {  # outage NAME SECONDS [during-restart]
  local name=$1 seconds=$2 how=${3:-} dir=$work/$1 stop=/dev/shm/stop.$1 pid rc line started
  rm -rf "$dir" /dev/shm/sums.* /dev/shm/chunks "$stop"
  mkdir -p "$dir"
  local errors_before conn_before
  errors_before=$(io_errors)
  conn_before=$(conn_errors)
  writer "$dir" "$stop" &
  pid=$!
  sleep 1
  started=$(date +%s.%N)
  say "KISCSI-OUTAGE $seconds"
  if [ "$how" = during-restart ]; then
    sleep 1
    systemctl restart kiscsid.service
  fi
  line=""
  while read -r -t $((seconds + 60)) line <&3; do
    line=${line%$'\r'}
    [ "$line" = KISCSI-OUTAGE-DONE ] && break
  done
  if [ "$line" != KISCSI-OUTAGE-DONE ]; then
    check "$name" FAIL "the host never said the target is back"
    touch "$stop"
    return
  fi
  sleep 2
  touch "$stop"
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    check "$name" FAIL "writes did not resume within 60 s of the target's return"
    return
  fi
  wait "$pid"
  rc=$?
  local bad errors conn state took
  took=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
  bad=$(verify_chunks "$dir")
  errors=$(( $(io_errors) - errors_before ))
  conn=$(( $(conn_errors) - conn_before ))
  state=$(cat "/sys/class/iscsi_session/$session/state" 2>/dev/null)
  if [ "$rc" = 0 ] && [ "$bad" = 0 ] && [ "$errors" = 0 ] && [ "$conn" -ge 1 ] &&
     [ "$state" = LOGGED_IN ] && [ "$(systemctl is-active kiscsid.service)" = active ]; then
    check "$name" ok "$(cat /dev/shm/chunks) chunks written across a ${seconds} s outage, all read back; $conn conn error(s), session $state, ${took} s"
  else
    check "$name" FAIL "writer rc $rc, bad chunks $bad of $(cat /dev/shm/chunks 2>/dev/null), new kernel I/O error lines $errors, conn errors $conn, session '$state', kiscsid $(systemctl is-active kiscsid.service): $(dmesg | tail -n 8 | tr '\n' '|')"
  fi
  rm -rf "$dir"
}
if [ "$mode" = outage ] || [ "$mode" = full ]; then
  outage outage_under_writes 10
fi
if [ "$mode" = full ]; then
  outage outage_during_kiscsid_restart 10 during-restart
  if [ "$(journalctl -b -u kiscsid.service --no-pager -o cat | grep -c 'adopted')" -ge 2 ]; then
    check kiscsid_restart_adopted ok "the restarted kiscsid adopted the session"
  else
    check kiscsid_restart_adopted FAIL "$(journalctl -b -u kiscsid.service --no-pager -o cat | tail -n 8 | tr '\n' '|')"
  fi
fi

cycles=$(journalctl -b --no-pager -o cat | grep -c 'ordering cycle' || true)
if [ "$cycles" = 0 ]; then
  check no_ordering_cycle ok ""
else
  check no_ordering_cycle FAIL "$(journalctl -b --no-pager -o cat | grep 'ordering cycle' | head -n 3 | tr '\n' '|')"
fi

say "KISCSI-CHECKS-DONE FAILED=$failed"
say "KISCSI-POWEROFF"
systemctl poweroff

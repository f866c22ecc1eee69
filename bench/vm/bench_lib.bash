# shellcheck shell=bash disable=SC2034,SC2154  # shared variables; oi_root and kdebug come from the caller
# Shared by the VM benchmarks (bench/vm/*_bench.sh), sourced after tests/vm/guest/lib.sh with
# oi_root set to the unpacked open-iscsi (bench/vm/fetch_open_iscsi.sh). Not a scenario itself.
#   nap S / nap_until US / now (NOW = µs since the epoch): sleeping and clock without a fork
#   start_sys / stop_sys / daemon_pid SYSTEM  kiscsid or open-iscsi's iscsid (SYSTEM = kiscsi or
#                                             open-iscsi), each in its own session
#   sys_adm SYSTEM ARGS...                    kiscsiadm or iscsiadm through `run`
#   bench_configure                           /etc/iscsi for open-iscsi and a scratch
#                                             KISCSI_SYSCONFDIR for kiscsi, same iscsid.conf
#   discover SYSTEM N / discover_all N        SendTargets on $PORTAL, expecting N records
#   open_targets FIRST LAST                   LIO targets target_name FIRST..LAST, one LUN each
#   count_disks / count_sessions              DISKS / SESSIONS from sysfs
#   add_sample NAME VALUE / med NAME          samples[NAME] and their median
#   rss_kib PID, procs_named NAME, median, ratio, verdict, adm_cmd SYSTEM (ADM_CMD, ADM_LIB),
#   with_adm_lib CMD..., now (NOW), ms_since T0_US T_US
PORTAL=127.0.0.1
PREFIX=iqn.2026-11.bench.vm
target_name() { printf '%s:t%02d' "$PREFIX" "$1"; }

OI_LIB=$oi_root/usr/lib/x86_64-linux-gnu:$oi_root/lib/x86_64-linux-gnu
OI_ISCSID=$oi_root/sbin/iscsid
OI_ADM=$oi_root/sbin/iscsiadm
KISCSID=$KISCSI_BUILD/bin/kiscsid
for b in "$OI_ISCSID" "$OI_ADM" "$KISCSID" "$ADM"; do
  [ -x "$b" ] || fail "bench: $b is missing"
done
oi_adm() { run env LD_LIBRARY_PATH="$OI_LIB" "$OI_ADM" "$@"; }
# SYSTEM -> ADM_CMD, its CLI, and ADM_LIB, the LD_LIBRARY_PATH it needs (empty for kiscsi). Timed
# runs set ADM_LIB in the command's own environment (`LD_LIBRARY_PATH=$ADM_LIB cmd`) rather than
# through env(1), whose exec would add tens of milliseconds under emulation to open-iscsi's times.
adm_cmd() {
  if [ "$1" = kiscsi ]; then ADM_CMD=("$ADM") ADM_LIB=""; else ADM_CMD=("$OI_ADM") ADM_LIB=$OI_LIB; fi
}
# with_adm_lib CMD...: runs CMD with ADM_LIB as its LD_LIBRARY_PATH (none when empty).
with_adm_lib() {
  if [ -n "$ADM_LIB" ]; then LD_LIBRARY_PATH=$ADM_LIB "$@"; else "$@"; fi
}
sys_adm() { # SYSTEM ARGS...
  local sys=$1
  shift
  if [ "$sys" = kiscsi ]; then run "$ADM" "$@"; else oi_adm "$@"; fi
}
SINGLE=$(target_name 0)
SYSTEMS=(kiscsi open-iscsi)
open_targets() { # FIRST LAST: open LIO targets FIRST..LAST (target_name) with one LUN each
  local i t
  for ((i = $1; i <= $2; i++)); do
    t=$(target_name "$i")
    lio_open_target "$t" 1
    lio_portal "$t" "$PORTAL" 3260
    lio_enable "$t"
  done
}
discover_all() { # N: each system discovers N targets (its daemon started for it)
  local sys
  for sys in "${SYSTEMS[@]}"; do
    step "$sys: discovery of $1 target(s)"
    start_sys "$sys"
    discover "$sys" "$1"
    stop_sys "$sys"
  done
}

# A builtin sleep (no fork under emulation): read with a timeout from a FIFO nobody writes.
mkfifo "$KISCSI_VM_TMP/sleep.fifo"
exec {SLEEP_FD}<>"$KISCSI_VM_TMP/sleep.fifo"
nap() { read -r -t "$1" -u "$SLEEP_FD" _ || true; }
# NOW = microseconds since the epoch, without a fork (no command substitution in the loops).
now() { NOW=${EPOCHREALTIME/[.,]/}; }
ms_since() { # T0_US T_US -> milliseconds from T0 to T, one decimal
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
}
# Sleeps until NOW reaches US (a signal may end one read early).
nap_until() {
  local left frac
  while now && ((NOW < $1)); do
    left=$(($1 - NOW))
    printf -v frac '%06d' $((left % 1000000))
    nap "$((left / 1000000)).$frac"
  done
}

# --- daemons -------------------------------------------------------------------------------------
KPID="" IPID=""
check_comm() { # PID NAME: setsid exec'd the daemon (it did not fork), so $! is the daemon
  local comm=""
  read -r comm <"/proc/$1/comm" 2>/dev/null || true
  [ "$comm" = "$2" ] || fail "login_bench: pid $1 is '$comm', not $2"
}
start_kiscsid() {
  [ -z "$IPID" ] || fail "login_bench: iscsid is still running"
  now
  echo "---- kiscsid start $NOW" >>"$KISCSI_VM_TMP/kiscsid.log"
  # Own session and process group for both daemons: iscsid signals its whole process group when
  # it shuts down, which would otherwise include this script.
  setsid "$KISCSID" -f -d "$kdebug" >>"$KISCSI_VM_TMP/kiscsid.log" 2>&1 &
  KPID=$!
  local i
  for ((i = 0; i < 1000; i++)); do
    if [ -S "$KISCSI_RUNDIR/kiscsid.sock" ]; then check_comm "$KPID" kiscsid; return 0; fi
    kill -0 "$KPID" 2>/dev/null || { KPID=""; fail "kiscsid exited at start"; }
    nap 0.01
  done
  fail "kiscsid did not create $KISCSI_RUNDIR/kiscsid.sock within 10 s"
}
stop_kiscsid() {
  local pid=$KPID rc=0
  KPID=""
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  ((rc == 0)) || fail "kiscsid exited with $rc on SIGTERM"
}
iscsid_listening() { grep -q '@ISCSIADM_ABSTRACT_NAMESPACE' /proc/net/unix; }
start_iscsid() {
  [ -z "$KPID" ] || fail "login_bench: kiscsid is still running"
  now
  echo "---- iscsid start $NOW" >>"$KISCSI_VM_TMP/iscsid.log"
  LD_LIBRARY_PATH=$OI_LIB setsid "$OI_ISCSID" -f >>"$KISCSI_VM_TMP/iscsid.log" 2>&1 &
  IPID=$!
  local i
  for ((i = 0; i < 1000; i++)); do
    if iscsid_listening; then check_comm "$IPID" iscsid; return 0; fi
    kill -0 "$IPID" 2>/dev/null || { IPID=""; fail "iscsid exited at start"; }
    nap 0.01
  done
  fail "iscsid did not listen on @ISCSIADM_ABSTRACT_NAMESPACE within 10 s"
}
stop_iscsid() {
  local pid=$IPID i
  IPID=""
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true # iscsid ends on SIGTERM with a signal status
  for ((i = 0; i < 500; i++)); do
    iscsid_listening || return 0
    nap 0.01
  done
  fail "iscsid still listening 5 s after SIGTERM"
}

start_sys() { if [ "$1" = kiscsi ]; then start_kiscsid; else start_iscsid; fi; }
stop_sys() { if [ "$1" = kiscsi ]; then stop_kiscsid; else stop_iscsid; fi; }
daemon_pid() { if [ "$1" = kiscsi ]; then echo "$KPID"; else echo "$IPID"; fi; }

# VmRSS (KiB) of PID and, for information, of every process with the same name.
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
procs_named() { # NAME -> "pid:rss_kib" lines
  local s name rss
  for s in /proc/[0-9]*/status; do
    name="" rss=0
    while read -r k v _; do
      case $k in Name:) name=$v ;; VmRSS:) rss=$v ;; esac
    done 2>/dev/null <"$s" || continue
    if [ "$name" = "$1" ]; then s=${s#/proc/}; echo "${s%/status}:$rss"; fi
  done
}

diagnostics() {
  local f
  for f in kiscsid.log iscsid.log; do
    if [ -s "$KISCSI_VM_TMP/$f" ]; then
      echo "----- $f (last 80 lines):" >&2
      tail -n 80 "$KISCSI_VM_TMP/$f" >&2
    fi
  done
  echo "----- sessions in sysfs:" >&2
  ls /sys/class/iscsi_session/ >&2 2>/dev/null || true
}
trap 'rc=$?; if ((rc != 0)); then diagnostics; fi' EXIT

# --- measuring -----------------------------------------------------------------------------------
# DISKS = iSCSI disks whose /dev node exists; SESSIONS = iSCSI sessions in sysfs.
count_disks() {
  local b n=0
  for b in /sys/class/iscsi_session/session*/device/target*/*/block/*; do
    [ -b "/dev/${b##*/}" ] && n=$((n + 1))
  done
  DISKS=$n
}
count_sessions() {
  local s=(/sys/class/iscsi_session/session*)
  SESSIONS=${#s[@]}
}
proc_done() { # PID: exited (reaped or zombie)
  local st
  read -r st 2>/dev/null <"/proc/$1/stat" || return 0
  st=${st##*) }
  [ "${st%% *}" = Z ]
}


median() { # values... -> median (mean of the middle two for an even count)
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }

declare -A samples=()
add_sample() { samples[$1]+="${samples[$1]:+ }$2"; } # NAME VALUE
# shellcheck disable=SC2086  # the samples are space-separated numbers
med() { median ${samples[$1]:-}; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r != "nan" && r <= g) ? "met" : "MISSED" }'; }

bench_configure() {
  oi_version=$(LD_LIBRARY_PATH=$OI_LIB "$OI_ADM" --version) || fail "$OI_ADM does not run in the guest"
  step "open-iscsi configuration in /etc/iscsi ($oi_version)"
  rm -rf /etc/iscsi
  mkdir -p /etc/iscsi /run/lock/iscsi /var/lib/iscsi
  # Debian's iscsid.conf, except that iscsiadm must never try to start iscsid through systemd.
  sed 's|^iscsid.startup = .*|iscsid.startup = /bin/false|' "$oi_root/etc/iscsi/iscsid.conf" \
    >/etc/iscsi/iscsid.conf
  printf 'InitiatorName=%s\n' "iqn.2026-11.bench.vm:open-iscsi" >/etc/iscsi/initiatorname.iscsi

  step "kiscsi configuration in a scratch KISCSI_SYSCONFDIR (same iscsid.conf)"
  kiscsi_scratch "iqn.2026-11.bench.vm:kiscsi"
  cp /etc/iscsi/iscsid.conf "$KISCSI_SYSCONFDIR/iscsid.conf"
}

discover() { # SYSTEM EXPECTED_NODES
  local sys=$1 want=$2 n
  sys_adm "$sys" -m discovery -t st -p "$PORTAL"
  assert_rc 0 "$sys discovery"
  n=$(grep -c "^$PORTAL:3260,1 $PREFIX:" <<<"$RUN_OUT" || true)
  [ "$n" -eq "$want" ] || { echo "$RUN_OUT" >&2; fail "$sys discovery found $n targets, expected $want"; }
  sys_adm "$sys" -m node
  assert_rc 0 "$sys -m node"
  n=$(grep -c "^$PORTAL:3260,1 $PREFIX:" <<<"$RUN_OUT" || true)
  [ "$n" -eq "$want" ] || { echo "$RUN_OUT" >&2; fail "$sys has $n node records, expected $want"; }
}

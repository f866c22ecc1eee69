#!/usr/bin/env bash
# Side-by-side login benchmark inside the kiscsi test VM: kiscsi (kiscsid + kiscsiadm from the
# build tree) against open-iscsi 2.1.8 (Debian's iscsid + iscsiadm, unpacked on the host by
# bench/vm/fetch_open_iscsi.sh, run here with LD_LIBRARY_PATH), same kernel, same LIO targets on
# 127.0.0.1:3260, one initiator stack active at a time.
#
#   tests/vm/run.sh --build BUILD --timeout 900 bench/vm/login_bench.sh \
#       --open-iscsi ROOT [--single N] [--multi N] [--targets N] [--warmup N] [--poll SECONDS]
#
#   --open-iscsi ROOT  the unpacked open-iscsi (ROOT/sbin/iscsid, ROOT/sbin/iscsiadm)
#   --single N         timed single logins per system (default 5)
#   --multi N          timed `-m node -L all` runs per system (default 3)
#   --targets N        targets for the -L all runs (default 32)
#   --warmup N         untimed rounds per system before each part (default 1)
#   --poll SECONDS     polling period for the block devices (default 0.005)
#   --kiscsid-debug N  kiscsid -d N (default 1, its default); its log is printed on failure
#
# Metrics (median of the timed rounds, rounds alternate between the systems):
#   single: from starting `-m node -T T -p 127.0.0.1 -l` until the session's disk has its
#           /dev/sdX node;
#   multi:  from starting `-m node -L all` until all N disks have their /dev nodes;
#   rss:    VmRSS of kiscsid and of iscsid with N sessions logged in.
# Also recorded: when the login command returned, logout times, and idle RSS.
# Prints a table between "==== BENCH TABLE" and "==== END BENCH TABLE" and machine-readable
# "BENCH name=value" lines. Any failed step of either system fails the scenario with its output
# and the daemon logs.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
shopt -s nullglob

oi_root="" single_runs=5 multi_runs=3 ntargets=32 warmup=1 poll=0.005 kdebug=1
while (($#)); do
  case $1 in
    --open-iscsi) oi_root=${2:?}; shift 2 ;;
    --single) single_runs=${2:?}; shift 2 ;;
    --multi) multi_runs=${2:?}; shift 2 ;;
    --targets) ntargets=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --poll) poll=${2:?}; shift 2 ;;
    --kiscsid-debug) kdebug=${2:?}; shift 2 ;;
    *) fail "login_bench: unknown argument '$1'" ;;
  esac
done
[ -n "$oi_root" ] || fail "login_bench: --open-iscsi ROOT is required (see bench/vm/fetch_open_iscsi.sh)"
for n in "$single_runs" "$multi_runs" "$ntargets" "$warmup"; do
  [[ $n =~ ^[0-9]+$ ]] || fail "login_bench: '$n' is not a count"
done
((single_runs >= 1 && multi_runs >= 1 && ntargets >= 1)) || fail "login_bench: counts must be >= 1"

OI_LIB=$oi_root/usr/lib/x86_64-linux-gnu:$oi_root/lib/x86_64-linux-gnu
OI_ISCSID=$oi_root/sbin/iscsid
OI_ADM=$oi_root/sbin/iscsiadm
KISCSID=$KISCSI_BUILD/bin/kiscsid
for b in "$OI_ISCSID" "$OI_ADM" "$KISCSID" "$ADM"; do
  [ -x "$b" ] || fail "login_bench: $b is missing"
done
oi_adm() { run env LD_LIBRARY_PATH="$OI_LIB" "$OI_ADM" "$@"; }

PORTAL=127.0.0.1
PREFIX=iqn.2026-11.bench.vm
target_name() { printf '%s:t%02d' "$PREFIX" "$1"; }
SINGLE=$(target_name 0)

# A builtin sleep (no fork under emulation): read with a timeout from a FIFO nobody writes.
mkfifo "$KISCSI_VM_TMP/sleep.fifo"
exec {SLEEP_FD}<>"$KISCSI_VM_TMP/sleep.fifo"
nap() { read -r -t "$1" -u "$SLEEP_FD" _ || true; }
# NOW = microseconds since the epoch, without a fork (no command substitution in the loops).
now() { NOW=${EPOCHREALTIME/[.,]/}; }

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

# What the sockets look like when one login takes over 5 s (it should take well under 1 s):
# TCP queues on the portal and the NETLINK_ISCSI (protocol 8) sockets with their drop counters.
stall_dump() {
  echo "---- $1: login still running after $(($2 / 1000)) ms; sockets now:" >&2
  ss -tanpie 2>/dev/null | grep -A1 ':3260' >&2 || cat /proc/net/tcp >&2
  echo "---- /proc/net/netlink (protocol 8 = NETLINK_ISCSI; sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode):" >&2
  awk 'NR == 1 || $2 == 8' /proc/net/netlink >&2
  echo "---- sessions: $(ls /sys/class/iscsi_session/ 2>/dev/null | tr '\n' ' ')" >&2
  local s
  for s in /sys/class/iscsi_connection/connection*; do
    echo "---- ${s##*/}: state=$(cat "$s/state" 2>/dev/null)" >&2
  done
}

# timed_login SYSTEM WANT_DISKS TIMEOUT_S CMD...: runs CMD in the background and polls until it
# has exited successfully and WANT_DISKS disks have /dev nodes. Sets T_DEV_MS (start to disks)
# and T_CMD_MS (start to the command's exit). Fails loudly on an error or a timeout.
timed_login() {
  local sys=$1 want=$2 limit_us=$(($3 * 1000000)) t0 t_dev="" t_cmd="" pid rc stalled=0
  shift 3
  now
  t0=$NOW
  "$@" >"$KISCSI_VM_TMP/login.out" 2>"$KISCSI_VM_TMP/login.err" &
  pid=$!
  while :; do
    if [ -z "$t_dev" ]; then
      count_disks
      if ((DISKS >= want)); then now; t_dev=$NOW; fi
    fi
    if [ -z "$t_cmd" ] && proc_done "$pid"; then
      now
      t_cmd=$NOW
      rc=0
      wait "$pid" || rc=$?
      if ((rc != 0)); then
        echo "---- $sys: $* exited with $rc after $(((t_cmd - t0) / 1000)) ms" >&2
        echo "---- stdout:" >&2; cat "$KISCSI_VM_TMP/login.out" >&2
        echo "---- stderr:" >&2; cat "$KISCSI_VM_TMP/login.err" >&2
        count_sessions; count_disks
        fail "$sys login failed (rc=$rc; $SESSIONS sessions, $DISKS disks of $want)"
      fi
    fi
    [ -n "$t_dev" ] && [ -n "$t_cmd" ] && break
    now
    if ((!stalled && NOW - t0 > 5000000 && want == 1)); then
      stalled=1
      stall_dump "$sys" "$((NOW - t0))"
    fi
    if ((NOW - t0 > limit_us)); then
      count_sessions
      echo "---- $sys: $* still running: ${t_cmd:+no }$DISKS of $want disks, $SESSIONS sessions" >&2
      echo "---- stdout:" >&2; cat "$KISCSI_VM_TMP/login.out" >&2
      echo "---- stderr:" >&2; cat "$KISCSI_VM_TMP/login.err" >&2
      fail "$sys: no $want usable disks after $((limit_us / 1000000)) s"
    fi
    nap "$poll"
  done
  T_DEV_MS=$(awk -v a="$t0" -v b="$t_dev" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
  T_CMD_MS=$(awk -v a="$t0" -v b="$t_cmd" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
}

# timed_logout SYSTEM CMD...: runs CMD, waits until no session is left. Sets T_OUT_MS.
timed_logout() {
  local sys=$1 t0 t1 i
  shift
  now
  t0=$NOW
  run "$@"
  assert_rc 0 "$sys logout: $*"
  for ((i = 0; ; i++)); do
    count_sessions
    ((SESSIONS == 0)) && break
    ((i < 12000)) || fail "$sys: $SESSIONS sessions left 60 s after logout"
    nap "$poll"
  done
  now
  t1=$NOW
  T_OUT_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
}

median() { # values... -> median (mean of the middle two for an even count)
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }

# --- setup ---------------------------------------------------------------------------------------
step "modules, LIO target $SINGLE on $PORTAL:3260"
lio_load
for m in iscsi_tcp sd_mod crc32c_generic; do modprobe "$m" || fail "modprobe $m"; done
lio_open_target "$SINGLE" 1
lio_portal "$SINGLE" "$PORTAL" 3260
lio_enable "$SINGLE"

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

discover() { # SYSTEM EXPECTED_NODES
  local sys=$1 want=$2 n
  if [ "$sys" = kiscsi ]; then
    adm -m discovery -t st -p "$PORTAL"
  else
    oi_adm -m discovery -t st -p "$PORTAL"
  fi
  assert_rc 0 "$sys discovery"
  n=$(grep -c "^$PORTAL:3260,1 $PREFIX:" <<<"$RUN_OUT" || true)
  [ "$n" -eq "$want" ] || { echo "$RUN_OUT" >&2; fail "$sys discovery found $n targets, expected $want"; }
  if [ "$sys" = kiscsi ]; then adm -m node; else oi_adm -m node; fi
  assert_rc 0 "$sys -m node"
  n=$(grep -c "^$PORTAL:3260,1 $PREFIX:" <<<"$RUN_OUT" || true)
  [ "$n" -eq "$want" ] || { echo "$RUN_OUT" >&2; fail "$sys has $n node records, expected $want"; }
}

SYSTEMS=(kiscsi open-iscsi)
for sys in "${SYSTEMS[@]}"; do
  step "$sys: discovery of $SINGLE"
  start_sys "$sys"
  discover "$sys" 1
  stop_sys "$sys"
done

# --- part 1: one login to a usable disk ------------------------------------------------------------
declare -A samples=()
add_sample() { samples[$1]+="${samples[$1]:+ }$2"; }

single_round() { # SYSTEM LABEL
  local sys=$1 label=$2
  start_sys "$sys"
  if [ "$sys" = kiscsi ]; then
    timed_login "$sys" 1 120 "$ADM" -m node -T "$SINGLE" -p "$PORTAL" -l
  else
    timed_login "$sys" 1 120 env LD_LIBRARY_PATH="$OI_LIB" "$OI_ADM" -m node -T "$SINGLE" -p "$PORTAL" -l
  fi
  count_sessions
  ((SESSIONS == 1)) || fail "$sys: $SESSIONS sessions after one login"
  local dev_ms=$T_DEV_MS cmd_ms=$T_CMD_MS
  if [ "$sys" = kiscsi ]; then
    timed_logout "$sys" "$ADM" -m node -T "$SINGLE" -p "$PORTAL" -u
  else
    timed_logout "$sys" env LD_LIBRARY_PATH="$OI_LIB" "$OI_ADM" -m node -T "$SINGLE" -p "$PORTAL" -u
  fi
  stop_sys "$sys"
  echo "BENCH_SAMPLE part=single system=$sys round=$label disk_ms=$dev_ms cmd_ms=$cmd_ms logout_ms=$T_OUT_MS"
  if [ "$label" != warmup ]; then
    add_sample "single_$sys" "$dev_ms"
    add_sample "single_cmd_$sys" "$cmd_ms"
    add_sample "single_logout_$sys" "$T_OUT_MS"
  fi
}

step "part 1: single login to a usable disk ($warmup warm-up + $single_runs timed rounds per system, alternating)"
for ((r = 0; r < warmup; r++)); do
  for sys in "${SYSTEMS[@]}"; do single_round "$sys" warmup; done
done
for ((r = 1; r <= single_runs; r++)); do
  # Alternate which system goes first, so neither always follows the other.
  if ((r % 2)); then order=(kiscsi open-iscsi); else order=(open-iscsi kiscsi); fi
  for sys in "${order[@]}"; do single_round "$sys" "$r"; done
done

# --- part 2: N sessions with -L all -----------------------------------------------------------
step "part 2: $ntargets LIO targets"
for ((i = 1; i < ntargets; i++)); do
  t=$(target_name "$i")
  lio_open_target "$t" 1
  lio_portal "$t" "$PORTAL" 3260
  lio_enable "$t"
done
for sys in "${SYSTEMS[@]}"; do
  step "$sys: discovery of $ntargets targets"
  start_sys "$sys"
  discover "$sys" "$ntargets"
  stop_sys "$sys"
done

multi_round() { # SYSTEM LABEL
  local sys=$1 label=$2 pid idle_rss rss all
  start_sys "$sys"
  pid=$(daemon_pid "$sys")
  idle_rss=$(rss_kib "$pid")
  if [ "$sys" = kiscsi ]; then
    timed_login "$sys" "$ntargets" 600 "$ADM" -m node -L all
  else
    timed_login "$sys" "$ntargets" 600 env LD_LIBRARY_PATH="$OI_LIB" "$OI_ADM" -m node -L all
  fi
  count_sessions
  ((SESSIONS == ntargets)) || fail "$sys: $SESSIONS sessions after -L all, expected $ntargets"
  local dev_ms=$T_DEV_MS cmd_ms=$T_CMD_MS
  rss=$(rss_kib "$pid")
  if [ "$sys" = kiscsi ]; then
    all=$(procs_named kiscsid | tr '\n' ' ')
  else
    all=$(procs_named iscsid | tr '\n' ' ')
  fi
  if [ "$sys" = kiscsi ]; then
    timed_logout "$sys" "$ADM" -m node -U all
  else
    timed_logout "$sys" env LD_LIBRARY_PATH="$OI_LIB" "$OI_ADM" -m node -U all
  fi
  stop_sys "$sys"
  echo "BENCH_SAMPLE part=multi system=$sys round=$label disks=$ntargets disk_ms=$dev_ms cmd_ms=$cmd_ms logout_ms=$T_OUT_MS rss_idle_kib=$idle_rss rss_kib=$rss processes(pid:rss_kib)=${all% }"
  if [ "$label" != warmup ]; then
    add_sample "multi_$sys" "$dev_ms"
    add_sample "multi_cmd_$sys" "$cmd_ms"
    add_sample "multi_logout_$sys" "$T_OUT_MS"
    add_sample "rss_$sys" "$rss"
    add_sample "rss_idle_$sys" "$idle_rss"
  fi
}

step "part 2: -L all to $ntargets usable disks ($warmup warm-up + $multi_runs timed rounds per system, alternating)"
for ((r = 0; r < warmup; r++)); do
  for sys in "${SYSTEMS[@]}"; do multi_round "$sys" warmup; done
done
for ((r = 1; r <= multi_runs; r++)); do
  if ((r % 2)); then order=(kiscsi open-iscsi); else order=(open-iscsi kiscsi); fi
  for sys in "${order[@]}"; do multi_round "$sys" "$r"; done
done

# --- results -------------------------------------------------------------------------------------
# shellcheck disable=SC2086  # the samples are space-separated numbers
med() { median ${samples[$1]}; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r != "nan" && r <= g) ? "met" : "MISSED" }'; }

s_k=$(med single_kiscsi) s_o=$(med single_open-iscsi) s_r=$(ratio "$s_k" "$s_o")
m_k=$(med multi_kiscsi) m_o=$(med multi_open-iscsi) m_r=$(ratio "$m_k" "$m_o")
sc_k=$(med single_cmd_kiscsi) sc_o=$(med single_cmd_open-iscsi)
mc_k=$(med multi_cmd_kiscsi) mc_o=$(med multi_cmd_open-iscsi)
so_k=$(med single_logout_kiscsi) so_o=$(med single_logout_open-iscsi)
mo_k=$(med multi_logout_kiscsi) mo_o=$(med multi_logout_open-iscsi)
r_k=$(med rss_kiscsi) r_o=$(med rss_open-iscsi)
ri_k=$(med rss_idle_kiscsi) ri_o=$(med rss_idle_open-iscsi)
kver=$(uname -r)

echo "==== BENCH TABLE (kernel $kver, $(nproc) vCPUs under qemu/TCG; medians; single: $single_runs rounds, -L all: $multi_runs rounds)"
{
  printf '%-44s %12s %12s %8s %8s %s\n' metric kiscsi open-iscsi ratio goal verdict
  printf '%-44s %12s %12s %8s %8s %s\n' "single login -> /dev/sdX (ms)" "$s_k" "$s_o" "$s_r" "<=0.5" "$(verdict "$s_r" 0.5)"
  printf '%-44s %12s %12s %8s %8s %s\n' "-L all $ntargets sessions -> $ntargets disks (ms)" "$m_k" "$m_o" "$m_r" "<=0.33" "$(verdict "$m_r" 0.33)"
  printf '%-44s %12s %12s %8s\n' "daemon VmRSS with $ntargets sessions (KiB)" "$r_k" "$r_o" "$(ratio "$r_k" "$r_o")"
  printf '%-44s %12s %12s %8s\n' "(info) daemon VmRSS idle (KiB)" "$ri_k" "$ri_o" "$(ratio "$ri_k" "$ri_o")"
  printf '%-44s %12s %12s %8s\n' "(info) single: login command returned (ms)" "$sc_k" "$sc_o" "$(ratio "$sc_k" "$sc_o")"
  printf '%-44s %12s %12s %8s\n' "(info) -L all: command returned (ms)" "$mc_k" "$mc_o" "$(ratio "$mc_k" "$mc_o")"
  printf '%-44s %12s %12s %8s\n' "(info) single logout, sessions gone (ms)" "$so_k" "$so_o" "$(ratio "$so_k" "$so_o")"
  printf '%-44s %12s %12s %8s\n' "(info) -U all, sessions gone (ms)" "$mo_k" "$mo_o" "$(ratio "$mo_k" "$mo_o")"
} | tee "$KISCSI_VM_TMP/table"
echo "samples (ms): single kiscsi [${samples[single_kiscsi]}] open-iscsi [${samples[single_open-iscsi]}]"
echo "samples (ms): -L all kiscsi [${samples[multi_kiscsi]}] open-iscsi [${samples[multi_open-iscsi]}]"
echo "==== END BENCH TABLE"
cat <<EOF
BENCH kernel=$kver
BENCH single_login_ms_kiscsi=$s_k
BENCH single_login_ms_open_iscsi=$s_o
BENCH single_login_ratio=$s_r
BENCH login_all_targets=$ntargets
BENCH login_all_ms_kiscsi=$m_k
BENCH login_all_ms_open_iscsi=$m_o
BENCH login_all_ratio=$m_r
BENCH rss_kib_kiscsid=$r_k
BENCH rss_kib_iscsid=$r_o
BENCH rss_idle_kib_kiscsid=$ri_k
BENCH rss_idle_kib_iscsid=$ri_o
BENCH single_cmd_ms_kiscsi=$sc_k
BENCH single_cmd_ms_open_iscsi=$sc_o
BENCH login_all_cmd_ms_kiscsi=$mc_k
BENCH login_all_cmd_ms_open_iscsi=$mc_o
BENCH single_logout_ms_kiscsi=$so_k
BENCH single_logout_ms_open_iscsi=$so_o
BENCH logout_all_ms_kiscsi=$mo_k
BENCH logout_all_ms_open_iscsi=$mo_o
EOF
step "login_bench done"

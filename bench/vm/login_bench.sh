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
#   --phases N         single logins per system polled for their stages (default 3)
#   --poll SECONDS     polling period of the stage rounds and logouts (default 0.005)
#   --kiscsid-debug N  kiscsid -d N (default 1, its default); its log is printed on failure
#
# Metrics (median of the timed rounds, rounds alternate between the systems):
#   single: from starting `-m node -T T -p 127.0.0.1 -l` until the session's disk has its
#           /dev/sdX node, for the second login of the daemon started for the round (the first
#           one, reported too, also pays for the daemon's first run through its login code,
#           which emulation makes costly: every code path is translated on first use);
#   multi:  from starting `-m node -L all` until all N disks have their /dev nodes;
#   rss:    VmRSS of kiscsid and of iscsid with N sessions logged in.
# Timed rounds run the command under BUILD/bench/vm/login_timer, which starts it and sleeps on
# inotify (/dev) and a pidfd: nothing polls while a login runs. Also recorded: when the login
# command returned, logout times, idle RSS, the floor (spawning /bin/true) and each CLI's
# start-up (`--version`), and in separate stage rounds (sysfs polled by this
# script every --poll seconds, which costs the guest CPU) when each stage of a single login first
# showed in sysfs (kernel session, connection up, SCSI device, block device), to tell the control
# plane's share of the time from the kernel's scan and sd probe.
# Prints a table between "==== BENCH TABLE" and "==== END BENCH TABLE" and machine-readable
# "BENCH name=value" lines. Any failed step of either system fails the scenario with its output
# and the daemon logs.
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
shopt -s nullglob

oi_root="" single_runs=5 multi_runs=3 ntargets=32 warmup=1 phase_runs=3 poll=0.005 kdebug=1
while (($#)); do
  case $1 in
    --open-iscsi) oi_root=${2:?}; shift 2 ;;
    --single) single_runs=${2:?}; shift 2 ;;
    --multi) multi_runs=${2:?}; shift 2 ;;
    --targets) ntargets=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --phases) phase_runs=${2:?}; shift 2 ;;
    --poll) poll=${2:?}; shift 2 ;;
    --kiscsid-debug) kdebug=${2:?}; shift 2 ;;
    *) fail "login_bench: unknown argument '$1'" ;;
  esac
done
[ -n "$oi_root" ] || fail "login_bench: --open-iscsi ROOT is required (see bench/vm/fetch_open_iscsi.sh)"
for n in "$single_runs" "$multi_runs" "$ntargets" "$warmup" "$phase_runs"; do
  [[ $n =~ ^[0-9]+$ ]] || fail "login_bench: '$n' is not a count"
done
((single_runs >= 1 && multi_runs >= 1 && ntargets >= 1)) || fail "login_bench: counts must be >= 1"
# shellcheck source=bench/vm/bench_lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.bash"
TIMER=$KISCSI_BUILD/bench/vm/login_timer
[ -x "$TIMER" ] || fail "login_bench: $TIMER is missing (build target login_timer)"

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

# phase_poll: for a single login, when each stage first showed in sysfs (P_SESS: the kernel
# session exists; P_UP: its connection is "up", i.e. logged in and started; P_SDEV: the scan
# added a SCSI device; P_BLK: sd attached a block device). Unset stamps are empty.
phase_poll() {
  local f st
  if [ -z "$P_SESS" ]; then
    f=(/sys/class/iscsi_session/session*)
    if ((${#f[@]})); then now; P_SESS=$NOW; fi
  fi
  if [ -z "$P_UP" ]; then
    for f in /sys/class/iscsi_connection/connection*/state; do
      st=""; read -r st <"$f" 2>/dev/null || true
      if [ "$st" = up ]; then now; P_UP=$NOW; break; fi
    done
  fi
  if [ -z "$P_SDEV" ]; then
    f=(/sys/class/iscsi_session/session*/device/target*/*:*:*:*)
    if ((${#f[@]})); then now; P_SDEV=$NOW; fi
  fi
  if [ -z "$P_BLK" ]; then
    f=(/sys/class/iscsi_session/session*/device/target*/*:*:*:*/block/*)
    if ((${#f[@]})); then now; P_BLK=$NOW; fi
  fi
  return 0
}

# timed_run SYSTEM WANT_DISKS TIMEOUT_S CMD...: runs CMD under login_timer until it has exited
# successfully and WANT_DISKS disks have /dev nodes. Sets T_DEV_MS (start to disks) and T_CMD_MS
# (start to the command's exit). Fails loudly on an error or a timeout.
timed_run() {
  local sys=$1 want=$2 limit_ms=$(($3 * 1000)) line rc=0
  shift 3
  rm -f "$KISCSI_VM_TMP/login.out"
  line=$(with_adm_lib "$TIMER" --disks "$want" --timeout-ms "$limit_ms" \
    --log "$KISCSI_VM_TMP/login.out" -- "$@") || rc=$?
  if ((rc != 0)) || [[ $line != *" rc=0" ]] || [[ $line == disk_ms=none* ]]; then
    count_sessions; count_disks
    echo "---- $sys: $* under login_timer: $line (exit $rc)" >&2
    echo "---- its output:" >&2; cat "$KISCSI_VM_TMP/login.out" >&2
    fail "$sys login failed ($SESSIONS sessions, $DISKS disks of $want)"
  fi
  [[ $line =~ ^disk_ms=([0-9.]+)\ cmd_ms=([0-9.]+)\ rc=0$ ]] ||
    fail "login_timer printed '$line'"
  T_DEV_MS=${BASH_REMATCH[1]} T_CMD_MS=${BASH_REMATCH[2]}
}

# polled_login SYSTEM TIMEOUT_S CMD...: runs one login CMD in the background and polls sysfs until
# it has exited successfully and its disk has a /dev node. Sets T_DEV_MS (start to disk), T_CMD_MS
# (start to the command's exit), T_SESS_MS, T_UP_MS, T_SDEV_MS and T_BLK_MS (start to each stage
# of phase_poll). Fails loudly on an error or a timeout.
polled_login() {
  local sys=$1 limit_us=$(($2 * 1000000)) t0 t_dev="" t_cmd="" pid rc stalled=0
  shift 2
  P_SESS="" P_UP="" P_SDEV="" P_BLK=""
  now
  t0=$NOW
  # Not through with_adm_lib: a function in the background would add a subshell's fork.
  if [ -n "$ADM_LIB" ]; then
    LD_LIBRARY_PATH=$ADM_LIB "$@" >"$KISCSI_VM_TMP/login.out" 2>"$KISCSI_VM_TMP/login.err" &
  else
    "$@" >"$KISCSI_VM_TMP/login.out" 2>"$KISCSI_VM_TMP/login.err" &
  fi
  pid=$!
  while :; do
    if [ -z "$t_dev" ]; then
      phase_poll
      count_disks
      if ((DISKS >= 1)); then now; t_dev=$NOW; fi
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
        fail "$sys login failed (rc=$rc; $SESSIONS sessions, $DISKS disks)"
      fi
    fi
    [ -n "$t_dev" ] && [ -n "$t_cmd" ] && break
    now
    if ((!stalled && NOW - t0 > 5000000)); then
      stalled=1
      stall_dump "$sys" "$((NOW - t0))"
    fi
    if ((NOW - t0 > limit_us)); then
      count_sessions
      echo "---- $sys: $* still running: ${t_cmd:+no }$DISKS disks, $SESSIONS sessions" >&2
      echo "---- stdout:" >&2; cat "$KISCSI_VM_TMP/login.out" >&2
      echo "---- stderr:" >&2; cat "$KISCSI_VM_TMP/login.err" >&2
      fail "$sys: no usable disk after $((limit_us / 1000000)) s"
    fi
    nap "$poll"
  done
  T_DEV_MS=$(ms_since "$t0" "$t_dev")
  T_CMD_MS=$(ms_since "$t0" "$t_cmd")
  # A stage missed by the polling shows when the next one did.
  : "${P_BLK:=$t_dev}"; : "${P_SDEV:=$P_BLK}"; : "${P_UP:=$P_SDEV}"; : "${P_SESS:=$P_UP}"
  T_SESS_MS=$(ms_since "$t0" "$P_SESS") T_UP_MS=$(ms_since "$t0" "$P_UP")
  T_SDEV_MS=$(ms_since "$t0" "$P_SDEV") T_BLK_MS=$(ms_since "$t0" "$P_BLK")
}

# timed_logout SYSTEM CMD...: runs CMD, waits until no session is left. Sets T_OUT_MS.
# CMD runs directly, its output to a file: the guest lib's run() would add five processes
# (mktemp, cat, rm) to the timed span, ~300 ms on the emulated guest, the same for both systems,
# which hid most of the difference between them (logins are timed by login_timer for the same
# reason). The output is read after the clock stops.
timed_logout() {
  local sys=$1 t0 t1 i rc=0
  shift
  now
  t0=$NOW
  with_adm_lib "$@" >"$KISCSI_VM_TMP/logout.out" 2>&1 || rc=$?
  RUN_CMD="$*" RUN_RC=$rc
  for ((i = 0; ; i++)); do
    count_sessions
    ((SESSIONS == 0)) && break
    ((i < 12000)) || break
    nap "$poll"
  done
  now
  t1=$NOW
  RUN_OUT=$(cat "$KISCSI_VM_TMP/logout.out") RUN_ERR=""
  assert_rc 0 "$sys logout: $*"
  ((SESSIONS == 0)) || fail "$sys: $SESSIONS sessions left 60 s after logout"
  T_OUT_MS=$(ms_since "$t0" "$t1")
}

# --- setup ---------------------------------------------------------------------------------------
step "modules, LIO target $SINGLE on $PORTAL:3260"
lio_load
for m in iscsi_tcp sd_mod crc32c_generic; do modprobe "$m" || fail "modprobe $m"; done
open_targets 0 0

bench_configure

discover_all 1

# --- part 1: one login to a usable disk ------------------------------------------------------------

# single_round SYSTEM LABEL [stages]: starts the daemon; two logins to a usable disk, each
# followed by its logout, timed by login_timer (the second one is the round's sample; the first
# one of the new daemon is kept apart); stops the daemon. With "stages": one login, timed by this
# script's sysfs polling instead, which also stamps each stage (phase_poll) but takes CPU from the
# login it watches.
single_round() {
  local sys=$1 label=$2 stages=${3:-} first_ms=""
  start_sys "$sys"
  adm_cmd "$sys"
  if [ -n "$stages" ]; then
    polled_login "$sys" 120 "${ADM_CMD[@]}" -m node -T "$SINGLE" -p "$PORTAL" -l
  else
    timed_run "$sys" 1 120 "${ADM_CMD[@]}" -m node -T "$SINGLE" -p "$PORTAL" -l
    first_ms=$T_DEV_MS
    timed_logout "$sys" "${ADM_CMD[@]}" -m node -T "$SINGLE" -p "$PORTAL" -u
    timed_run "$sys" 1 120 "${ADM_CMD[@]}" -m node -T "$SINGLE" -p "$PORTAL" -l
  fi
  count_sessions
  ((SESSIONS == 1)) || fail "$sys: $SESSIONS sessions after one login"
  local dev_ms=$T_DEV_MS cmd_ms=$T_CMD_MS
  adm_cmd "$sys"
  timed_logout "$sys" "${ADM_CMD[@]}" -m node -T "$SINGLE" -p "$PORTAL" -u
  stop_sys "$sys"
  if [ -n "$stages" ]; then
    echo "BENCH_SAMPLE part=stages system=$sys round=$label disk_ms=$dev_ms cmd_ms=$cmd_ms" \
      "session_ms=$T_SESS_MS conn_up_ms=$T_UP_MS scsi_dev_ms=$T_SDEV_MS block_ms=$T_BLK_MS"
    add_sample "polled_$sys" "$dev_ms"
    add_sample "single_sess_$sys" "$T_SESS_MS"
    add_sample "single_up_$sys" "$T_UP_MS"
    add_sample "single_sdev_$sys" "$T_SDEV_MS"
    add_sample "single_blk_$sys" "$T_BLK_MS"
    add_sample "single_kernel_$sys" "$(awk -v a="$T_UP_MS" -v b="$dev_ms" 'BEGIN { printf "%.1f", b - a }')"
    return
  fi
  echo "BENCH_SAMPLE part=single system=$sys round=$label disk_ms=$dev_ms cmd_ms=$cmd_ms" \
    "logout_ms=$T_OUT_MS first_disk_ms=$first_ms"
  if [ "$label" != warmup ]; then
    add_sample "single_$sys" "$dev_ms"
    add_sample "first_$sys" "$first_ms"
    add_sample "single_cmd_$sys" "$cmd_ms"
    add_sample "single_logout_$sys" "$T_OUT_MS"
  fi
}

# The floor under any command-line login: login_timer starting /bin/true and seeing it exit; and
# each CLI's own start-up (`--version`), which emulation makes costly: a program's code is
# translated again in every run, as address randomisation places it anew.
step "floor and CLI start-up: commands under login_timer ($single_runs rounds)"
for ((r = 0; r <= single_runs; r++)); do
  line=$("$TIMER" --disks 0 -- /bin/true)
  [[ $line =~ cmd_ms=([0-9.]+)\ rc=0$ ]] || fail "login_timer /bin/true printed '$line'"
  ((r == 0)) || add_sample spawn "${BASH_REMATCH[1]}"
  for sys in "${SYSTEMS[@]}"; do
    adm_cmd "$sys"
    line=$(with_adm_lib "$TIMER" --disks 0 -- "${ADM_CMD[@]}" --version)
    [[ $line =~ cmd_ms=([0-9.]+)\ rc=0$ ]] || fail "login_timer ${ADM_CMD[*]} --version printed '$line'"
    ((r == 0)) || add_sample "startup_$sys" "${BASH_REMATCH[1]}"
  done
done

step "part 1: single login to a usable disk ($warmup warm-up + $single_runs timed rounds per system, alternating)"
for ((r = 0; r < warmup; r++)); do
  for sys in "${SYSTEMS[@]}"; do single_round "$sys" warmup; done
done
for ((r = 1; r <= single_runs; r++)); do
  # Alternate which system goes first, so neither always follows the other.
  if ((r % 2)); then order=(kiscsi open-iscsi); else order=(open-iscsi kiscsi); fi
  for sys in "${order[@]}"; do single_round "$sys" "$r"; done
done
step "part 1b: stages of a single login, polled ($phase_runs rounds per system, alternating)"
for ((r = 1; r <= phase_runs; r++)); do
  if ((r % 2)); then order=(open-iscsi kiscsi); else order=(kiscsi open-iscsi); fi
  for sys in "${order[@]}"; do single_round "$sys" "$r" stages; done
done

# --- part 2: N sessions with -L all -----------------------------------------------------------
step "part 2: $ntargets LIO targets"
open_targets 1 $((ntargets - 1))
discover_all "$ntargets"

multi_round() { # SYSTEM LABEL
  local sys=$1 label=$2 pid idle_rss rss all
  start_sys "$sys"
  pid=$(daemon_pid "$sys")
  idle_rss=$(rss_kib "$pid")
  adm_cmd "$sys"
  timed_run "$sys" "$ntargets" 600 "${ADM_CMD[@]}" -m node -L all
  count_sessions
  ((SESSIONS == ntargets)) || fail "$sys: $SESSIONS sessions after -L all, expected $ntargets"
  local dev_ms=$T_DEV_MS cmd_ms=$T_CMD_MS
  rss=$(rss_kib "$pid")
  if [ "$sys" = kiscsi ]; then
    all=$(procs_named kiscsid | tr '\n' ' ')
  else
    all=$(procs_named iscsid | tr '\n' ' ')
  fi
  adm_cmd "$sys"
  timed_logout "$sys" "${ADM_CMD[@]}" -m node -U all
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

s_k=$(med single_kiscsi) s_o=$(med single_open-iscsi) s_r=$(ratio "$s_k" "$s_o")
m_k=$(med multi_kiscsi) m_o=$(med multi_open-iscsi) m_r=$(ratio "$m_k" "$m_o")
sc_k=$(med single_cmd_kiscsi) sc_o=$(med single_cmd_open-iscsi)
mc_k=$(med multi_cmd_kiscsi) mc_o=$(med multi_cmd_open-iscsi)
so_k=$(med single_logout_kiscsi) so_o=$(med single_logout_open-iscsi)
mo_k=$(med multi_logout_kiscsi) mo_o=$(med multi_logout_open-iscsi)
r_k=$(med rss_kiscsi) r_o=$(med rss_open-iscsi)
ri_k=$(med rss_idle_kiscsi) ri_o=$(med rss_idle_open-iscsi)
kver=$(uname -r)

echo "==== BENCH TABLE (kernel $kver, $(nproc) vCPUs under qemu/TCG; medians; single: $single_runs rounds, stages: $phase_runs, -L all: $multi_runs)"
{
  printf '%-44s %12s %12s %8s %8s %s\n' metric kiscsi open-iscsi ratio goal verdict
  printf '%-44s %12s %12s %8s %8s %s\n' "single login -> /dev/sdX, daemon up (ms)" "$s_k" "$s_o" "$s_r" "<=0.5" "$(verdict "$s_r" 0.5)"
  printf '%-44s %12s %12s %8s %8s %s\n' "-L all $ntargets sessions -> $ntargets disks (ms)" "$m_k" "$m_o" "$m_r" "<=0.33" "$(verdict "$m_r" 0.33)"
  a=$(ratio "$so_k" "$so_o") b=$(ratio "$mo_k" "$mo_o")
  printf '%-44s %12s %12s %8s %8s %s\n' "single logout, sessions gone (ms)" "$so_k" "$so_o" "$a" "<=0.5" "$(verdict "$a" 0.5)"
  printf '%-44s %12s %12s %8s %8s %s\n' "-U all $ntargets sessions, sessions gone (ms)" "$mo_k" "$mo_o" "$b" "<=0.33" "$(verdict "$b" 0.33)"
  printf '%-44s %12s %12s %8s\n' "daemon VmRSS with $ntargets sessions (KiB)" "$r_k" "$r_o" "$(ratio "$r_k" "$r_o")"
  printf '%-44s %12s %12s %8s\n' "(info) daemon VmRSS idle (KiB)" "$ri_k" "$ri_o" "$(ratio "$ri_k" "$ri_o")"
  for stage in "sess:kernel session created" "up:connection up (logged in)" \
    "sdev:scan added the SCSI device" "blk:sd attached the block device"; do
    a=$(med "single_${stage%%:*}_kiscsi") b=$(med "single_${stage%%:*}_open-iscsi")
    printf '%-44s %12s %12s %8s\n' "(info) polled: ${stage#*:} (ms)" "$a" "$b" "$(ratio "$a" "$b")"
  done
  printf '%-44s %12s %12s\n' "(info) floor: spawning /bin/true (ms)" "$(med spawn)" "$(med spawn)"
  a=$(med startup_kiscsi) b=$(med startup_open-iscsi)
  printf '%-44s %12s %12s %8s\n' "(info) CLI start-up: --version (ms)" "$a" "$b" "$(ratio "$a" "$b")"
  printf '%-44s %12s %12s\n' "(info) polled: kernel share, up -> /dev (ms)" "$(med single_kernel_kiscsi)" "$(med single_kernel_open-iscsi)"
  a=$(med first_kiscsi) b=$(med first_open-iscsi)
  printf '%-44s %12s %12s %8s\n' "(info) single: first login of a new daemon" "$a" "$b" "$(ratio "$a" "$b")"
  a=$(med polled_kiscsi) b=$(med polled_open-iscsi)
  printf '%-44s %12s %12s %8s\n' "(info) polled: single login -> /dev/sdX" "$a" "$b" "$(ratio "$a" "$b")"
  printf '%-44s %12s %12s %8s\n' "(info) single: login command returned (ms)" "$sc_k" "$sc_o" "$(ratio "$sc_k" "$sc_o")"
  printf '%-44s %12s %12s %8s\n' "(info) -L all: command returned (ms)" "$mc_k" "$mc_o" "$(ratio "$mc_k" "$mc_o")"
} | tee "$KISCSI_VM_TMP/table"
echo "samples (ms): single kiscsi [${samples[single_kiscsi]}] open-iscsi [${samples[single_open-iscsi]}]"
echo "samples (ms): first login kiscsi [${samples[first_kiscsi]}] open-iscsi [${samples[first_open-iscsi]}]"
echo "samples (ms): -L all kiscsi [${samples[multi_kiscsi]}] open-iscsi [${samples[multi_open-iscsi]}]"
echo "==== END BENCH TABLE"
cat <<EOF
BENCH kernel=$kver
BENCH single_login_ms_kiscsi=$s_k
BENCH single_login_ms_open_iscsi=$s_o
BENCH single_login_ratio=$s_r
BENCH first_login_ms_kiscsi=$(med first_kiscsi)
BENCH first_login_ms_open_iscsi=$(med first_open-iscsi)
BENCH spawn_floor_ms=$(med spawn)
BENCH cli_startup_ms_kiscsi=$(med startup_kiscsi)
BENCH cli_startup_ms_open_iscsi=$(med startup_open-iscsi)
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

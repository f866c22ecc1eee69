#!/usr/bin/env bash
# Side-by-side recovery and adoption benchmark inside the kiscsi test VM: kiscsi (kiscsid +
# kiscsiadm from the build tree) against open-iscsi 2.1.8 (Debian's iscsid + iscsiadm, unpacked by
# bench/vm/fetch_open_iscsi.sh), same kernel, same LIO targets on 127.0.0.1:3260, same
# iscsid.conf (Debian's), one initiator stack active at a time.
#
#   tests/vm/run.sh --build BUILD --timeout 900 bench/vm/recovery_bench.sh \
#       --open-iscsi ROOT [--outages N] [--outage-ms MS] [--targets N] [--settle-ms MS]
#       [--parts recovery,adoption] [--kiscsi-conf KEY=VALUE]...
#
#   --open-iscsi ROOT  the unpacked open-iscsi (ROOT/sbin/iscsid, ROOT/sbin/iscsiadm)
#   --outages N        timed outages per system (default 5), after one untimed warm-up outage
#   --outage-ms MS     how long the target stays disabled (default 3000)
#   --targets N        sessions for the adoption part (default 32)
#   --settle-ms MS     adoption: the daemon counts as settled once MS pass without a new login
#                      at the target, with every session logged in (default 3000)
#   --parts LIST       which parts run (default recovery,adoption)
#   --kiscsi-conf K=V  appended to kiscsi's iscsid.conf only (experiments, e.g.
#                      kiscsid.reopen_backoff_max_ms=100); the table names such settings
#
# Recovery latency: one session, BUILD/bench/vm/io_probe writes 4 KiB blocks with O_DIRECT to its
# disk without pause; the target is disabled (LIO tpgt enable 0, which drops the connection and
# refuses logins) for --outage-ms and enabled again. Measured: from enabling the target to the
# completion of the first write after the outage (the one that was stuck in it).
# Adoption: --targets sessions logged in by the system's own daemon, which is then stopped
# (SIGTERM leaves sessions, for both); io_probe writes to every disk (a write, then 25 ms, per
# disk: 32 unpaced writers would starve the emulated machine); the daemon starts again.
# Measured: logins the target accepted (LIO's iscsi_login_stats) and connections with a new
# local_port (re-logins), the longest pause of any disk's writes, and the time until it settled.
# Any I/O error or failed step fails the scenario.
# Prints a table between "==== BENCH TABLE" and "==== END BENCH TABLE" and "BENCH name=value".
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"
shopt -s nullglob

oi_root="" outages=5 outage_ms=3000 ntargets=32 settle_ms=3000 kdebug=1 parts=recovery,adoption
kiscsi_conf=()
while (($#)); do
  case $1 in
    --open-iscsi) oi_root=${2:?}; shift 2 ;;
    --outages) outages=${2:?}; shift 2 ;;
    --outage-ms) outage_ms=${2:?}; shift 2 ;;
    --targets) ntargets=${2:?}; shift 2 ;;
    --settle-ms) settle_ms=${2:?}; shift 2 ;;
    --parts) parts=${2:?}; shift 2 ;;
    --kiscsi-conf) kiscsi_conf+=("${2:?}"); shift 2 ;;
    *) fail "recovery_bench: unknown argument '$1'" ;;
  esac
done
[ -n "$oi_root" ] || fail "recovery_bench: --open-iscsi ROOT is required (see bench/vm/fetch_open_iscsi.sh)"
for n in "$outages" "$outage_ms" "$ntargets" "$settle_ms"; do
  if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1)); then fail "recovery_bench: '$n' is not a positive count"; fi
done
# shellcheck source=bench/vm/bench_lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/bench_lib.bash"
PROBE=$KISCSI_BUILD/bench/vm/io_probe
[ -x "$PROBE" ] || fail "recovery_bench: $PROBE is missing (build target io_probe)"

# --- helpers -------------------------------------------------------------------------------------
session_disks() { # -> DISK_LIST: /dev nodes of every iSCSI disk, in session order
  local b
  DISK_LIST=()
  for b in /sys/class/iscsi_session/session*/device/target*/*/block/*; do
    DISK_LIST+=("/dev/${b##*/}")
  done
}
sum_login_accepts() { # -> ACCEPTS: logins LIO accepted, over every target
  local f v
  ACCEPTS=0
  for f in "$LIO_CFS"/iscsi/*/fabric_statistics/iscsi_login_stats/accepts; do
    read -r v <"$f"
    ACCEPTS=$((ACCEPTS + v))
  done
}
local_ports() { # -> PORTS: "connection:local_port ..." of every connection
  local c p
  PORTS=""
  for c in /sys/class/iscsi_connection/connection*; do
    read -r p <"$c/local_port" || p=none
    PORTS+="${c##*/}:$p "
  done
}
changed_ports() { # BEFORE AFTER -> CHANGED: connections whose local_port differs
  local -A before=()
  local e
  CHANGED=0
  for e in $1; do before[${e%%:*}]=${e#*:}; done
  for e in $2; do [ "${before[${e%%:*}]:-}" = "${e#*:}" ] || CHANGED=$((CHANGED + 1)); done
}
session_state_all() { # STATE -> true when every session is in STATE
  local s st
  for s in /sys/class/iscsi_session/session*; do
    read -r st <"$s/state"
    [ "$st" = "$1" ] || return 1
  done
}

phase_max_gap() { # OUT PHASE -> longest pause of any device in that phase (ms)
  awk -v p="phase=$2" '/^PHASE / && $3 == p { for (i = 4; i <= NF; i++) if ($i ~ /^max_gap_ms=/) {
      v = substr($i, 12) + 0; if (v > m) m = v } } END { printf "%.1f", m }' "$1"
}

PROBE_PID=""
# start_probe OUT GAP_MS INTERVAL_MS DEVICES...: io_probe in the background (pauses of GAP_MS and
# more reported, INTERVAL_MS between a device's writes); waits for a write on every device.
start_probe() {
  local out=$1 gap_ms=$2 interval_ms=$3 i
  shift 3
  : >"$out"
  "$PROBE" --gap-ms "$gap_ms" --interval-ms "$interval_ms" "$@" >"$out" 2>&1 &
  PROBE_PID=$!
  for ((i = 0; i < 3000; i++)); do
    (($(grep -c '^START ' "$out") >= $#)) && return 0
    kill -0 "$PROBE_PID" 2>/dev/null || { cat "$out" >&2; fail "io_probe exited"; }
    nap 0.01
  done
  cat "$out" >&2
  fail "io_probe: not every device completed a write within 30 s"
}
stop_probe() { # OUT: stops io_probe; fails on any write error
  local out=$1 rc=0
  kill -TERM "$PROBE_PID"
  wait "$PROBE_PID" || rc=$?
  PROBE_PID=""
  if ((rc != 0)) || grep -q '^ERROR ' "$out"; then
    grep -E '^(ERROR|SUMMARY) ' "$out" >&2
    fail "io_probe saw write errors (rc=$rc)"
  fi
}

# --- setup ---------------------------------------------------------------------------------------
step "modules, LIO: $ntargets targets on $PORTAL:3260"
lio_load
for m in iscsi_tcp sd_mod crc32c_generic; do modprobe "$m" || fail "modprobe $m"; done
open_targets 0 $((ntargets - 1))
[ -e "$LIO_CFS/iscsi/$SINGLE/fabric_statistics/iscsi_login_stats/accepts" ] \
  || fail "recovery_bench: LIO has no iscsi_login_stats/accepts"
bench_configure
for kv in "${kiscsi_conf[@]}"; do
  echo "${kv%%=*} = ${kv#*=}" >>"$KISCSI_SYSCONFDIR/iscsid.conf"
done

discover_all "$ntargets"

# --- part 1: recovery latency ----------------------------------------------------------------------
# first_write_after OUT T_UP -> AFTER_US: the end of the write pause that spans T_UP (waits up to
# 120 s for it).
first_write_after() {
  local out=$1 t_up=$2 i kind start end
  for ((i = 0; i < 12000; i++)); do
    while read -r kind _ start end _; do
      [ "$kind" = GAP ] || continue
      start=${start#start_us=} end=${end#end_us=}
      if ((start <= t_up && end > t_up)); then AFTER_US=$end; return 0; fi
    done <"$out"
    nap 0.01
  done
  grep -E '^(GAP|ERROR) ' "$out" >&2
  fail "no write completed within 120 s of the target's return"
}

recovery_part() { # SYSTEM
  local sys=$1 disk out=$KISCSI_VM_TMP/probe-$1.out k label down_us up_us failed_ms latency
  step "$sys: recovery latency over $outages outages of $outage_ms ms (+1 warm-up)"
  start_sys "$sys"
  sys_adm "$sys" -m node -T "$SINGLE" -p "$PORTAL" -l
  assert_rc 0 "$sys login to $SINGLE"
  local i
  for ((i = 0; i < 3000; i++)); do
    session_disks
    ((${#DISK_LIST[@]} == 1)) && [ -b "${DISK_LIST[0]}" ] && break
    nap 0.01
  done
  ((${#DISK_LIST[@]} == 1)) || fail "$sys: ${#DISK_LIST[@]} disks after the login"
  disk=${DISK_LIST[0]}
  start_probe "$out" 20 0 "$disk"
  for ((k = 0; k <= outages; k++)); do
    label=$k
    ((k > 0)) || label=warmup
    nap 0.5
    now
    down_us=$NOW
    lio_disable "$SINGLE"
    # Wait until the initiator noticed (the kernel failed the session), then keep the target
    # away for the rest of the outage.
    for ((i = 0; i < 1000; i++)); do
      session_state_all LOGGED_IN || break
      nap 0.005
    done
    now
    failed_ms=$(((NOW - down_us) / 1000))
    nap_until $((down_us + outage_ms * 1000))
    up_us=$NOW
    lio_enable "$SINGLE"
    first_write_after "$out" "$up_us"
    latency=$(ms_since "$up_us" "$AFTER_US")
    echo "BENCH_SAMPLE part=recovery system=$sys round=$label io_back_ms=$latency outage_ms=$(((up_us - down_us) / 1000)) noticed_ms=$failed_ms"
    [ "$label" = warmup ] || add_sample "recovery_$sys" "$latency"
  done
  nap 0.3
  stop_probe "$out"
  if [ "$sys" = kiscsi ]; then
    echo "kiscsid's account of the recoveries:"
    grep -E 'recovered after|recovering after' "$KISCSI_VM_TMP/kiscsid.log" | tail -n $((2 * outages + 2)) || true
  fi
  sys_adm "$sys" -m node -T "$SINGLE" -p "$PORTAL" -u
  assert_rc 0 "$sys logout"
  stop_sys "$sys"
}

# --- part 2: adoption of N sessions ----------------------------------------------------------------
adoption_part() { # SYSTEM
  local sys=$1 out=$KISCSI_VM_TMP/adopt-$1.out i t0 last_change ports_before accepts_before
  local gaps ready_ms settled_ms max_gap baseline_gap
  step "$sys: $ntargets sessions, daemon stopped and started again under writes"
  start_sys "$sys"
  sys_adm "$sys" -m node -L all
  assert_rc 0 "$sys -L all"
  for ((i = 0; i < 6000; i++)); do
    count_disks
    ((DISKS >= ntargets)) && break
    nap 0.01
  done
  ((DISKS >= ntargets)) || fail "$sys: $DISKS disks of $ntargets after -L all"
  stop_sys "$sys"
  session_disks
  start_probe "$out" 100 25 "${DISK_LIST[@]}"
  nap 1
  local_ports
  ports_before=$PORTS
  sum_login_accepts
  accepts_before=$ACCEPTS
  kill -USR1 "$PROBE_PID" # phase 0 (1 s without a daemon) ends, phase 1 begins
  now
  t0=$NOW
  start_sys "$sys"
  now
  ready_ms=$(((NOW - t0) / 1000))
  # Settled: settle_ms without a new login at the target, with every session logged in.
  last_change=$NOW
  local accepts_seen=$accepts_before
  while :; do
    now
    sum_login_accepts
    if ((ACCEPTS != accepts_seen)) || ! session_state_all LOGGED_IN; then
      accepts_seen=$ACCEPTS last_change=$NOW
    fi
    ((NOW - last_change >= settle_ms * 1000)) && break
    ((NOW - t0 < 300000000)) || fail "$sys: not settled 300 s after the daemon started"
    nap 0.05
  done
  settled_ms=$(((last_change - t0) / 1000))
  local_ports
  changed_ports "$ports_before" "$PORTS"
  kill -USR1 "$PROBE_PID" # phase 1 ends: each device reports it at its next write
  for ((i = 0; i < 1000; i++)); do
    (($(grep -c '^PHASE .* phase=1 ' "$out") >= ntargets)) && break
    nap 0.01
  done
  stop_probe "$out"
  max_gap=$(phase_max_gap "$out" 1)
  baseline_gap=$(phase_max_gap "$out" 0)
  gaps=$(awk -v t0="$t0" '/^GAP / { for (i = 2; i <= NF; i++) if ($i ~ /^end_us=/ && substr($i, 8) + 0 > t0) n++ }
      END { print n + 0 }' "$out")
  echo "BENCH_SAMPLE part=adoption system=$sys sessions=$ntargets logins_at_target=$((ACCEPTS - accepts_before)) new_local_ports=$CHANGED max_io_pause_ms=$max_gap pauses_over_100ms=$gaps max_pause_before_ms=$baseline_gap daemon_listening_ms=$ready_ms settled_after_ms=$settled_ms"
  add_sample "adopt_logins_$sys" "$((ACCEPTS - accepts_before))"
  add_sample "adopt_ports_$sys" "$CHANGED"
  add_sample "adopt_pause_$sys" "$max_gap"
  add_sample "adopt_baseline_$sys" "$baseline_gap"
  add_sample "adopt_settled_$sys" "$settled_ms"
  sys_adm "$sys" -m node -U all
  assert_rc 0 "$sys -U all"
  for ((i = 0; i < 6000; i++)); do
    count_sessions
    ((SESSIONS == 0)) && break
    nap 0.01
  done
  ((SESSIONS == 0)) || fail "$sys: $SESSIONS sessions left after -U all"
  stop_sys "$sys"
}

if [[ ,$parts, == *,recovery,* ]]; then
  for sys in "${SYSTEMS[@]}"; do recovery_part "$sys"; done
fi
if [[ ,$parts, == *,adoption,* ]]; then
  for sys in "${SYSTEMS[@]}"; do adoption_part "$sys"; done
fi

# --- results -------------------------------------------------------------------------------------
ran() { [[ ,$parts, == *,$1,* ]]; }
s() { echo "${samples[$1]:-}"; } # the one sample of an adoption metric
rc_k=$(med recovery_kiscsi) rc_o=$(med recovery_open-iscsi) rc_r=$(ratio "$rc_k" "$rc_o")
kver=$(uname -r)
echo "==== BENCH TABLE (kernel $kver, $(nproc) vCPUs under qemu/TCG; recovery: medians of $outages outages of $outage_ms ms; adoption: $ntargets sessions${kiscsi_conf[*]:+; kiscsi iscsid.conf + ${kiscsi_conf[*]}})"
{
  row() { printf '%-52s %12s %12s %8s %8s %s\n' "$@"; }
  row metric kiscsi open-iscsi ratio goal verdict
  if ran recovery; then
    row "target back -> first write completes (ms)" "$rc_k" "$rc_o" "$rc_r" "<=0.15" "$(verdict "$rc_r" 0.15)"
  fi
  if ran adoption; then
    row "adoption of $ntargets sessions: logins at the target" "$(s adopt_logins_kiscsi)" "$(s adopt_logins_open-iscsi)"
    row "adoption: connections with a new local port" "$(s adopt_ports_kiscsi)" "$(s adopt_ports_open-iscsi)"
    row "adoption: longest write pause on any disk (ms)" "$(s adopt_pause_kiscsi)" "$(s adopt_pause_open-iscsi)"
    row "(info) longest write pause in 1 s before it (ms)" "$(s adopt_baseline_kiscsi)" "$(s adopt_baseline_open-iscsi)"
    row "(info) adoption: settled after (ms)" "$(s adopt_settled_kiscsi)" "$(s adopt_settled_open-iscsi)"
  fi
} | tee "$KISCSI_VM_TMP/table"
if ran recovery; then
  echo "samples (ms): recovery kiscsi [$(s recovery_kiscsi)] open-iscsi [$(s recovery_open-iscsi)]"
fi
echo "==== END BENCH TABLE"
if ran recovery; then
  echo "BENCH recovery_ms_kiscsi=$rc_k"
  echo "BENCH recovery_ms_open_iscsi=$rc_o"
  echo "BENCH recovery_ratio=$rc_r"
fi
if ran adoption; then
  echo "BENCH adopt_sessions=$ntargets"
  for m in logins ports pause; do
    echo "BENCH adopt_${m}_kiscsi=$(s "adopt_${m}_kiscsi")"
    echo "BENCH adopt_${m}_open_iscsi=$(s "adopt_${m}_open-iscsi")"
  done
fi
step "recovery_bench done"

#!/usr/bin/env bash
# The user's path through kiscsid: discovery, `-m node -l` through the kernel (iscsi_tcp) with
# iscsiadm's output, the disk usable on the next line, `-m session -P 3`, a pattern written and
# read back, `-m session -s` statistics from the kernel (and how the kernel answers GET_STATS),
# a second login refused with 15, CHAP SHA256 and mutual CHAP through the kernel, a
# wrong secret refused with 24 and nothing left behind, logout, and node.session.nr_sessions = 2
# (one login makes two sessions with their own ISIDs and disks, a third is refused with 15, the
# node's logout ends both).
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

open=iqn.2026-11.test.vm:open
chap=iqn.2026-11.test.vm:chap
step "LIO: $open (2 LUNs), $chap (mutual CHAP) on 127.0.0.1:3260"
lio_load
lio_open_target "$open" 2
lio_chap_target "$chap" "$INITIATOR_IQN" user1 initiator-secret-1 target1 target-secret-22
for t in "$open" "$chap"; do
  lio_portal "$t" 127.0.0.1 3260
  lio_enable "$t"
done
modprobe iscsi_tcp
modprobe sd_mod
modprobe crc32c_generic

kiscsi_scratch
step "start kiscsid"
kiscsid_start

adm -m discovery -t st -p 127.0.0.1
assert_rc 0

step "login $open"
adm -m node -T "$open" -p 127.0.0.1 -l
assert_rc 0
assert_out_eq "Logging in to [iface: default, target: $open, portal: 127.0.0.1,3260]
Login to [iface: default, target: $open, portal: 127.0.0.1,3260] successful."

step "session listing"
adm -m session
assert_rc 0
assert_out_eq "tcp: [1] 127.0.0.1:3260,1 $open (non-flash)"
adm -m session -P 3
assert_rc 0
echo "$RUN_OUT"
assert_out_has "Attached scsi disk sd"
disks=$(echo "$RUN_OUT" | sed -n 's/.*Attached scsi disk \(sd[a-z]*\).*/\1/p')
[ "$(echo "$disks" | wc -l)" -eq 2 ] || fail "expected 2 disks, got: $disks"

step "how the kernel answers GET_STATS (a raw NETLINK_ISCSI socket, as a second listener)"
# Asked about session 1 before the write: kiscsid, bound to group 1 as well, receives this
# answer too and must not take it for the answer to its own GET_STATS below.
python3 - <<'PY' || fail "the kernel's GET_STATS answers are not what kiscsi expects"
import socket, struct, time
handle = int(open("/sys/class/iscsi_transport/tcp/handle").read())
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 8)
s.bind((0, 1))
def ask(sid, seq):
    """Sends GET_STATS sid/cid 0; returns what arrives within 1 s."""
    uevent = struct.pack("=IIQII16x16x", 20, 0, handle, sid, 0)
    header = struct.pack("=IHHII", 16 + len(uevent), 20, 1, seq, s.getsockname()[0])
    s.sendto(header + uevent, (0, 0))
    got, end = [], time.time() + 1.0
    while time.time() < end:
        s.settimeout(max(end - time.time(), 0.01))
        try:
            data, (pid, groups) = s.recvfrom(65536)
        except socket.timeout:
            break
        length, nl_type, _, nl_seq, _ = struct.unpack_from("=IHHII", data)
        ev_type, iferror = struct.unpack_from("=Ii", data, 16)
        u_sid, u_cid = struct.unpack_from("=II", data, 32)
        kind = "multicast" if groups else "unicast"
        print(f"GET_STATS sid {sid}: {kind} from port {pid}, nlmsg_len {length}, nlmsg_type"
              f" {nl_type}, seq {nl_seq}, uevent type {ev_type}, iferror {iferror},"
              f" u sid {u_sid} cid {u_cid}")
        got.append((kind, nl_type, ev_type, u_sid, data))
    return got
answers = ask(1, 77)
assert len(answers) == 1, "expected one message, no reply besides the multicast"
kind, nl_type, ev_type, u_sid, data = answers[0]
assert (kind, nl_type, ev_type, u_sid) == ("multicast", 0, 20, 1)
(custom_length,) = struct.unpack_from("=I", data, 72 + 92)
assert len(data) >= 72 + 96 + 72 * custom_length
names = [data[72 + 96 + 72 * i:72 + 96 + 72 * i + 64].split(b"\0")[0].decode()
         for i in range(custom_length)]
print(f"struct iscsi_stats: {len(data) - 72} bytes, custom_length {custom_length}: {names}")
answers = ask(99, 78)
assert len(answers) == 1, "expected one answer to an unknown sid"
kind, nl_type, ev_type, u_sid, data = answers[0]
assert (kind, nl_type, ev_type, u_sid) == ("unicast", 20, 103, 99)
PY

step "the disk is usable on the next line: write a pattern and read it back"
disk=$(echo "$disks" | head -1)
[ -b "/dev/$disk" ] || fail "/dev/$disk is not there right after login"
head -c 4194304 /dev/urandom >pattern
dd if=pattern of="/dev/$disk" bs=1M oflag=direct status=none
dd if="/dev/$disk" of=readback bs=1M count=4 iflag=direct status=none
cmp pattern readback || fail "data read back differs"

step "session statistics from the kernel after the write: -m session -s, -r 1 -s"
# counter NAME: the value of one "<TAB>NAME: VALUE" line of RUN_OUT.
counter() { printf '%s\n' "$RUN_OUT" | sed -n "s/^\t$1: \([0-9]*\)$/\1/p"; }
for args in "-m session -s" "-m session -r 1 -s"; do
  # shellcheck disable=SC2086  # the words of $args are the options
  adm $args
  assert_rc 0
  echo "$RUN_OUT"
  [ "$(printf '%s\n' "$RUN_OUT" | head -1)" = \
    "Stats for session [sid: 1, target: $open, portal: 127.0.0.1,3260]" ] ||
    fail "$args: the first line is not the session's header"
  [ "$(printf '%s\n' "$RUN_OUT" | grep -c '^Stats for session')" -eq 1 ] ||
    fail "$args: expected the statistics of one session"
  [ "$(printf '%s\n' "$RUN_OUT" | sed -n 2p)" = "iSCSI SNMP:" ] || fail "$args: no iSCSI SNMP:"
  assert_out_has "iSCSI Extended:"
  assert_out_has "$(printf '\ttx_sendpage_failures: ')"
  [ "$(printf '%s\n' "$RUN_OUT" | grep -c "$(printf '^\t[a-z0-9_]*: [0-9]*$')")" -ge 24 ] ||
    fail "$args: expected 21 MIB and 3 iscsi_tcp counters"
  [ "$(counter scsicmd_pdus)" -gt 0 ] || fail "$args: scsicmd_pdus is not above 0 after the write"
  # 4 MiB went out and came back: the answer is the current one, not the one the probe got.
  [ "$(counter txdata_octets)" -ge 4194304 ] || fail "$args: txdata_octets is below the 4 MiB written"
  [ "$(counter rxdata_octets)" -ge 4194304 ] || fail "$args: rxdata_octets is below the 4 MiB read"
done
adm -m session -r 99 -s
assert_rc 2
assert_err_has "Could not get session info for sid 99"

step "a second login is refused with 15"
adm -m node -T "$open" -p 127.0.0.1 -l
assert_rc 15
assert_err_has "1 session requested, but 1 already present."

step "mutual CHAP with SHA256 through the kernel"
for kv in node.session.auth.authmethod=CHAP node.session.auth.username=user1 \
  node.session.auth.password=initiator-secret-1 node.session.auth.username_in=target1 \
  node.session.auth.password_in=target-secret-22 node.session.auth.chap_algs=SHA256; do
  adm -m node -T "$chap" -p 127.0.0.1 -o update -n "${kv%%=*}" -v "${kv#*=}"
  assert_rc 0
done
adm -m node -T "$chap" -p 127.0.0.1 -l
assert_rc 0
assert_out_has "Login to [iface: default, target: $chap, portal: 127.0.0.1,3260] successful."
[ "$(cat /sys/class/iscsi_session/session2/username)" = user1 ] ||
  fail "the kernel does not hold the CHAP user name of session 2"

step "logout of $chap, then a wrong secret: 24 and nothing left behind"
adm -m node -T "$chap" -p 127.0.0.1 -u
assert_rc 0
assert_out_has "Logout of [sid: 2, target: $chap, portal: 127.0.0.1,3260] successful."
adm -m node -T "$chap" -p 127.0.0.1 -o update -n node.session.auth.password -v wrong-secret-9
adm -m node -T "$chap" -p 127.0.0.1 -l
assert_rc 24
assert_not_has wrong-secret-9
n=$(ls -d /sys/class/iscsi_session/session* | wc -l)
[ "$n" -eq 1 ] || fail "a failed login left a session behind ($n sessions)"

step "logout of $open"
adm -m node -T "$open" -p 127.0.0.1 -u
assert_rc 0
assert_out_eq "Logging out of session [sid: 1, target: $open, portal: 127.0.0.1,3260]
Logout of [sid: 1, target: $open, portal: 127.0.0.1,3260] successful."
adm -m session
assert_rc 21
assert_err_has "No active sessions."

step "node.session.nr_sessions = 2: one login makes two sessions, each with its disks"
adm -m node -T "$open" -p 127.0.0.1 -o update -n node.session.nr_sessions -v 2
assert_rc 0
start=$(date +%s.%N)
adm -m node -T "$open" -p 127.0.0.1 -l
end=$(date +%s.%N)
assert_rc 0
echo "the login of 2 sessions took $(echo "$end - $start" | bc 2>/dev/null || echo "?") s"
assert_out_eq "Logging in to [iface: default, target: $open, portal: 127.0.0.1,3260]
Logging in to [iface: default, target: $open, portal: 127.0.0.1,3260]
Login to [iface: default, target: $open, portal: 127.0.0.1,3260] successful.
Login to [iface: default, target: $open, portal: 127.0.0.1,3260] successful."
adm -m session
assert_rc 0
echo "$RUN_OUT"
[ "$(echo "$RUN_OUT" | grep -c " $open (non-flash)\$")" -eq 2 ] || fail "not 2 sessions to $open"
isids=()
for sid in $(echo "$RUN_OUT" | sed -n 's/^tcp: \[\([0-9]*\)\].*/\1/p'); do
  s=/sys/class/iscsi_session/session$sid
  [ "$(cat "$s/state")" = LOGGED_IN ] || fail "session $sid is $(cat "$s/state")"
  n=$(find "$s"/device/target*/*/block -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  [ "$n" -eq 2 ] || fail "session $sid has $n disks instead of 2"
  # iscsi_tcp does not show the ISID in sysfs; kiscsid logs the one it set.
  isid=$(sed -n "s/.*session $sid (.*): logged in (host [0-9]*, isid \([0-9a-f]*\)).*/\1/p" kiscsid.log)
  [ -n "$isid" ] || fail "kiscsid.log names no ISID for session $sid"
  isids+=("$isid")
done
echo "ISIDs: ${isids[*]}"
[ "$(printf '%s\n' "${isids[@]}" | sort -u | wc -l)" -eq 2 ] ||
  fail "the sessions do not have two ISIDs: ${isids[*]}"
# LIO keeps both: a second login with the first one's ISID would have reinstated (ended) it.
lio=$(lio_sessions "$open")
echo "LIO's sessions on $open: $lio"
[ "$(echo "$lio" | grep -cx "$INITIATOR_IQN")" -eq 2 ] || fail "LIO does not see 2 sessions"

step "with both present a login is refused with 15"
adm -m node -T "$open" -p 127.0.0.1 -l
assert_rc 15
assert_err_has "2 sessions requested, but 2 already present."
assert_not_has "Logging in to"

step "logout of the node logs out both"
adm -m node -T "$open" -p 127.0.0.1 -u
assert_rc 0
[ "$(echo "$RUN_OUT" | grep -c "^Logout of \[sid: [0-9]*, target: $open, portal: 127.0.0.1,3260\] successful\.\$")" -eq 2 ] ||
  fail "not 2 logouts"
adm -m session
assert_rc 21
lio_has_none() { [ -z "$(lio_sessions "$open")" ]; }
wait_for 5 lio_has_none
adm -m node -T "$open" -p 127.0.0.1 -o update -n node.session.nr_sessions -v 1
assert_rc 0

step "discovery with -l logs in to what it finds; -U all logs out"
adm -m node -T "$chap" -p 127.0.0.1 -o update -n node.session.auth.password -v initiator-secret-1
adm -m discovery -t st -p 127.0.0.1 -l
assert_rc 0
assert_out_has "Login to [iface: default, target: $open, portal: 127.0.0.1,3260] successful."
assert_out_has "Login to [iface: default, target: $chap, portal: 127.0.0.1,3260] successful."
# Both logins run at once, as iscsiadm's: every "Logging in to" line comes before the first outcome.
first_outcome=$(grep -n '^Login to ' <<<"$RUN_OUT" | head -n 1 | cut -d: -f1)
last_start=$(grep -n '^Logging in to ' <<<"$RUN_OUT" | tail -n 1 | cut -d: -f1)
[ -n "$first_outcome" ] && [ -n "$last_start" ] && ((last_start < first_outcome)) ||
  fail "discovery -l logged in one node after the other:
$RUN_OUT"
adm -m node -U all
assert_rc 0
assert_out_has "Logout of [sid: "

step "kiscsid stops on SIGTERM"
kill -TERM "$daemon"
wait "$daemon" || fail "kiscsid exited with $?"
cat kiscsid.log
step "daemon_login passed"

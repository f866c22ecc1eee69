#!/usr/bin/env bash
# The end-to-end demo: a private tgtd on 127.0.0.1 with three targets (one behind mutual CHAP),
# then kiscsiadm discovers them, writes open-iscsi node records, lists them, and probes a login
# with mutual CHAP over a plain socket. Nothing touches /etc: KISCSI_SYSCONFDIR is a scratch dir.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
build=${KISCSI_BUILD_DIR:-$top/build-demo}
cmake -S . -B "$build" -G Ninja -DKISCSI_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target kiscsiadm >/dev/null
adm=$build/bin/kiscsiadm

work=$(mktemp -d)
tgtd_pid=
cleanup() {
  [ -n "$tgtd_pid" ] && kill -9 "$tgtd_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export KISCSI_SYSCONFDIR=$work/etc TGT_IPC_SOCKET=$work/tgtd.ipc
mkdir -p "$KISCSI_SYSCONFDIR"
echo "InitiatorName=iqn.2026-11.org.kiscsi:demo" > "$KISCSI_SYSCONFDIR/initiatorname.iscsi"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tgtd -f --iscsi portal=127.0.0.1:$port >"$work/tgtd.log" 2>&1 &
tgtd_pid=$!
disown "$tgtd_pid"  # its SIGKILL at exit is ours, not news
for _ in $(seq 100); do tgtadm --lld iscsi --op show --mode target >/dev/null 2>&1 && break; sleep 0.05; done
adm_t() { tgtadm --lld iscsi "$@"; }
for i in 1 2 3; do
  truncate -s 64M "$work/disk$i.img"
  adm_t --op new --mode target --tid $i -T iqn.2026-11.demo:disk$i
  adm_t --op new --mode logicalunit --tid $i --lun 1 -b "$work/disk$i.img"
  adm_t --op bind --mode target --tid $i -I ALL
done
adm_t --op new --mode account --user demo-user --password demo-secret-1
adm_t --op bind --mode account --tid 3 --user demo-user
adm_t --op new --mode account --user demo-target --password demo-secret-2
adm_t --op bind --mode account --tid 3 --user demo-target --outgoing

run() { echo "\$ kiscsiadm $*"; "$adm" "$@"; echo "(exit $?)"; echo; }
run -m discovery -t sendtargets -p 127.0.0.1:$port
run -m node
run -m node -P 1
t3=iqn.2026-11.demo:disk3
for kv in node.session.auth.authmethod=CHAP node.session.auth.username=demo-user \
          node.session.auth.password=demo-secret-1 node.session.auth.username_in=demo-target \
          node.session.auth.password_in=demo-secret-2; do
  "$adm" -m node -T $t3 -p 127.0.0.1:$port -o update -n "${kv%%=*}" -v "${kv#*=}"
done
run -m node -T $t3 -p 127.0.0.1:$port --probe
echo "A wrong password must fail with exit 24:"
"$adm" -m node -T $t3 -p 127.0.0.1:$port -o update -n node.session.auth.password -v wrong
set +e
"$adm" -m node -T $t3 -p 127.0.0.1:$port --probe
echo "(exit $?)"

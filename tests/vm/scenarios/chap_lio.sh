#!/usr/bin/env bash
# CHAP against LIO: kiscsiadm --probe with CHAP_A MD5, SHA1, SHA256 and SHA3-256
# (node.session.auth.chap_algs), mutual CHAP, and a wrong secret (exit 24, secret not echoed).
# shellcheck source=tests/vm/guest/lib.sh
. "$KISCSI_VM_GUEST/lib.sh"

t_chap=iqn.2026-11.test.vm:chap
t_mutual=iqn.2026-11.test.vm:mutual
user=vm-initiator
secret="initiator-secret-1"
target_user=vm-target
target_secret="target-secret-22"

step "LIO: $t_chap (CHAP), $t_mutual (mutual CHAP) on 127.0.0.1:3260"
lio_load
grep -q '^name *: sha3-256$' /proc/crypto || fail "sha3-256 is not in /proc/crypto after lio_load"
lio_chap_target "$t_chap" "$INITIATOR_IQN" "$user" "$secret"
lio_chap_target "$t_mutual" "$INITIATOR_IQN" "$user" "$secret" "$target_user" "$target_secret"
for t in "$t_chap" "$t_mutual"; do
  lio_portal "$t" 127.0.0.1 3260
  lio_enable "$t"
done

kiscsi_scratch
adm -m discovery -t st -p 127.0.0.1:3260
assert_rc 0
assert_out_eq "127.0.0.1:3260,1 $t_chap
127.0.0.1:3260,1 $t_mutual"

set_node() { # TARGET KEY VALUE
  adm -m node -T "$1" -p 127.0.0.1:3260 -o update -n "$2" -v "$3"
  assert_rc 0 "set $2 on $1"
}
probe() { # TARGET
  adm -m node -T "$1" -p 127.0.0.1:3260 --probe
}

# Without CHAP the first request is already in the operational stage (no AuthMethod), which a
# CHAP-only ACL refuses with status 0x0201: an authentication failure (24), as with tgtd.
step "no credentials: LIO refuses the login as unauthenticated"
probe "$t_chap"
assert_rc 24
assert_err_has "target requires authentication (status 0x0201): set node.session.auth.authmethod = CHAP"

for t in "$t_chap" "$t_mutual"; do
  set_node "$t" node.session.auth.authmethod CHAP
  set_node "$t" node.session.auth.username "$user"
  set_node "$t" node.session.auth.password "$secret"
done

# chap_algs value -> the algorithm LIO picks (the first of the list that it supports).
for case in MD5=MD5 SHA1=SHA1 SHA256=SHA256 SHA3-256=SHA3-256 \
            "SHA3-256,SHA256,SHA1,MD5=SHA3-256" "SHA256,MD5=SHA256"; do
  algs=${case%=*} want=${case##*=}
  step "CHAP with chap_algs=$algs"
  set_node "$t_chap" node.session.auth.chap_algs "$algs"
  probe "$t_chap"
  assert_rc 0
  assert_out_has "Login to [iface: default, target: $t_chap, portal: 127.0.0.1,3260] successful (probe"
  assert_out_has $'\tAuthentication: CHAP ('"$want"$')\n'
  assert_not_has "$secret"
done

# LIO only authenticates itself when the initiator asks (CHAP_I/CHAP_C): an ACL with mutual
# credentials still admits a one-way CHAP login.
step "one-way CHAP to a target with mutual credentials: LIO admits it"
set_node "$t_mutual" node.session.auth.chap_algs SHA256
probe "$t_mutual"
assert_rc 0
assert_out_has $'\tAuthentication: CHAP (SHA256)\n'

set_node "$t_mutual" node.session.auth.username_in "$target_user"
set_node "$t_mutual" node.session.auth.password_in "$target_secret"
for algs in SHA256 MD5 SHA3-256; do
  step "mutual CHAP with chap_algs=$algs"
  set_node "$t_mutual" node.session.auth.chap_algs "$algs"
  probe "$t_mutual"
  assert_rc 0
  assert_out_has $'\tAuthentication: CHAP ('"$algs"$'), target authenticated (mutual)\n'
  assert_not_has "$target_secret"
done

step "mutual CHAP, wrong target secret: exit 24"
set_node "$t_mutual" node.session.auth.password_in not-the-target-secret
probe "$t_mutual"
assert_rc 24
assert_err_has "username_in/password_in"
assert_not_has "not-the-target-secret"

step "wrong initiator secret: exit 24"
set_node "$t_chap" node.session.auth.chap_algs SHA256
set_node "$t_chap" node.session.auth.password wrong-secret-value
probe "$t_chap"
assert_rc 24
assert_err_has "node.session.auth.username"
assert_not_has "wrong-secret-value"

step "chap_lio passed"

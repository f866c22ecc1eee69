#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# kiscsi's dracut module: the netroot handler for netroot type "iscsi" (installed as
# /sbin/iscsiroot, the name dracut's /sbin/netroot derives from "iscsi:"), also run by kiscsi's
# initqueue jobs. Logs in with kiscsistart to every root=iscsi:/netroot=iscsi: target not
# logged in yet; the sessions stay in the kernel, no daemon is left behind.
#   iscsiroot NETIF NETROOT NEWROOT   from dracut's netroot script, an interface is up
#   iscsiroot --settled               initqueue job: logs in once there is a route to the target
#   iscsiroot --timeout               initqueue timeout job: one last try, no route check
# Must not print CHAP secrets.

PATH=${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin
# shellcheck disable=SC1091  # dracut's, in the initramfs
type getarg > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/dracut-lib.sh"
# shellcheck source=kiscsi-lib.sh.in
type kiscsi_wanted > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/kiscsi-lib.sh"
if [ -r "${KISCSI_DRACUT_LIBDIR:-/lib}/net-lib.sh" ]; then
    # shellcheck disable=SC1091  # dracut's
    type all_ifaces_setup > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/net-lib.sh"
fi

case ${1-} in
    --settled) kiscsi_login_all settled ;;
    --timeout) kiscsi_login_all timeout ;;
    '') exit 1 ;;
    *) kiscsi_login_all netroot "${2-}" ;;
esac
kiscsi_rc=$?
# 2: the network is not there yet; the initqueue calls again.
[ "$kiscsi_rc" = 2 ] && exit 0
exit "$kiscsi_rc"

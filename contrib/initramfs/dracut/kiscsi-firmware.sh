#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# kiscsi's dracut module: initqueue job (installed as /sbin/kiscsi-firmware) for
# rd.iscsi.firmware=1 / rd.iscsi.ibft=1: brings up the network the boot firmware table (iBFT)
# describes with `kiscsistart -N`, then logs in to its boot targets with `kiscsistart -b`.
# Needs no network configuration from dracut. Tries up to 10 times, 0.2 s after the first failure
# and 1 s after each later one; exit code 15 (session exists) counts as logged in. A failure no
# retry can mend (bad table, refused credentials) ends the tries for good. Otherwise dracut's
# initqueue runs this job again on its next round, until it times out.
# Must not print CHAP secrets (kiscsistart never prints the table's).

PATH=${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin
# shellcheck disable=SC1091  # dracut's, in the initramfs
type getarg > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/dracut-lib.sh"
# shellcheck source=kiscsi-lib.sh.in
type kiscsi_wanted > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/kiscsi-lib.sh"

[ -e "$kiscsi_rundir/firmware.ok" ] && exit 0
[ -e "$kiscsi_rundir/firmware.failed" ] && exit 1

kiscsi_try=1
while :; do
    "$KISCSI_START" -N || warn "kiscsi: kiscsistart -N could not bring up the boot firmware table's network (exit code $?)"
    kiscsi_run -b
    kiscsi_rc=$?
    case $kiscsi_rc in
        0 | 15)
            kiscsi_mark_done firmware
            info "kiscsi: logged in to the boot firmware table's targets"
            exit 0
            ;;
        7 | 19 | 21 | 24)
            # invalid table or settings, fatal login error, no boot target, CHAP refused
            warn "kiscsi: kiscsistart -b failed with exit code $kiscsi_rc; not trying again"
            mkdir -p "$kiscsi_rundir"
            : > "$kiscsi_rundir/firmware.failed"
            exit 1
            ;;
    esac
    if [ "$kiscsi_try" -ge 10 ]; then
        warn "kiscsi: kiscsistart -b failed $kiscsi_try times (last exit code $kiscsi_rc); trying again later"
        exit 1
    fi
    if [ "$kiscsi_try" = 1 ]; then
        sleep 0.2
    else
        sleep 1
    fi
    kiscsi_try=$((kiscsi_try + 1))
done

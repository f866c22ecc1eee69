#!/bin/sh
# shellcheck source-path=SCRIPTDIR
# kiscsi's dracut module: cmdline hook (sourced by dracut, priority 90 like the other netroot
# parsers). Reads dracut's iSCSI command line, queues the logins as initqueue jobs and, for a
# root on a whole LUN, names that disk /dev/root. Logs in to nothing itself (the network is not
# up yet); must not use exit (it is sourced), print CHAP secrets or touch other modules' names.

# shellcheck disable=SC1091  # dracut's, in the initramfs
type getarg > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/dracut-lib.sh"
# shellcheck source=kiscsi-lib.sh.in
type kiscsi_wanted > /dev/null 2>&1 || . "${KISCSI_DRACUT_LIBDIR:-/lib}/kiscsi-lib.sh"

kiscsi_cmdline() {
    _kc_list=$(kiscsi_wanted)
    _kc_fw=
    kiscsi_firmware_wanted && _kc_fw=1
    [ -n "$_kc_list$_kc_fw" ] || return 0

    _kc_root=$(getarg root=)
    case $_kc_root in
        iscsi:*)
            case "$kiscsi_nl$(getargs netroot=)" in
                *"${kiscsi_nl}iscsi:"*)
                    warn "kiscsi: root=iscsi: is given, so netroot=iscsi: is ignored"
                    ;;
            esac
            ;;
    esac

    modprobe -q iscsi_tcp || warn "kiscsi: cannot load iscsi_tcp"

    # Every URI must be usable; the finished hook waits for each of them.
    _kc_finished=
    _kc_first=
    _kc_ifs=$IFS
    IFS=$kiscsi_nl
    set -f
    for _kc_uri in $_kc_list; do
        IFS=$_kc_ifs
        kiscsi_parse "$_kc_uri" || die "kiscsi: cannot use $(kiscsi_redact "$_kc_uri")"
        _kc_finished="${_kc_finished}[ -e '$kiscsi_rundir/$kiscsi_key.ok' ] && "
        [ -n "$_kc_first" ] || _kc_first=$_kc_uri
        IFS=$kiscsi_nl
    done
    set +f
    IFS=$_kc_ifs

    if [ -n "$_kc_fw" ]; then
        modprobe -q iscsi_boot_sysfs
        modprobe -q iscsi_ibft || warn "kiscsi: cannot load iscsi_ibft"
        _kc_finished="${_kc_finished}[ -e '$kiscsi_rundir/firmware.ok' ] && "
        # After udev settled: the NIC is there and has its final name.
        initqueue --settled --unique --name kiscsi-firmware "${KISCSI_ROOT-}/sbin/kiscsi-firmware"
    fi

    if [ -n "$_kc_list" ]; then
        # dracut's network modules call /sbin/netroot, which runs our /sbin/iscsiroot once an
        # interface is up (network-legacy, network-manager). The settled job does the same
        # for network handlers that call no netroot script (systemd-networkd in dracut 059):
        # it logs in as soon as there is a route to the target. The timeout job is the last try.
        # shellcheck disable=SC2034  # read by dracut's netroot script
        netroot=$_kc_first
        initqueue --settled --unique --name kiscsi-netroot "${KISCSI_ROOT-}/sbin/iscsiroot" --settled
        initqueue --onetime --timeout --unique --name kiscsi-netroot-timeout "${KISCSI_ROOT-}/sbin/iscsiroot" --timeout
    fi

    # shellcheck disable=SC2154  # hookdir: dracut-lib.sh
    echo "${_kc_finished% && }" > "$hookdir/initqueue/finished/kiscsi.sh"

    # A whole LUN as the root (root=iscsi:..., or no root= at all): udev names it /dev/root.
    if _kc_match=$(kiscsi_root_id_path); then
        mkdir -p "$kiscsi_rules_d"
        printf 'ACTION!="remove", SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", ENV{ID_PATH}=="%s", SYMLINK+="root"\n' \
            "$_kc_match" > "$kiscsi_rules_d/99-kiscsi-root.rules"
        if [ -n "${DRACUT_SYSTEMD-}" ] && systemctl -q is-active systemd-udevd; then
            udevadm control --reload-rules
        fi
        case $_kc_root in
            iscsi:* | '')
                # shellcheck disable=SC2034  # both read by dracut after the cmdline hooks
                root=block:/dev/root
                # shellcheck disable=SC2034
                rootok=1
                wait_for_dev /dev/root
                ;;
        esac
    fi
    return 0
}

kiscsi_cmdline

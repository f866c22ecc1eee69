#!/bin/sh
# Test double of dracut's dracut-lib.sh for kiscsi's dracut module tests (tests only; never
# installed): getarg/getargs/getargbool read $KISCSI_ROOT/proc/cmdline; info, warn, die,
# initqueue and wait_for_dev append to $KISCSI_TEST_LOG / $KISCSI_TEST_CALLS instead of acting.
# Written from dracut's documented semantics, not from its code.

# shellcheck disable=SC2034  # read by the scripts under test
hookdir="$KISCSI_ROOT/hooks"

# _fake_arg NAME: prints NAME's value and returns 0 when the command line has it.
#   NAME=   "NAME=VALUE" gives VALUE (the last one wins), a bare "NAME" gives ""
#   NAME    likewise
#   NAME=V  only the exact word "NAME=V"
_fake_arg() {
    _fa_found=1
    _fa_val=
    set -f
    # shellcheck disable=SC2013  # words, not lines
    for _fa_w in $(cat "$KISCSI_ROOT/proc/cmdline"); do
        case $1 in
            *=?*)
                [ "$_fa_w" = "$1" ] && _fa_found=0 && _fa_val=
                ;;
            *)
                _fa_key=${1%=}
                case $_fa_w in
                    "$_fa_key") _fa_found=0 _fa_val= ;;
                    "$_fa_key"=*) _fa_found=0 _fa_val=${_fa_w#*=} ;;
                esac
                ;;
        esac
    done
    set +f
    [ "$_fa_found" = 0 ] && printf '%s' "$_fa_val"
    return "$_fa_found"
}

getarg() {
    while [ $# -gt 0 ]; do
        case $1 in
            -d) shift ;;
            -y)
                if _fake_arg "$2" > /dev/null; then
                    echo 1
                    return 0
                fi
                shift 2
                ;;
            -n)
                if _fake_arg "$2" > /dev/null; then
                    echo 0
                    return 1
                fi
                shift 2
                ;;
            *)
                _fake_arg "$1" && return 0
                shift
                ;;
        esac
    done
    return 1
}

getargbool() {
    _gb_default=$1
    shift
    if _gb_v=$(getarg "$@"); then
        :
    else
        [ -z "$_gb_v" ] && _gb_v=$_gb_default
    fi
    case $_gb_v in
        0 | no | off) return 1 ;;
    esac
    return 0
}

getargs() {
    _gs_found=1
    for _gs_name in "$@"; do
        [ "$_gs_name" = -d ] && continue
        _gs_key=${_gs_name%=}
        set -f
        # shellcheck disable=SC2013
        for _gs_w in $(cat "$KISCSI_ROOT/proc/cmdline"); do
            case $_gs_w in
                "$_gs_key"=*)
                    printf '%s\n' "${_gs_w#*=}"
                    _gs_found=0
                    ;;
                "$_gs_key") _gs_found=0 ;;
            esac
        done
        set +f
    done
    return "$_gs_found"
}

info() { echo "info: $*" >> "$KISCSI_TEST_LOG"; }
warn() { echo "warn: $*" >> "$KISCSI_TEST_LOG"; }
die() {
    echo "die: $*" >> "$KISCSI_TEST_LOG"
    exit 1
}
initqueue() { echo "initqueue $*" >> "$KISCSI_TEST_CALLS"; }
wait_for_dev() { echo "wait_for_dev $*" >> "$KISCSI_TEST_CALLS"; }

# busybox ash runs its own applets (modprobe, sleep, ip) before anything in PATH: these send them to
# the test's recording stubs.
modprobe() { "$KISCSI_TEST_WORK/stubs/modprobe" "$@"; }
sleep() { "$KISCSI_TEST_WORK/stubs/sleep" "$@"; }
ip() { "$KISCSI_TEST_WORK/stubs/ip" "$@"; }

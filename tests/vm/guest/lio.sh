# shellcheck shell=bash
# LIO (the kernel's iSCSI target) through configfs, for scenarios running inside the test VM.
# Source it from a scenario (bash, set -euo pipefail). No targetcli: writing configfs directly
# is much faster under emulation.
#
#   lio_load                          load the target modules (and sha3_generic) and mount configfs
#   lio_backstore NAME SIZE           fileio backstore NAME backed by a sparse file of SIZE
#                                     (bytes, or with a K/M/G suffix) in $LIO_DIR
#   lio_open_target IQN [LUNS]        target with tpgt_1, LUNS (default 1) fresh backstores
#                                     named IQN-derived _lunN, no authentication, any initiator
#   lio_chap_target IQN INITIATOR USER PASS [MUTUAL_USER MUTUAL_PASS] [LUNS]
#                                     target that admits only INITIATOR, with CHAP (mutual when
#                                     MUTUAL_USER/MUTUAL_PASS are given and not empty)
#   lio_lun IQN LUN BACKSTORE         map an existing backstore as LUN of IQN's tpgt_1
#   lio_portal IQN IP PORT            network portal for IQN's tpgt_1
#   lio_enable IQN / lio_disable IQN  write 1 / 0 to tpgt_1/enable (outages)
#   lio_sessions IQN                  initiator names with a session on IQN's tpgt_1 (open
#                                     targets), one a line
#   lio_delete_all                    tear every target and backstore down
# Targets are created disabled; lio_portal does not enable them: call lio_enable last.

LIO_CFS=${LIO_CFS:-/sys/kernel/config/target}
# Backing files live on a plain tmpfs (/run), not on the overlay.
LIO_DIR=${LIO_DIR:-/run/kiscsi-vm/lio}

_lio_die() { echo "lio: $*" >&2; return 1; }

_lio_write() { # VALUE FILE (no newline: LIO keeps it as part of CHAP names and secrets)
  printf '%s' "$1" >"$2" || _lio_die "cannot write '$1' to $2"
}

_lio_tpg() { echo "$LIO_CFS/iscsi/$1/tpgt_1"; }

lio_load() {
  local m
  for m in configfs target_core_mod target_core_file iscsi_target_mod sha3_generic; do
    modprobe "$m" || _lio_die "modprobe $m failed" || return
  done
  if ! grep -q ' /sys/kernel/config configfs ' /proc/mounts; then
    mount -t configfs configfs /sys/kernel/config || _lio_die "cannot mount configfs" || return
  fi
  [ -d "$LIO_CFS/iscsi" ] || mkdir "$LIO_CFS/iscsi" \
    || _lio_die "cannot create $LIO_CFS/iscsi (iscsi_target_mod)" || return
  mkdir -p "$LIO_DIR"
}

_lio_bytes() { # SIZE -> bytes
  local n=$1
  case $n in
    *[kK]) echo $((${n%?} * 1024)) ;;
    *[mM]) echo $((${n%?} * 1024 * 1024)) ;;
    *[gG]) echo $((${n%?} * 1024 * 1024 * 1024)) ;;
    *) echo $((n)) ;;
  esac
}

lio_backstore() { # NAME SIZE
  local name=$1 bytes dir
  bytes=$(_lio_bytes "$2") || return
  dir=$LIO_CFS/core/fileio_0/$name
  [ -d "$LIO_CFS" ] || lio_load || return
  mkdir -p "$LIO_DIR"
  truncate -s "$bytes" "$LIO_DIR/$name.img" || _lio_die "cannot create $LIO_DIR/$name.img" || return
  mkdir -p "$dir" || _lio_die "cannot create backstore $name" || return
  _lio_write "fd_dev_name=$LIO_DIR/$name.img,fd_dev_size=$bytes" "$dir/control" || return
  _lio_write 1 "$dir/enable" || return
  # A unit serial derived from the name keeps device ids stable across runs.
  _lio_write "$(printf '%s' "$name" | md5sum | cut -c1-32)" "$dir/wwn/vpd_unit_serial" \
    2>/dev/null || true
}

_lio_target_dir() { # IQN
  local tpg
  tpg=$(_lio_tpg "$1")
  [ -d "$LIO_CFS/iscsi" ] || lio_load || return
  mkdir -p "$tpg" || _lio_die "cannot create target $1" || return
}

lio_lun() { # IQN LUN BACKSTORE
  local tpg lun=$LIO_CFS/iscsi/$1/tpgt_1/lun/lun_$2
  tpg=$(_lio_tpg "$1")
  [ -d "$tpg" ] || _lio_target_dir "$1" || return
  [ -d "$LIO_CFS/core/fileio_0/$3" ] || _lio_die "no backstore $3" || return
  mkdir -p "$lun" || _lio_die "cannot create $lun" || return
  ln -s "$LIO_CFS/core/fileio_0/$3" "$lun/$3" || _lio_die "cannot map $3 to $lun" || return
}

_lio_luns() { # IQN COUNT: fresh backstores named after the target
  local iqn=$1 count=$2 i base
  base=$(printf '%s' "$iqn" | tr -c 'a-zA-Z0-9\n' '_')
  for ((i = 0; i < count; i++)); do
    lio_backstore "${base}_lun$i" 64M || return
    lio_lun "$iqn" "$i" "${base}_lun$i" || return
  done
}

lio_open_target() { # IQN [LUNS]
  local iqn=$1 luns=${2:-1} tpg
  tpg=$(_lio_tpg "$iqn")
  _lio_target_dir "$iqn" || return
  _lio_luns "$iqn" "$luns" || return
  _lio_write 0 "$tpg/attrib/authentication" || return
  _lio_write 1 "$tpg/attrib/generate_node_acls" || return
  _lio_write 0 "$tpg/attrib/demo_mode_write_protect" || return
  _lio_write 1 "$tpg/attrib/cache_dynamic_acls" || return
}

lio_chap_target() { # IQN INITIATOR USER PASS [MUTUAL_USER MUTUAL_PASS] [LUNS]
  local iqn=$1 initiator=$2 user=$3 pass=$4 muser=${5:-} mpass=${6:-} luns=${7:-1}
  local tpg acl lun
  tpg=$(_lio_tpg "$iqn")
  _lio_target_dir "$iqn" || return
  _lio_luns "$iqn" "$luns" || return
  _lio_write 1 "$tpg/attrib/authentication" || return
  _lio_write 0 "$tpg/attrib/generate_node_acls" || return
  _lio_write 0 "$tpg/attrib/demo_mode_write_protect" || return
  acl=$tpg/acls/$initiator
  mkdir -p "$acl" || _lio_die "cannot create ACL $initiator" || return
  for lun in "$tpg"/lun/lun_*; do
    [ -d "$lun" ] || continue
    mkdir -p "$acl/$(basename "$lun")" || return
    ln -s "$lun" "$acl/$(basename "$lun")/$(basename "$lun")" \
      || _lio_die "cannot map $(basename "$lun") into the ACL" || return
  done
  _lio_write "$user" "$acl/auth/userid" || return
  _lio_write "$pass" "$acl/auth/password" || return
  if [ -n "$muser" ] || [ -n "$mpass" ]; then
    _lio_write "$muser" "$acl/auth/userid_mutual" || return
    _lio_write "$mpass" "$acl/auth/password_mutual" || return
  fi
}

lio_portal() { # IQN IP PORT
  local tpg np
  tpg=$(_lio_tpg "$1")
  [ -d "$tpg" ] || _lio_die "no target $1" || return
  np=$tpg/np/$2:$3
  [[ $2 == *:* ]] && np="$tpg/np/[$2]:$3"
  mkdir -p "$np" || _lio_die "cannot listen on $2:$3 for $1 (port in use?)" || return
}

lio_enable() { _lio_write 1 "$(_lio_tpg "$1")/enable"; }
lio_disable() { _lio_write 0 "$(_lio_tpg "$1")/enable"; }

lio_sessions() { sed '/^$/d' "$(_lio_tpg "$1")/dynamic_sessions"; }

lio_delete_all() {
  local tpg d
  for tpg in "$LIO_CFS"/iscsi/*/tpgt_*; do
    [ -d "$tpg" ] || continue
    echo 0 >"$tpg/enable" 2>/dev/null || true
    for d in "$tpg"/acls/*/lun_*/lun_* "$tpg"/lun/lun_*/*; do
      if [ -L "$d" ]; then rm -f "$d"; fi
    done
    for d in "$tpg"/acls/*/lun_* "$tpg"/acls/* "$tpg"/lun/lun_* "$tpg"/np/*; do
      if [ -d "$d" ]; then rmdir "$d" || _lio_die "cannot remove $d" || return; fi
    done
    rmdir "$tpg" "$(dirname "$tpg")" || _lio_die "cannot remove $tpg" || return
  done
  for d in "$LIO_CFS"/core/fileio_*/*/ "$LIO_CFS"/core/fileio_*/; do
    if [ -d "$d" ]; then rmdir "$d" || _lio_die "cannot remove $d" || return; fi
  done
  rm -rf "$LIO_DIR"
}

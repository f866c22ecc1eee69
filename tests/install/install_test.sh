#!/bin/bash
# Installs this build tree into scratch DESTDIRs, as a packager would, and checks the result:
#   1. cmake -P cmake_install.cmake, prefix /usr, stripped, KISCSI_OPEN_ISCSI_NAMES=OFF
#   2. the same with KISCSI_OPEN_ISCSI_NAMES=ON (an install-time override: the shared build
#      tree is never reconfigured)
#   3. `cmake --install BUILD --prefix /opt/kiscsi --strip`, the packager's command itself,
#      with a prefix that differs from the configured one and from /usr
# In each: every program a unit or the udev rule runs is in the tree (under the install prefix,
# not the configured one) or on this system, the rule that starts kiscsid for iSCSI disks is there
# (66-kiscsid.rules), the programs are stripped and run, iscsid.conf is
# there (mode 0600) and the installed kiscsiadm reads it without a warning, the initramfs
# integrations (initramfs-tools, dracut, mkinitcpio) are in place, the /etc/iscsi
# directories have their modes, the man pages are there, every symlink resolves inside the tree,
# and `systemctl --root enable` accepts the unit names a distribution uses. A second install
# over the first keeps an edited iscsid.conf.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
source=$2
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
configured_prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
programs=(kiscsiadm kiscsid kiscsistart kiscsi-iname kiscsi-udev)
units=(kiscsid.service kiscsid.socket kiscsi.service kiscsi-init.service)

# run_install DESTDIR LOG ARGS...: cmake with DESTDIR set; the log is shown on failure.
run_install() {
  local dest=$1 log=$2
  shift 2
  if ! DESTDIR=$dest cmake "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "install into $dest failed: cmake $*"
    return 1
  fi
}

# check_exec_path TREE PREFIX WHAT PATH: PATH (absolute) is a program of the tree when it is
# under PREFIX, else a program of this system.
check_exec_path() {
  local tree=$1 prefix=$2 what=$3 path=$4
  case $path in
    /*) ;;
    *) fail "$what: '$path' is not an absolute path" && return ;;
  esac
  if [[ $path == "$prefix"/* ]]; then
    [[ -x $tree$path && -f $tree$path ]] || fail "$what: $path is not in the tree"
  else
    [[ -x $path ]] || fail "$what: $path is neither in the tree nor on this system"
  fi
}

# check_tree TREE PREFIX CONFDIR NAMES(ON|OFF)
check_tree() {
  local tree=$1 prefix=$2 confdir=$3 names=$4
  local sbin=$tree$prefix/sbin unitdir=$tree$prefix/lib/systemd/system
  local rules=$tree$prefix/lib/udev/rules.d/65-kiscsi-udev.rules
  local p

  for p in "${programs[@]}"; do
    if [[ ! -x $sbin/$p ]]; then
      fail "$prefix/sbin/$p missing"
      continue
    fi
    if readelf --section-headers "$sbin/$p" | grep -qE '\.(debug_info|symtab) '; then
      fail "$prefix/sbin/$p is not stripped"
    fi
    file -b "$sbin/$p" | grep -q ', stripped' || fail "file(1) does not call $p stripped"
  done
  "$sbin/kiscsiadm" --version >/dev/null 2>&1 || fail "the installed kiscsiadm --version fails"
  # What an initramfs or udev runs carries no shared library (a static build, the default;
  # sanitizer and fuzzer builds link dynamically).
  if grep -q '^KISCSI_LINK_STATIC:BOOL=ON$' "$build/CMakeCache.txt" &&
    ! grep -qE '^KISCSI_(SANITIZE|FUZZ):BOOL=ON$' "$build/CMakeCache.txt"; then
    for p in kiscsistart kiscsi-udev kiscsiadm kiscsi-iname; do
      [[ -x $sbin/$p ]] || continue
      if readelf --dynamic "$sbin/$p" | grep -q '(NEEDED)'; then
        fail "$prefix/sbin/$p loads shared libraries: $(readelf --dynamic "$sbin/$p" |
          sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
      fi
    done
  fi

  # Units and the udev rule: every program they run.
  local unit line command
  for unit in "${units[@]}"; do
    [[ -f $unitdir/$unit ]] || { fail "unit $unit missing" && continue; }
    while IFS= read -r line; do
      command=${line#*=}
      command=${command#[-@+!:]}
      command=${command#[-@+!:]}
      check_exec_path "$tree" "$prefix" "$unit: $line" "${command%% *}"
    done < <(grep -E '^Exec[A-Za-z]*=' "$unitdir/$unit")
  done
  if [[ -f $rules ]]; then
    local runs
    runs=$(grep -oE 'RUN\+="[^" ]+' "$rules" | sed 's/^RUN+="//')
    [[ -n $runs ]] || fail "65-kiscsi-udev.rules runs nothing"
    for command in $runs; do
      check_exec_path "$tree" "$prefix" "65-kiscsi-udev.rules: RUN" "$command"
    done
  else
    fail "$prefix/lib/udev/rules.d/65-kiscsi-udev.rules missing"
  fi
  # The rule that starts kiscsid for an iSCSI disk: it matches ID_PATH, so it must sort after
  # 60-persistent-storage.rules, which sets it.
  local wants_rule
  wants_rule=$(find "$(dirname "$rules")" -name '*.rules' -exec grep -l 'SYSTEMD_WANTS' {} +)
  if [[ $(basename "$wants_rule") != 66-kiscsid.rules ]]; then
    fail "$prefix/lib/udev/rules.d/66-kiscsid.rules missing (rules with SYSTEMD_WANTS: $wants_rule)"
  else
    grep -qE '^SUBSYSTEM=="block", ACTION=="add", ENV\{ID_PATH\}=="\*-iscsi-\*", ENV\{SYSTEMD_WANTS\}\+="kiscsid.service"$' \
      "$wants_rule" || fail "66-kiscsid.rules does not want kiscsid.service for iSCSI disks"
    [[ $(stat -c %a "$wants_rule") == 644 ]] || fail "66-kiscsid.rules mode $(stat -c %a "$wants_rule")"
  fi
  if [[ $configured_prefix != "$prefix" ]] &&
    grep -rlF "$configured_prefix/" "$unitdir" "$(dirname "$rules")" >&2; then
    fail "installed files name the configured prefix $configured_prefix, not $prefix"
  fi

  # iscsid.conf and the record directories.
  local conf=$tree$confdir/iscsid.conf
  if [[ -f $conf ]]; then
    cmp -s "$conf" "$source/contrib/iscsid.conf" || fail "$confdir/iscsid.conf differs"
    [[ $(stat -c %a "$conf") == 600 ]] || fail "$confdir/iscsid.conf mode $(stat -c %a "$conf")"
  else
    fail "$confdir/iscsid.conf missing"
  fi
  [[ $(stat -c %a "$tree$confdir" 2>/dev/null) == 755 ]] || fail "$confdir is not mode 0755"
  local dir
  for dir in nodes send_targets ifaces; do
    [[ $(stat -c %a "$tree$confdir/$dir" 2>/dev/null) == 700 ]] ||
      fail "$confdir/$dir is not a directory of mode 0700"
  done
  # The installed kiscsiadm creates a record from the installed iscsid.conf: no warning, and
  # the file's defaults in the record.
  local out err target=iqn.2001-04.com.example:install-test
  if out=$(KISCSI_SYSCONFDIR=$tree$confdir KISCSI_RUNDIR=$work/run \
    "$sbin/kiscsiadm" -m node -o new -T $target -p 192.0.2.1 2>"$work/err"); then
    err=$(cat "$work/err")
    [[ -z $err ]] || fail "kiscsiadm -m node -o new with the installed iscsid.conf: $err"
    out=$(KISCSI_SYSCONFDIR=$tree$confdir KISCSI_RUNDIR=$work/run \
      "$sbin/kiscsiadm" -m node -T $target -p 192.0.2.1 2>&1)
    grep -qx 'node.session.timeo.replacement_timeout = 120' <<<"$out" ||
      fail "the new record does not have iscsid.conf's defaults: $out"
    rm -rf "${tree:?}$confdir/nodes/$target"
  else
    fail "kiscsiadm -m node -o new with the installed iscsid.conf: $out $(cat "$work/err")"
  fi

  # Man pages.
  local page
  for page in man8/{kiscsiadm,kiscsid,kiscsistart,kiscsi-iname,kiscsi-udev}.8 \
    man5/kiscsi-iscsid.conf.5; do
    [[ -s $tree$prefix/share/man/$page ]] || fail "$prefix/share/man/$page missing"
  done

  # The initramfs integrations, where each generator looks for them, executable where the
  # generator runs them, and naming the installed programs (not the configured prefix).
  local file mode
  for file in share/initramfs-tools/hooks/kiscsi:755 \
    share/initramfs-tools/scripts/local-top/kiscsi:755 \
    share/initramfs-tools/scripts/local-bottom/kiscsi:755 \
    lib/dracut/modules.d/95kiscsi/module-setup.sh:755 \
    lib/initcpio/install/kiscsi:644 lib/initcpio/hooks/kiscsi:644; do
    mode=${file##*:}
    file=${file%:*}
    if [[ -f $tree$prefix/$file ]]; then
      [[ $(stat -c %a "$tree$prefix/$file") == "$mode" ]] ||
        fail "$prefix/$file mode $(stat -c %a "$tree$prefix/$file"), not $mode"
      ! grep -q '@[A-Z_]*@' "$tree$prefix/$file" || fail "$prefix/$file has an unfilled @VARIABLE@"
    else
      fail "$prefix/$file missing"
    fi
  done
  grep -qx "sbindir=\"$prefix/sbin\"" "$tree$prefix/share/initramfs-tools/hooks/kiscsi" ||
    fail "the initramfs-tools hook does not take the programs from $prefix/sbin"

  # Every symlink resolves inside the tree.
  local link resolved
  while IFS= read -r link; do
    resolved=$(realpath -e "$link" 2>/dev/null) || { fail "dangling symlink $link" && continue; }
    [[ $resolved == "$tree"/* ]] || fail "$link points outside the tree: $resolved"
  done < <(find "$tree" -type l)

  # open-iscsi's names, or none of them.
  local theirs=(sbin/iscsiadm sbin/iscsid sbin/iscsistart sbin/iscsi-iname
    share/man/man8/iscsiadm.8 share/man/man8/iscsid.8 share/man/man8/iscsistart.8
    share/man/man8/iscsi-iname.8 share/man/man5/iscsid.conf.5
    lib/systemd/system/iscsid.service lib/systemd/system/iscsid.socket
    lib/systemd/system/iscsi.service lib/systemd/system/open-iscsi.service
    lib/systemd/system/iscsi-init.service)
  local name
  for name in "${theirs[@]}"; do
    if [[ $names == ON ]]; then
      [[ -L $tree$prefix/$name ]] || fail "$prefix/$name (open-iscsi's name) missing"
    else
      [[ ! -e $tree$prefix/$name ]] || fail "$prefix/$name installed without the option"
    fi
  done
  if [[ $names == ON ]]; then
    "$sbin/iscsiadm" --version >/dev/null 2>&1 || fail "iscsiadm --version fails"
  fi

  # What a distribution's package scripts run.
  if command -v systemctl >/dev/null && [[ $prefix == /usr ]]; then
    local enable=(kiscsid.socket kiscsi.service kiscsi-init.service)
    [[ $names == ON ]] && enable=(iscsid.socket iscsi.service open-iscsi.service)
    if ! systemctl --root="$tree" enable "${enable[@]}" >"$work/systemctl" 2>&1; then
      fail "systemctl --root enable ${enable[*]}: $(cat "$work/systemctl")"
    fi
    [[ -L $tree/etc/systemd/system/sockets.target.wants/kiscsid.socket ]] ||
      fail "enabling ${enable[0]} did not enable kiscsid.socket"
    [[ -L $tree/etc/systemd/system/remote-fs.target.wants/kiscsi.service ]] ||
      fail "enabling ${enable[1]} did not enable kiscsi.service"
    rm -rf "${tree:?}/etc/systemd"
  fi
}

# 1 and 2: prefix /usr, with and without open-iscsi's names.
for names in OFF ON; do
  tree=$work/usr-$names
  run_install "$tree" "$work/usr-$names.log" -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_INSTALL_DO_STRIP=1 -DKISCSI_OPEN_ISCSI_NAMES=$names -P "$build/cmake_install.cmake" ||
    continue
  check_tree "$tree" /usr /etc/iscsi $names
  grep -qx /usr/lib/systemd/system/kiscsid.service "$build/install_manifest.txt" ||
    fail "install_manifest.txt does not list the units"

  # Installing again keeps an edited iscsid.conf, and replaces the rest without complaint.
  echo 'node.startup = automatic' >"$tree/etc/iscsi/iscsid.conf"
  run_install "$tree" "$work/again-$names.log" -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_INSTALL_DO_STRIP=1 -DKISCSI_OPEN_ISCSI_NAMES=$names -P "$build/cmake_install.cmake" &&
    [[ $(cat "$tree/etc/iscsi/iscsid.conf") == 'node.startup = automatic' ]] ||
    fail "a second install replaced an existing iscsid.conf"
done

# 3: the packager's command, another prefix (GNUInstallDirs: /opt/X keeps its configuration in
# /etc/opt/X). The option is whatever the tree was configured with.
configured_names=$(sed -n 's/^KISCSI_OPEN_ISCSI_NAMES:BOOL=//p' "$build/CMakeCache.txt")
[[ $configured_names == ON ]] || configured_names=OFF
tree=$work/opt
if run_install "$tree" "$work/opt.log" --install "$build" --prefix /opt/kiscsi --strip; then
  check_tree "$tree" /opt/kiscsi /etc/opt/kiscsi/iscsi "$configured_names"
fi

if ((failures > 0)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "install tree: all checks passed"

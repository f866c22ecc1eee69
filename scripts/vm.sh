#!/usr/bin/env bash
# Runs kiscsi's VM scenarios (a real kernel with LIO, in qemu): builds the programs, prepares the
# VM (first run only; cached) and boots one VM per scenario.
#
#   bash scripts/vm.sh                  the suite (tests/vm/scenarios.list)
#   bash scripts/vm.sh NAME... [-- ARGS] only these (ARGS go to each of them)
#
# Environment: KISCSI_BUILD (build tree, default build-vm; configured here when missing) and what
# tests/vm/run.sh reads (KISCSI_VM_CACHE, KISCSI_VM_TIMEOUT, KISCSI_VM_QUIET, ...).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KISCSI_BUILD:-$top/build-vm}

names=()
while (($#)); do
  case $1 in
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) names+=("$1"); shift ;;
  esac
done
if ((${#names[@]} == 0)); then
  while read -r name; do
    name=${name%%#*}
    if [ -n "${name// /}" ]; then names+=("${name// /}"); fi
  done <"$top/tests/vm/scenarios.list"
fi

if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  bash "$top/scripts/setup.sh"
  cmake -S "$top" -B "$build" -G Ninja -DKISCSI_BENCH=OFF >/dev/null
fi
cmake --build "$build" --target kiscsi_vm_programs
bash "$top/tests/vm/setup.sh" >/dev/null

started=$(date +%s)
results=()
failed=0
for name in "${names[@]}"; do
  set +e
  bash "$top/tests/vm/run.sh" --build "$build" "$name" "$@" | tee "$build/vm-$name.summary"
  rc=${PIPESTATUS[0]}
  set -e
  results+=("$(tail -n 1 "$build/vm-$name.summary")")
  rm -f "$build/vm-$name.summary"
  ((rc == 0)) || failed=$((failed + 1))
done
echo
echo "== VM scenarios ($(($(date +%s) - started)) s)"
printf '%s\n' "${results[@]}"
if ((failed)); then
  echo "$failed of ${#names[@]} scenarios failed" >&2
  exit 1
fi

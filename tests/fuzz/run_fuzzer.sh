#!/bin/sh
# Runs one libFuzzer target briefly over its checked-in seed corpus (tests/fuzz/corpus/NAME),
# writing new inputs to a scratch directory so the source tree is never modified.
# Usage: run_fuzzer.sh FUZZER SEED_DIR WORK_DIR
set -eu
fuzzer=$1 seeds=$2 work=$3
seconds=${KISCSI_FUZZ_SECONDS:-20}
mkdir -p "$work/corpus"
[ -d "$seeds" ] || seeds=
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" $seeds

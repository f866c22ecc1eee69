#!/usr/bin/env bash
# The source tree's rules that a compiler does not check (README.md, Layout):
#   - every module (a folder of src/, netlink/, conf/) declares its code in one namespace
#     (kiscsi:: for the core, kiscsi::<module> for the edge modules), plus `internal` helpers;
#   - no two types defined in src/, netlink/ and conf/ share a name;
#   - no source file there is longer than 600 lines.
#
#   tree_rules_test.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: tree_rules_test.sh SOURCE_DIR}
cd "$src"
failed=0
fail() { echo "tree_rules: $*" >&2; failed=1; }

modules=(netlink conf)
for dir in src/*/; do
  dir=${dir%/}
  [ "$dir" = src/programs ] && continue
  modules+=("$dir")
done

for module in "${modules[@]}"; do
  # Named namespaces opened at the start of a line, nested "internal" helpers left out.
  names=$(grep -h -E '^namespace [A-Za-z_:]+ \{' "$module"/*.h "$module"/*.cc 2>/dev/null |
    sed -E 's/^namespace ([A-Za-z_:]+) \{.*/\1/' | grep -v -E '(^|::)internal$' | sort -u)
  count=$(printf '%s\n' "$names" | grep -c . || true)
  if ((count != 1)); then
    fail "$module declares its code in $count namespaces: $(echo "$names" | tr '\n' ' ')"
  fi
done

# Type definitions at namespace level: "class X {", "struct X : Base {", "enum class X : int {".
dupes=$(grep -h -E '^(class|struct|enum class|enum) [A-Za-z_][A-Za-z0-9_]*( final)?( : [^;{]*)? \{' \
  src/*/*.h netlink/*.h conf/*.h 2>/dev/null |
  sed -E 's/^(class|struct|enum class|enum) ([A-Za-z_][A-Za-z0-9_]*).*/\2/' | sort | uniq -d)
[ -z "$dupes" ] || fail "types defined more than once: $(echo "$dupes" | tr '\n' ' ')"

while read -r lines file; do
  [ "$file" = total ] && continue
  ((lines <= 600)) || fail "$file has $lines lines (at most 600)"
done < <(wc -l src/*/*.h src/*/*.cc src/programs/*/*.h src/programs/*/*.cc netlink/*.h \
  netlink/*.cc conf/*.h conf/*.cc)

((failed == 0)) && echo "tree_rules: ${#modules[@]} modules, one namespace each; no type defined twice; no file over 600 lines"
exit "$failed"

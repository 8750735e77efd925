#!/usr/bin/env bash
# Memory: valgrind memcheck on lua5.4 with the real .so, over the success paths and the error
# paths (each run: 0 errors, 0 bytes definitely and 0 indirectly lost), and the RSS of a long
# loop of calls, which must stay flat. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0

source scripts/lua54.sh

echo "1..3"
n=0
for case in "success:" "error:abc"; do
  name=${case%%:*} value=${case#*:}
  n=$((n + 1))
  log="$log_dir/valgrind-$name.log"
  with_override "$value" valgrind --tool=memcheck --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$LUA" lua/valgrind/paths.lua >"$log" 2>&1
  code=$?
  summary=$(grep -E "ERROR SUMMARY|definitely lost|indirectly lost|All heap blocks were freed" "$log" | sed 's/^==[0-9]*== *//')
  clean=true
  grep -q "ERROR SUMMARY: 0 errors" "$log" || clean=false
  grep -q "paths done" "$log" || clean=false
  if grep -q "All heap blocks were freed" "$log"; then :; else
    grep -q "definitely lost: 0 bytes in 0 blocks" "$log" || clean=false
    grep -q "indirectly lost: 0 bytes in 0 blocks" "$log" || clean=false
  fi
  if [ "$code" -eq 0 ] && $clean; then
    echo "ok $n - valgrind lua5.4, $name paths: 0 errors, nothing definitely or indirectly lost"
  else
    failed=1; echo "not ok $n - valgrind lua5.4, $name paths (exit $code)"
  fi
  printf '%s\n' "$summary" | sed 's/^/# /'
done

# RSS over 10^5 detection calls (and 10^3 explain()) after a warm-up: growth would mean a leak
# that valgrind's exit-time view cannot see (memory held and reachable).
n=$((n + 1))
calls=100000
read -r before after < <(with_override "" "$LUA" lua/bench/rss.lua $calls)
if [ -n "$after" ] && [ $((after - before)) -le 256 ]; then
  echo "ok $n - RSS flat over $calls calls: $before KiB -> $after KiB"
else
  failed=1; echo "not ok $n - RSS grew over $calls calls: $before KiB -> $after KiB (more than 256 KiB)"
fi
[ "$failed" -eq 0 ]

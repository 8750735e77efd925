#!/usr/bin/env bash
# The rockspec, installed offline with luarocks into a fresh tree for every Lua 5.x in the
# interpreter list, then required from that tree through `luarocks path`; and its test
# section, `luarocks test` (busted on that version's module). Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0

read -r -a luas <<<"${KUMO_LUAS:?run through make test, which exports the interpreter list}"
std_reference=$(make -s --no-print-directory std-reference | tail -n 1)
expected=$(env -u KUMO_AVAILABLE_PARALLELISM "$std_reference")
rockspec=$(ls kumo_parallelism-*.rockspec)

versions=()
for lua in "${luas[@]}"; do
  case $lua in lua5.*) versions+=("${lua#lua}") ;; esac   # luarocks drives PUC Lua only
done
if [ ${#versions[@]} -eq 0 ]; then echo "1..1"; echo "not ok 1 - no Lua 5.x in KUMO_LUAS ($KUMO_LUAS)"; exit 1; fi
echo "1..$(( ${#versions[@]} * 3 ))"
n=0
for version in "${versions[@]}"; do
  tree="$PWD/target/luarocks/$version"
  rm -rf "$tree"
  log="$PWD/target/luarocks/$version.log"
  mkdir -p "$(dirname "$log")"
  n=$((n + 1))
  if luarocks --lua-version="$version" --tree="$tree" make "$rockspec" >"$log" 2>&1 \
    && [ -f "$tree/lib/lua/$version/kumo_parallelism.so" ] \
    && [ ! -e "$tree/lib/lua/$version/libkumo_parallelism.so" ]; then
    echo "ok $n - luarocks $version installs kumo_parallelism.so into the tree"
  else
    failed=1; echo "not ok $n - luarocks $version installs kumo_parallelism.so into the tree"
    sed 's/^/# /' "$log" | tail -n 20
  fi
  n=$((n + 1))
  answer=$(
    eval "$(luarocks --lua-version="$version" --tree="$tree" path)"
    env -u KUMO_AVAILABLE_PARALLELISM "lua$version" -e '
      local m = require "kumo_parallelism"
      -- the first cpath entry that has the module, as require searches (5.1 lacks searchpath)
      local where
      for template in package.cpath:gmatch("[^;]+") do
        local candidate = template:gsub("%?", "kumo_parallelism")
        local file = io.open(candidate)
        if file then file:close(); where = candidate; break end
      end
      print(m.available_parallelism(), where)' 2>&1
  )
  want="$expected	$tree/lib/lua/$version/kumo_parallelism.so"
  if [ "$answer" = "$want" ]; then
    echo "ok $n - lua$version requires the module from the luarocks tree"
  else
    failed=1; echo "not ok $n - lua$version requires the module from the luarocks tree"
    echo "# expected: $want"; echo "# got: $answer"
  fi
  n=$((n + 1))
  # busted's closing line: some specs ran, none failed
  if env -u KUMO_AVAILABLE_PARALLELISM luarocks --lua-version="$version" test "$rockspec" >"$log.test" 2>&1 \
    && grep -Eq '^[1-9][0-9]* successes / 0 failures / 0 errors' "$log.test"; then
    echo "ok $n - luarocks $version test runs the specs and passes ($(grep -o '[0-9]* successes' "$log.test"))"
  else
    failed=1; echo "not ok $n - luarocks $version test runs the specs and passes"
    sed 's/^/# /' "$log.test" | tail -n 20
  fi
done
[ "$failed" -eq 0 ]

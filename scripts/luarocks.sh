#!/usr/bin/env bash
# The rockspec, installed offline with luarocks into a fresh tree for every Lua 5.x in the
# interpreter list, then required from that tree through `luarocks path`, its type file in
# the rock's directory; and its test section, `luarocks test` (busted on that version's
# module), with Debian's lua-busted declared as the busted its test_dependencies ask for.
# Prints TAP.
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
# Debian's busted is no rock: the configuration says it provides one (rocks_provided), so
# that `luarocks test` finds its test dependency instead of fetching it
busted_version=$(dpkg-query -W -f='${Version}' lua-busted 2>/dev/null | sed 's/+.*//')
echo "1..$(( ${#versions[@]} * 4 ))"
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
  rock_dir=$(luarocks --lua-version="$version" --tree="$tree" show --rock-dir kumo_parallelism 2>/dev/null)
  if [ -n "$rock_dir" ] && cmp -s lua/library/kumo_parallelism.lua "$rock_dir/library/kumo_parallelism.lua"; then
    echo "ok $n - luarocks $version installs the type file at the rock's library/"
  else
    failed=1; echo "not ok $n - luarocks $version installs the type file at the rock's library/ (rock dir: '$rock_dir')"
  fi
  n=$((n + 1))
  config="$PWD/target/luarocks/config-$version.lua"
  { cat "/etc/luarocks/config-$version.lua" 2>/dev/null
    echo "rocks_provided = { busted = \"${busted_version:-none}\" }"; } >"$config"
  # busted's closing line: some specs ran, none failed
  if env -u KUMO_AVAILABLE_PARALLELISM LUAROCKS_CONFIG="$config" luarocks --lua-version="$version" test "$rockspec" >"$log.test" 2>&1 \
    && grep -Eq '^[1-9][0-9]* successes / 0 failures / 0 errors' "$log.test"; then
    echo "ok $n - luarocks $version test runs the specs and passes ($(grep -o '[0-9]* successes' "$log.test"))"
  else
    failed=1; echo "not ok $n - luarocks $version test runs the specs and passes"
    sed 's/^/# /' "$log.test" | tail -n 20
  fi
done
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# A C host (tests/c_host/first_answers.c): Lua 5.4 embedded, the real module loaded with
# require in one lua_State per thread, each state kept open. Both orders of first answers,
# each in a process of its own. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/tap.sh

module=${KUMO_LUA_MODULES:?run through make test, which exports where the modules are}/lua5.4
host=target/c-host/first_answers
modes=(worker-first main-first)
mkdir -p "$(dirname "$host")"
if ! gcc -O1 -Wall -Wextra -Werror -o "$host" tests/c_host/first_answers.c \
    $(pkg-config --cflags --libs lua5.4) -pthread 2>target/c-host/build.log; then
  echo "1..1"; tap not-ok "the C host builds" "$(cat target/c-host/build.log)"; exit 1
fi
# std's answer here, unpinned, as the main thread sees it
std_answer=$(env -u KUMO_AVAILABLE_PARALLELISM "${KUMO_STD_REFERENCE:?run through make test, which exports the std reference}")
planned=0
for mode in "${modes[@]}"; do planned=$((planned + $("$host" --plan "$mode"))); done
echo "1..$planned"
for mode in "${modes[@]}"; do
  tap_relay "$mode: " < <(env -u KUMO_AVAILABLE_PARALLELISM LUA_CPATH="$module/?.so" \
    KUMO_STD_ANSWER="$std_answer" "$host" "$mode" 2>&1)
done
tap_exit "$planned"

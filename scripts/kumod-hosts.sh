#!/usr/bin/env bash
# The kumod-shaped host (hosts/kumod/main.rs) once per mlua line: every hosts/kumod-mlua-X.Y
# builds it from its own manifest and lockfile (--locked), with KumoMTA's mlua features.
# Checks that each build resolved to mlua X.Y.*, so a silent fall back to one line fails,
# then runs the host's own TAP checks. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/.."

hosts=(hosts/kumod-mlua-*/)
# the real module for the hosts' Lua 5.4, which safe mode must refuse
module="$PWD/target/lua/lua5.4/kumo_parallelism.so"
make -s --no-print-directory module LUA=lua5.4 >/dev/null 2>&1 || true
per_host=9   # resolves, builds, and the host's 7 checks
echo "1..$(( ${#hosts[@]} * per_host ))"
source scripts/tap.sh

for dir in "${hosts[@]}"; do
  dir=${dir%/}
  line=${dir##*-mlua-}
  manifest="$dir/Cargo.toml"
  target="target/build/kumod-mlua-$line"
  resolved=$(cargo tree --quiet --locked --manifest-path "$manifest" -e normal -i mlua --depth 0 2>&1)
  if [[ $resolved == "mlua v$line."* ]]; then tap ok "$dir resolves mlua $line ($resolved)"
  else tap not-ok "$dir resolves mlua $line" "cargo tree: $resolved"; fi

  log="target/test-logs/kumod-mlua-$line-build.log"
  mkdir -p "$(dirname "$log")"
  # a test program: built without optimisation, which builds faster
  if ! cargo build --quiet --locked --manifest-path "$manifest" --target-dir "$target" >"$log" 2>&1; then
    tap not-ok "$dir builds" "$(tail -n 30 "$log")"
    continue
  fi
  tap ok "$dir builds with vendored lua54 async send serialize"
  # the host's own checks, renumbered into this stream
  output=$(env -u KUMO_AVAILABLE_PARALLELISM KUMO_MODULE="$module" "$target/debug/kumod_host" 2>&1)
  code=$?
  tap_relay "mlua $line: " <<<"$output"
  [ "$code" -eq 0 ] || { tap not-ok "mlua $line: the host exited with $code" "$output"; }
done
tap_exit $(( ${#hosts[@]} * per_host ))

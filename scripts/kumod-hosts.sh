#!/usr/bin/env bash
# The kumod-shaped host (hosts/kumod/main.rs) once per mlua line: every hosts/kumod-mlua-X.Y
# builds it from its own manifest and lockfile (--locked), with KumoMTA's mlua features.
# Checks that each build resolved to mlua X.Y.*, so a silent fall back to one line fails,
# then runs the host, a test binary in libtest's format, whose "running N tests" adds N to
# the plan (scripts/libtest-tap). Prints TAP, its plan last.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/tap.sh

hosts=(hosts/kumod-mlua-*/)
# the real module for the hosts' Lua 5.4, which safe mode must refuse
module="${KUMO_LUA_MODULES:?run through make, which exports where the modules are}/lua5.4/kumo_parallelism.so"
planned=0

for dir in "${hosts[@]}"; do
  dir=${dir%/}
  line=${dir##*-mlua-}
  manifest="$dir/Cargo.toml"
  target="target/build/kumod-mlua-$line"
  planned=$((planned + 2))
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
  # the host's own tests, as TAP, renumbered into this stream; their count joins the plan
  output=$(env -u KUMO_AVAILABLE_PARALLELISM KUMO_MODULE="$module" "$target/debug/kumod_host" 2>&1)
  code=$?
  tests=$(sed -n 's/^running \([0-9]*\) tests\?$/\1/p' <<<"$output" | head -n 1)
  planned=$((planned + ${tests:-0}))
  tap_relay "mlua $line: " < <(scripts/libtest-tap <<<"$output")
  if [ "$code" -ne 0 ] || [ -z "$tests" ]; then
    planned=$((planned + 1)); tap not-ok "mlua $line: the host ran its tests and exited with 0 (it exited with $code)" "$output"
  fi
done
echo "1..$planned"
tap_exit "$planned"

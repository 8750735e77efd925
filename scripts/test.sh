#!/usr/bin/env bash
# make test: installs what is missing, runs every suite, and ends with one line
# "N passed, N failed, N skipped" summing them all. Exits non-zero if anything failed, and
# under CI=true if anything was skipped: a lane that cannot run there is a failure.
# Each suite's full output goes to target/test-logs/, and its tail to the console on failure.
set -uo pipefail
cd "$(dirname "$0")/.."

: "${KUMO_LUAS:?run through make test, which exports the interpreter list}"
logs=target/test-logs
mkdir -p "$logs"
passed=0
failed=0
skipped=0

# A suite that failed without reporting a failed test still counts as one failure. A skip
# says why on its row; under CI=true every skip is also a failure.
note_suite() { # name exit-code passed failed skipped
  local name=$1 code=$2 p=$3 f=$4 s=$5 why=''
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$s" -gt 0 ]; then
    why=$(skip_reasons "$logs/$name.log")
    [ "${CI:-}" != true ] || f=$((f + s))
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  printf '%-40s %4d passed, %d failed, %d skipped%s\n' "$name" "$p" "$f" "$s" "${why:+ ($why)}"
  if [ "$f" -ne 0 ]; then tail -n 40 "$logs/$name.log" | sed "s/^/  [$name] /"; fi
}

# Why a suite skipped: the text after "# SKIP" on its TAP lines, or cargo's "ignored".
skip_reasons() { # log
  { sed -n 's/.*# SKIP[: ]*//p' "$1"; grep -q '^test result:.* [1-9][0-9]* ignored' "$1" && echo "ignored tests"; } \
    | sort -u | paste -sd ';' - | cut -c1-160
}

cargo_counts() { # log -> "passed failed skipped" summed over every "test result:" line
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1); if ($(i) ~ /^ignored/) s += $(i-1) } }
       END { print p + 0, f + 0, s + 0 }' "$1"
}

# TAP: "ok ... # SKIP" is a skip, not a pass; a plan "1..0 # SKIP why" is a skipped suite.
tap_counts() { # log -> "passed failed skipped"
  awk '/^ok .*# [Ss][Kk][Ii][Pp]/ { s++; next } /^ok / { p++ } /^not ok / { f++ }
       /^1\.\.0 *# *[Ss][Kk][Ii][Pp]/ { s++ }
       END { print p + 0, f + 0, s + 0 }' "$1"
}

# A build or lint step: one check, passed when the command exits 0.
run_step() { # name command...
  local name=$1; shift
  "$@" >"$logs/$name.log" 2>&1
  local code=$?
  note_suite "$name" "$code" $(( code == 0 )) 0 0
}

run_suite() { # name counter command...
  local name=$1 counter=$2; shift 2
  "$@" >"$logs/$name.log" 2>&1
  local code=$?
  # shellcheck disable=SC2046
  note_suite "$name" "$code" $("$counter" "$logs/$name.log")
}

bash scripts/install-deps.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# The modules first: the Rust interpreter tests and busted both load them.
run_step modules make --no-print-directory modules host

run_suite cargo-test cargo_counts cargo test --all-targets
run_suite cargo-doctest cargo_counts cargo test --doc
# rustfmt.toml: 100 columns; the std reference is its own crate.
run_step rustfmt sh -c 'cargo fmt --check && cargo fmt --check --manifest-path tools/std_parallelism/Cargo.toml \
  && rustfmt --check --edition 2021 hosts/kumod/main.rs'
# No unwrap/expect/panic/indexing outside tests (lib.rs denies them), in both builds.
run_step clippy cargo clippy --quiet --all-targets -- -D warnings
run_step clippy-module cargo clippy --quiet --lib --no-default-features --features "lua54 module" \
  --target-dir target/build/clippy-module -- -D warnings

# busted as a user runs it from the root: .busted and lua/spec/support.lua pick the module
# built for the running interpreter.
for lua in $KUMO_LUAS; do
  run_suite "busted-$lua" tap_counts busted --lua="$lua" --output=TAP
done

# Lua 5.5 (no Debian interpreter) and 5.4 in a Rust host with Lua compiled in: the real .so
# through Lua::unsafe_new(), and register in safe mode, also from 4 threads.
for lua in ${KUMO_HOST_LUAS:?}; do
  run_suite "host-$lua" tap_counts make -s --no-print-directory host-check LUA=$lua
done

# valgrind on lua5.4 (success and error paths) and a flat RSS over a long loop.
run_suite memory tap_counts bash scripts/memory.sh
# strace: the override path makes no system call (the detection path as the control).
run_suite syscalls tap_counts bash scripts/syscalls.sh

# The rockspec installed offline by luarocks, and `luarocks test`, for every Lua 5.x.
run_suite luarocks tap_counts bash scripts/luarocks.sh

# KumoMTA's own mlua line (0.11) and the current one (0.12), each in a kumod-shaped host.
run_suite kumod-hosts tap_counts bash scripts/kumod-hosts.sh
# The crate as crates.io would get it: packaged, then built from the package alone.
run_step cargo-package cargo package --quiet --allow-dirty

# Real kernel setups: mount namespaces, taskset, a real cgroup v1 directory (needs root).
run_suite scenarios tap_counts bash scripts/scenarios.sh run
# Real container runtimes and sandboxes: runc, gVisor, firejail, bubblewrap (make runtime-test).
run_suite runtime-test tap_counts bash scripts/runtime-test.sh
# Real kernels under qemu (Debian's kernel): cgroup v2, v1 and hybrid, 8 and 64 CPUs, live
# changes under one interpreter (make vm-test).
run_suite vm-test tap_counts bash scripts/vm-test.sh

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

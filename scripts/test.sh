#!/usr/bin/env bash
# make test: installs what is missing, runs every lane, and ends with one line
# "N passed, N failed, N skipped" summing them all. Every lane speaks TAP with a plan, and
# its log is read by Perl's TAP::Parser (scripts/tap-count): a lane that ran fewer results
# than it planned, planned nothing without a reason, or exited non-zero without a failed
# result, fails. Under CI=true every skip is a failure too: a lane that cannot run there
# fails. Each lane's full output goes to target/test-logs/, its tail to the console on
# failure.
set -uo pipefail
cd "$(dirname "$0")/.."

: "${KUMO_LUAS:?run through make test, which exports the interpreter list}"
logs=target/test-logs
mkdir -p "$logs"
passed=0
failed=0
skipped=0
LANE_STARTED=$SECONDS

# Adds a lane's counts from its TAP log; prints its row, and its log's tail on failure.
note_lane() { # name exit-code
  local name=$1 code=$2 counts why p f s
  counts=$(scripts/tap-count "$logs/$name.log" 2>&1)
  IFS=$'\t' read -r counts why <<<"$counts"
  read -r p f s <<<"$counts"
  if ! [[ "$p$f$s" =~ ^[0-9]+$ ]]; then p=0 f=1 s=0 why="its log could not be read: $counts"; fi
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then f=1 why="${why:+$why; }exited with $code"; fi
  if [ "$s" -gt 0 ]; then
    why="${why:+$why; }$(skip_reasons "$logs/$name.log")"
    [ "${CI:-}" != true ] || f=$((f + s))
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  printf '%-32s %4d passed, %d failed, %d skipped %5ds%s\n' "$name" "$p" "$f" "$s" \
    $((SECONDS - LANE_STARTED)) "${why:+ ($why)}"
  if [ "$f" -ne 0 ]; then tail -n 40 "$logs/$name.log" | sed "s/^/  [$name] /"; fi
}

# Why a lane skipped: the text after "# SKIP" on its TAP lines.
skip_reasons() { # log
  sed -n 's/.*# SKIP[: ]*//p' "$1" | sort -u | paste -sd ';' - | cut -c1-160
}

# A lane whose command prints TAP.
run_tap() { # name command...
  local name=$1; shift
  LANE_STARTED=$SECONDS
  "$@" >"$logs/$name.log" 2>&1
  note_lane "$name" $?
}

# cargo test, its harness's lines turned into TAP (scripts/libtest-tap): each test binary's
# "running N tests" is part of the plan.
run_libtest() { # name command...
  local name=$1; shift
  LANE_STARTED=$SECONDS
  "$@" 2>&1 | scripts/libtest-tap >"$logs/$name.log"
  note_lane "$name" "${PIPESTATUS[0]}"
}

# A build or lint step: one check, passed when the command exits 0.
run_step() { # name command...
  local name=$1 code; shift
  LANE_STARTED=$SECONDS
  "$@" >"$logs/$name.out" 2>&1
  code=$?
  { echo "1..1"; sed 's/^/# /' "$logs/$name.out"
    if [ "$code" -eq 0 ]; then echo "ok 1 - $name"; else echo "not ok 1 - $name (exit $code)"; fi
  } >"$logs/$name.log"
  note_lane "$name" "$code"
}

if [ -z "${KUMO_LUAS// /}" ]; then
  echo "KUMO_LUAS is empty: no interpreter would be tested"; echo "0 passed, 1 failed, 0 skipped"; exit 1
fi
bash scripts/install-deps.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

# The modules first: the Rust interpreter tests and busted both load them; one per core.
run_step modules make -j2 --no-print-directory modules host std-reference

# The real-kernel lane (make vm-test) runs beside the others from here: qemu's TCG on one
# thread, on one core, while the others take the other; its row comes last.
VM_STARTED=$SECONDS
bash scripts/vm-test.sh >"$logs/vm-test.log" 2>&1 &
vm_pid=$!
trap 'kill "$vm_pid" 2>/dev/null' EXIT

# proptest keeps each failing case it finds in proptest-regressions/: a run that adds one
# fails here, naming it (scripts/proptest-regressions).
scripts/proptest-regressions snapshot target/proptest-before
run_libtest cargo-test cargo test --all-targets --no-fail-fast
run_tap proptest-regressions scripts/proptest-regressions check target/proptest-before
run_libtest cargo-doctest cargo test --doc --no-fail-fast
# The generated documents are current: docs/testing.md's tables of cases (the case files'),
# and the type file and docs/reference.md's tables of fields and findings (tools/docgen, from
# the field list, the finding table and the rustdoc). The golden files of the finding texts
# are checked by cargo test.
# And one version: Cargo.toml's, in the rockspec, the CHANGELOG and the docs (scripts/versions);
# and the README's examples that are files are those files (scripts/readme-examples).
run_step docs-current sh -c 'bash scripts/case-docs check && cargo run --quiet \
  --manifest-path tools/docgen/Cargo.toml --target-dir target/build/docgen -- check \
  && bash scripts/versions && bash scripts/readme-examples'
# The rustdoc, as docs.rs builds it, without a warning (a broken link, a bad code block).
run_step rustdoc env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
# rustfmt.toml: 100 columns; the tools are their own crates, the hosts share one file.
run_step rustfmt sh -c 'cargo fmt --check && cargo fmt --check --manifest-path tools/std_parallelism/Cargo.toml \
  && cargo fmt --check --manifest-path tools/docgen/Cargo.toml \
  && rustfmt --check --edition 2021 hosts/kumod/main.rs'
# No unwrap/expect/panic/indexing outside tests (lib.rs denies them), in every build of every
# Rust file: the crate, the module, the kumod-shaped host (one file,
# linted against mlua 0.12; the 0.11 line builds it below), the std reference.
run_step clippy cargo clippy --quiet --all-targets -- -D warnings
run_step clippy-module cargo clippy --quiet --lib --no-default-features --features "lua54 module" \
  --target-dir target/build/clippy-module -- -D warnings
run_step clippy-kumod-host cargo clippy --quiet --locked --manifest-path hosts/kumod-mlua-0.12/Cargo.toml \
  --target-dir target/build/kumod-mlua-0.12 -- -D warnings
run_step clippy-std-reference cargo clippy --quiet --manifest-path tools/std_parallelism/Cargo.toml \
  --target-dir target/build/std_parallelism -- -D warnings
run_step clippy-docgen cargo clippy --quiet --manifest-path tools/docgen/Cargo.toml \
  --target-dir target/build/docgen -- -D warnings

# busted as a user runs it from the root: .busted and lua/spec/support.lua pick the module
# built for the running interpreter.
for lua in $KUMO_LUAS; do
  run_tap "busted-$lua" busted --lua="$lua" --output=TAP
done

# Lua 5.5 (no Debian interpreter) and 5.4 in a Rust host with Lua compiled in: the real .so
# through Lua::unsafe_new(), and register in safe mode, also from 4 threads.
for lua in ${KUMO_HOST_LUAS:?}; do
  run_libtest "host-$lua" make -s --no-print-directory host-check LUA=$lua
done

# A C host with a Lua state per thread: first answers held like with like, in both orders.
run_tap c-host bash scripts/c-host.sh
# valgrind on lua5.4 (success and error paths) and a flat RSS over a long loop.
run_tap memory bash scripts/memory.sh
# strace: the override path makes no system call (the detection path as the control).
run_tap syscalls bash scripts/syscalls.sh

# The rockspec installed offline by luarocks, and `luarocks test`, for every Lua 5.x.
run_tap luarocks bash scripts/luarocks.sh

# KumoMTA's own mlua line (0.11) and the current one (0.12), each in a kumod-shaped host.
run_tap kumod-hosts bash scripts/kumod-hosts.sh
# The crate as crates.io would get it: packaged, then built from the package alone.
run_step cargo-package cargo package --quiet --allow-dirty

# Real kernel setups: mount namespaces, taskset, real cgroup v1 directories (needs root).
run_tap scenarios bash scripts/scenarios.sh run
# Faults: every file and system call std and explain() make, made to fail by strace, and a
# process at its descriptor limit, under a real cgroup v1 quota.
run_tap faults bash scripts/scenarios.sh run-faults
# Real container runtimes and sandboxes: runc, gVisor, firejail, bubblewrap (make runtime-test).
run_tap runtime-test bash scripts/runtime-test.sh
# Real kernels under qemu (Debian's kernel): cgroup v2, v1 and hybrid, 8 and 64 CPUs, live
# changes under one interpreter, and the scenario table on 8 CPUs (make vm-test), started
# above.
wait "$vm_pid"
vm_code=$?
trap - EXIT
LANE_STARTED=$VM_STARTED
note_lane vm-test "$vm_code"

echo "# make test: $SECONDS s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# make bench: per-call cost from Lua (lua5.4 + the real .so) against std's own call in a Rust
# program, in one run: ROUNDS interleaved rounds, medians, ratios against std. Then the .so
# size and the RSS over 10^6 calls. Wall-clock time on both sides (luv's hrtime / Instant).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lua54.sh
ROUNDS=${ROUNDS:-7}
# The interpreters whose .so sizes are reported: make exports the list; run alone, ask make.
KUMO_LUAS=${KUMO_LUAS:-$(make -s --no-print-directory luas)}
# The mount-point axis: this many tmpfs mounts before the v1 cpu controller, at a path std
# finds only by reading mountinfo (scripts/scenarios.sh many-mounts).
MOUNT_COUNTS=${MOUNT_COUNTS:-20 1000 20000}
std_reference=$(make -s --no-print-directory std-reference | tail -n 1)

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# The median of the rounds' own ratios (each round's measure over the same round's std):
# a machine whose speed drifts between rounds moves both sides of a round alike.
paired_ratio() { # SAMPLES STD_SAMPLES
  paste -d' ' <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) \
    | awk '{ printf "%.4f ", $1 / $2 }' | median | awk '{ printf "%.3f", $1 }'
}

# Inside the many-mounts namespace: ROUNDS interleaved rounds of std, std plus one whole read
# of mountinfo (what explain() must at least do here), detection and explain(), with fewer
# calls as the scan grows; prints "mounts std read detect explain" (medians, ns/call) and
# the ratios detection/std and explain()/read.
if [ "${1:-}" = mount-axis-inside ]; then
  mounts=$2 calls=$(( 2000000 / ($2 + 100) ))
  declare -A axis
  for round in $(seq "$ROUNDS"); do
    axis[std]+="$(env -u KUMO_AVAILABLE_PARALLELISM "$std_reference" --bench "$calls") "
    axis[read]+="$(env -u KUMO_AVAILABLE_PARALLELISM "$std_reference" --bench-mountinfo "$calls") "
    axis[detect]+="$(with_override "" "$LUA" lua/bench/call_cost.lua detect "$calls") "
    axis[explain]+="$(with_override "" "$LUA" lua/bench/call_cost.lua explain "$calls") "
  done
  echo "$mounts $(median <<<"${axis[std]}") $(median <<<"${axis[read]}") $(median <<<"${axis[detect]}")" \
    "$(median <<<"${axis[explain]}") $(paired_ratio "${axis[detect]}" "${axis[std]}")" \
    "$(paired_ratio "${axis[explain]}" "${axis[read]}")"
  exit 0
fi

# measure  calls-per-run  command...
measures=(std detect override explain luv nproc)
declare -A calls=([std]=20000 [detect]=20000 [override]=1000000 [explain]=20000 [luv]=1000000 [nproc]=200)
run_measure() {
  local name=$1
  case $name in
    std) env -u KUMO_AVAILABLE_PARALLELISM "$std_reference" --bench "${calls[$name]}" ;;
    override) with_override 8 "$LUA" lua/bench/call_cost.lua override "${calls[$name]}" ;;
    *) with_override "" "$LUA" lua/bench/call_cost.lua "$name" "${calls[$name]}" ;;
  esac
}

declare -A samples
for round in $(seq "$ROUNDS"); do
  for name in "${measures[@]}"; do
    samples[$name]+="$(run_measure "$name") "
  done
  printf '.' >&2
done
echo >&2

declare -A med
for name in "${measures[@]}"; do med[$name]=$(median <<<"${samples[$name]}"); done

label() {
  case $1 in
    std) echo "std::thread::available_parallelism() (Rust)" ;;
    detect) echo "available_parallelism(), detection" ;;
    override) echo "available_parallelism(), override set" ;;
    explain) echo "explain()" ;;
    luv) echo "uv.available_parallelism() (luv)" ;;
    nproc) echo "io.popen(\"nproc\")" ;;
  esac
}
echo "machine: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "lua: $($LUA -v 2>&1 | head -1); rounds: $ROUNDS (interleaved), medians of ns per call, and of each round's ratio to that round's std"
echo
printf '| %-44s | %12s | %9s |\n' "call" "ns per call" "vs std"
printf '| %-44s | %12s | %9s |\n' "---" "---:" "---:"
for name in "${measures[@]}"; do
  printf '| %-44s | %12s | %9s |\n' "$(label "$name")" "${med[$name]}" "$(paired_ratio "${samples[$name]}" "${samples[std]}")"
done
echo

# A missed target makes make bench fail, after everything is printed.
MISSED=0
target() { # description value limit
  if awk -v v="$2" -v l="$3" 'BEGIN { exit !(v <= l) }'; then echo "target met:    $1 = $2 (<= $3)"
  else echo "target missed: $1 = $2 (> $3)"; MISSED=1; fi
}
# The targets (docs/measurements.md gives the same numbers): detection within 5% of std
# (15% on the mount axis, its noise), the override path a hundredth of it, explain() within
# 2.5x std here (safe code, no cache, nothing read that grows with the machine; cpu.stat one
# small read per level with a quota), and on the mount axis within 1.5x of std's call plus
# one whole read of mountinfo, the least it can cost there.
EXPLAIN_TARGET=2.50
EXPLAIN_MOUNT_TARGET=1.50
target "module/std" "$(paired_ratio "${samples[detect]}" "${samples[std]}")" 1.05
target "override/std" "$(paired_ratio "${samples[override]}" "${samples[std]}")" 0.01
target "explain/std" "$(paired_ratio "${samples[explain]}" "${samples[std]}")" "$EXPLAIN_TARGET"


# The mount-point axis: the cpu controller of this process's v1 hierarchy mounted after N tmpfs
# mounts, so std reads about N lines of mountinfo on every call (cgroup v1 machines only).
echo
if grep -qE '^[0-9]+:([^:]*,)?cpu(,[^:]*)?:' /proc/self/cgroup && [ "$(id -u)" -eq 0 ]; then
  echo "mount points before the cpu controller (v1, found through mountinfo); medians, ns per call"
  echo
  printf '| %8s | %10s | %12s | %10s | %10s | %13s | %16s |\n' mounts std "std + read" detection "explain()" "detection/std" "explain()/(std + read)"
  printf '| %8s | %10s | %12s | %10s | %10s | %13s | %16s |\n' ---: ---: ---: ---: ---: ---: ---:
  worst_detect=0 worst_explain=0
  for mounts in $MOUNT_COUNTS; do
    read -r mounts std read detect explain detect_ratio explain_ratio < <(unshare -m --propagation private \
      bash scripts/scenarios.sh many-mounts "$mounts" bash scripts/bench.sh mount-axis-inside "$mounts")
    printf '| %8s | %10s | %12s | %10s | %10s | %13s | %16s |\n' "$mounts" "$std" "$read" "$detect" "$explain" "$detect_ratio" "$explain_ratio"
    worst_detect=$(awk -v a="$worst_detect" -v b="$detect_ratio" 'BEGIN { print (b > a) ? b : a }')
    worst_explain=$(awk -v a="$worst_explain" -v b="$explain_ratio" 'BEGIN { print (b > a) ? b : a }')
  done
  echo
  # detection runs std's very code here, so this ratio is the noise of two processes'
  # scans of the same file (0.90 to 1.10 over runs): the limit is that band, not the 5%
  # the usual host resolves
  target "detection/std at every mount count (worst)" "$worst_detect" 1.15
  target "explain()/(std + one read of mountinfo) at every mount count (worst)" "$worst_explain" "$EXPLAIN_MOUNT_TARGET"
else
  echo "mount-point axis skipped: needs root and a cgroup v1 cpu controller"
fi

echo
for lua in $KUMO_LUAS; do
  size=$(stat -c %s "target/lua/$lua/kumo_parallelism.so")
  echo "size: target/lua/$lua/kumo_parallelism.so $((size / 1024)) KiB"
done
read -r before after < <(with_override "" "$LUA" lua/bench/rss.lua 1000000)
echo "rss: 10^6 available_parallelism() calls (+10^4 explain()): $before KiB before, $after KiB after"
if [ "$MISSED" -ne 0 ]; then echo "make bench: a target was missed (above)"; exit 1; fi

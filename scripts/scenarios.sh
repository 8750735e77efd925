#!/usr/bin/env bash
# Real-environment scenarios: the real module, loaded by real interpreters and by the Rust
# host (register), next to the std reference, inside real kernel setups. Prints TAP.
#
#   scenarios.sh run                 every scenario on every runtime (needs root and unshare)
#   scenarios.sh exec NAME CMD...    internal: inside a fresh mount namespace, lay out NAME
#                                    and exec CMD, so that /proc/self is the bind-mounted pid
#   scenarios.sh many-mounts N CMD...  internal: inside a fresh mount namespace, hide the cgroup
#                                    hierarchies, make N tmpfs mounts, mount the v1 cpu
#                                    hierarchy after them (std must scan mountinfo), exec CMD
#
# Each scenario is one function, written with the helpers below. Run outside the namespace
# (PHASE=expect) the helpers record what the scenario expects; inside it (PHASE=layout) they
# build the layout on a tmpfs over /sys/fs/cgroup. One definition serves both phases.
set -uo pipefail
cd "$(dirname "$0")/.."

CG=/sys/fs/cgroup

# ---- helpers: expectations (describe, expect, findings) --------------------------------
source scripts/expect.sh
NCPU=$(allowed_cpus)   # the CPUs this process's affinity mask allows, before any scenario

# ---- helpers: layout (inside the namespace) -----------------------------------------
in_layout() { [ "$PHASE" = layout ]; }
# proc_cgroup TEXT: what /proc/self/cgroup will say (printf escapes allowed).
proc_cgroup() { ! in_layout || printf -- "$1" >"$STAGE/cgroup"; }
# unreadable_proc_cgroup: /proc/self/cgroup exists but reading it fails (EACCES).
unreadable_proc_cgroup() { ! in_layout || { printf '0::/ctr\n' >"$STAGE/cgroup" && chmod 000 "$STAGE/cgroup" && DROP_DAC=1; }; }
# unreadable FILE: a file under /sys/fs/cgroup that exists but cannot be read (EACCES): mode
# 000, and the program runs as root without the capabilities that override file modes.
unreadable() { ! in_layout || { chmod 000 "$CG/$1" && DROP_DAC=1; }; }
# mountinfo TEXT: what /proc/self/mountinfo will say.
mountinfo() { ! in_layout || { printf -- "$1" >"$STAGE/mountinfo" && BIND_MOUNTINFO=1; }; }
# put FILE TEXT: a file under /sys/fs/cgroup, directories created as needed.
put() { ! in_layout || { mkdir -p "$(dirname "$CG/$1")" && printf -- "$2" >"$CG/$1"; }; }
# v2 DIR [CPU_MAX]: a cgroup2 directory (with cgroup.controllers) and optionally its cpu.max.
v2() {
  put "$1/cgroup.controllers" 'cpu memory\n' || return
  [ $# -lt 2 ] || put "$1/cpu.max" "$2\n"
}
# v1 MOUNT DIR QUOTA PERIOD: a cgroup v1 cpu directory under /sys/fs/cgroup/MOUNT.
v1() { put "$1/$2/cpu.cfs_quota_us" "$3\n" && put "$1/$2/cpu.cfs_period_us" "$4\n"; }
# pin CPUS: run under taskset -c CPUS (every thread of the process).
pin() { PIN=$1; }
# pin_thread CPU: the Rust host runs the policy on a thread that pins only itself to CPU;
# the interpreters have no threads, so only the host and the std reference (main thread) run.
pin_thread() { PIN_THREAD=$1; }
# override VALUE: run with KUMO_AVAILABLE_PARALLELISM=VALUE.
override() { OVERRIDE=$1; }
# real_v1 FILE=VALUE...: a real cgroup v1 cpu directory with these files written, in order
# (see run_real_v1); no layout namespace.
real_v1() { REAL_V1="$*"; }
# real_v1_wrap CMD...: the programs of a real_v1 scenario run through CMD, once in the cgroup.
real_v1_wrap() { REAL_V1_WRAP="$*"; }
# proc_stat TEXT / proc_cpuinfo TEXT: what /proc/stat and /proc/cpuinfo will say, as LXCFS
# presents them to a container.
proc_stat() { ! in_layout || { printf -- "$1" >"$STAGE/stat" && BIND_STAT=1; }; }
proc_cpuinfo() { ! in_layout || { printf -- "$1" >"$STAGE/cpuinfo" && BIND_CPUINFO=1; }; }
# Every scenario runs with this /proc/stat unless it lays out its own: no steal, so that this
# machine's own steal, whatever it is, shows in no scenario.
NEUTRAL_STAT='cpu  10000 0 2000 88000 0 0 0 0 0 0\n'

# ---- scenarios: one row each ----------------------------------------------------------
# name | what it shows | answer source [std] | finding codes ("-": none) | setup
# The expectations are data, written out: no finding rule is computed here. The setup is
# shell, run in both phases: outside it records runner settings (pin, override, real_v1...),
# inside the namespace it lays out the files. The rows assume at least 2 CPUs (can_run).
read -r -d '' SCENARIO_TABLE <<'TABLE'
v2_no_limit | cgroup v2, no limit | $NCPU affinity | - | proc_cgroup '0::/ctr\n'; v2 ctr 'max 100000'
v2_leaf_half | cgroup v2, leaf quota 0.5 CPU | 1 cgroup | quota-below-one | proc_cgroup '0::/pod/ctr\n'; v2 pod; v2 pod/ctr '50000 100000'
v2_leaf_one_and_a_half | cgroup v2, leaf quota 1.5 CPUs | 1 cgroup | quota-floored | proc_cgroup '0::/pod/ctr\n'; v2 pod 'max 100000'; v2 pod/ctr '150000 100000'
v2_leaf_above_cpu_count | cgroup v2, leaf quota above the CPU count | $NCPU affinity | quota-above-cpus | proc_cgroup '0::/ctr\n'; v2 ctr "$(( (NCPU + 2) * 100000 )) 100000"
v2_parent_tighter | cgroup v2, parent tighter than its leaf | 1 cgroup | - | proc_cgroup '0::/pod/ctr\n'; v2 pod '100000 100000'; v2 pod/ctr "$(( (NCPU + 4) * 100000 )) 100000"
v2_garbage | cgroup v2, garbage in cpu.max | $NCPU affinity | - | proc_cgroup '0::/ctr\n'; v2 ctr 'garbage'
v2_max | cgroup v2, cpu.max says max | $NCPU affinity | - | proc_cgroup '0::/ctr\n'; v2 ctr 'max 100000'
v2_zero_period | cgroup v2, zero period | $NCPU affinity | - | proc_cgroup '0::/ctr\n'; v2 ctr '50000 0'
v2_missing_controllers | cgroup v2, missing cgroup.controllers (quota ignored): no cgroupfs shows /ctr | $NCPU affinity | cgroupfs-unmounted | proc_cgroup '0::/ctr\n'; put ctr/cpu.max '50000 100000\n'
v2_deep_middle_binds | cgroup v2, four levels, the middle one binds | 1 cgroup | quota-floored | proc_cgroup '0::/a/b/c\n'; v2 a "$(( (NCPU + 4) * 100000 )) 100000"; v2 a/b '125000 100000'; v2 a/b/c 'max 100000'
proc_cgroup_empty | /proc/self/cgroup empty, as under gVisor | $NCPU affinity | cgroups-invisible | proc_cgroup ''; v2 ctr '50000 100000'
proc_cgroup_unreadable | /proc/self/cgroup unreadable | $NCPU affinity | cgroup-unreadable | unreadable_proc_cgroup; v2 ctr '50000 100000'
v1_cpu | cgroup v1 mounted at cpu, 1 CPU | 1 cgroup | - | proc_cgroup '5:memory:/docker/abc\n4:cpu:/docker/abc\n0::/\n'; v1 cpu . -1 100000; v1 cpu docker -1 100000; v1 cpu docker/abc 100000 100000
v1_cpu_cpuacct | cgroup v1 mounted at cpu,cpuacct, 1.5 CPUs | 1 cgroup | quota-floored | proc_cgroup '4:cpu,cpuacct:/docker/abc\n'; v1 cpu,cpuacct docker/abc 150000 100000
v1_unlimited | cgroup v1, unlimited (-1) | $NCPU affinity | - | proc_cgroup '4:cpu,cpuacct:/docker/abc\n'; v1 cpu docker/abc -1 100000
v1_mountinfo_bind | cgroup v1 found through mountinfo, bind-mounted subtree | 1 cgroup | quota-below-one | proc_cgroup '4:cpu,cpuacct:/kubepods/pod1/ctr\n'; mountinfo "30 25 0:26 / $CG/memory rw - cgroup cgroup rw,memory\n31 25 0:27 /kubepods/pod1 $CG/elsewhere rw - cgroup cgroup rw,cpu,cpuacct\n"; v1 elsewhere ctr 50000 100000
real_v1_one_cpu | a real cgroup v1 cpu directory, 1 CPU | 1 cgroup | - | real_v1 cpu.cfs_quota_us=100000 cpu.cfs_period_us=100000
real_v1_burst | a real cgroup v1 cpu directory, 1 CPU with a burst of 0.5 (cpu.cfs_burst_us) | 1 cgroup | quota-burst | real_v1 cpu.cfs_quota_us=100000 cpu.cfs_period_us=100000 cpu.cfs_burst_us=50000
real_v1_shares | a real cgroup v1 cpu directory, cpu.shares 512 and no quota (a request, no limit) | $NCPU affinity | requests-only | real_v1 cpu.cfs_quota_us=-1 cpu.shares=512
real_v1_best_effort | a real cgroup v1 cpu directory, cpu.shares 2 and no quota (BestEffort) | $NCPU affinity | requests-only | real_v1 cpu.cfs_quota_us=-1 cpu.shares=2
real_v1_own_cgroup_namespace | unshare -C inside a real cgroup v1 with 1 CPU: the quota is invisible, std overcounts | $NCPU affinity | cgroup-namespace | real_v1 cpu.cfs_quota_us=100000 cpu.cfs_period_us=100000; real_v1_wrap unshare -C --
real_v1_after_many_mounts | a real cgroup v1 with 1 CPU, its cpu controller mounted after 1000 tmpfs mounts | 1 cgroup | mountinfo-scan | real_v1 cpu.cfs_quota_us=100000 cpu.cfs_period_us=100000; real_v1_wrap unshare -m --propagation private bash "$0" many-mounts 1000
steal_under_a_hypervisor | /proc/stat with 5% steal and /proc/cpuinfo with the hypervisor flag, as LXCFS shows them | $NCPU affinity | cpu-steal | proc_cgroup '0::/ctr\n'; v2 ctr 'max 100000'; proc_stat 'cpu  9000 0 2000 83000 500 0 500 5000 0 0\ncpu0 4500 0 1000 41500 250 0 250 2500 0 0\n'; proc_cpuinfo 'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n\n'
steal_without_a_hypervisor | 5% steal in /proc/stat and no hypervisor flag in /proc/cpuinfo (as on arm64): cpu-steal all the same | $NCPU affinity | cpu-steal | proc_cgroup '0::/ctr\n'; v2 ctr 'max 100000'; proc_stat 'cpu  9000 0 2000 83000 500 0 500 5000 0 0\n'; proc_cpuinfo 'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr lahf_lm\n\n'
pinned_under_generous_quota | pinned to CPU 0 under a generous quota | 1 affinity | quota-above-cpus | pin 0; proc_cgroup '0::/ctr\n'; v2 ctr "$(( (NCPU + 2) * 100000 )) 100000"
override_under_tight_quota | override 5 under a 0.5 CPU quota: the override wins | 5 override 1 | override-replaces-detection quota-below-one | override 5; proc_cgroup '0::/ctr\n'; v2 ctr '50000 100000'
v2_cpu_max_unreadable | cgroup v2, cpu.max (0.5 CPU) unreadable: counted as no limit | $NCPU affinity | cgroup-unreadable | proc_cgroup '0::/ctr\n'; v2 ctr '50000 100000'; unreadable ctr/cpu.max
v2_mounted_elsewhere | cgroup v2 mounted at /sys/fs/cgroup/unified with a 0.5 CPU quota std never reads | $NCPU affinity | cgroup2-elsewhere | proc_cgroup '0::/ctr\n'; mountinfo "41 31 0:38 / $CG/unified rw,relatime - cgroup2 cgroup2 rw\n"; v2 unified; v2 unified/ctr '50000 100000'
v2_hidden_by_tmpfs | cgroup v2 named in /proc/self/cgroup, /sys/fs/cgroup a bare tmpfs, as bwrap --tmpfs leaves it | $NCPU affinity | cgroupfs-unmounted | proc_cgroup '0::/system.slice/app.service\n'
thread_pinned_in_host | a host thread that pins itself to CPU 0 under an unlimited cgroup | 1 affinity $NCPU | thread-pinned | pin_thread 0; proc_cgroup '0::/ctr\n'; v2 ctr 'max 100000'
override_invalid | override abc: available_parallelism() raises, explain() says why | error override $NCPU | override-invalid | override abc; proc_cgroup '0::/ctr\n'; v2 ctr 'max 100000'
TABLE
SCENARIOS=()
while IFS='|' read -r name _; do SCENARIOS+=("${name// /}"); done <<<"$SCENARIO_TABLE"

# The row of scenario NAME, split: ROW_DESCRIPTION, ROW_EXPECT, ROW_CODES, ROW_SETUP.
scenario_row() { # NAME
  local name row
  row=$(awk -v name="$1" 'index($0, name " |") == 1' <<<"$SCENARIO_TABLE")
  [ -n "$row" ] || { echo "no scenario named $1" >&2; return 1; }
  IFS='|' read -r name ROW_DESCRIPTION ROW_EXPECT ROW_CODES ROW_SETUP <<<"$row"
}
# Runs scenario NAME's setup in the current phase.
scenario_setup() { # NAME
  scenario_row "$1" || return 1
  eval "$ROW_SETUP"
}

# ---- inside the namespace --------------------------------------------------------------
exec_in_layout() { # NAME CMD...
  local name=$1; shift
  PHASE=layout STAGE=$(mktemp -d) DROP_DAC='' BIND_MOUNTINFO='' BIND_STAT='' BIND_CPUINFO=''
  PIN='' OVERRIDE=''
  mount -t tmpfs kumo-scenario "$CG" || exit 97
  # any layout step that fails ends the run, so the scenario's checks fail with its message
  set -e
  scenario_setup "$name"
  set +e
  [ -e "$STAGE/cgroup" ] && { mount --bind "$STAGE/cgroup" "/proc/$$/cgroup" || exit 97; }
  [ -n "$BIND_MOUNTINFO" ] && { mount --bind "$STAGE/mountinfo" "/proc/$$/mountinfo" || exit 97; }
  [ -n "$BIND_STAT" ] || printf -- "$NEUTRAL_STAT" >"$STAGE/stat"
  mount --bind "$STAGE/stat" /proc/stat || exit 97
  [ -n "$BIND_CPUINFO" ] && { mount --bind "$STAGE/cpuinfo" /proc/cpuinfo || exit 97; }
  local prefix=()
  [ -n "$PIN" ] && prefix+=(taskset -c "$PIN")
  if [ -n "$OVERRIDE" ]; then prefix+=(env "KUMO_AVAILABLE_PARALLELISM=$OVERRIDE"); else unset KUMO_AVAILABLE_PARALLELISM; fi
  [ -n "$DROP_DAC" ] && prefix+=(setpriv --bounding-set=-dac_override,-dac_read_search --)
  # exec keeps this pid, so /proc/self/cgroup is the file bind-mounted above
  exec "${prefix[@]}" "$@"
}

# Inside a fresh mount namespace: the cgroup hierarchies hidden, COUNT tmpfs mounts, then this
# process's v1 cpu hierarchy mounted again after them, where std finds it only by reading
# every one of those lines of mountinfo. Used by the scenarios and by make bench.
many_mounts() { # COUNT CMD...
  local count=$1 controllers stage
  shift
  controllers=$(sed -n 's/^[0-9]*:\(\([^:]*,\)\{0,1\}cpu\(,[^:]*\)\{0,1\}\):.*/\1/p' /proc/self/cgroup | head -n 1)
  [ -n "$controllers" ] || { echo "many-mounts: no cgroup v1 cpu controller here" >&2; exit 97; }
  umount -R "$CG" && mount -t tmpfs kumo-scenario "$CG" || exit 97
  stage=$(mktemp -d) && mount -t tmpfs kumo-mounts "$stage" || exit 97
  luajit lua/scenarios/mount_many.lua "$stage" "$count" || exit 97
  mkdir "$stage/cpu" && mount -t cgroup -o "$controllers" cgroup "$stage/cpu" || exit 97
  exec "$@"
}

# A real cgroup v1 cpu directory: write its files, move a shell in, exec the program there,
# through the scenario's wrapper if it has one.
run_real_v1() { # CMD...
  local dir="$CG/cpu/kumo-scenario-$$-$RANDOM" setting
  mkdir "$dir" || return 97
  for setting in $REAL_V1; do
    echo "${setting#*=}" >"$dir/${setting%%=*}" || { rmdir "$dir"; return 97; }
  done
  local stat
  stat=$(mktemp) && printf -- "$NEUTRAL_STAT" >"$stat" || return 97
  # in a mount namespace of its own, for the neutral /proc/stat
  # shellcheck disable=SC2086
  (unset KUMO_AVAILABLE_PARALLELISM; unshare -m --propagation private sh -c \
    'mount --bind "$1" /proc/stat && echo $$ > "$2/cgroup.procs" && shift 2 && exec "$@"' \
    sh "$stat" "$dir" $REAL_V1_WRAP "$@")
  local code=$?
  rm -f "$stat"
  rmdir "$dir" || echo "# could not remove $dir" >&2
  return $code
}

# ---- outside: run and check -------------------------------------------------------------
source scripts/tap.sh

# Runs CMD in scenario NAME's environment; prints its output.
in_scenario() { # NAME CMD...
  local name=$1; shift
  if [ -n "$REAL_V1" ]; then
    run_real_v1 "$@"
  else
    unshare -m --propagation private bash "$0" exec "$name" "$@"
  fi
}

can_run() {
  [ "$(id -u)" -eq 0 ] || { echo "not root"; return 1; }
  command -v unshare >/dev/null || { echo "unshare missing"; return 1; }
  unshare -m true 2>/dev/null || { echo "unshare -m is not permitted here"; return 1; }
  command -v luajit >/dev/null || { echo "luajit missing (the mount-point scenario uses its FFI)"; return 1; }
  [ -d "$CG/cpu" ] && grep -q " $CG/cpu[, ].* - cgroup " /proc/self/mountinfo \
    || { echo "no cgroup v1 cpu hierarchy at $CG/cpu for the real v1 scenario"; return 1; }
  [ "$NCPU" -ge 2 ] || { echo "the scenarios need at least 2 CPUs, $NCPU allowed"; return 1; }
}

# Resets the expectations and records scenario NAME's.
expectations() { # NAME
  reset_expectations
  PIN='' PIN_THREAD='' OVERRIDE='' REAL_V1='' REAL_V1_WRAP=''
  scenario_row "$1" || return 1
  expect_row "$ROW_DESCRIPTION" "$ROW_EXPECT" "$ROW_CODES"
  eval "$ROW_SETUP"
  # a runner outside the kernel's initial cgroup namespace shows it in every scenario
  [ -z "$RUNNER_NAMESPACE" ] || [ "$RUNNER_NAMESPACE" = "cgroup:[4026531835]" ] || findings cgroup-namespace
}

# The runtimes a scenario runs in: every interpreter and the host, or only the host when a
# thread of its own must pin itself.
runtimes_of() {
  if [ -n "$PIN_THREAD" ]; then echo host; else echo "${all_runtimes[@]}"; fi
}

run_all() {
  local why
  if ! why=$(can_run); then
    if [ "${CI:-}" = true ]; then
      echo "1..1"; tap not-ok "real-environment scenarios cannot run: $why"; return 1
    fi
    echo "1..0 # SKIP real-environment scenarios: $why (under CI=true this fails)"
    echo "scenarios skipped: $why" >&2
    return 0
  fi
  local std_reference host
  std_reference=$(make -s --no-print-directory std-reference | tail -n 1)
  host=$(make -s --no-print-directory host | tail -n 1)
  RUNNER_NAMESPACE=$(readlink /proc/self/ns/cgroup)
  local all_runtimes=("${KUMO_LUAS[@]}" host)
  local name planned=0
  for name in "${SCENARIOS[@]}"; do
    expectations "$name"
    planned=$(( planned + 1 + $(runtimes_of | wc -w) ))
  done
  echo "1..$planned"

  for name in "${SCENARIOS[@]}"; do
    expectations "$name"
    local std_answer
    std_answer=$(in_scenario "$name" "$std_reference" 2>&1)
    check_std "$std_answer"

    local runtime output
    for runtime in $(runtimes_of); do
      if [ "$runtime" = host ]; then
        output=$(in_scenario "$name" "$host" ${PIN_THREAD:+--pin-thread "$PIN_THREAD"} lua/scenarios/probe.lua 2>&1)
      else
        local cpath="$PWD/target/lua/$runtime/?.so"
        output=$(in_scenario "$name" env LUA_CPATH="$cpath" LUA_CPATH_5_2="$cpath" LUA_CPATH_5_3="$cpath" \
          LUA_CPATH_5_4="$cpath" "$runtime" lua/scenarios/probe.lua 2>&1)
      fi
      # a pinned thread's std and derived are its own, not the main thread's std_answer
      local seen_std=$std_answer
      [ -z "$PIN_THREAD" ] || seen_std=$EXPECT
      check_probe "$runtime" "$seen_std" "$output"
    done
  done
}

case "${1:-}" in
  exec) shift; exec_in_layout "$@" ;;
  many-mounts) shift; many_mounts "$@" ;;
  run)
    read -r -a KUMO_LUAS <<<"${KUMO_LUAS:?run through make test, which exports the interpreter list}"
    # KUMO_SCENARIOS="name ...": only those, while working on them
    read -r -a SCENARIOS <<<"${KUMO_SCENARIOS:-${SCENARIOS[*]}}"
    run_all ;;
  *) echo "usage: $0 run | exec NAME CMD..." >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Real-environment scenarios (scripts/cases/scenarios.cases): the real module, loaded by
# real interpreters and by the Rust host (register), next to the std reference, inside real
# kernel setups. Prints TAP; the runner is scripts/cases.sh.
#
#   scenarios.sh run                 every scenario on every runtime (needs root and unshare)
#   scenarios.sh run-faults          the fault-injection cases (scripts/cases/faults.cases):
#                                    real faults under a real cgroup v1 quota, on lua5.4 and
#                                    the Rust host
#   scenarios.sh run-in-vm ROOT      the scenarios that need no cgroup v1 hierarchy, in the
#                                    real-kernel lane's VM, its programs under ROOT
#   scenarios.sh plan-in-vm          how many results run-in-vm prints
#   scenarios.sh exec NAME CMD...    internal: inside a fresh mount namespace, lay out NAME
#                                    and exec CMD, so that /proc/self is the bind-mounted pid
#   scenarios.sh many-mounts N CMD...  internal: hide the cgroup hierarchies, make N tmpfs
#                                    mounts, mount the v1 cpu hierarchy after them, exec CMD
#   scenarios.sh v1-escaped CMD...   internal: the v1 cpu hierarchy alone, at a mount point
#                                    with a space, exec CMD
#   scenarios.sh v1-shadowed CMD...  internal: this cgroup bind-mounted over the v1 cpu
#                                    hierarchy's mount, exec CMD
#   scenarios.sh v1-unmounted CMD... internal: no cgroup hierarchy mounted, exec CMD
#
# A setup runs in two phases: outside the namespace (PHASE=expect) its words record the
# runner's settings (pin, override, real_v1...); inside it (PHASE=layout) they build the
# layout on a tmpfs over /sys/fs/cgroup.
set -uo pipefail
cd "$(dirname "$0")/.."

CG=/sys/fs/cgroup
CASES=scripts/cases/scenarios.cases
source scripts/cases.sh

# ---- the setups' words ----------------------------------------------------------------------
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
# host_flags FLAG...: the host's options (examples/policy_host.rs), such as --main-first.
host_flags() { HOST_FLAGS+=" $*"; }
# host_between COMMAND: the host runs `sh -c COMMAND` after its main thread asked.
host_between() { HOST_BETWEEN=$1; }
# pin_thread CPU: the Rust host runs the policy on a thread that pins only itself to CPU;
# the interpreters have no threads, so only the host and the std reference (main thread)
# run, and the host's std is the pinned thread's own answer.
pin_thread() { host_flags --pin-thread "$1"; runtimes host; host_sees_std "${EXPECT:-}"; }
# override VALUE: run with KUMO_AVAILABLE_PARALLELISM=VALUE.
override() { OVERRIDE=$1; }
# real_v1 FILE=VALUE...: a real cgroup v1 cpu directory with these files written, in order
# (see run_real_v1); no layout namespace. Its path is KUMO_SCENARIO_CGROUP to the programs.
real_v1() { REAL_V1="$*"; }
# real_v1_wrap CMD...: the programs of a real_v1 scenario run through CMD, once in the cgroup.
real_v1_wrap() { REAL_V1_WRAP=("$@"); }

# ---- the fault lane's words (scripts/cases/faults.cases) -------------------------------------
# half_cpu: a real cgroup v1 cpu directory with a quota of 0.5 CPU, over a period of 1 s (the
# longest): strace slows the programs it traces, and over 100 ms periods their own run could
# be throttled often enough to count, which would make cpu-throttled a matter of load.
half_cpu() { real_v1 cpu.cfs_quota_us=500000 cpu.cfs_period_us=1000000; }
# inject SYSCALLS ERRNO[:when=N] PATH: the programs run under strace, which makes SYSCALLS fail
# with ERRNO where they name PATH (scripts/inject: "-" for every call, "@cgroup/FILE" in the
# case's own cgroup); after a real_v1_wrap, inside it.
inject() { REAL_V1_WRAP+=(bash scripts/inject "$@"); }
# exhausted: every program takes each file descriptor it can under `ulimit -n 64` before it
# asks (probe.lua after its first answer; the std reference with --exhausted).
exhausted() { EXHAUST=1; REAL_V1_WRAP+=(bash -c 'ulimit -n 64 && exec "$@"' _); }
# names PATH ERRNO: one check that every runtime's report has a finding that names PATH
# ("@cgroup/FILE": FILE in the case's cgroup; "sched_getaffinity": the call), the kind of
# fault ERRNO is, and its remedy.
names() { NAMED=$1 NAMED_ERRNO=$2; after check_names 1; }
# What a finding must say of each kind of fault: its words, then its remedy's (a permission
# fault on the call: the sandbox's policy).
fault_phrases() { # ERRNO CALL(0|1)
  case $1 in
    EMFILE|ENFILE) echo "no file descriptor was left|the open-file limit" ;;
    ENOMEM) echo "could not allocate memory|once memory is free" ;;
    EACCES|EPERM) if [ "$2" = 1 ]; then echo "policy denies the call|allow sched_getaffinity"
                  else echo "may not read it|let this user read it"; fi ;;
    *) echo "an I/O or kernel error|dmesg" ;;
  esac
}
check_names() {
  local runtime call=0 words remedy pattern line missing='' found
  [ "$NAMED" != sched_getaffinity ] || call=1
  IFS='|' read -r words remedy <<<"$(fault_phrases "$NAMED_ERRNO" "$call")"
  case $NAMED in
    @cgroup/*) pattern="/kumo-scenario-[0-9]*-[0-9]*/${NAMED#@cgroup/} " ;;
    *) pattern="$NAMED[ :]" ;;
  esac
  for runtime in $ROW_RUNTIMES; do
    found=''
    while IFS= read -r line; do
      case $line in warning:*|note:*) ;; *) continue ;; esac
      grep -q -- "$pattern" <<<"$line" && [[ $line == *"$words"* && $line == *"$remedy"* ]] && found=1
    done <<<"${CASE_OUTPUT[$runtime]}"
    [ -n "$found" ] || missing+="[$runtime] ${CASE_OUTPUT[$runtime]}"$'\n'
  done
  local what="$DESCRIPTION [every report names $NAMED, $NAMED_ERRNO's kind of fault and its remedy]"
  if [ -z "$missing" ]; then tap ok "$what"; else tap not-ok "$what" "$missing"; fi
}
# injected_once: one check that strace injected exactly one fault into each program.
injected_once() { after check_injected_once 1; }
check_injected_once() {
  local injected programs
  injected=$(grep -c INJECTED "$KUMO_INJECT_LOG" 2>/dev/null)
  programs=$((1 + $(wc -w <<<"$ROW_RUNTIMES")))
  tap_is "$DESCRIPTION [one fault injected in each of the $programs programs]" "$programs" "${injected:-0}"
}

lane_reset() {
  PIN='' OVERRIDE='' REAL_V1='' REAL_V1_WRAP=() HOST_FLAGS='' HOST_BETWEEN='' EXHAUST=''
  NAMED='' NAMED_ERRNO=''
  # a fresh log of what strace injected, for the case's programs
  [ -z "${KUMO_INJECT_LOG:-}" ] || : >"$KUMO_INJECT_LOG"
}

# Runs scenario NAME's setup in the current phase (read here, without a process: this runs
# once per program, in the VM too).
scenario_setup() { # NAME
  local line
  while IFS= read -r line; do
    case $line in "$1 |"*) break ;; esac
    line=''
  done <"$CASES"
  [ -n "$line" ] || { echo "no scenario named $1" >&2; return 1; }
  read_row "$line" || { echo "$ROW_ERROR" >&2; return 1; }
  eval "$ROW_SETUP"
}

# ---- inside the namespace --------------------------------------------------------------
exec_in_layout() { # NAME CMD...
  local name=$1; shift
  PHASE=layout STAGE=$(mktemp -d) DROP_DAC='' BIND_MOUNTINFO=''
  lane_reset
  mount -t tmpfs kumo-scenario "$CG" || exit 97
  # any layout step that fails ends the run, so the scenario's checks fail with its message
  set -e
  scenario_setup "$name"
  set +e
  [ -e "$STAGE/cgroup" ] && { mount --bind "$STAGE/cgroup" "/proc/$$/cgroup" || exit 97; }
  [ -n "$BIND_MOUNTINFO" ] && { mount --bind "$STAGE/mountinfo" "/proc/$$/mountinfo" || exit 97; }
  local prefix=()
  [ -n "$PIN" ] && prefix+=(taskset -c "$PIN")
  if [ -n "$OVERRIDE" ]; then prefix+=(env "KUMO_AVAILABLE_PARALLELISM=$OVERRIDE"); else unset KUMO_AVAILABLE_PARALLELISM; fi
  [ -n "$DROP_DAC" ] && prefix+=(setpriv --bounding-set=-dac_override,-dac_read_search --)
  # exec keeps this pid, so /proc/self/cgroup is the file bind-mounted above
  exec "${prefix[@]}" "$@"
}

# The controllers of this process's cgroup v1 hierarchy with cpu, as /proc/self/cgroup says.
cpu_controllers() {
  sed -n 's/^[0-9]*:\(\([^:]*,\)\{0,1\}cpu\(,[^:]*\)\{0,1\}\):.*/\1/p' /proc/self/cgroup | head -n 1
}

# Inside a fresh mount namespace: the cgroup hierarchies hidden, COUNT tmpfs mounts, then this
# process's v1 cpu hierarchy mounted again after them, where std finds it only by reading
# every one of those lines of mountinfo. Used by the scenarios and by make bench.
many_mounts() { # COUNT CMD...
  local count=$1 controllers stage
  shift
  controllers=$(cpu_controllers)
  [ -n "$controllers" ] || { echo "many-mounts: no cgroup v1 cpu controller here" >&2; exit 97; }
  umount -R "$CG" && mount -t tmpfs kumo-scenario "$CG" || exit 97
  stage=$(mktemp -d) && mount -t tmpfs kumo-mounts "$stage" || exit 97
  luajit lua/scenarios/mount_many.lua "$stage" "$count" || exit 97
  mkdir "$stage/cpu" && mount -t cgroup -o "$controllers" cgroup "$stage/cpu" || exit 97
  exec "$@"
}

# Inside a fresh mount namespace: every cgroup hierarchy unmounted, then this process's v1
# cpu hierarchy mounted alone at "/sys/fs/cgroup/cpu ctl", which mountinfo writes
# /sys/fs/cgroup/cpu\040ctl.
v1_escaped() { # CMD...
  local controllers
  controllers=$(cpu_controllers)
  [ -n "$controllers" ] || { echo "v1-escaped: no cgroup v1 cpu controller here" >&2; exit 97; }
  umount -R "$CG" && mount -t tmpfs kumo-scenario "$CG" || exit 97
  mkdir "$CG/cpu ctl" && mount -t cgroup -o "$controllers" cgroup "$CG/cpu ctl" || exit 97
  exec "$@"
}

# Inside a fresh mount namespace: every cgroup hierarchy unmounted, and an empty directory
# at "/sys/fs/cgroup/cpu ctl" where the case mounts the cpu hierarchy later, with the
# controllers in KUMO_SCENARIO_CONTROLLERS.
v1_unmounted() { # CMD...
  local controllers
  controllers=$(cpu_controllers)
  [ -n "$controllers" ] || { echo "v1-unmounted: no cgroup v1 cpu controller here" >&2; exit 97; }
  umount -R "$CG" && mount -t tmpfs kumo-scenario "$CG" && mkdir "$CG/cpu ctl" || exit 97
  KUMO_SCENARIO_CONTROLLERS=$controllers exec "$@"
}

# Inside a fresh mount namespace: this process's own cgroup bind-mounted over its v1 cpu
# hierarchy's mount at /sys/fs/cgroup/cpu. mountinfo lists the hierarchy's root mount
# first, hidden, then the bind.
v1_shadowed() { # CMD...
  [ -d "${KUMO_SCENARIO_CGROUP:-}" ] || { echo "v1-shadowed: KUMO_SCENARIO_CGROUP is no cgroup" >&2; exit 97; }
  mount --bind "$KUMO_SCENARIO_CGROUP" "$CG/cpu" || exit 97
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
  (unset KUMO_AVAILABLE_PARALLELISM; export KUMO_SCENARIO_CGROUP=$dir
   sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$dir" "${REAL_V1_WRAP[@]}" "$@")
  local code=$?
  rmdir "$dir" || echo "# could not remove $dir" >&2
  return $code
}

# ---- the lane: how a case's environment is entered ------------------------------------------
# RUNTIME's program, as probe-all runs it, in the current scenario's environment.
lane_enter() { # RUNTIME
  local host=()
  [ -z "$HOST_FLAGS" ] || host+=(KUMO_HOST_FLAGS="$HOST_FLAGS")
  [ -z "$HOST_BETWEEN" ] || host+=(KUMO_HOST_BETWEEN="$HOST_BETWEEN")
  [ -z "$EXHAUST" ] || host+=(KUMO_EXHAUST=1)
  if [ -n "$REAL_V1" ]; then
    run_real_v1 env "${host[@]}" sh scripts/probe-all --one "$ROOT" "$1"
  else
    unshare -m --propagation private bash "$0" exec "$ROW_NAME" \
      env "${host[@]}" sh scripts/probe-all --one "$ROOT" "$1"
  fi
}

# The kumo tree the programs run from (scripts/probe-all): on this machine, links to what
# make built; in the VM, /kumo.
lay_out_root() {
  local std_reference host lua
  std_reference=$(make -s --no-print-directory std-reference | tail -n 1) || return 1
  host=$(make -s --no-print-directory host | tail -n 1) || return 1
  ROOT=$PWD/target/cases-root
  rm -rf "$ROOT" && mkdir -p "$ROOT/bin" "$ROOT/lua" || return 1
  ln -s "$std_reference" "$ROOT/bin/std_parallelism" && ln -s "$host" "$ROOT/bin/policy_host" \
    && ln -s "$PWD/lua/scenarios" "$ROOT/lua/scenarios" || return 1
  for lua in $KUMO_LUAS; do ln -s "$PWD/target/lua/$lua" "$ROOT/lua/$lua" || return 1; done
}

can_run() {
  [ "$(id -u)" -eq 0 ] || { echo "not root"; return 1; }
  command -v unshare >/dev/null || { echo "unshare missing"; return 1; }
  unshare -m true 2>/dev/null || { echo "unshare -m is not permitted here"; return 1; }
  [ "$NCPU" -ge 2 ] || { echo "the scenarios need at least 2 CPUs, $NCPU allowed"; return 1; }
  if [ "${1:-}" != vm ]; then
    command -v luajit >/dev/null || { echo "luajit missing (the mount-point scenario uses its FFI)"; return 1; }
    [ -d "$CG/cpu" ] && grep -q " $CG/cpu[, ].* - cgroup " /proc/self/mountinfo \
      || { echo "no cgroup v1 cpu hierarchy at $CG/cpu for the real v1 scenarios"; return 1; }
  fi
}

# A runner outside the kernel's initial cgroup namespace shows cgroup-namespace in every
# scenario: its expectations say so.
namespace_note() {
  local namespace
  namespace=$(readlink /proc/self/ns/cgroup)
  [ -z "$namespace" ] || [ "$namespace" = "cgroup:[4026531835]" ] || echo cgroup-namespace/note
}

# The errnos each fault case's @ERRNO@ stands for, one case each: a process at its descriptor
# limit, a system at its own, memory pressure, an I/O error, a permission fault.
FAULT_ERRNOS="EMFILE ENFILE ENOMEM EIO EACCES"

# The fault cases with each @ERRNO@ row made one row per errno, named NAME_errno.
expand_faults() { # FILE
  local line errno name rest
  while IFS= read -r line; do
    case $line in
      *@ERRNO@*)
        IFS='|' read -r name rest <<<"$line"
        for errno in $FAULT_ERRNOS; do
          echo "$(trim "$name")_${errno,,} |${rest//@ERRNO@/$errno}"
        done ;;
      *) echo "$line" ;;
    esac
  done <"$1"
}

run_faults() {
  local why planned cases=target/faults.cases
  refuse_filters "fault lane" KUMO_FAULTS
  why=$(can_run) || fail_lane "fault-injection lane" "$why"
  command -v strace >/dev/null || fail_lane "fault-injection lane" "strace is missing (make test installs it)"
  lay_out_root || fail_lane "fault-injection lane" "could not build the programs"
  mkdir -p target && expand_faults scripts/cases/faults.cases >"$cases"
  export KUMO_INJECT_LOG=$PWD/target/faults-injected.log
  NAME_FILTER=${KUMO_FAULTS:-}
  CASE_EXTRA_FINDINGS=$(namespace_note)
  planned=$(plan_cases "$cases")
  echo "1..$planned"
  run_cases "$cases"
  tap_exit "$planned"
}

run_all() {
  local why
  refuse_filters scenarios KUMO_SCENARIOS
  why=$(can_run) || fail_lane "real-environment scenarios" "$why"
  lay_out_root || fail_lane "real-environment scenarios" "could not build the programs"
  NAME_FILTER=${KUMO_SCENARIOS:-}
  CASE_EXTRA_FINDINGS=$(namespace_note)
  local planned
  planned=$(plan_cases "$CASES")
  echo "1..$planned"
  run_cases "$CASES"
  tap_exit "$planned"
}

# In the VM, the rows whose expectations follow the CPU count (they name $NCPU), and that
# need no cgroup v1 hierarchy (no real_v1): what a second CPU count proves.
vm_selects() { [ -z "$REAL_V1" ] && [[ "$ROW_EXPECT $ROW_SETUP" == *'$NCPU'* || "$ROW_EXPECT $ROW_SETUP" == *NCPU* ]]; }

case "${1:-}" in
  exec) shift; exec_in_layout "$@" ;;
  many-mounts) shift; many_mounts "$@" ;;
  v1-escaped) shift; v1_escaped "$@" ;;
  v1-shadowed) shift; v1_shadowed "$@" ;;
  v1-unmounted) shift; v1_unmounted "$@" ;;
  run)
    : "${KUMO_LUAS:?run through make test, which exports the interpreter list}"
    CASE_RUNTIMES="$KUMO_LUAS host"
    run_all ;;
  run-faults)
    CASE_RUNTIMES="lua5.4 host"
    run_faults ;;
  plan-in-vm)
    CASE_RUNTIMES="${KUMO_BUNDLE_LUAS:?} host"
    lane_selects() { vm_selects; }
    plan_cases "$CASES" ;;
  run-in-vm)
    ROOT=$2 CASE_RUNTIMES="${KUMO_BUNDLE_LUAS:?} host"
    CASE_EXTRA_FINDINGS=$(namespace_note)
    lane_selects() { vm_selects; }
    why=$(can_run vm) || { tap not-ok "scenarios in the VM cannot run: $why"; exit 1; }
    run_cases "$CASES" ;;
  *) echo "usage: $0 run | run-in-vm ROOT | plan-in-vm | exec NAME CMD..." >&2; exit 2 ;;
esac

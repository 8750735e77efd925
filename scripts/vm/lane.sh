# The real-kernel lane's words and boots, sourced inside the VM by its /init (scripts/vm/init)
# and, to plan and to configure the containers before the boots, on the host by
# scripts/vm-test.sh. The cases are scripts/cases/vm-<boot>.cases, run by scripts/cases.sh;
# a setup's words lay out real cgroups with real limits (PHASE=layout, in the VM only) and say
# where the programs run (RUN_CGROUPS, WRAP, OVERRIDE).
source scripts/cases.sh

CG=/sys/fs/cgroup
ROOT=/kumo
# the case file of a boot (the v1 boot runs the hybrid one too)
boot_cases() { echo "scripts/cases/vm-$1.cases"; }
LIVE_CASES=scripts/cases/vm-v2.live
CASE_RUNTIMES="${KUMO_BUNDLE_LUAS:?} host"

in_layout() { [ "$PHASE" = layout ]; }

# ---- the setups' words ----------------------------------------------------------------------
LAYOUT_ERROR=''
# write FILE VALUE: a kernel file; a failure fails the case's checks with its message.
write() { ! in_layout || printf '%s\n' "$2" >"$1" 2>/dev/null || LAYOUT_ERROR+="could not write '$2' to $1; "; }
# v2_dir PATH: a cgroup2 directory under $CG, each parent handing cpu and cpuset down.
v2_dir() {
  in_layout || return 0
  local parent=$CG part
  for part in ${1//\// }; do
    write "$parent/cgroup.subtree_control" "+cpu +cpuset"
    parent+=/$part
    mkdir -p "$parent" || LAYOUT_ERROR+="mkdir $parent failed; "
  done
}
# k8s_pod POD_CPU_MAX CTR_CPU_MAX: a new Kubernetes-shaped pod and container (burstable QoS,
# containerd), each cpu.max written unless empty; the programs run in the container.
POD_SEQ=0
k8s_pod() {
  POD_SEQ=$((POD_SEQ + 1))
  local uid; uid=$(printf '8d3a7c1e_4b2f_4c1a_9e6d_%012d' "$POD_SEQ")
  POD=kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$uid.slice
  CTR=$POD/cri-containerd-$(printf '%064x' "$POD_SEQ").scope
  v2_dir "$CTR"
  [ -z "$1" ] || write "$CG/$POD/cpu.max" "$1"
  [ -z "$2" ] || write "$CG/$CTR/cpu.max" "$2"
  RUN_CGROUPS=("$CG/$CTR")
}
# docker QUOTA_US: a Docker-shaped cgroup v1 /docker/<id> with cpu.cfs_quota_us = QUOTA_US
# per 100000 µs; the programs run in it.
DOCKER_SEQ=0
docker() {
  DOCKER_SEQ=$((DOCKER_SEQ + 1))
  DOCKER=docker/$(printf '%064x' "$DOCKER_SEQ")
  in_layout || return 0
  mkdir -p "$CG/cpu,cpuacct/$DOCKER" || LAYOUT_ERROR+="mkdir $DOCKER failed; "
  write "$CG/cpu,cpuacct/$DOCKER/cpu.cfs_period_us" 100000
  write "$CG/cpu,cpuacct/$DOCKER/cpu.cfs_quota_us" "$1"
  RUN_CGROUPS=("$CG/cpu,cpuacct/$DOCKER")
}
# unified_too: the programs also run in the same path on cgroup2 at /sys/fs/cgroup/unified.
unified_too() {
  in_layout || return 0
  mkdir -p "$CG/unified/$DOCKER" || LAYOUT_ERROR+="mkdir unified/$DOCKER failed; "
  RUN_CGROUPS+=("$CG/unified/$DOCKER")
}
# container RUNTIME SETTING...: the programs run in an OCI container of RUNTIME, configured
# from SETTINGS by scripts/vm-test.sh before the boot (scripts/oci_config.py); parent=US
# gives the container's cgroup a parent with that quota, made here.
container() {
  CONTAINER_RUNTIME=$1 CONTAINER_SETTINGS="${*:2}"
  local setting
  for setting in "${@:2}"; do
    case $setting in
      parent=*) v2_dir "kumo-vm/$ROW_NAME"; write "$CG/kumo-vm/$ROW_NAME/cpu.max" "${setting#parent=} 100000" ;;
    esac
  done
  WRAP=(/kumo/scripts/vm/in-container "$1" "$ROW_NAME")
}
# As containerd and Docker do with a private cgroup namespace: a fresh cgroup2 mount inside,
# which shows the namespace's root (the container) as /. Then what the container sees of
# itself, and what the kernel holds it to, seen from outside.
own_cgroup_namespace() {
  WRAP=(unshare -C -m --propagation private bash -c 'umount /sys/fs/cgroup \
    && mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' _)
  after check_namespace_view 2
}
check_namespace_view() {
  local seen throttled
  seen=$(launch cat /proc/self/cgroup)
  tap_is "$DESCRIPTION [/proc/self/cgroup reads 0::/ inside]" "0::/" "$seen"
  # the pod's limit, enforced: more busy threads than its 3.5 CPUs, run from inside the
  # namespace for a second, are throttled by the pod (cpu.stat, read outside)
  launch bash -c 'for n in $(seq "$1"); do (end=$((SECONDS + 2)); while [ $SECONDS -lt $end ]; do :; done) & done; wait' _ "$NCPU"
  throttled=$(awk '$1 == "nr_throttled" { print $2 }' "$CG/$POD/cpu.stat")
  if [ "${throttled:-0}" -gt 0 ]; then tap ok "$DESCRIPTION [the pod's 3.5 CPUs throttle $NCPU busy threads inside: nr_throttled $throttled]"
  else tap not-ok "$DESCRIPTION [the pod's 3.5 CPUs throttle $NCPU busy threads inside]" "$(cat "$CG/$POD/cpu.stat")"; fi
}

lane_reset() {
  RUN_CGROUPS=() WRAP=() OVERRIDE='' LAYOUT_ERROR='' CONTAINER_RUNTIME='' CONTAINER_SETTINGS=''
}

# ---- the lane: how a case's environment is entered ------------------------------------------
# CMD moved into RUN_CGROUPS, with the override or without, through WRAP.
launch() { # CMD...
  (
    for dir in "${RUN_CGROUPS[@]}"; do echo "$BASHPID" >"$dir/cgroup.procs" || exit 97; done
    if [ -n "$OVERRIDE" ]; then export KUMO_AVAILABLE_PARALLELISM=$OVERRIDE
    else unset KUMO_AVAILABLE_PARALLELISM; fi
    exec "${WRAP[@]}" "$@"
  )
}

# The case is laid out once, for real, before its programs run: the expect phase recorded it.
lane_prepare() {
  PHASE=layout
  eval "$ROW_SETUP"
  PHASE=expect
}

# Every program of a case in one launch (one container start, under TCG seconds each):
# they share the case's environment, cgroup and wrapper alike.
lane_enter_all() { # RUNTIME...
  if [ -n "$LAYOUT_ERROR" ]; then echo "layout: $LAYOUT_ERROR"; return; fi
  launch sh /kumo/probe-all "$ROOT" "$@"
}

# ---- live changes ---------------------------------------------------------------------------
# wait_for_mask LIST: the kernel gives a CPU back to the process's mask from a work queue
wait_for_mask() {
  local tries=0
  until grep -q "^Cpus_allowed_list:.*$1\$" "/proc/$LIVE_PID/status" || [ $tries -ge 100 ]; do
    sleep 0.1; tries=$((tries + 1))
  done
}

live_changes() {
  APP=live.slice/app.scope OTHER=live.slice/other.scope
  PHASE=layout LAYOUT_ERROR=''
  v2_dir "$APP"; v2_dir "$OTHER"
  write "$CG/$APP/cpu.max" "200000 100000"; write "$CG/$OTHER/cpu.max" "150000 100000"
  PHASE=expect
  coproc LIVE { echo "$BASHPID" >"$CG/$APP/cgroup.procs" && unset KUMO_AVAILABLE_PARALLELISM \
    && LUA_CPATH="/kumo/lua/lua5.4/?.so" exec lua5.4 /kumo/lua/scenarios/live.lua; }
  run_live "$LIVE_CASES" live
}

# explain()'s cost against std's on this boot's CPUs, as a TAP comment the host reads
# ("# bench-ratio CPUS RATIO", scripts/vm-test.sh holds 64 CPUs to 8): ROUNDS interleaved
# rounds of std's own --bench and lua5.4 timed around CALLS explain() calls less its
# start-up, and the median of each round's own ratio. TCG timings are no target; a cost that
# grows with the CPUs shows in the ratio of the two boots.
bench_explain() {
  local calls=1000 rounds=9 round std start middle stop ratios='' cpath="/kumo/lua/lua5.4/?.so"
  for round in $(seq "$rounds"); do
    std=$(/kumo/bin/std_parallelism --bench "$calls")
    start=$EPOCHREALTIME
    LUA_CPATH=$cpath lua5.4 -e "local m = require 'kumo_parallelism' for _ = 1, $calls do m.explain() end"
    middle=$EPOCHREALTIME
    LUA_CPATH=$cpath lua5.4 -e "local m = require 'kumo_parallelism' m.explain()"
    stop=$EPOCHREALTIME
    ratios+=$(awk -v std="$std" -v a="$start" -v b="$middle" -v c="$stop" -v n="$calls" 'BEGIN {
      printf "%.3f ", ((b - a) - (c - b)) / (n - 1) * 1e9 / std }')
  done
  echo "# bench under TCG, $NCPU CPUs, explain()/std per round: $ratios"
  echo "# bench-ratio $NCPU $(tr ' ' '\n' <<<"$ratios" | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
}

# The explain spec on lua5.4 with busted, and the library's own tests of this machine, here:
# each counted against the host's list of them (KUMO_SPEC_TESTS, KUMO_LIB_TESTS).
machine_tests() {
  local line
  tap_relay "explain spec: " < <(cd /kumo && KUMO_LUA_MODULES=/kumo/lua KUMO_STD_REFERENCE=/kumo/bin/std_parallelism \
    lua5.4 /usr/bin/busted --helper=lua/spec/support.lua --lpath='lua/spec/?.lua' --output=TAP \
    lua/spec/explain_spec.lua 2>&1)
  while IFS= read -r line; do
    case $line in
      "test "*" ... ok") tap ok "library: ${line% ... ok}" ;;
      "test "*" ... FAILED") tap not-ok "library: ${line% ... FAILED}" ;;
    esac
  done < <(/kumo/bin/lib_tests on_this_machine --test-threads=1 2>&1)
}

# ---- boots ----------------------------------------------------------------------------------
# The results boot MODE prints, from the case files: on the host before the boot, and in the
# VM, where init says the boot ran whole only when it printed exactly this many.
boot_plan() { # MODE
  local planned
  case $1 in
    probe) echo 0; return ;;
    v2) planned=$(( $(plan_cases "$(boot_cases v2)") + $(plan_live "$LIVE_CASES") \
          + $(bash scripts/scenarios.sh plan-in-vm) )) ;;
    v1) planned=$(( $(plan_cases "$(boot_cases v1)") + $(plan_cases "$(boot_cases hybrid)") )) ;;
    hotplug) planned=$(( $(plan_cases "$(boot_cases hotplug)") + ${KUMO_SPEC_TESTS:?} + ${KUMO_LIB_TESTS:?} )) ;;
    # any other boot with a case file runs just its cases (run_boot)
    *) if [ -f "$(boot_cases "$1")" ]; then planned=$(plan_cases "$(boot_cases "$1")"); else planned=1; fi ;;
  esac
  echo "$planned"
}

# Boot MODE's cases on cgroup v2 at $CG; fails where MODE has no case file.
v2_cases() { # MODE
  [ -f "$(boot_cases "$1")" ] || { tap not-ok "unknown boot mode '$1'"; return 1; }
  mount -t cgroup2 cgroup2 "$CG" || { tap not-ok "mount cgroup2"; return 1; }
  run_cases "$(boot_cases "$1")"
  return 0
}

run_boot() { # MODE
  case $1 in
    probe) ;;
    v2)
      mount -t cgroup2 cgroup2 "$CG" || { tap not-ok "mount cgroup2"; return; }
      run_cases "$(boot_cases v2)"
      live_changes
      # the scenario table, whose expectations follow the CPU count, on this boot's CPUs
      bash scripts/scenarios.sh run-in-vm "$ROOT" | tap_relay "scenario: "
      bench_explain ;;
    v1)
      mount -t tmpfs cgroup "$CG" && mkdir "$CG/cpu,cpuacct" \
        && mount -t cgroup -o cpu,cpuacct cgroup "$CG/cpu,cpuacct" && ln -s cpu,cpuacct "$CG/cpu" \
        || { tap not-ok "mount the v1 cpu,cpuacct hierarchy"; return; }
      run_cases "$(boot_cases v1)"
      # systemd's hybrid mode: the same v1 hierarchies, and cgroup2 without controllers
      mkdir "$CG/unified" && mount -t cgroup2 cgroup2 "$CG/unified" \
        || { tap not-ok "mount cgroup2 at $CG/unified"; return; }
      run_cases "$(boot_cases hybrid)" ;;
    wide) v2_cases wide && bench_explain ;;
    hotplug) v2_cases hotplug && machine_tests ;;
    # a boot with a case file and nothing else
    *) v2_cases "$1" ;;
  esac
}

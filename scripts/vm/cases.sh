# The real-kernel cases, sourced by the VM's /init (scripts/vm/init). One row per case in
# CASE_TABLE: what it expects, recorded with the shared helpers (scripts/expect.sh), and the
# setup that lays out real cgroups with real limits and says where its programs run
# (RUN_CGROUPS, WRAP, OVERRIDE). run_case then runs the std reference, lua5.4 and luajit with the module, and the
# kumod-style host there, and checks each against the expectation: one TAP line apiece.
source scripts/tap.sh
source scripts/expect.sh

NCPU=$(allowed_cpus)   # every CPU is online and allowed at boot
CG=/sys/fs/cgroup
STD_REFERENCE=/kumo/bin/std_parallelism
HOST=/kumo/bin/policy_host
RUNTIMES=(lua5.4 luajit host)

# ---- layout helpers ---------------------------------------------------------------------
LAYOUT_ERROR=''
# write FILE VALUE: a kernel file; a failure fails the case's checks with its message.
write() { printf '%s\n' "$2" >"$1" 2>/dev/null || LAYOUT_ERROR+="could not write '$2' to $1; "; }
# v2_dir PATH: a cgroup2 directory under $CG, each parent handing cpu and cpuset down.
v2_dir() {
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
  mkdir -p "$CG/cpu,cpuacct/$DOCKER" || LAYOUT_ERROR+="mkdir $DOCKER failed; "
  write "$CG/cpu,cpuacct/$DOCKER/cpu.cfs_period_us" 100000
  write "$CG/cpu,cpuacct/$DOCKER/cpu.cfs_quota_us" "$1"
  RUN_CGROUPS=("$CG/cpu,cpuacct/$DOCKER")
}

# ---- running ----------------------------------------------------------------------------
# launch CMD...: CMD moved into RUN_CGROUPS, with the override or without, through WRAP.
launch() {
  (
    for dir in "${RUN_CGROUPS[@]}"; do echo "$BASHPID" >"$dir/cgroup.procs" || exit 97; done
    if [ -n "$OVERRIDE" ]; then export KUMO_AVAILABLE_PARALLELISM=$OVERRIDE
    else unset KUMO_AVAILABLE_PARALLELISM; fi
    exec "${WRAP[@]}" "$@"
  )
}

run_case() { # NAME DESCRIPTION EXPECTATION CODES SETUP
  reset_expectations
  RUN_CGROUPS=() WRAP=() OVERRIDE='' LAYOUT_ERROR='' AFTER='' CASE_NAME=$1
  expect_row "$2" "$3" "$4"
  eval "$5"
  if [ -n "$LAYOUT_ERROR" ]; then
    tap not-ok "$DESCRIPTION: layout" "$LAYOUT_ERROR"
    return
  fi
  local std_answer output runtime
  std_answer=$(launch "$STD_REFERENCE" 2>&1)
  check_std "$std_answer"
  for runtime in "${RUNTIMES[@]}"; do
    if [ "$runtime" = host ]; then
      output=$(launch "$HOST" lua/scenarios/probe.lua 2>&1)
    else
      output=$(launch env LUA_CPATH="/kumo/lua/$runtime/?.so" "$runtime" lua/scenarios/probe.lua 2>&1)
    fi
    check_probe "$runtime" "$std_answer" "$output"
  done
  [ -z "$AFTER" ] || "$AFTER"
}

# ---- the cases: one row each -------------------------------------------------------------
# boot | name | what it shows | answer source [std] | finding codes ("-": none) | setup
# The expectations are data, written out: no finding rule is computed here. The setup lays
# out real cgroups and says where the programs run (RUN_CGROUPS, WRAP, OVERRIDE, AFTER).
# The v2 and v1 boots have 8 CPUs, the wide one 64.
read -r -d '' CASE_TABLE <<'TABLE'
v2 | k8s_pod_quota | v2 pod quota 3, container unlimited | 3 cgroup | - | k8s_pod "300000 100000" ""
v2 | k8s_container_quota | v2 container quota 2, pod unlimited | 2 cgroup | - | k8s_pod "" "200000 100000"
v2 | k8s_pod_tighter | v2 pod quota 2 over container quota 5 | 2 cgroup | - | k8s_pod "200000 100000" "500000 100000"
v2 | k8s_container_tighter | v2 container quota 3 under pod quota 6 | 3 cgroup | - | k8s_pod "600000 100000" "300000 100000"
v2 | k8s_fractional | v2 pod quota 3.5 over container quota 5 | 3 cgroup | quota-floored | k8s_pod "350000 100000" "500000 100000"
v2 | k8s_below_one | v2 container quota 0.5 | 1 cgroup | quota-below-one | k8s_pod "" "50000 100000"
v2 | k8s_lifted | v2 pod and container quotas lifted (max) | $NCPU affinity | - | k8s_pod "max 100000" "max 100000"
v2 | k8s_cpuset | v2 container cpuset.cpus 0-2 | 3 affinity | - | k8s_pod "" ""; write "$CG/$CTR/cpuset.cpus" 0-2
v2 | k8s_requests_only | v2 container cpu.weight 174 (a 2-CPU request), no quota | $NCPU affinity | requests-only | k8s_pod "" ""; write "$CG/$CTR/cpu.weight" 174
v2 | k8s_best_effort | v2 container cpu.weight 1 (BestEffort), no quota | $NCPU affinity | requests-only | k8s_pod "" ""; write "$CG/$CTR/cpu.weight" 1
v2 | k8s_burst | v2 container quota 2 with cpu.max.burst 1 CPU | 2 cgroup | quota-burst | k8s_pod "" "200000 100000"; write "$CG/$CTR/cpu.max.burst" 100000
v2 | k8s_own_cgroup_namespace | v2 container in its own cgroup namespace, quota 5, under a pod quota 3.5 it cannot see | 5 cgroup | cgroup-namespace | k8s_pod "350000 100000" "500000 100000"; own_cgroup_namespace
v2 | k8s_no_cgroup_mount | v2 container quota 1 with /sys/fs/cgroup under a tmpfs, as bwrap --tmpfs leaves it | $NCPU affinity | cgroupfs-unmounted | k8s_pod "" "100000 100000"; WRAP=(unshare -m --propagation private bash -c 'mount -t tmpfs none /sys/fs/cgroup && exec "$@"' _)
v2 | runc_quota | runc: a --cpus=1.5-style quota | 1 cgroup | quota-floored | container runc quota=150000
v2 | crun_quota | crun: a --cpus=1.5-style quota | 1 cgroup | quota-floored | container crun quota=150000
v2 | runc_request | runc 1.1: a 2-CPU request, shares 2048 written as weight 79 (linear) | $NCPU affinity | requests-only | container runc shares=2048
v2 | crun_request | crun 1.8: a 2-CPU request, shares 2048 written as weight 79 (linear) | $NCPU affinity | requests-only | container crun shares=2048
v2 | runc_best_effort | runc: BestEffort, shares 2 written as weight 1 | $NCPU affinity | requests-only | container runc shares=2
v2 | crun_cgroupns_under_pod | crun: a private cgroup namespace, quota 5, under a pod quota 2 it cannot see | 5 cgroup | cgroup-namespace | container crun quota=500000 cgroupns parent=200000
v2 | runc_no_cgroup_mount | runc: no cgroup mount in the container, a 1-CPU quota | $NCPU affinity | cgroupfs-unmounted | container runc quota=100000 nocgroupmount
v2 | k8s_override | v2 override 12 in an unlimited container | 12 override $NCPU | override-replaces-detection | k8s_pod "" ""; OVERRIDE=12
v2 | k8s_override_invalid | v2 override abc: raises, explain() says why | error override $NCPU | override-invalid | k8s_pod "" ""; OVERRIDE=abc
v1 | docker_one_and_a_half | v1 docker quota 1.5 (cpu,cpuacct with a cpu symlink) | 1 cgroup | quota-floored | docker 150000
v1 | docker_two_and_a_half | v1 docker quota 2.5 | 2 cgroup | quota-floored | docker 250000
v1 | docker_unlimited | v1 docker unlimited (-1) | $NCPU affinity | - | docker -1
v1 | docker_shares_only | v1 docker cpu.shares 512, no quota | $NCPU affinity | requests-only | docker -1; write "$CG/cpu,cpuacct/$DOCKER/cpu.shares" 512
v1 | docker_mounted_elsewhere | v1 cpu controller mounted at /tmp/cpu, found through mountinfo, quota 2 | 2 cgroup | - | docker 200000; WRAP=(unshare -m --propagation private bash -c 'umount /sys/fs/cgroup/cpu,cpuacct && umount /sys/fs/cgroup && mkdir -p /tmp/cpu && mount -t cgroup -o cpu,cpuacct cgroup /tmp/cpu && exec "$@"' _)
hybrid | hybrid_one_and_a_half | hybrid: cpu on v1 quota 1.5, cgroup2 at /sys/fs/cgroup/unified | 1 cgroup | quota-floored | docker 150000; mkdir -p "$CG/unified/$DOCKER" || LAYOUT_ERROR+="mkdir unified/$DOCKER failed; "; RUN_CGROUPS+=("$CG/unified/$DOCKER")
wide | wide_root | v2 $NCPU CPUs, root cgroup | $NCPU affinity | - | :
wide | wide_nested_quota | v2 $NCPU CPUs, quota 12 on a parent slice | 12 cgroup | - | v2_dir app.slice/worker.scope; write "$CG/app.slice/cpu.max" "1200000 100000"; RUN_CGROUPS=("$CG/app.slice/worker.scope")
wide | wide_affinity_subset | v2 $NCPU CPUs, taskset -c 0-9 | 10 affinity | - | WRAP=(taskset -c 0-9)
TABLE

# container RUNTIME SETTING...: the programs run in an OCI container of RUNTIME, configured
# from SETTINGS by scripts/vm-test.sh before the boot (scripts/oci_config.py); parent=US
# gives the container's cgroup a parent with that quota, made here.
container() {
  local setting
  for setting in "${@:2}"; do
    case $setting in
      parent=*) v2_dir "kumo-vm/$CASE_NAME"; write "$CG/kumo-vm/$CASE_NAME/cpu.max" "${setting#parent=} 100000" ;;
    esac
  done
  WRAP=(/kumo/scripts/vm/in-container "$1" "$CASE_NAME")
}

# As containerd and Docker do with a private cgroup namespace: a fresh cgroup2 mount inside,
# which shows the namespace's root (the container) as /.
own_cgroup_namespace() {
  WRAP=(unshare -C -m --propagation private bash -c 'umount /sys/fs/cgroup \
    && mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' _)
  AFTER=check_namespace_view
}
# What the container sees of itself, and what the kernel holds it to, from the host side.
check_namespace_view() {
  local seen pod_max
  seen=$(launch cat /proc/self/cgroup)
  tap_is "$DESCRIPTION [/proc/self/cgroup reads 0::/ inside]" "0::/" "$seen"
  pod_max=$(cat "$CG/$POD/cpu.max")
  tap_is "$DESCRIPTION [the pod's cpu.max, enforced, reads 350000 100000 outside]" \
    "350000 100000" "$pod_max"
}

# Runs every case of BOOT from the table, in order.
run_cases() { # BOOT
  local boot name description expectation codes setup
  # the table on fd 3: the programs a case runs keep the console's stdin
  while IFS='|' read -r -u 3 boot name description expectation codes setup; do
    [ "${boot// /}" = "$1" ] || continue
    run_case "$(echo $name)" "$description" "$expectation" "$codes" "$setup"
  done 3<<<"$CASE_TABLE"
}

# One lua5.4 process answers a query per line while its environment changes under it; each
# change must show on the very next call.
live_changes() {
  local app=live.slice/app.scope other=live.slice/other.scope last=$((NCPU - 1)) pid
  DESCRIPTION=live LAYOUT_ERROR=''
  v2_dir "$app"; v2_dir "$other"
  write "$CG/$app/cpu.max" "200000 100000"; write "$CG/$other/cpu.max" "150000 100000"
  [ -z "$LAYOUT_ERROR" ] || { tap not-ok "live: layout" "$LAYOUT_ERROR"; return; }
  coproc LIVE { echo "$BASHPID" >"$CG/$app/cgroup.procs" && unset KUMO_AVAILABLE_PARALLELISM \
    && LUA_CPATH="/kumo/lua/lua5.4/?.so" exec lua5.4 lua/scenarios/live.lua; }
  pid=$LIVE_PID
  # DESCRIPTION EXPECTED: one query; answer and explain().value must both be EXPECTED, and
  # explain() reports changed-since-first-call exactly when EXPECTED is not the first answer, 2
  ask() {
    local answer='' changed=-
    [ "$2" = 2 ] || changed=changed
    echo q >&"${LIVE[1]}" && read -r -t 120 answer <&"${LIVE[0]}"
    tap_is "live: $1 [lua5.4]" "$2 $2 $changed" "$answer" "$LAYOUT_ERROR"
  }
  ask "quota 2 at start" 2
  write "$CG/$app/cpu.max" "100000 100000"; ask "quota lowered to 1" 1
  write "$CG/$app/cpu.max" "300000 100000"; ask "quota raised to 3" 3
  write "$CG/$app/cpu.max" "max 100000"; ask "quota lifted" "$NCPU"
  write "$CG/$other/cgroup.procs" "$pid"; ask "moved by cgroup.procs to a cgroup with quota 1.5" 1
  write "$CG/$app/cgroup.procs" "$pid"; ask "moved back to the unlimited cgroup" "$NCPU"
  write "/sys/devices/system/cpu/cpu$last/online" 0; ask "CPU $last taken offline" "$last"
  write "/sys/devices/system/cpu/cpu$last/online" 1
  # the kernel gives the CPU back to the process's mask from a work queue: wait for it
  local tries=0
  until grep -q "^Cpus_allowed_list:.*0-$last\$" "/proc/$pid/status" || [ $tries -ge 100 ]; do
    sleep 0.1; tries=$((tries + 1))
  done
  ask "CPU $last back online" "$NCPU"
  taskset -p 3 "$pid" >/dev/null || LAYOUT_ERROR+="taskset -p failed; "
  ask "affinity set to CPUs 0-1 with taskset -p" 2
  echo quit >&"${LIVE[1]}"
  wait "$pid"
}

# explain()'s cost against std's on this boot's CPUs, printed as a TAP comment (TCG timings
# are no target, but /proc/stat, which explain() may read, grows with CPUs x interrupts):
# std's own --bench, and lua5.4 timed around CALLS explain() calls minus its start-up.
bench_explain() {
  local calls=2000 std start middle stop cpath="/kumo/lua/lua5.4/?.so"
  std=$(/kumo/bin/std_parallelism --bench "$calls")
  start=$EPOCHREALTIME
  LUA_CPATH=$cpath lua5.4 -e "local m = require 'kumo_parallelism' for _ = 1, $calls do m.explain() end"
  middle=$EPOCHREALTIME
  LUA_CPATH=$cpath lua5.4 -e "local m = require 'kumo_parallelism' m.explain()"
  stop=$EPOCHREALTIME
  awk -v std="$std" -v a="$start" -v b="$middle" -v c="$stop" -v n="$calls" -v cpus="$NCPU" 'BEGIN {
    explain = ((b - a) - (c - b)) / (n - 1) * 1e9
    printf "# bench under TCG, %d CPUs: std %.0f ns, explain() %.0f ns per call, explain()/std %.2f\n", cpus, std, explain, explain / std }'
}

# ---- boots ----------------------------------------------------------------------------------
run_boot() { # MODE
  case $1 in
    probe) ;;
    v2)
      mount -t cgroup2 cgroup2 "$CG" || { tap not-ok "mount cgroup2"; return; }
      run_cases v2
      live_changes
      bench_explain ;;
    v1)
      mount -t tmpfs cgroup "$CG" && mkdir "$CG/cpu,cpuacct" \
        && mount -t cgroup -o cpu,cpuacct cgroup "$CG/cpu,cpuacct" && ln -s cpu,cpuacct "$CG/cpu" \
        || { tap not-ok "mount the v1 cpu,cpuacct hierarchy"; return; }
      run_cases v1
      # systemd's hybrid mode: the same v1 hierarchies, and cgroup2 without controllers
      mkdir "$CG/unified" && mount -t cgroup2 cgroup2 "$CG/unified" \
        || { tap not-ok "mount cgroup2 at $CG/unified"; return; }
      run_cases hybrid ;;
    wide)
      mount -t cgroup2 cgroup2 "$CG" || { tap not-ok "mount cgroup2"; return; }
      run_cases wide
      bench_explain ;;
    *) tap not-ok "unknown boot mode '$1'" ;;
  esac
}

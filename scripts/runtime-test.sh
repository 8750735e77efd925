#!/usr/bin/env bash
# make runtime-test: the module under the real container runtimes and sandboxes users run
# (runc, gVisor's runsc, firejail, bubblewrap, from Debian's packages), on this machine's own
# cgroup hierarchy (scripts/cases/runtimes.cases, run by scripts/cases.sh). One OCI bundle
# is built from the host's own binaries and their libraries: busybox, the bundle's
# interpreters with the module built for each, the std reference and the kumod-style host;
# nothing is downloaded. Then `runc update` under one running lua5.4
# (scripts/cases/runc.live). Prints TAP.
#
# Under CI=true a runtime that cannot run fails the lane; it never skips quietly.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/cases.sh
source scripts/rootfs.sh

CG=/sys/fs/cgroup
CASES=scripts/cases/runtimes.cases
LIVE_CASES=scripts/cases/runc.live
WORK=target/runtime
BUNDLE=$WORK/bundle
: "${KUMO_BUNDLE_LUAS:?run through make, which exports the interpreters of the bundle}"
CASE_RUNTIMES="$KUMO_BUNDLE_LUAS host"
refuse_filters "runtime lane" KUMO_RUNTIME_CASES
NAME_FILTER=${KUMO_RUNTIME_CASES:-}

[ "$(id -u)" -eq 0 ] || fail_lane "runtime lane" "not root"
for tool in runc runsc firejail bwrap busybox python3 taskset unshare; do
  command -v "$tool" >/dev/null || fail_lane "runtime lane" "$tool is missing (make test installs it)"
done
grep -q " $CG/cpu[, ].* - cgroup " /proc/self/mountinfo \
  || fail_lane "runtime lane" "no cgroup v1 cpu hierarchy at $CG/cpu (the v2 runtimes run in make vm-test)"

# gVisor gives the sandbox as many vCPUs as its cgroup's cpuset holds (runsc copies the
# parent's, here the root's), counted here, outside the sandbox
GVISOR_CPUSET=$(tr , '\n' <"$CG/cpuset/cpuset.cpus" | awk -F- '{ n += ($2 == "" ? 1 : $2 - $1 + 1) } END { print n }')

# ---- the bundle's root filesystem ------------------------------------------------------------
build_programs || fail_lane "runtime lane" "the programs could not be built"
ROOT=$BUNDLE/rootfs
KUMO=$PWD/$ROOT/kumo              # the bundle's /kumo, as the host sees it
RUNSC_STATE=$PWD/$WORK/runsc-state
rm -rf "$WORK" && mkdir -p "$ROOT"/{proc,sys,dev,tmp} || fail_lane "runtime lane" "mkdir $ROOT failed"
add_busybox "$ROOT" || fail_lane "runtime lane" "could not copy busybox"
add_kumo_tree "$ROOT" || fail_lane "runtime lane" "could not lay out the programs"
(cd "$BUNDLE" && runc spec && mv config.json spec.json) || fail_lane "runtime lane" "runc spec failed"

# ---- the setups' words ----------------------------------------------------------------------
# runtime NAME SETTING...: the case runs in NAME with these settings.
runtime() { RUNTIME=$1; shift; SETTINGS=("$@"); }
lane_reset() { RUNTIME='' SETTINGS=(); }

# The OCI settings of the case (the rest are this lane's own, taken by enter_runtime).
oci_settings() {
  local setting
  for setting in "${SETTINGS[@]}"; do
    case $setting in
      taskset=*|parent-quota=*|outer-quota=*|cpu-num-from-quota|busy=*) ;;
      *) echo "$setting" ;;
    esac
  done
}

# The bundle's config.json for runc and runsc, written fresh from runc's own default spec:
# a failed write leaves no config behind for the case to run with.
config_for() { # SETTING...
  rm -f "$BUNDLE/config.json"
  python3 scripts/oci_config.py "$BUNDLE/spec.json" "$BUNDLE/config.json" "$CGROUPS_PATH" "$@"
}

# A real v1 cpu cgroup with QUOTA_US per 100000 µs, or unlimited.
make_cgroup() { # DIR [QUOTA_US]
  mkdir -p "$CG/cpu/$1" || return 1
  echo 100000 >"$CG/cpu/$1/cpu.cfs_period_us" && echo "${2:--1}" >"$CG/cpu/$1/cpu.cfs_quota_us"
}
remove_cgroup() { # DIR: the case's cgroups, leaf first (runc removes its own)
  local dir=$1
  while [ -n "$dir" ] && [ "$dir" != . ]; do rmdir "$CG/cpu/$dir" 2>/dev/null; dir=$(dirname "$dir"); done
}

# ---- the lane: every program of a case, in one start of its runtime --------------------------
lane_enter_all() { # RUNTIME...
  local setting taskset=() outer='' parent='' runsc_flags=() busy=
  for setting in "${SETTINGS[@]}"; do
    case $setting in
      taskset=*) taskset=(taskset -c "${setting#taskset=}") ;;
      outer-quota=*) outer=${setting#outer-quota=} ;;
      parent-quota=*) parent=${setting#parent-quota=} ;;
      cpu-num-from-quota) runsc_flags+=(--cpu-num-from-quota) ;;
      busy=*) busy="/bin/sh,/kumo/busy,${setting#busy=},2," ;;
    esac
  done
  local id="kumo-$ROW_NAME-$$" case_dir="kumo-runtime-$$/$ROW_NAME" settings
  CGROUPS_PATH="/$case_dir"
  mapfile -t settings < <(oci_settings)
  make_cgroup "kumo-runtime-$$" "$parent" || { echo "could not make the parent cgroup"; return; }
  case $RUNTIME in
    runc|runsc)
      if ! config_for "${settings[@]}" "args=$busy/bin/sh,/kumo/probe-all,/kumo,$(IFS=,; echo "$*")" 2>"$WORK/oci.log"; then
        echo "could not write the config: $(cat "$WORK/oci.log")"
        remove_cgroup "$case_dir"
        return
      fi
      if [ "$RUNTIME" = runc ]; then
        (cd "$BUNDLE" && "${taskset[@]}" runc run "$id" </dev/null 2>&1)
        runc delete -f "$id" >/dev/null 2>&1
      else
        (cd "$BUNDLE" && "${taskset[@]}" runsc --network=none --root "$RUNSC_STATE" "${runsc_flags[@]}" run "$id" </dev/null 2>&1)
        runsc --root "$RUNSC_STATE" delete -force "$id" >/dev/null 2>&1
      fi ;;
    firejail)
      "${taskset[@]}" firejail --quiet --noprofile --seccomp.drop=sched_getaffinity \
        --seccomp-error-action=EPERM \
        sh "$KUMO/probe-all" "$KUMO" "$@" 2>&1 ;;
    bwrap)
      make_cgroup "$case_dir" "$outer" || { echo "could not make the case's cgroup"; return; }
      sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG/cpu/$case_dir" \
        bwrap --bind / / --proc /proc --dev /dev --tmpfs /sys/fs/cgroup \
        sh "$KUMO/probe-all" "$KUMO" "$@" 2>&1 ;;
    *) echo "no runtime '$RUNTIME'" ;;
  esac
  remove_cgroup "$case_dir"
}

# ---- `runc update` under one running lua5.4 -------------------------------------------------
live_update() {
  LIVE_ID="kumo-live-$$"
  CGROUPS_PATH="/kumo-runtime-$$/live"
  make_cgroup "kumo-runtime-$$" || return 1
  config_for quota=200000 args=/usr/bin/lua5.4,/kumo/lua/scenarios/live.lua \
    env=LUA_CPATH=/kumo/lua/lua5.4/?.so || return 1
  coproc LIVE { cd "$BUNDLE" && exec runc run "$LIVE_ID" 2>&1; }
  run_live "$LIVE_CASES" runc
  runc delete -f "$LIVE_ID" >/dev/null 2>&1
  remove_cgroup "kumo-runtime-$$/live"
}

started=$SECONDS
planned=$(( $(plan_cases "$CASES") + $(plan_live "$LIVE_CASES") ))
echo "1..$planned"
run_cases "$CASES"
live_update || tap not-ok "runc update: the container could not be set up"
echo "# runtime lane: $((SECONDS - started)) s"
tap_exit "$planned"

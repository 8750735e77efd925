#!/usr/bin/env bash
# make runtime-test: the module under the real container runtimes and sandboxes users run
# (runc, gVisor's runsc, firejail, bubblewrap, from Debian's packages), on this machine's own
# cgroup hierarchy. One OCI bundle is built from the host's own binaries and their libraries:
# busybox, lua5.4 and LuaJIT with the module built for each, the std reference and the
# kumod-style host; nothing is downloaded. In each case every one of them runs inside, and
# std, lua5.4, LuaJIT, the host and explain().value must agree, with the exact set of finding
# codes and their severities. Prints TAP.
#
# Under CI=true a runtime that cannot run fails the lane; it never skips quietly.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/tap.sh
source scripts/expect.sh
source scripts/rootfs.sh

NCPU=$(allowed_cpus)
CG=/sys/fs/cgroup
WORK=target/runtime
BUNDLE=$WORK/bundle
RUNTIMES=(lua5.4 luajit host)

fail_lane() { # WHY
  if [ "${CI:-}" = true ]; then echo "1..1"; tap not-ok "runtime lane cannot run: $1"; exit 1; fi
  echo "1..0 # SKIP runtime lane: $1 (under CI=true this fails)"
  exit 0
}

[ "$(id -u)" -eq 0 ] || fail_lane "not root"
for tool in runc runsc firejail bwrap busybox python3 taskset unshare; do
  command -v "$tool" >/dev/null || fail_lane "$tool is missing (make test installs it)"
done
grep -q " $CG/cpu[, ].* - cgroup " /proc/self/mountinfo \
  || fail_lane "no cgroup v1 cpu hierarchy at $CG/cpu (the v2 runtimes run in make vm-test)"

# ---- the bundle's root filesystem ------------------------------------------------------------
make -s --no-print-directory module LUA=lua5.4 >/dev/null && make -s --no-print-directory module LUA=luajit >/dev/null \
  || fail_lane "make module failed"
std_reference=$(make -s --no-print-directory std-reference | tail -n 1) || fail_lane "make std-reference failed"
host=$(make -s --no-print-directory host | tail -n 1) || fail_lane "make host failed"
ROOT=$BUNDLE/rootfs
KUMO=$PWD/$ROOT/kumo              # the bundle's /kumo, as the host sees it
RUNSC_STATE=$PWD/$WORK/runsc-state
rm -rf "$WORK" && mkdir -p "$ROOT"/{proc,sys,dev,tmp,kumo/lua/scenarios} || fail_lane "mkdir $ROOT failed"
add_busybox "$ROOT" || fail_lane "could not copy busybox"
for program in lua5.4 luajit; do
  add_program "$ROOT" "$(command -v "$program")" || fail_lane "could not copy $program"
  mkdir -p "$ROOT/kumo/lua/$program" && cp "target/lua/$program/kumo_parallelism.so" "$ROOT/kumo/lua/$program/"
done
add_program "$ROOT" "$std_reference" /kumo/bin/std_parallelism && add_program "$ROOT" "$host" /kumo/bin/policy_host \
  || fail_lane "could not copy the test programs"
cp lua/scenarios/probe.lua lua/scenarios/live.lua "$ROOT/kumo/lua/scenarios/"
# Every program once, each output behind a "== NAME" line, from the /kumo tree at $1: the
# bundle's own inside a container, the same files on the host's filesystem for firejail and
# bwrap, which keep it.
cat >"$ROOT/kumo/probe-all" <<'EOF'
#!/bin/sh
kumo=${1:-/kumo}
echo "== std"; "$kumo/bin/std_parallelism" 2>&1
for lua in lua5.4 luajit; do
  echo "== $lua"; LUA_CPATH="$kumo/lua/$lua/?.so" $lua "$kumo/lua/scenarios/probe.lua" 2>&1
done
echo "== host"; "$kumo/bin/policy_host" "$kumo/lua/scenarios/probe.lua" 2>&1
EOF
chmod +x "$ROOT/kumo/probe-all"
(cd "$BUNDLE" && runc spec && mv config.json spec.json) || fail_lane "runc spec failed"

# ---- the cases: one row each -----------------------------------------------------------------
# name | runtime | setting | expected answer | source | findings | what it shows
# runtime: runc (an OCI container), runsc (gVisor), firejail, bwrap. setting: what the case's
# config function below does (quota=US, cpus=LIST, shares=N, seccomp, nocgroupmount, cgroupns,
# taskset=LIST, outer-quota=US: the runtime itself runs in a real v1 cgroup with that quota).
CASES=(
  "quota-1.5|runc|quota=150000|1|cgroup|quota-floored|a --cpus=1.5-style quota"
  "quota-2|runc|quota=200000|2|affinity|quota-above-cpus|a quota of 2 on $NCPU CPUs"
  "cpuset-one|runc|cpus=0|1|affinity||a cpuset of CPU 0"
  "request-2|runc|shares=2048|$NCPU|affinity|requests-only|a 2-CPU request, no limit (shares 2048)"
  "best-effort|runc|shares=2|$NCPU|affinity|requests-only|BestEffort (shares 2)"
  "cgroupns-under-parent|runc|cgroupns parent-quota=100000|$NCPU|affinity|cgroup-namespace|a private cgroup namespace under a parent quota of 1"
  "seccomp-affinity|runc|seccomp taskset=0|$NCPU|online|affinity-unreadable|seccomp EPERM for sched_getaffinity, confined to CPU 0 from outside"
  "no-cgroup-mount|runc|nocgroupmount quota=100000|$NCPU|affinity|cgroupfs-unmounted|no cgroup mount, a 1-CPU quota"
  "gvisor|runsc|quota=150000|-|affinity|cgroups-invisible|gVisor with a 1.5-CPU quota"
  "firejail|firejail|taskset=0|$NCPU|online|affinity-unreadable|firejail --seccomp.drop=sched_getaffinity under taskset -c 0"
  "bwrap|bwrap|outer-quota=100000|$NCPU|affinity|cgroupfs-unmounted|bwrap --tmpfs /sys/fs/cgroup in a 1-CPU quota"
)

# config_for SETTING...: the bundle's config.json for runc and runsc, from runc's own default
# spec each time (scripts/oci_config.py says what each setting does).
config_for() {
  python3 scripts/oci_config.py "$BUNDLE/spec.json" "$BUNDLE/config.json" "$CGROUPS_PATH" "$@"
}

# A real v1 cpu cgroup for the case, with QUOTA_US per 100000 µs, or unlimited.
make_cgroup() { # DIR [QUOTA_US]
  mkdir -p "$CG/cpu/$1" || return 1
  echo 100000 >"$CG/cpu/$1/cpu.cfs_period_us" && echo "${2:--1}" >"$CG/cpu/$1/cpu.cfs_quota_us"
}
remove_cgroup() { # DIR: the case's cgroups, leaf first (runc removes its own)
  local dir=$1
  while [ -n "$dir" ] && [ "$dir" != . ]; do rmdir "$CG/cpu/$dir" 2>/dev/null; dir=$(dirname "$dir"); done
}

# inside RUNTIME SETTING...: runs every program in the case's runtime, prints their output.
inside() {
  local runtime=$1 setting taskset=() outer='' parent=''
  shift
  for setting in "$@"; do
    case $setting in
      taskset=*) taskset=(taskset -c "${setting#taskset=}") ;;
      outer-quota=*) outer=${setting#outer-quota=} ;;
      parent-quota=*) parent=${setting#parent-quota=} ;;
    esac
  done
  local id="kumo-$CASE-$$"
  CGROUPS_PATH="/kumo-runtime-$$/$CASE"
  make_cgroup "kumo-runtime-$$" "$parent" || { echo "could not make the parent cgroup"; return; }
  case $runtime in
    runc)
      config_for "$@"
      (cd "$BUNDLE" && "${taskset[@]}" runc run "$id" </dev/null 2>&1)
      runc delete -f "$id" >/dev/null 2>&1 ;;
    runsc)
      config_for "$@"
      (cd "$BUNDLE" && "${taskset[@]}" runsc --network=none --root "$RUNSC_STATE" run "$id" </dev/null 2>&1)
      runsc --root "$RUNSC_STATE" delete -force "$id" >/dev/null 2>&1 ;;
    firejail)
      "${taskset[@]}" firejail --quiet --noprofile --seccomp.drop=sched_getaffinity \
        --seccomp-error-action=EPERM sh "$KUMO/probe-all" "$KUMO" 2>&1 ;;
    bwrap)
      make_cgroup "kumo-runtime-$$/$CASE" "$outer" || { echo "could not make the case's cgroup"; return; }
      sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG/cpu/kumo-runtime-$$/$CASE" \
        bwrap --bind / / --proc /proc --dev /dev --tmpfs /sys/fs/cgroup \
        sh "$KUMO/probe-all" "$KUMO" 2>&1 ;;
  esac
  remove_cgroup "kumo-runtime-$$/$CASE"
}

# section OUTPUT NAME: the lines under "== NAME".
section() { awk -v name="== $2" '$0 == name { on = 1; next } /^== / { on = 0 } on' <<<"$1"; }

check_case() { # ROW
  local name runtime setting answer source codes what output runtime_name
  IFS='|' read -r name runtime setting answer source codes what <<<"$1"
  CASE=$name
  reset_expectations
  describe "$runtime: $what"
  output=$(inside "$runtime" $setting)
  printf '%s\n' "$output" >"$WORK/$CASE.log"
  # gVisor counts its own vCPUs: the answer inside is whatever std says there, the same for all
  [ "$answer" != - ] || answer=$(section "$output" std)
  expect "$answer" "$source"
  findings $codes
  check_std "$(section "$output" std)"
  for runtime_name in "${RUNTIMES[@]}"; do
    check_probe "$runtime_name" "$EXPECT_STD" "$(section "$output" "$runtime_name")"$'\n'"$output"
  done
}

# `runc update --cpu-quota` under one running lua5.4: 2, then 1 on the very next call, with
# changed-since-first-call.
live_update() {
  local id="kumo-live-$$" answer
  CGROUPS_PATH="/kumo-runtime-$$/live"
  make_cgroup "kumo-runtime-$$" || { tap not-ok "runc update: cgroup"; return; }
  config_for quota=200000 args=/usr/bin/lua5.4,/kumo/lua/scenarios/live.lua env=LUA_CPATH=/kumo/lua/lua5.4/?.so
  coproc LIVE { cd "$BUNDLE" && exec runc run "$id" 2>&1; }
  ask() { # DESCRIPTION EXPECTED
    answer=''
    echo q >&"${LIVE[1]}" && read -r -t 60 answer <&"${LIVE[0]}"
    tap_is "runc: $1 [lua5.4]" "$2" "$answer"
  }
  ask "quota 2 at start" "2 2 -"
  runc update --cpu-quota 100000 "$id" || tap not-ok "runc update --cpu-quota 100000"
  ask "runc update --cpu-quota 100000: 1 on the next call, and changed-since-first-call" "1 1 changed"
  echo quit >&"${LIVE[1]}"
  wait "$LIVE_PID" 2>/dev/null
  runc delete -f "$id" >/dev/null 2>&1
  remove_cgroup "kumo-runtime-$$/live"
}

started=$SECONDS
for row in "${CASES[@]}"; do
  # KUMO_RUNTIME_CASES="name ...": only those, while working on them
  case " ${KUMO_RUNTIME_CASES:-${row%%|*}} " in *" ${row%%|*} "*) check_case "$row" ;; esac
done
[ -n "${KUMO_RUNTIME_CASES:-}" ] || live_update
echo "# runtime lane: $((SECONDS - started)) s"
echo "1..$TAP_NUMBER"
[ "$TAP_FAILED" -eq 0 ]

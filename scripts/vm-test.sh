#!/usr/bin/env bash
# make vm-test: the real-kernel lane. Boots Debian's own kernel under qemu with an initramfs
# holding busybox, bash, the bundle's interpreters with the module built for each, the
# kumod-style host, the std reference, the case runner and the case files, once per cgroup
# mode and CPU count. Each boot's /init (scripts/vm/init, scripts/vm/lane.sh) runs its
# cases (scripts/cases/vm-<boot>.cases; the v2 boot also its live changes and the scenario
# table) and prints TAP on its serial console; this script counts, for each boot, the
# results the case files plan, relays them renumbered into one TAP stream, and fails a boot
# that printed fewer or did not say it ran whole. Logs: target/test-logs/vm-<boot>.log.
#
# Under CI=true a missing qemu, kernel or tool fails the lane instead of skipping it, and
# VM_BOOTS (only those boots, while working on them) is refused.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/tap.sh
source scripts/rootfs.sh

VM=target/vm
LOGS=target/test-logs
mkdir -p "$VM" "$LOGS"
: "${KUMO_BUNDLE_LUAS:?run through make, which exports the interpreters of the bundle}"
refuse_filters "real-kernel lane" VM_BOOTS

# boot name, CPUs, machine, memory, kernel arguments
BOOTS=(
  "v2 8 pc 512 cgroup_no_v1=all"
  "v1 8 pc 512 "
  "wide 64 q35 2048 cgroup_no_v1=all"
  # more possible CPUs (hot-add slots) than std's 1024-CPU set holds: std's blind spot
  "hotplug 4 pc 1024 cgroup_no_v1=all possible_cpus=1100"
)

for tool in qemu-system-x86_64 busybox cpio unshare taskset setpriv bash $KUMO_BUNDLE_LUAS dpkg-deb apt-get runc crun python3; do
  command -v "$tool" >/dev/null || fail_lane "real-kernel lane" "$tool is missing (make test installs it)"
done
busybox --list >/dev/null 2>&1 || fail_lane "real-kernel lane" "busybox does not run"

# ---- the kernel: Debian's linux-image for this release, cached under target/vm -------------
# The versioned package linux-image-amd64 depends on, such as linux-image-6.1.0-56-amd64.
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
kernel_image() {
  local image
  image=$(ls "$VM"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1)
  if [ -z "$image" ]; then
    local package
    package=$(kernel_package)
    if [ -z "$package" ]; then apt-get update -qq >/dev/null 2>&1; package=$(kernel_package); fi
    [ -n "$package" ] || return 1
    rm -rf "$VM/deb" && mkdir -p "$VM/deb" "$VM/kernel" \
      && (cd "$VM/deb" && apt-get download "$package" >/dev/null 2>&1) \
      && dpkg-deb --fsys-tarfile "$VM"/deb/*.deb | tar -x -C "$VM/kernel" --wildcards './boot/vmlinuz-*' \
      && rm -rf "$VM/deb" || return 1
    image=$(ls "$VM"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1)
  fi
  [ -n "$image" ] && echo "$image"
}
KERNEL=$(kernel_image) || fail_lane "real-kernel lane" "could not fetch Debian's linux-image-amd64 kernel"

# ---- the initramfs ---------------------------------------------------------------------------
build_programs || fail_lane "real-kernel lane" "the programs could not be built"
INITRAMFS=$VM/root
rm -rf "$INITRAMFS" && mkdir -p "$INITRAMFS"/{bin,sbin,usr/bin,proc,sys,dev,tmp,kumo/scripts/vm,kumo/scripts/cases}
add_busybox "$INITRAMFS" || fail_lane "real-kernel lane" "could not copy busybox into the initramfs"
# util-linux's own, for what busybox's lack (unshare -C, --propagation; mount --bind)
for program in bash unshare taskset setpriv mount umount; do
  rm -f "$INITRAMFS/bin/$program"
  add_program "$INITRAMFS" "$(command -v "$program")" || fail_lane "real-kernel lane" "could not copy $program into the initramfs"
done
ln -sf /usr/bin/bash "$INITRAMFS/bin/bash"
add_kumo_tree "$INITRAMFS" || fail_lane "real-kernel lane" "could not lay out the programs"
cp scripts/tap.sh scripts/cases.sh scripts/scenarios.sh scripts/probe-all "$INITRAMFS/kumo/scripts/"
cp scripts/vm/lane.sh scripts/vm/in-container "$INITRAMFS/kumo/scripts/vm/"
cp scripts/cases/* "$INITRAMFS/kumo/scripts/cases/"

# For the hot-plug boot, where more CPUs are possible than std's set holds: busted with
# Debian's Lua libraries (lua-busted and what it needs, lua-cjson), the explain spec, and the
# library's own tests of this machine (on_this_machine), stripped. Their counts are taken
# here, where they are listed, for the boot's plan.
lib_tests=$(cargo test --lib --no-run --message-format=json 2>/dev/null | python3 -c 'import json, sys
for m in map(json.loads, sys.stdin):
    if m.get("executable") and m.get("profile", {}).get("test"): print(m["executable"])' | tail -n 1)
[ -x "$lib_tests" ] || fail_lane "real-kernel lane" "the library's tests could not be built"
add_program "$INITRAMFS" "$lib_tests" /kumo/bin/lib_tests && strip "$INITRAMFS/kumo/bin/lib_tests" \
  || fail_lane "real-kernel lane" "could not copy the library's tests"
LIB_TESTS=$("$lib_tests" on_this_machine --list 2>/dev/null | grep -c ': test$')
cp -R -P --parents /usr/share/lua/5.1 /usr/share/lua/5.4 /usr/bin/busted "$INITRAMFS/" \
  && for so in /usr/lib/x86_64-linux-gnu/lua/5.4/{cjson,lfs}.so /usr/lib/x86_64-linux-gnu/lua/5.4/{system,term}/*.so; do
       add_program "$INITRAMFS" "$so" "$so" || exit 1
     done \
  && mkdir -p "$INITRAMFS/kumo/lua/spec" && cp lua/spec/support.lua lua/spec/explain_spec.lua "$INITRAMFS/kumo/lua/spec/" \
  || fail_lane "real-kernel lane" "could not copy busted and the explain spec"
SPEC_TESTS=$(busted --lua=lua5.4 --list lua/spec/explain_spec.lua 2>/dev/null | grep -c .)
[ "$LIB_TESTS" -gt 0 ] && [ "$SPEC_TESTS" -gt 0 ] \
  || fail_lane "real-kernel lane" "no test listed: $LIB_TESTS of the library's, $SPEC_TESTS of the spec's"
{ echo "KUMO_BUNDLE_LUAS='$KUMO_BUNDLE_LUAS'"
  echo "KUMO_LIB_TESTS=$LIB_TESTS KUMO_SPEC_TESTS=$SPEC_TESTS"; } >"$INITRAMFS/kumo/env"
cp scripts/vm/init "$INITRAMFS/init"

# The results each boot plans, from the case files, here, before any boot.
set -a; source "$INITRAMFS/kumo/env"; set +a
source scripts/vm/lane.sh
declare -A PLANNED
for spec in "${BOOTS[@]}"; do
  read -r name _ <<<"$spec"
  PLANNED[$name]=$(boot_plan "$name")
done

# The OCI runtimes and one bundle: its root holds the same /kumo tree and interpreters as the
# VM, and one config per container case of the v2 boot, from its settings.
for runtime in runc crun; do
  add_program "$INITRAMFS" "$(command -v "$runtime")" || fail_lane "real-kernel lane" "could not copy $runtime into the initramfs"
done
BUNDLE=$INITRAMFS/kumo/bundle
mkdir -p "$BUNDLE/configs" "$BUNDLE/rootfs"/{proc,sys,dev,tmp} && add_busybox "$BUNDLE/rootfs" \
  && cp -a "$INITRAMFS/usr" "$INITRAMFS/lib" "$BUNDLE/rootfs/" && { [ ! -e "$INITRAMFS/lib64" ] || cp -a "$INITRAMFS/lib64" "$BUNDLE/rootfs/"; } \
  && mkdir -p "$BUNDLE/rootfs/kumo" && cp -a "$INITRAMFS/kumo/bin" "$INITRAMFS/kumo/lua" "$INITRAMFS/kumo/probe-all" "$BUNDLE/rootfs/kumo/" \
  || fail_lane "real-kernel lane" "could not lay out the OCI bundle"
(cd "$BUNDLE" && runc spec && mv config.json spec.json) || fail_lane "real-kernel lane" "runc spec failed"
# the container cases, as their rows say (expect phase: nothing is laid out here)
while IFS= read -r line; do
  expect_case "$line" || fail_lane "real-kernel lane" "$ROW_ERROR"
  [ -n "$CONTAINER_RUNTIME" ] || continue
  path=/kumo-vm/$ROW_NAME settings=()
  for setting in $CONTAINER_SETTINGS; do
    case $setting in parent=*) path=/kumo-vm/$ROW_NAME/ctr ;; *) settings+=("$setting") ;; esac
  done
  python3 scripts/oci_config.py "$BUNDLE/spec.json" "$BUNDLE/configs/$ROW_NAME.json" "$path" "${settings[@]}" \
    args=/bin/sh,/kumo/cmd cwd=/kumo || fail_lane "real-kernel lane" "could not write the OCI config of $ROW_NAME"
done < <(case_rows "$(boot_cases v2)")
(cd "$INITRAMFS" && find . | cpio -o -H newc --quiet) >"$VM/initramfs.cpio" || fail_lane "real-kernel lane" "cpio failed"

# ---- booting ---------------------------------------------------------------------------------
# KVM where it works; here it is listed but fails, so probe with a trivial boot first.
ACCEL=(-accel tcg,thread=single)
if [ -w /dev/kvm ]; then
  # a failed probe aborts qemu ("failed to set MSR 0x10a" here): its own log says so
  (timeout 30 qemu-system-x86_64 -accel kvm -cpu host -smp 1 -m 256 -nodefaults -no-reboot \
    -display none -monitor none -serial "file:$LOGS/vm-kvm-probe.log" -kernel "$KERNEL" \
    -initrd "$VM/initramfs.cpio" -append "console=ttyS0 quiet panic=-1 kumo.mode=probe" \
    >"$LOGS/vm-kvm-probe.qemu.log" 2>&1) 2>/dev/null
  grep -q "KUMO-VM-DONE probe" "$LOGS/vm-kvm-probe.log" 2>/dev/null && ACCEL=(-accel kvm -cpu host)
fi
echo "# kernel: $KERNEL; accelerator: ${ACCEL[*]}"

boot() { # NAME CPUS MACHINE MEMORY ARGS
  local log="$LOGS/vm-$1.log"
  timeout 600 qemu-system-x86_64 "${ACCEL[@]}" -machine "$3" -smp "$2" -m "$4" -nodefaults \
    -no-reboot -display none -monitor none -serial "file:$log" -kernel "$KERNEL" \
    -initrd "$VM/initramfs.cpio" -append "console=ttyS0 quiet loglevel=1 panic=-1 $5 kumo.mode=$1" \
    >"$LOGS/vm-$1.qemu.log" 2>&1
}

total=1  # and the check of explain()'s cost at 64 CPUs against 8, after the boots
for spec in "${BOOTS[@]}"; do
  read -r name _ <<<"$spec"
  total=$(( total + PLANNED[$name] + 1 ))
done
echo "1..$total"
started=$SECONDS
for spec in "${BOOTS[@]}"; do
  read -r name cpus machine memory args <<<"$spec"
  if [ -n "${VM_BOOTS:-}" ] && [[ " $VM_BOOTS " != *" $name "* ]]; then
    for _ in $(seq $(( PLANNED[$name] + 1 ))); do tap ok "$name # SKIP not in VM_BOOTS ($VM_BOOTS)"; done
    continue
  fi
  boot_started=$SECONDS before=$TAP_NUMBER
  boot "$name" "$cpus" "$machine" "$memory" "$args"
  log="$LOGS/vm-$name.log"
  echo "# boot $name ($cpus CPUs): $((SECONDS - boot_started)) s"
  # the boot's own TAP lines, after their mark (console output may stand before it)
  tap_relay "$name: " "KUMO-TAP " <"$log"
  ran=$(( TAP_NUMBER - before ))
  # a boot that printed fewer results than its cases plan, or more, fills the plan with
  # failures, so that the count stays the plan's
  while [ "$ran" -lt "${PLANNED[$name]}" ]; do
    tap not-ok "$name: a planned result that never came"; ran=$((ran + 1))
  done
  if grep -q "KUMO-VM-DONE $name ${PLANNED[$name]}\b" "$log" && [ "$ran" -eq "${PLANNED[$name]}" ]; then
    tap ok "$name: the boot ran its ${PLANNED[$name]} planned results and powered off"
  else
    tap not-ok "$name: the boot ran its ${PLANNED[$name]} planned results and powered off" \
      "$(grep -a "KUMO-VM-" "$log" | tail -n 3)"$'\n'"$(tail -n 20 "$log")"
  fi
done
# explain()'s cost must not grow with the machine: its ratio to std at 64 CPUs within 1.5x of
# the ratio at 8 CPUs, both measured in this run (bench_explain in scripts/vm/lane.sh)
ratio_of() { sed -n "s/.*KUMO-TAP # bench-ratio $1 \([0-9.]*\).*/\1/p" "$LOGS/vm-$2.log" | tail -n 1; }
at8=$(ratio_of 8 v2) at64=$(ratio_of 64 wide)
if [ -n "$at8" ] && [ -n "$at64" ] && awk -v a="$at64" -v b="$at8" 'BEGIN { exit !(a <= 1.5 * b) }'; then
  tap ok "explain()/std at 64 CPUs, $at64, is within 1.5x of its value at 8 CPUs, $at8"
else
  tap not-ok "explain()/std at 64 CPUs is within 1.5x of its value at 8 CPUs" "at 8 CPUs: '${at8}', at 64: '${at64}'"
fi
echo "# real-kernel lane: $((SECONDS - started)) s"
tap_exit "$total"

#!/usr/bin/env bash
# make vm-test: the real-kernel lane. Boots Debian's own kernel under qemu with an initramfs
# holding busybox, bash, lua5.4 and luajit with the module built for each, the kumod-style
# host, the std reference and the cases (scripts/vm/cases.sh), once per cgroup mode and CPU
# count. Each boot prints TAP on its serial console; this script renumbers the lines into one
# TAP stream. Logs: target/test-logs/vm-<boot>.log.
#
# Under CI=true a missing qemu, kernel or tool fails the lane instead of skipping it.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/tap.sh

VM=target/vm
LOGS=target/test-logs
mkdir -p "$VM" "$LOGS"

# boot name, CPUs, machine, memory, kernel arguments
BOOTS=(
  "v2 8 pc 512 cgroup_no_v1=all"
  "v1 8 pc 512 "
  "wide 64 q35 2048 cgroup_no_v1=all"
)

fail_lane() { # WHY
  if [ "${CI:-}" = true ]; then echo "1..1"; tap not-ok "real-kernel lane cannot run: $1"; exit 1; fi
  echo "1..0 # SKIP real-kernel lane: $1 (under CI=true this fails)"
  exit 0
}

for tool in qemu-system-x86_64 busybox cpio unshare taskset bash lua5.4 luajit dpkg-deb apt-get runc crun python3; do
  command -v "$tool" >/dev/null || fail_lane "$tool is missing (make test installs it)"
done
busybox --list >/dev/null 2>&1 || fail_lane "busybox does not run"

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
KERNEL=$(kernel_image) || fail_lane "could not fetch Debian's linux-image-amd64 kernel"

# ---- the initramfs ---------------------------------------------------------------------------
make -s --no-print-directory module LUA=lua5.4 >/dev/null && make -s --no-print-directory module LUA=luajit >/dev/null \
  || fail_lane "make module failed"
std_reference=$(make -s --no-print-directory std-reference | tail -n 1) || fail_lane "make std-reference failed"
host=$(make -s --no-print-directory host | tail -n 1) || fail_lane "make host failed"

ROOT=$VM/root
rm -rf "$ROOT" && mkdir -p "$ROOT"/{bin,sbin,usr/bin,proc,sys,dev,tmp,kumo/bin}
source scripts/rootfs.sh
add_busybox "$ROOT" || fail_lane "could not copy busybox into the initramfs"
for program in bash lua5.4 luajit unshare taskset; do
  rm -f "$ROOT/bin/$program"
  add_program "$ROOT" "$(command -v "$program")" || fail_lane "could not copy $program into the initramfs"
done
ln -sf /usr/bin/bash "$ROOT/bin/bash"
add_program "$ROOT" "$std_reference" /kumo/bin/std_parallelism && add_program "$ROOT" "$host" /kumo/bin/policy_host \
  || fail_lane "could not copy the test programs"
mkdir -p "$ROOT/kumo/scripts/vm" "$ROOT/kumo/lua/scenarios" "$ROOT/kumo/lua/lua5.4" "$ROOT/kumo/lua/luajit"
cp scripts/tap.sh scripts/expect.sh "$ROOT/kumo/scripts/"
cp scripts/vm/cases.sh "$ROOT/kumo/scripts/vm/"
cp lua/scenarios/probe.lua lua/scenarios/live.lua "$ROOT/kumo/lua/scenarios/"
cp target/lua/lua5.4/kumo_parallelism.so "$ROOT/kumo/lua/lua5.4/"
cp target/lua/luajit/kumo_parallelism.so "$ROOT/kumo/lua/luajit/"
cp scripts/vm/init "$ROOT/init"
cp scripts/vm/in-container "$ROOT/kumo/scripts/vm/"
# The OCI runtimes and one bundle: its root holds the same /kumo tree and interpreters as the
# VM, and one config per container case of scripts/vm/cases.sh, from its settings.
for runtime in runc crun; do
  add_program "$ROOT" "$(command -v "$runtime")" || fail_lane "could not copy $runtime into the initramfs"
done
BUNDLE=$ROOT/kumo/bundle
mkdir -p "$BUNDLE/configs" "$BUNDLE/rootfs"/{proc,sys,dev,tmp} && add_busybox "$BUNDLE/rootfs" \
  && cp -a "$ROOT/usr" "$ROOT/lib" "$BUNDLE/rootfs/" && { [ ! -e "$ROOT/lib64" ] || cp -a "$ROOT/lib64" "$BUNDLE/rootfs/"; } \
  && mkdir -p "$BUNDLE/rootfs/kumo" && cp -a "$ROOT/kumo/bin" "$ROOT/kumo/lua" "$BUNDLE/rootfs/kumo/" \
  || fail_lane "could not lay out the OCI bundle"
(cd "$BUNDLE" && runc spec && mv config.json spec.json) || fail_lane "runc spec failed"
# rows of the case table whose setup is "container RUNTIME SETTING...": NAME SETTING...
sed -n "/^read -r -d '' CASE_TABLE/,/^TABLE\$/p" scripts/vm/cases.sh \
  | awk -F' *[|] *' '$6 ~ /^container / { n = split($6, words, " "); printf "%s", $2; for (i = 3; i <= n; i++) printf " %s", words[i]; print "" }' \
  | while read -r name settings; do
      path=/kumo-vm/$name
      case " $settings " in *" parent="*) path=/kumo-vm/$name/ctr ;; esac
      # shellcheck disable=SC2086
      python3 scripts/oci_config.py "$BUNDLE/spec.json" "$BUNDLE/configs/$name.json" "$path" $settings \
        args=/bin/sh,/kumo/cmd cwd=/kumo || exit 1
    done || fail_lane "could not write the OCI configs"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) >"$VM/initramfs.cpio" || fail_lane "cpio failed"

# ---- booting ---------------------------------------------------------------------------------
# KVM where it works; here it is listed but fails, so probe with a trivial boot first.
ACCEL=(-accel tcg)
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

started=$SECONDS booted=0
for spec in "${BOOTS[@]}"; do
  read -r name cpus machine memory args <<<"$spec"
  # VM_BOOTS="v2 v1": only those boots, while working on them
  case " ${VM_BOOTS:-$name} " in *" $name "*) ;; *) continue ;; esac
  boot_started=$SECONDS booted=$((booted + 1))
  boot "$name" "$cpus" "$machine" "$memory" "$args"
  log="$LOGS/vm-$name.log"
  echo "# boot $name ($cpus CPUs): $((SECONDS - boot_started)) s"
  # the boot's own TAP lines, renumbered, labelled with the boot
  while IFS= read -r line; do
    line=${line%$'\r'}
    case $line in
      "ok "*) tap ok "$name: ${line#ok * - }" ;;
      "not ok "*) tap not-ok "$name: ${line#not ok * - }" ;;
      "# "*) echo "$line" ;;
    esac
  done <"$log"
  if grep -q "KUMO-VM-DONE $name" "$log"; then tap ok "$name: the boot ran every case and powered off"
  else tap not-ok "$name: the boot ran every case and powered off" "$(tail -n 20 "$log")"; fi
done
echo "# real-kernel lane: $((SECONDS - started)) s for $booted boots"
echo "1..$TAP_NUMBER"
[ "$TAP_FAILED" -eq 0 ]

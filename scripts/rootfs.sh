# Sourced by the lanes that build a root filesystem from this machine's own binaries (the
# real-kernel lane's initramfs, the runtime lane's OCI bundle): nothing is downloaded.

# add_program ROOT PATH [DEST]: PATH copied to ROOT/DEST (default ROOT/usr/bin/NAME), with the
# shared libraries its loader names, at their own paths.
add_program() {
  local root=$1 path=$2 dest=${3:-/usr/bin/$(basename "$2")} lib
  mkdir -p "$root$(dirname "$dest")" || return 1
  cp -L "$path" "$root$dest" || return 1
  for lib in $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*'); do
    [ -e "$root$lib" ] || cp -L --parents "$lib" "$root" || return 1
  done
}

# add_busybox ROOT: busybox at ROOT/bin with a link per applet, where nothing else is.
add_busybox() {
  local root=$1 applet
  mkdir -p "$root/bin" && cp "$(command -v busybox)" "$root/bin/busybox" || return 1
  for applet in $(busybox --list); do [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"; done
}

# build_programs: the module for each of KUMO_BUNDLE_LUAS, the std reference and the
# kumod-style host; STD_REFERENCE and HOST are their paths.
build_programs() {
  local lua
  for lua in ${KUMO_BUNDLE_LUAS:?}; do
    make -s --no-print-directory module LUA="$lua" >/dev/null || return 1
  done
  STD_REFERENCE=$(make -s --no-print-directory std-reference | tail -n 1) || return 1
  HOST=$(make -s --no-print-directory host | tail -n 1) || return 1
}

# add_kumo_tree ROOT: the programs at ROOT/kumo as scripts/probe-all expects them, with the
# bundle's interpreters at their usual paths (after build_programs).
add_kumo_tree() {
  local root=$1 lua
  for lua in $KUMO_BUNDLE_LUAS; do
    add_program "$root" "$(command -v "$lua")" || return 1
    mkdir -p "$root/kumo/lua/$lua" && cp "target/lua/$lua/kumo_parallelism.so" "$root/kumo/lua/$lua/" || return 1
  done
  add_program "$root" "$STD_REFERENCE" /kumo/bin/std_parallelism && add_program "$root" "$HOST" /kumo/bin/policy_host \
    || return 1
  mkdir -p "$root/kumo/lua/scenarios" && cp lua/scenarios/probe.lua lua/scenarios/live.lua "$root/kumo/lua/scenarios/" \
    && cp scripts/probe-all "$root/kumo/probe-all" && cp scripts/busy "$root/kumo/busy" \
    && chmod +x "$root/kumo/probe-all" "$root/kumo/busy"
}

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

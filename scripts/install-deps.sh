#!/usr/bin/env bash
# Installs the Debian packages the test suites need, only those that are missing.
# Needs root (CI and the development machines run as root) and Debian's apt.
set -euo pipefail

packages=(
  lua5.1 lua5.2 lua5.3 lua5.4 luajit   # the interpreters the module is tested on
  lua-busted                           # the Lua test runner (with lua-dkjson)
  lua-cjson                            # the spec of what Lua's JSON encoders write
  util-linux                           # taskset, unshare, setpriv: real-environment tests
  luarocks                             # the offline rockspec install test
  liblua5.1-0-dev liblua5.2-dev liblua5.3-dev liblua5.4-dev  # luarocks checks for headers;
                                       # the C host (scripts/c-host.sh) builds against 5.4's
  gcc pkg-config                       # the C host
  valgrind                             # the memory suite
  strace                               # the override path makes no system call
  lua-luv                              # make bench: uv.available_parallelism() for scale
  qemu-system-x86 busybox-static cpio  # make vm-test: real kernels, booted from an initramfs
  runc crun runsc firejail bubblewrap  # make runtime-test: the container runtimes and sandboxes users run
  make
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

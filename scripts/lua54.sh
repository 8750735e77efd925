# Sourced by the suites that run lua5.4 with the real .so (memory, syscalls, bench), from the
# repository root: the interpreter, a LUA_CPATH_5_4 that finds the module first and keeps the
# default path (luv, for bench), and the directory for their logs.
LUA=lua5.4
cpath="$PWD/target/lua/$LUA/?.so;;"
log_dir=target/test-logs
mkdir -p "$log_dir"

# Runs a command (lua5.4, or valgrind/strace before it) with the module on LUA_CPATH_5_4 and
# KUMO_AVAILABLE_PARALLELISM set to VALUE, or unset when VALUE is empty.
with_override() { # value command...
  local value=$1
  shift
  if [ -n "$value" ]; then
    env "KUMO_AVAILABLE_PARALLELISM=$value" LUA_CPATH_5_4="$cpath" "$@"
  else
    env -u KUMO_AVAILABLE_PARALLELISM LUA_CPATH_5_4="$cpath" "$@"
  fi
}

# Sourced by the suites that run lua5.4 with the real .so (memory, syscalls, bench), from the
# repository root: the interpreter, a LUA_CPATH_5_4 that finds the module first and keeps the
# default path (luv, for bench), and the directory for their logs.
LUA=lua5.4
cpath="$PWD/target/lua/$LUA/?.so;;"
log_dir=target/test-logs
mkdir -p "$log_dir"

-- Builds offline with the "command" backend: the usual rust-mlua backend fetches from
-- luarocks.org. Needs the Rust toolchain (cargo) and make; see the README, "With luarocks".
rockspec_format = "3.0"
package = "kumo_parallelism"
version = "0.2.0-1"
source = {
  url = "git+file://.",
}
description = {
  summary = "How many threads should this Lua program use? cgroup and affinity aware, with explain()",
  detailed = [[
    available_parallelism() answers like KumoMTA's kumo.available_parallelism():
    KUMO_AVAILABLE_PARALLELISM when valid, else Rust std's cgroup- and affinity-aware count.
    explain() says why the number is what it is.
  ]],
  license = "Apache-2.0",
}
-- The module reads Linux's kernel files (cgroups, the affinity mask) through Rust std.
supported_platforms = { "linux" }
dependencies = {
  "lua >= 5.1, < 5.5",
}
-- `luarocks test`: the command backend runs the script with this Lua version's interpreter;
-- it builds the module for it and runs busted through .busted. luarocks installs busted
-- first unless a tree has it or the configuration's rocks_provided names it, as for
-- Debian's lua-busted: rocks_provided = { busted = "2.1.1-1" } (scripts/luarocks.sh).
test_dependencies = {
  "busted >= 2.1",
}
test = {
  type = "command",
  script = "lua/spec/run.lua",
}
build = {
  type = "command",
  -- $(LUA) is the interpreter's full path, such as /usr/bin/lua5.4
  build_command = "make module LUA=$(LUA)",
  -- the module into the tree's lib directory; the LuaCATS type file into the rock's own
  -- directory, $(PREFIX)/library (`luarocks show --rock-dir kumo_parallelism`), for
  -- lua-language-server's workspace.library
  install_command = "make rock-install LUA=$(LUA) LIBDIR=$(LIBDIR) PREFIX=$(PREFIX)",
}

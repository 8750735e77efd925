-- Runs the specs with the interpreter that runs this file: builds the module for it, then
-- busted through .busted. luarocks' `test` (command backend, script) runs it so:
--   luarocks --lua-version=5.4 test      ->   /usr/bin/lua5.4 lua/spec/run.lua [args]
-- arg[-1] is that interpreter; the Makefile takes it as a full path.
local lua = assert(arg and arg[-1], 'run as: <interpreter> lua/spec/run.lua')
local function quote(text) return "'" .. text:gsub("'", "'\\''") .. "'" end
local extra = {}
for i = 1, #arg do extra[#extra + 1] = quote(arg[i]) end
local command = string.format('make -s --no-print-directory module LUA=%s && busted --lua=%s %s',
  quote(lua), quote(lua), table.concat(extra, ' '))
local status = os.execute(command)
-- Lua 5.2+ returns true on success; 5.1 and LuaJIT (without 5.2 compatibility) return 0
if status ~= true and status ~= 0 then os.exit(1) end

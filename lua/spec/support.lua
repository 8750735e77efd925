-- What every spec needs, picked for the Lua that runs busted: the module built for it
-- (target/lua/<interpreter>/, put first on package.cpath), the interpreter's command for
-- child processes, and the std reference program. `.busted` loads this as its helper, and
-- the specs `require 'support'` (lpath lua/spec/?.lua): one copy serves both. Where make
-- has exported where they are (KUMO_LUA_MODULES, KUMO_STD_REFERENCE), or the real-kernel
-- lane has, which runs the specs without make, those are taken.
if package.loaded.support then return package.loaded.support end

local function read_command(command)
  local pipe = assert(io.popen(command))
  local output = pipe:read('*a')
  pipe:close()
  return output
end

-- The interpreter's name as the Makefile knows it: luajit, else lua5.1 ... lua5.4.
local interpreter = rawget(_G, 'jit') and 'luajit' or ('lua' .. _VERSION:match('%d+%.%d+'))
local modules = os.getenv('KUMO_LUA_MODULES')
local module_dir = (modules or 'target/lua') .. '/' .. interpreter
local module_path = module_dir .. '/kumo_parallelism.so'

local probe = io.open(module_path)
if not probe then
  error(string.format('%s is missing: run `make module LUA=%s` (or `make modules`) first, from the repository root',
    module_path, interpreter), 0)
end
probe:close()

-- absolute, so that child processes started elsewhere find the same module
if not modules then module_dir = assert(os.getenv('PWD'), 'PWD is not set') .. '/' .. module_dir end
package.cpath = module_dir .. '/?.so;' .. package.cpath

local support = {
  interpreter = interpreter,
  read_command = read_command,
}
-- support.std_reference, found where it is first asked for (a spec that needs no std answer
-- needs no cargo): make builds it if needed and prints its path last
setmetatable(support, { __index = function(_, key)
  if key ~= 'std_reference' then return nil end
  local path = os.getenv('KUMO_STD_REFERENCE')
    or read_command('make -s --no-print-directory std-reference'):match('([^\n]+)\n?$')
  rawset(support, key, path)
  return path
end })
package.loaded.support = support
return support

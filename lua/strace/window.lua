-- Calls available_parallelism() CALLS times between two marker writes to stderr, so that
-- strace can count the system calls the calls themselves make (scripts/syscalls.sh).
--   lua window.lua CALLS
local m = require 'kumo_parallelism'
local calls = tonumber(arg[1])
m.available_parallelism() -- warm up: the first call may touch the allocator
io.stderr:write('kumo-window-begin\n')
for _ = 1, calls do m.available_parallelism() end
io.stderr:write('kumo-window-end\n')

-- Calls available_parallelism() (or, with "explain", explain()) CALLS times between two marker
-- writes to stderr, so that strace can see the system calls the calls themselves make
-- (scripts/syscalls.sh).
--   lua window.lua CALLS [explain]
local m = require 'kumo_parallelism'
local calls, which = tonumber(arg[1]), arg[2] or 'available_parallelism'
local call = assert(m[which], 'no function ' .. which)
-- no warm-up: the first call, which keeps the first answer, is in the window too
io.stderr:write('kumo-window-begin\n')
for _ = 1, calls do call() end
io.stderr:write('kumo-window-end\n')

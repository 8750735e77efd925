-- Calls available_parallelism() CALLS times between two marker writes to stderr, so that
-- strace can count the system calls the calls themselves make (scripts/syscalls.sh).
--   lua window.lua CALLS
local m = require 'kumo_parallelism'
local calls = tonumber(arg[1])
-- no warm-up: the first call, which keeps the process's first answer, is in the window too
io.stderr:write('kumo-window-begin\n')
for _ = 1, calls do m.available_parallelism() end
io.stderr:write('kumo-window-end\n')

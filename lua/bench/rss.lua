-- Calls available_parallelism() (and explain()) many times and prints the resident set size
-- before and after, in KiB, from /proc/self/statm. Run by scripts/bench.sh and make test.
--   lua rss.lua CALLS
local m = require 'kumo_parallelism'
local calls = tonumber(arg[1])

local function rss_kib()
  local statm = assert(io.open('/proc/self/statm')):read('*a')
  local pages = tonumber(statm:match('^%d+ (%d+)'))
  return pages * 4
end

local function settle()
  collectgarbage('collect'); collectgarbage('collect')
end

-- warm up: let allocators and Lua's string table reach their steady size
for _ = 1, calls // 100 do m.available_parallelism(); m.explain() end
settle()
local before = rss_kib()
for i = 1, calls do
  m.available_parallelism()
  if i % 100 == 0 then m.explain() end
end
settle()
print(before, rss_kib())

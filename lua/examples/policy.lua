-- An example policy in the style of a kumod configuration: it asks how many threads
-- this process may use and sizes its thread pools the way kumod's defaults do.
local kumo_parallelism = require 'kumo_parallelism'

local n = kumo_parallelism.available_parallelism()

-- Each pool gets a share of the CPUs, rounded up, and never fewer than one thread.
local function share(fraction)
  return math.max(1, math.ceil(n * fraction))
end

local pools = {
  { name = 'readyq', threads = share(1 / 2) },
  { name = 'smtpsrv', threads = share(3 / 8) },
  { name = 'logging', threads = share(1 / 4) },
}

print(string.format('%s: available_parallelism() = %d', kumo_parallelism._VERSION, n))
for _, pool in ipairs(pools) do
  print(string.format('  %-8s %d threads', pool.name, pool.threads))
end

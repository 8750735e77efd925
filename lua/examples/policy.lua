-- An example policy in the style of a kumod configuration: it asks how many threads this
-- process may use and sizes its thread pools as kumod sizes its own (KumoMTA's
-- `Runtime::new`): KUMOD_<POOL>_THREADS when it is set, else the pool's share of the CPUs
-- divided as integers are (rounded down), and never fewer than one thread. (kumod also takes
-- kumo.set_<pool>_threads() before the share; a policy has no such call of its own.)
local kumo_parallelism = require 'kumo_parallelism'

local cpus = kumo_parallelism.available_parallelism()

-- The shares kumod gives its pools: cpus / 2, cpus * 3 / 8 and cpus / 4 in Rust's integer
-- arithmetic. math.floor of the division is the same on every Lua (5.1 has no //).
local shares = {
  { name = 'readyq', size = function(n) return math.floor(n / 2) end },
  { name = 'spoolin', size = function(n) return math.floor(n / 2) end },
  { name = 'smtpsrv', size = function(n) return math.floor(n * 3 / 8) end },
  { name = 'httpinject', size = function(n) return math.floor(n * 3 / 8) end },
  { name = 'logging', size = function(n) return math.floor(n / 4) end },
}

local function threads(pool)
  local variable = 'KUMOD_' .. pool.name:upper() .. '_THREADS'
  local set = os.getenv(variable)
  if set then
    -- as kumod parses it (Rust's usize): digits, with one leading '+' allowed
    local count = tonumber(set:match('^%+?(%d+)$'))
    if not count or count < 1 then
      error(string.format('%s=%q is not a whole number of threads from 1', variable, set), 0)
    end
    return count
  end
  return math.max(1, pool.size(cpus))
end

local pools = {}
print(string.format('%s: available_parallelism() = %d', kumo_parallelism._VERSION, cpus))
for _, pool in ipairs(shares) do
  pools[pool.name] = threads(pool)
  local count = pools[pool.name]
  print(string.format('  %-10s %d thread%s', pool.name, count, count == 1 and '' or 's'))
end
-- for a test to read (lua/spec/policy_sizing_spec.lua); kumod ignores it
return pools

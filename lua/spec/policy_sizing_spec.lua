-- The example policy (lua/examples/policy.lua, what `make run` runs) sizes its pools as
-- kumod does, for every count from 1 to 64, against kumod's own formulas as KumoMTA's source
-- writes them (lua/spec/kumod_pools.lua, with the commit they came from). luassert's stubs
-- give the policy each count and environment; busted 2.1 (Debian 12's) does not revert a
-- stub at the end of a test, so each test reverts its own.
local kumo_parallelism = require 'kumo_parallelism'
local kumod = require 'kumod_pools'

-- A Rust integer expression of `cpus` as kumod writes a pool's size ("cpus * 3 / 8"):
-- left to right, `/` rounding down, as Rust's usize arithmetic does.
local function rust_size(expression, cpus)
  assert(expression:match('^cpus[%s%d%*/]*$'), 'not a size of the form kumod uses: ' .. expression)
  local value = cpus
  for operator, operand in expression:gmatch('([%*/])%s*(%d+)') do
    operand = tonumber(operand)
    if operator == '*' then value = value * operand else value = math.floor(value / operand) end
  end
  return math.max(1, value)  -- Runtime::new: (default_size)(cpus).max(1)
end

-- The pools the policy sizes with `cpus` from available_parallelism() and `environment` as
-- os.getenv's answers; its printing silenced.
local function policy_pools(cpus, environment)
  local answer = stub(kumo_parallelism, 'available_parallelism').returns(cpus)
  local getenv = os.getenv
  local env = stub(os, 'getenv', function(name) return environment[name] end)
  local quiet = stub(_G, 'print')
  finally(function() answer:revert(); env:revert(); quiet:revert() end)
  local pools = dofile('lua/examples/policy.lua')
  answer:revert(); env:revert(); quiet:revert()
  assert.are.equal(getenv, os.getenv)
  return pools
end

describe('the example policy, sized as kumod sizes its pools', function()
  it('covers pools kumod has, each from KumoMTA ' .. kumod.commit:sub(1, 12), function()
    local known = {}
    for _, pool in ipairs(kumod.pools) do known[pool.name] = pool end
    local sized = 0
    for name in pairs(policy_pools(8, {})) do
      assert.is_not_nil(known[name], name .. ' is no pool of kumod')
      sized = sized + 1
    end
    assert.is_true(sized >= 3)
  end)

  it('gives every pool kumod\'s size for every count from 1 to 64', function()
    local differences = {}
    for cpus = 1, 64 do
      local pools = policy_pools(cpus, {})
      for _, pool in ipairs(kumod.pools) do
        local got = pools[pool.name]
        local want = rust_size(pool.size, cpus)
        if got ~= nil and got ~= want then
          differences[#differences + 1] = string.format('%s at %d CPUs: %d, kumod %d (%s in %s)',
            pool.name, cpus, got, want, pool.size, pool.file)
        end
      end
    end
    assert.are.same({}, differences)
  end)

  it('takes KUMOD_<POOL>_THREADS first, as kumod does', function()
    local pools = policy_pools(64, { KUMOD_READYQ_THREADS = '5', KUMOD_SPOOLIN_THREADS = '+7' })
    assert.are.equal(5, pools.readyq)
    assert.are.equal(7, pools.spoolin)
    assert.are.equal(rust_size('cpus * 3 / 8', 64), pools.smtpsrv)
    local ok, err = pcall(policy_pools, 64, { KUMOD_LOGGING_THREADS = 'many' })
    assert.is_false(ok)
    assert.matches('KUMOD_LOGGING_THREADS="many" is not a whole number', err, 1, true)
  end)
end)

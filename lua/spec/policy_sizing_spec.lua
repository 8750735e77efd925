-- How a user tests a policy under 1, 2 or 64 CPUs on any machine: the README shows this file
-- as it is. luassert's stub replaces available_parallelism on the module table for one test,
-- and revert() puts the module's own function back (busted 2.1 does not revert it at the
-- end of a test). .busted loads lua/spec/support.lua first, which puts the module built for
-- this interpreter first on package.cpath.
local kumo_parallelism = require 'kumo_parallelism'

local function pool_size()
  return math.max(1, math.ceil(kumo_parallelism.available_parallelism() / 2))
end

describe('a policy sized by available_parallelism()', function()
  local real = kumo_parallelism.available_parallelism

  for _, case in ipairs({ { cpus = 1, threads = 1 }, { cpus = 2, threads = 1 }, { cpus = 64, threads = 32 } }) do
    it(string.format('sizes its pool to %d under %d CPUs', case.threads, case.cpus), function()
      local cpus = stub(kumo_parallelism, 'available_parallelism').returns(case.cpus)
      finally(function() cpus:revert() end)  -- also when an assertion below fails

      assert.are.equal(case.threads, pool_size())
      assert.stub(cpus).was.called(1)

      cpus:revert()
      assert.are.equal(real, kumo_parallelism.available_parallelism)
    end)
  end
end)

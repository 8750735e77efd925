local kumo_parallelism = require 'kumo_parallelism'

-- readyq's size as kumod computes it: cpus / 2 in integers, at least 1
local function readyq_threads()
  return math.max(1, math.floor(kumo_parallelism.available_parallelism() / 2))
end

describe('a policy sized by available_parallelism()', function()
  local real = kumo_parallelism.available_parallelism

  for _, case in ipairs({ { cpus = 1, threads = 1 }, { cpus = 3, threads = 1 }, { cpus = 64, threads = 32 } }) do
    it(string.format('sizes readyq to %d under %d CPUs', case.threads, case.cpus), function()
      local cpus = stub(kumo_parallelism, 'available_parallelism').returns(case.cpus)
      finally(function() cpus:revert() end)  -- also when an assertion below fails

      assert.are.equal(case.threads, readyq_threads())
      assert.stub(cpus).was.called(1)

      cpus:revert()
      assert.are.equal(real, kumo_parallelism.available_parallelism)
    end)
  end
end)

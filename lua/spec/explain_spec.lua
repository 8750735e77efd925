-- explain() in a real interpreter, with the loaded .so. See available_parallelism_spec.lua
-- for what support.lua provides; children run with their own KUMO_AVAILABLE_PARALLELISM.
local support = require 'support'

local function child(assignment, code)
  local script = string.format('package.cpath = %q\nlocal m = require "kumo_parallelism"\n%s', package.cpath, code)
  return support.read_command(assignment .. ' ' .. support.interpreter .. " -e '" .. script:gsub("'", "'\\''") .. "' 2>&1")
end

describe('explain() on ' .. _VERSION, function()
  local m = require 'kumo_parallelism'

  it('agrees with available_parallelism() and std here', function()
    local why = m.explain()
    assert.are.equal(m.available_parallelism(), why.value)
    assert.are.equal(why.std, why.value)
    assert.are.equal(why.std, why.derived)
    if math.type then assert.are.equal('integer', math.type(why.value)) end
  end)

  it('names a source and reports the probes', function()
    local why = m.explain()
    assert.truthy(({ cgroup = true, affinity = true, online = true })[why.source], why.source)
    assert.is_number(why.online)
    assert.is_true(why.online >= 1)
    assert.is_number(why.affinity.count)
    assert.matches('^[%d,-]+$', why.affinity.cpus)
    assert.is_nil(why.override)
  end)

  it('lists findings as a sequence of { code, text }', function()
    local why = m.explain()
    assert.are.equal('table', type(why.findings))
    local report = tostring(why)
    for _, finding in ipairs(why.findings) do
      assert.matches('^[a-z0-9-]+$', finding.code)
      assert.is_string(finding.text)
      assert.truthy(report:find('\nfinding: ' .. finding.text .. '\n', 1, true), report)
    end
  end)

  it('reports cgroup levels as tables', function()
    local cgroup = m.explain().cgroup
    if cgroup then
      assert.truthy(cgroup.version == 1 or cgroup.version == 2)
      assert.matches('^/', cgroup.path)
      for _, level in ipairs(cgroup.levels) do
        assert.matches('^/', level.path)
      end
    end
  end)

  it('has a readable report ending with the decision', function()
    local report = tostring(m.explain())
    assert.matches('\ndecision: %d+ %(', report)
    assert.matches('^override: KUMO_AVAILABLE_PARALLELISM is unset\n', report)
  end)

  it('does not raise for a bad override, and says what is wrong', function()
    local output = child('KUMO_AVAILABLE_PARALLELISM=banana', [[
      local why = m.explain()
      print(why.value, why.source, why.override.raw, why.override.error)
      print(why.findings[1].code, #why.findings, (tostring(why):match("\nfinding: [^\n]*")))
    ]])
    assert.matches('^nil\toverride\tbanana\tinvalid KUMO_AVAILABLE_PARALLELISM "banana"', output)
    assert.matches('\noverride%-invalid\t1\t\nfinding: available_parallelism%(%) raises: invalid KUMO_AVAILABLE_PARALLELISM "banana"', output)
  end)

  it('reports a valid override as the decision', function()
    local output = child('KUMO_AVAILABLE_PARALLELISM=7', [[
      local why = m.explain()
      print(why.value, why.source, why.override.raw, why.override.error, why.std ~= nil)
      print(why.findings[1].code)
      print((tostring(why):match("decision: [^\n]*")))
    ]])
    assert.are.equal('7\toverride\t7\tnil\ttrue\noverride-replaces-detection\n'
      .. 'decision: 7 (override KUMO_AVAILABLE_PARALLELISM)\n', output)
  end)
end)

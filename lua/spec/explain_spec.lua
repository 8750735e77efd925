-- explain() in a real interpreter, with the loaded .so. See available_parallelism_spec.lua
-- for what support.lua provides; children run with their own KUMO_AVAILABLE_PARALLELISM.
local support = require 'support'

local function child(assignment, code)
  local script = string.format('package.cpath = %q\nlocal m = require "kumo_parallelism"\n%s', package.cpath, code)
  return support.read_command(assignment .. ' ' .. support.interpreter .. " -e '" .. script:gsub("'", "'\\''") .. "' 2>&1")
end

describe('explain() on ' .. _VERSION, function()
  local m = require 'kumo_parallelism'

  it('agrees with available_parallelism() and with std run in a child here', function()
    local why = m.explain()
    local std = tonumber(support.read_command(support.std_reference))
    assert.is_number(std)
    assert.are.equal(m.available_parallelism(), why.value)
    assert.are.equal(std, why.value)
    -- derived is the probes' own reading of the kernel files, by std's rule
    assert.are.equal(std, why.derived)
    assert.is_nil(why.std_again)
    if math.type then assert.are.equal('integer', math.type(why.value)) end
  end)

  it('names a source and reports the probes', function()
    local why = m.explain()
    assert.truthy(({ cgroup = true, affinity = true, online = true })[why.source], why.source)
    -- std counts the online CPUs only when the mask is no use to it; so does explain()
    assert.is_nil(why.online)
    assert.is_number(why.affinity.count)
    assert.matches('^[%d,-]+$', why.affinity.cpus)
    assert.is_nil(why.override)
  end)

  it('lists findings as a sequence of { code, severity, text }, each a report line', function()
    -- a valid override is always a note, and an invalid one always a warning
    local output = child('KUMO_AVAILABLE_PARALLELISM=7', [[
      local why, report = m.explain(), tostring(m.explain())
      for i, finding in ipairs(why.findings) do
        local line = "\n" .. finding.severity .. ": " .. finding.text .. "\n"
        print(i, finding.code, finding.severity, report:find(line, 1, true) ~= nil)
      end
    ]])
    assert.matches('^1\toverride%-replaces%-detection\tnote\ttrue\n', output)
    output = child('KUMO_AVAILABLE_PARALLELISM=0', [[
      local finding = m.explain().findings[1]
      print(finding.code, finding.severity)
    ]])
    assert.are.equal('override-invalid\twarning\n', output)
  end)

  it('reports this process\'s cgroup, as /proc/self/cgroup names it, with its levels', function()
    -- the kernel's own list, read here: std uses the cpu line on v1, else the v2 line
    local listed = assert(io.open('/proc/self/cgroup')):read('*a')
    local v1 = listed:match('%d+:[^:\n]*%f[%w]cpu%f[^%w][^:\n]*:([^\n]*)')
    local path = v1 or listed:match('0::([^\n]*)')
    assert.is_string(path, listed)
    local why = m.explain()
    assert.are.equal('listed', why.membership)
    assert.are.equal(v1 and 1 or 2, why.cgroup.version)
    assert.are.equal(path, why.cgroup.path)
    assert.is_true(#why.cgroup.levels >= 1)
    for _, level in ipairs(why.cgroup.levels) do
      assert.matches('^/', level.path)
    end
    assert.are.same({}, why.unreadable)
  end)

  it('has a readable report ending with the decision', function()
    local report = tostring(m.explain())
    assert.matches('\ndecision: %d+ %(', report)
    assert.matches('^override: KUMO_AVAILABLE_PARALLELISM is unset\n', report)
  end)

  it('does not raise for a bad override, and says what is wrong', function()
    local output = child('KUMO_AVAILABLE_PARALLELISM=banana', [[
      local why = m.explain()
      local codes = {}
      for i, finding in ipairs(why.findings) do codes[i] = finding.code end
      print(why.value, why.source, why.override.raw, why.override.error)
      print(table.concat(codes, ","), (tostring(why):match("\nwarning: [^\n]*")))
    ]])
    assert.matches('^nil\toverride\tbanana\tinvalid KUMO_AVAILABLE_PARALLELISM "banana"', output)
    -- the override's finding first, then whatever this machine shows without it (a steal
    -- of 1% or more, a cgroup namespace of its own), as this process's explain() says
    local machine = {}
    for _, finding in ipairs(m.explain().findings) do machine[#machine + 1] = ',' .. finding.code end
    local expected = 'override-invalid' .. table.concat(machine)
    assert.matches('\n' .. expected:gsub('%-', '%%-') .. '\t\nwarning: available_parallelism%(%) raises: invalid KUMO_AVAILABLE_PARALLELISM "banana"', output)
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

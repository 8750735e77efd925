-- explain() in a real interpreter, with the loaded .so. See available_parallelism_spec.lua
-- for what support.lua provides; children run with their own KUMO_AVAILABLE_PARALLELISM.
local support = require 'support'

local function child(assignment, code)
  local script = string.format('package.cpath = %q\nlocal m = require "kumo_parallelism"\n%s', package.cpath, code)
  return support.read_command(assignment .. ' ' .. support.interpreter .. " -e '" .. script:gsub("'", "'\\''") .. "' 2>&1")
end

-- The CPU ids the kernel may ever have (nr_cpu_ids), read here: std's 1024-CPU affinity set
-- is refused above 1024, and std then counts its fallback, sysconf's online CPUs.
local function possible_cpus()
  local list = assert(io.open('/sys/devices/system/cpu/possible')):read('*a')
  local highest = 0
  for id in list:gmatch('%d+') do highest = math.max(highest, tonumber(id)) end
  return highest + 1
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
    -- std counts the online CPUs only when the mask is no use to it (more than 1024 possible
    -- CPUs); so does explain()
    if possible_cpus() <= 1024 then
      assert.is_nil(why.online)
    else
      assert.is_number(why.online)
      assert.are.equal(possible_cpus(), why.possible_cpus)
    end
    assert.is_number(why.affinity.count)
    assert.matches('^[%d,-]+$', why.affinity.cpus)
    assert.is_nil(why.override)
  end)

  it('lists findings as a sequence of { code, severity, text }, each a report line', function()
    -- a valid override is always a note, and an invalid one always a warning; this machine
    -- may add its own findings (a cgroup namespace of its own), each a line of the report too
    local output = child('KUMO_AVAILABLE_PARALLELISM=7', [[
      local why = m.explain()
      local report = tostring(why)
      for i, finding in ipairs(why.findings) do
        local line = "\n" .. finding.severity .. ": " .. finding.text .. "\n"
        print(i, finding.code, finding.severity, report:find(line, 1, true) ~= nil)
      end
    ]])
    assert.matches('^1\toverride%-replaces%-detection\tnote\ttrue\n', output)
    local lines = 0
    for index, code, severity, found in output:gmatch('(%d+)\t([%w-]+)\t(%a+)\t(%a+)\n') do
      lines = lines + 1
      assert.are.equal(lines, tonumber(index))
      assert.truthy(severity == 'note' or severity == 'warning', code)
      assert.are.equal('true', found, code .. ' is no line of the report')
    end
    assert.is_true(lines >= 1)
    assert.are.equal(select(2, output:gsub('\n', '')), lines, output)
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
    -- the override's finding first, then whatever this machine shows without it (a cgroup
    -- namespace of its own), as this process's explain() says
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

  it('quotes a long override cut to its start, with its length named, in bounded texts', function()
    -- a file pasted into the variable: 100,000 bytes, and 30,000 control bytes
    for _, value in ipairs({ '"$(head -c 100000 /dev/zero | tr "\\0" x)"',
                             '"$(head -c 30000 /dev/zero | tr "\\0" "\\1")"' }) do
      local output = child('KUMO_AVAILABLE_PARALLELISM=' .. value, [[
        local ok, err = pcall(m.available_parallelism)
        local report = tostring(m.explain())
        print(ok, #err, #report, #m.explain().override.raw)
        print(err)
      ]])
      local ok, err_bytes, report_bytes, raw_bytes, err = output:match('^(%a+)\t(%d+)\t(%d+)\t(%d+)\n(.*)\n$')
      assert.are.equal('false', ok, output:sub(1, 300))
      assert.is_true(tonumber(err_bytes) <= 512, err_bytes)
      assert.is_true(tonumber(report_bytes) <= 8192, report_bytes)
      -- the table's raw keeps the value as set
      assert.is_true(tonumber(raw_bytes) >= 30000, raw_bytes)
      assert.matches('invalid KUMO_AVAILABLE_PARALLELISM "[^"]*"… %((%d+) bytes%)', err)
      assert.are.equal(tonumber(raw_bytes), tonumber(err:match('… %((%d+) bytes%)')))
    end
  end)

  it('is the same JSON through dkjson as through a Rust host\'s serde_json; lua-cjson 2.1 writes an empty list as {}', function()
    local why = m.explain()
    -- this process's unreadable lists are empty where every file could be read
    assert.are.same({}, why.unreadable)
    local dkjson = require 'dkjson'
    local text = dkjson.encode(why)
    assert.matches('"unreadable":%[%]', text)
    assert.are.same(why.findings, dkjson.decode(text).findings)
    local has_cjson, cjson = pcall(require, 'cjson')
    assert.is_true(has_cjson, 'lua-cjson is missing: make test installs it')
    assert.matches('"unreadable":{}', cjson.encode(why))
  end)
end)

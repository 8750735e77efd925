-- The loadable module in a real interpreter: lua/spec/support.lua (busted's helper, see
-- .busted) puts the module built for this interpreter first on package.cpath and names the
-- interpreter and the std reference program. Each environment variable value is tried in a
-- child interpreter of its own, since Lua cannot set the environment of the running process.
local support = require 'support'
local lua_cmd = support.interpreter
local read_command = support.read_command

local function shell_quote(text)
  return "'" .. text:gsub("'", "'\\''") .. "'"
end

-- A shell assignment that sets the variable to exactly these bytes: printf with octal
-- escapes, plus a sentinel so that $(...) does not eat trailing newlines.
local function assign_exactly(value)
  local octal = value:gsub('.', function(byte) return string.format('\\%03o', byte:byte()) end)
  return string.format("v=\"$(printf '%sx')\"; KUMO_AVAILABLE_PARALLELISM=\"${v%%x}\"; export KUMO_AVAILABLE_PARALLELISM; ", octal)
end

local CHILD = [[
package.cpath = %q
local m = require 'kumo_parallelism'
local ok, value = pcall(m.available_parallelism)
local subtype = math.type and math.type(value) or '-'
io.write(tostring(ok), '\t', type(value), '\t', subtype, '\t', tostring(value))
]]

-- Runs available_parallelism() in a child whose KUMO_AVAILABLE_PARALLELISM is `value`
-- (nil: unset). Returns ok, type, math.type, tostring(value) as strings.
local function child(value)
  local setup = value == nil and 'unset KUMO_AVAILABLE_PARALLELISM; ' or assign_exactly(value)
  local code = string.format(CHILD, package.cpath)
  local output = read_command(setup .. lua_cmd .. ' -e ' .. shell_quote(code) .. ' 2>&1')
  local ok, kind, subtype, text = output:match('^(%a+)\t(%a+)\t([%a-]+)\t(.*)$')
  assert(ok, 'child printed: ' .. output)
  return ok, kind, subtype, text
end

local std_answer = tonumber(read_command('unset KUMO_AVAILABLE_PARALLELISM; ' .. support.std_reference))

describe('kumo_parallelism on ' .. _VERSION, function()
  local m = require 'kumo_parallelism'

  it('returns a table with _VERSION and available_parallelism', function()
    assert.are.equal('table', type(m))
    assert.matches('^kumo_parallelism %d+%.%d+%.%d+$', m._VERSION)
    assert.are.equal('function', type(m.available_parallelism))
  end)

  it('is the module built for this interpreter', function()
    -- require takes the first cpath template whose file exists: support.lua put this one first
    local first = package.cpath:match('^[^;]+')
    assert.are.equal(os.getenv('PWD') .. '/target/lua/' .. lua_cmd .. '/?.so', first)
    local file = io.open((first:gsub('%?', 'kumo_parallelism')))
    assert.truthy(file, first)
    file:close()
  end)

  it('sets no globals', function()
    assert.is_nil(rawget(_G, 'kumo_parallelism'))
    assert.is_nil(rawget(_G, 'available_parallelism'))
  end)

  it('is the same table on every require', function()
    assert.are.equal(m, require 'kumo_parallelism')
  end)

  it('equals std when the variable is unset', function()
    assert.is_number(std_answer)
    local ok, kind, subtype, text = child(nil)
    assert.are.same({ 'true', 'number', std_answer }, { ok, kind, tonumber(text) })
    if math.type then assert.are.equal('integer', subtype) end
  end)

  describe('with KUMO_AVAILABLE_PARALLELISM', function()
    local ignored = { [''] = 'empty', [' '] = 'a space', ['\t\n \r'] = 'only whitespace' }
    for value, name in pairs(ignored) do
      it('ignores ' .. name .. ' and answers like std', function()
        local ok, _, _, text = child(value)
        assert.are.same({ 'true', std_answer }, { ok, tonumber(text) })
      end)
    end

    local valid = {
      { '7', 7 }, { '1', 1 }, { '+7', 7 }, { ' 4', 4 }, { '4 ', 4 }, { '\t+16\n', 16 },
      { '007', 7 }, { '4294967295', 4294967295 }, { '+0004294967295', 4294967295 },
    }
    for _, case in ipairs(valid) do
      local value, want = case[1], case[2]
      it(string.format('accepts %q as %d', value, want), function()
        local ok, kind, subtype, text = child(value)
        assert.are.same({ 'true', 'number' }, { ok, kind })
        assert.are.equal(want, tonumber(text))
        if math.type then assert.are.equal('integer', subtype) end
      end)
    end

    -- value, the class named in the message, the value as the message quotes it
    local invalid = {
      { '0', 'zero is not allowed' },
      { '+0', 'zero is not allowed' },
      { '-1', 'negative numbers are not allowed' },
      { '-0', 'negative numbers are not allowed' },
      { '1.5', 'not a whole number' },
      { '4.0', 'not a whole number' },
      { '1e3', 'not a whole number' },
      { '0x10', 'not a whole number' },
      { '4 4', 'not a whole number' },
      { '++4', 'not a whole number' },
      { '+', 'not a whole number' },
      { 'abc', 'not a whole number' },
      { '\217\163', 'not a whole number' }, -- ARABIC-INDIC DIGIT THREE in UTF-8
      { '4294967296', 'the number is too large' },
      { '99999999999999999999999', 'the number is too large' },
      { '\255', 'the value is not valid UTF-8', '"\\xff"' },
      { '4\254', 'the value is not valid UTF-8', '"4\\xfe"' },
    }
    for _, case in ipairs(invalid) do
      local value, reason, quoted = case[1], case[2], case[3] or string.format('"%s"', case[1])
      it(string.format('rejects %q: %s', value, reason), function()
        local ok, kind, _, message = child(value)
        assert.are.same({ 'false', 'string' }, { ok, kind })
        assert.truthy(message:find('KUMO_AVAILABLE_PARALLELISM', 1, true), message)
        assert.truthy(message:find(quoted, 1, true), message)
        assert.truthy(message:find(reason, 1, true), message)
        assert.truthy(message:find('from 1 to 4294967295', 1, true), message)
      end)
    end
  end)

  it('raises plain strings where a sandbox removed error and assert before it loaded', function()
    local code = string.format([[
package.cpath = %q
local pcall, type, write = pcall, type, io.write
error, assert = nil, nil
local m = require 'kumo_parallelism'
local ok, message = pcall(m.available_parallelism)
write(tostring(ok), '\t', type(message), '\t', message, '\n')
local ok2, located = pcall(function() local n = m.available_parallelism() return n end)
write(located, '\n')
]], package.cpath)
    local output = read_command('KUMO_AVAILABLE_PARALLELISM=0 ' .. lua_cmd .. ' -e ' .. shell_quote(code) .. ' 2>&1')
    assert.matches('^false\tstring\tinvalid KUMO_AVAILABLE_PARALLELISM "0": zero is not allowed', output)
    -- error(message, 2)'s position: the line of the call, in the chunk given to -e
    assert.matches('\n%(command line%):7: invalid KUMO_AVAILABLE_PARALLELISM "0"', output)
  end)
end)

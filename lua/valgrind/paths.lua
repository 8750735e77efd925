-- Every path through the module once, for valgrind (scripts/memory.sh): run once with
-- KUMO_AVAILABLE_PARALLELISM unset (success paths) and once set to a bad value (error paths).
local m = require 'kumo_parallelism'
local overridden = os.getenv('KUMO_AVAILABLE_PARALLELISM') ~= nil

for _ = 1, 50 do
  local ok, answer = pcall(m.available_parallelism)
  assert(ok ~= overridden, tostring(answer))
  local why = m.explain()
  assert(#tostring(why) > 0)
  assert((why.value == nil) == overridden)
end
-- the state still answers after the errors
assert(m._VERSION:match('^kumo_parallelism '))
collectgarbage('collect')
print('paths done')

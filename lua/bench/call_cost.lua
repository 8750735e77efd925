-- Times CALLS calls of one measure and prints nanoseconds per call (process CPU time,
-- os.clock, the same clock as `std_parallelism --bench`). Run by scripts/bench.sh.
--   lua call_cost.lua MEASURE CALLS
-- MEASURE: detect | override (the runner sets the variable) | explain | luv | nproc
local measure, calls = arg[1], tonumber(arg[2])

local calls_of = {
  detect = function() return require('kumo_parallelism').available_parallelism end,
  override = function() return require('kumo_parallelism').available_parallelism end,
  explain = function() return require('kumo_parallelism').explain end,
  luv = function() return require('luv').available_parallelism end,
  nproc = function()
    return function()
      local pipe = io.popen('nproc')
      local count = tonumber(pipe:read('*a'))
      pipe:close()
      return count
    end
  end,
}
local call = assert(calls_of[measure], 'unknown measure ' .. tostring(measure))()
assert(call(), measure .. ' gave no answer')

local start = os.clock()
for _ = 1, calls do call() end
local elapsed = os.clock() - start
io.write(string.format('%.1f\n', elapsed * 1e9 / calls))

-- Times CALLS calls of one measure and prints nanoseconds per call in wall-clock time
-- (luv's monotonic hrtime; `std_parallelism --bench` reads the same kind of clock), so that
-- io.popen('nproc') pays for its fork and exec too. Run by scripts/bench.sh.
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

local hrtime = require('luv').hrtime
local start = hrtime()
for _ = 1, calls do call() end
io.write(string.format('%.1f\n', (hrtime() - start) / calls))

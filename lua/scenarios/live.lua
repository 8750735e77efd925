-- A long-lived interpreter for the real-kernel lane's live changes: one answer per line
-- read, "<available_parallelism()> <explain().value>", until "quit" or end of input.
local m = require 'kumo_parallelism'
for line in io.lines() do
  if line == 'quit' then break end
  local ok, answer = pcall(m.available_parallelism)
  io.write(ok and tostring(answer) or 'error', ' ', tostring(m.explain().value), '\n')
  io.flush()
end

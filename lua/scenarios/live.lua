-- A long-lived interpreter for the real-kernel lane's live changes: one answer per line
-- read, "<available_parallelism()> <explain().value> <changed|->", until "quit" or end of
-- input; "changed" when explain() reports changed-since-first-call.
local m = require 'kumo_parallelism'
for line in io.lines() do
  if line == 'quit' then break end
  local ok, answer = pcall(m.available_parallelism)
  local why, changed = m.explain(), '-'
  for _, finding in ipairs(why.findings) do
    if finding.code == 'changed-since-first-call' then changed = 'changed' end
  end
  io.write(ok and tostring(answer) or 'error', ' ', tostring(why.value), ' ', changed, '\n')
  io.flush()
end

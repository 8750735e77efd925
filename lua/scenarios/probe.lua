-- Run inside each real-environment scenario, by every interpreter and by the Rust host.
-- Line 1: answer  explain().value  explain().source  explain().derived  explain().std
--         and the findings as code/severity, comma-separated ("-" for none)
-- Then the explain() report, shown by the runner when a check fails.
local m = require 'kumo_parallelism'
-- KUMO_EXHAUST=1: the first answer, then every file descriptor this process can take, as a
-- mail server at its limit has them, and then the probe itself
local held = {}
if os.getenv('KUMO_EXHAUST') == '1' then
  m.available_parallelism()
  while true do
    local file = io.open('/dev/null')
    if not file then break end
    held[#held + 1] = file
  end
end
local ok, answer = pcall(m.available_parallelism)
local why = m.explain()
local codes = {}
for _, finding in ipairs(why.findings) do codes[#codes + 1] = finding.code .. '/' .. finding.severity end
print(table.concat({
  ok and tostring(answer) or 'error', tostring(why.value), why.source,
  tostring(why.derived), tostring(why.std), #codes > 0 and table.concat(codes, ',') or '-',
}, ' '))
print(tostring(why))

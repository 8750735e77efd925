-- explain()'s table, built in Lua from what src/lua.rs passes (Wire), so that building it
-- costs one call instead of one protected operation per field: all its strings laid end to
-- end in one string, then its numbers, booleans and nils, one argument each, where each
-- string's place holds its length (nil for a nil string); read in the order lua.rs writes
-- them. One statement per read: Lua does not promise the order in which a constructor's or
-- a multiple assignment's expressions are evaluated.
local sub = string.sub

local strings, at, numbers, next_number

local function num()
  next_number = next_number + 1
  return numbers[next_number]
end

local function str()
  local length = num()
  if length == nil then return nil end
  local value = sub(strings, at, at + length - 1)
  at = at + length
  return value
end

local function affinity()
  local count = num()
  if count == nil then return nil end
  local cpus = str()
  return { count = count, cpus = cpus }
end

-- Each table is made by one constructor from locals read in order, so that Lua sizes it once.
local function level()
  local path = str()
  local limit = str()
  local period = str()
  local cpus = num()
  local binds = num()
  local burst = num()
  local burst_cpus = num()
  local unreadable = num()
  return { path = path, limit = limit, period = period, cpus = cpus, binds = binds,
    burst = burst, burst_cpus = burst_cpus, unreadable = unreadable }
end

local function cgroup()
  local version = num()
  if version == nil then return nil end
  local path = str()
  local quota = num()
  local mount = str()
  local note = str()
  local weight = num()
  local mountinfo_lines = num()
  local levels = {}
  for i = 1, num() do levels[i] = level() end
  return { version = version, path = path, quota = quota, mount = mount, note = note,
    weight = weight, mountinfo_lines = mountinfo_lines, levels = levels }
end

return function(all_strings, ...)
  strings, at, numbers, next_number = all_strings, 1, { ... }, 0
  local value = num()
  local source = str()
  local raw = str()
  local override_error = str()
  local override = nil
  if raw ~= nil then override = { raw = raw, error = override_error } end
  local thread_affinity = affinity()
  local status_affinity = affinity()
  local process_affinity = affinity()
  local affinity_error = str()
  local online = num()
  local std = num()
  local std_again = num()
  local derived = num()
  local membership = str()
  local own_cgroup = cgroup()
  local cgroup2_elsewhere = cgroup()
  local unreadable = {}
  for i = 1, num() do
    local path = str()
    local error = str()
    unreadable[i] = { path = path, error = error }
  end
  local hypervisor = num()
  local ticks = num()
  local total = num()
  local share = num()
  local steal = nil
  if ticks ~= nil then steal = { ticks = ticks, total = total, share = share } end
  local cgroup_namespace = num()
  local count = num()
  local age = num()
  local first_answer = nil
  if count ~= nil then first_answer = { count = count, age = age } end
  local findings = {}
  for i = 1, num() do
    local code = str()
    local severity = str()
    local text = str()
    findings[i] = { code = code, severity = severity, text = text }
  end
  strings, numbers = nil, nil
  return { value = value, source = source, override = override, affinity = thread_affinity,
    status_affinity = status_affinity, process_affinity = process_affinity,
    affinity_error = affinity_error, online = online, std = std, std_again = std_again,
    derived = derived, membership = membership, cgroup = own_cgroup,
    cgroup2_elsewhere = cgroup2_elsewhere, unreadable = unreadable, hypervisor = hypervisor,
    steal = steal, cgroup_namespace = cgroup_namespace, first_answer = first_answer,
    findings = findings }
end

-- luajit lua/scenarios/mount_many.lua DIR COUNT: COUNT real tmpfs mounts at DIR/0 ...
-- DIR/COUNT-1, from one process (a `mount` per mount point would take minutes at 20,000).
-- For the mount-point scenarios and make bench; run inside a private mount namespace.
local ffi = require 'ffi'
ffi.cdef [[
int mount(const char *source, const char *target, const char *fstype, unsigned long flags,
          const void *data);
int mkdir(const char *path, unsigned int mode);
char *strerror(int errnum);
]]
local dir, count = arg[1], tonumber(arg[2])
if not dir or not count then
  io.stderr:write('usage: luajit mount_many.lua DIR COUNT\n')
  os.exit(2)
end
for i = 0, count - 1 do
  local target = dir .. '/' .. i
  ffi.C.mkdir(target, tonumber('755', 8))
  if ffi.C.mount('kumo-many', target, 'tmpfs', 0, nil) ~= 0 then
    io.stderr:write('mount ', target, ': ', ffi.string(ffi.C.strerror(ffi.errno())), '\n')
    os.exit(1)
  end
end

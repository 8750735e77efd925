-- kumod's thread pools and their default sizes, copied from KumoMTA's source at commit
-- 3ebc1e8585e0e989cfcf50a93c94a803610249e8 (github.com/KumoCorp/kumomta, 2026-08-04): each
-- pool is `Runtime::new(name, |cpus| SIZE, ...)` in FILE, and `Runtime::new`
-- (crates/kumo-server-runtime/src/lib.rs) takes KUMOD_<NAME>_THREADS when it is set
-- (`n.parse()?`), else kumo.set_<name>_threads() when it was called, else
-- `(default_size)(cpus).max(1)`, cpus being available_parallelism(). SIZE is Rust's integer
-- arithmetic, as written there. lua/spec/policy_sizing_spec.lua holds the example policy to
-- these, for every count from 1 to 64.
return {
  commit = '3ebc1e8585e0e989cfcf50a93c94a803610249e8',
  pools = {
    { name = 'readyq', size = 'cpus / 2', file = 'crates/kumod/src/ready_queue.rs' },
    { name = 'spoolin', size = 'cpus / 2', file = 'crates/kumod/src/spool.rs' },
    { name = 'smtpsrv', size = 'cpus * 3 / 8', file = 'crates/kumod/src/smtp_server.rs' },
    { name = 'httpinject', size = 'cpus * 3 / 8', file = 'crates/kumod/src/http_server/inject_v1.rs' },
    { name = 'logging', size = 'cpus / 4', file = 'crates/kumod/src/logging/mod.rs' },
    { name = 'qmaint', size = 'cpus / 4', file = 'crates/kumod/src/queue/maintainer.rs' },
    { name = 'readyq_maint', size = 'cpus / 4', file = 'crates/kumod/src/ready_queue.rs' },
    { name = 'localset', size = 'cpus / 4', file = 'crates/kumo-server-runtime/src/lib.rs' },
  },
}

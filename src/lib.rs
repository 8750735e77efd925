//! How many threads should this program use?
//!
//! `kumo_parallelism` answers the way KumoMTA's `kumo.available_parallelism()` does: the
//! `KUMO_AVAILABLE_PARALLELISM` environment variable when it holds a valid count, otherwise
//! [`std::thread::available_parallelism`], which honours cgroup v1/v2 CPU quotas and the
//! CPU affinity mask. It is a Lua module (`require("kumo_parallelism")`) built with mlua,
//! and a Rust API for hosts that embed Lua.
//!
//! The crate has three rooms: [`available_parallelism`] (the core, no Lua types), the
//! Linux probes behind `explain`, and the Lua binding ([`register`] and the
//! `luaopen_kumo_parallelism` entry of the loadable module).

mod error;
mod explain;
mod lua;
mod parallelism;
// Only Linux has the kernel files explain() reads; elsewhere the types stay, unused.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub mod probes;

pub use error::{Error, OverrideProblem};
pub use explain::{explain, Explanation, OverrideSetting, Source};
pub use lua::{build_module, register, MODULE_NAME, VERSION};
pub use parallelism::{available_parallelism, parse_override, OVERRIDE_MAX, OVERRIDE_VAR};

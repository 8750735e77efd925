//! How many threads should this program use?
//!
//! `kumo_parallelism` answers the way KumoMTA's `kumo.available_parallelism()` does: the
//! `KUMO_AVAILABLE_PARALLELISM` environment variable when it holds a valid count, otherwise
//! [`std::thread::available_parallelism`], which honours cgroup v1/v2 CPU quotas and the
//! CPU affinity mask. It is a Lua module (`require("kumo_parallelism")`) built with mlua,
//! and a Rust API for hosts that embed Lua.
//!
//! The crate has three rooms: [`available_parallelism`] (the core, no Lua types), the
//! Linux probes behind [`explain`] (whose [`Explanation::findings`] say what misleads and
//! what to change, each with a [`Severity`]), and the Lua binding ([`register`] and the
//! `luaopen_kumo_parallelism` entry of the loadable module). The probes are private: the
//! types an [`Explanation`] holds are re-exported here.
//!
//! Answers are per OS thread: std counts the calling thread's CPU affinity mask, so a host
//! that runs Lua states on several threads (mlua's `send`) gets each thread's own answer.
//!
//! # Features
//!
//! Pick one Lua version: `lua51`, `lua52`, `lua53`, `lua54`, `lua55` or `luajit`. `module`
//! builds the loadable module (`make module LUA=lua5.4`); `vendored` compiles Lua in. The
//! defaults (`lua54`, `vendored`) serve the tests and `make run`. A host that brings its own
//! mlua depends on this crate with `default-features = false, features = ["lua54"]`.
//! [`Explanation`] and its parts are always `Serialize`, with the field names of the Lua table
//! explain() returns (the binding makes that table from it), and [`Explanation`] is `IntoLua`.
//!
//! # In a kumod-style host
//!
//! kumod runs its policy in safe-mode states (`Lua::new()`, where C modules cannot load) and
//! enables mlua's `send` feature so states can move between threads. [`register`] puts the
//! module in `package.loaded`, so the policy's `require` works all the same:
//!
//! ```
//! let lua = mlua::Lua::new();
//! kumo_parallelism::register(&lua)?;
//!
//! // With mlua's `send` feature the state, module included, moves to another thread.
//! fn is_send<T: Send>(_: &T) {}
//! is_send(&lua);
//! let policy = std::thread::spawn(move || -> mlua::Result<(i64, i64)> {
//!     lua.load(
//!         r#"
//!         local kumo_parallelism = require 'kumo_parallelism'
//!         local n = kumo_parallelism.available_parallelism()
//!         return n, math.max(1, n // 2) -- readyq's size in kumod: cpus / 2, at least 1
//!         "#,
//!     )
//!     .eval()
//! });
//! let (threads, readyq) = policy.join().expect("policy thread")?;
//! assert_eq!(readyq, (threads / 2).max(1));
//! # Ok::<(), mlua::Error>(())
//! ```
//!
//! # From Rust directly
//!
//! ```
//! let threads = kumo_parallelism::available_parallelism()?;
//! let why = kumo_parallelism::explain();
//! println!("{threads} threads\n{why}");
//! # Ok::<(), kumo_parallelism::Error>(())
//! ```
#![warn(missing_docs)]
// Input comes from the environment and the kernel: no path may panic on it (clippy checks
// this in `make test`; tests may unwrap).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod binding;
mod error;
mod explain;
mod parallelism;
mod variable;
// Only Linux has the kernel files explain() reads; elsewhere the types stay, unused.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
mod probes;

pub use binding::{build_module, register, MODULE_NAME, VERSION};
pub use error::{Error, OverrideProblem};
pub use explain::explain;
pub use explain::explanation::{Explanation, FirstAnswer, OverrideSetting, Source, TakenOn};
pub use explain::finding::{Finding, FindingCode, Severity};
pub use parallelism::{available_parallelism, parse_override};
pub use probes::{
    Affinity, CgroupLevel, CgroupReport, CgroupVersion, Fault, Membership, MissReason,
    MissedCgroup, Throttling, UnreadableFile, Unshown, PROC_CGROUP_INIT_INO,
};
pub use variable::{OVERRIDE_MAX, OVERRIDE_VAR};

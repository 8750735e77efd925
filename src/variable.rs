//! The override variable: its name and the largest value it may hold.
//!
//! Both the parser (`parallelism.rs`) and the error messages (`error.rs`) name them, so
//! they live here, below both, and neither of those files imports the other for them.

/// The environment variable that, when it holds a valid count, replaces detection.
pub const OVERRIDE_VAR: &str = "KUMO_AVAILABLE_PARALLELISM";

/// The largest override accepted: every supported Lua represents it exactly,
/// including Lua 5.1 and LuaJIT whose numbers are doubles.
pub const OVERRIDE_MAX: u64 = u32::MAX as u64;

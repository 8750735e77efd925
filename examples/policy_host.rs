//! A kumod-style host: Lua 5.4 compiled in, a safe-mode `Lua::new()` state (where C
//! modules cannot be loaded), the module offered through `register`, and a policy
//! script that sizes its thread pools from `available_parallelism()`.
//!
//! `make run` runs it on `lua/examples/policy.lua`; any other policy path may be given.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let policy = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("lua/examples/policy.lua"));
    match run(&policy) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("policy {}: {err}", policy.display());
            ExitCode::FAILURE
        }
    }
}

fn run(policy: &std::path::Path) -> mlua::Result<()> {
    let source = std::fs::read_to_string(policy).map_err(mlua::Error::external)?;
    let lua = mlua::Lua::new();
    kumo_parallelism::register(&lua)?;
    lua.load(source).set_name(format!("@{}", policy.display())).exec()
}

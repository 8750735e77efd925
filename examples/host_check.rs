//! A test host with Lua compiled in, for Lua versions that Debian has no interpreter for
//! (5.5) and for 5.4. Built with `-rdynamic` so the loadable module can find the host's
//! `lua_*` symbols; `make host-check LUA=lua5.5` builds and runs it. A test binary in
//! libtest's own format (libtest-mimic): `--list`, a name filter and the like work.
//!
//!   KUMO_MODULE_DIR=<dir holding kumo_parallelism.so for the same Lua version> host_check

use std::path::PathBuf;

use libtest_mimic::{Arguments, Trial};
use mlua::{Lua, LuaOptions, StdLib};

const PROBE: &str = r#"
    local m = require('kumo_parallelism')
    return m.available_parallelism(), m.explain().value, _VERSION, m._VERSION
"#;

type Probe = (i64, i64, String, String);

fn main() -> std::process::ExitCode {
    let Some(module_dir) = std::env::var_os("KUMO_MODULE_DIR").map(PathBuf::from) else {
        eprintln!("KUMO_MODULE_DIR must name the directory of kumo_parallelism.so");
        return std::process::ExitCode::from(2);
    };
    let std_count = std::thread::available_parallelism().map(|n| n.get() as i64).unwrap_or(-1);
    let lua_version = Lua::new().globals().get::<String>("_VERSION").unwrap_or_default();
    let name = |check: &str| format!("{lua_version}: {check}");
    let real = module_dir.clone();
    let trials = vec![
        Trial::test(name("Lua::unsafe_new() loads the real .so"), move || {
            Ok(loads_real_module(&real, std_count)?)
        }),
        Trial::test(name("safe mode cannot load C modules"), move || {
            Ok(safe_mode_refuses_c_modules(&module_dir)?)
        }),
        Trial::test(name("safe mode requires the module through register"), move || {
            Ok(registered(std_count)?)
        }),
        Trial::test(name("4 threads, each with its own state, agree"), move || {
            Ok(four_threads(std_count)?)
        }),
    ];
    if libtest_mimic::run(&Arguments::from_args(), trials).has_failed() {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}

fn expect_probe(lua: &Lua, std_count: i64) -> Result<(), String> {
    let (answer, explained, _, version): Probe =
        lua.load(PROBE).eval().map_err(|e| e.to_string())?;
    if (answer, explained) != (std_count, std_count) {
        return Err(format!("answer {answer}, explain().value {explained}, std {std_count}"));
    }
    if version != kumo_parallelism::VERSION {
        return Err(format!("_VERSION {version:?}"));
    }
    Ok(())
}

fn loads_real_module(module_dir: &std::path::Path, std_count: i64) -> Result<(), String> {
    // SAFETY: loading C modules is what unsafe_new allows; the module is ours.
    let lua = unsafe { Lua::unsafe_new() };
    let cpath = module_dir.join("?.so");
    lua.load(format!("package.cpath = {:?}", cpath.display().to_string()))
        .exec()
        .map_err(|e| e.to_string())?;
    expect_probe(&lua, std_count)?;
    let loaded_from_c: bool = lua
        .load("return debug.getinfo(require('kumo_parallelism').explain, 'S').what == 'C'")
        .eval()
        .map_err(|e| e.to_string())?;
    loaded_from_c.then_some(()).ok_or_else(|| "explain is not the C function of the .so".into())
}

/// A safe-mode state refuses the real module, which is there (the unsafe state above loads
/// it): `require` finds it on `package.cpath` and refuses C modules, `package.loadlib` on
/// it raises the safe-mode error.
fn safe_mode_refuses_c_modules(module_dir: &std::path::Path) -> Result<(), String> {
    let module = module_dir.join("kumo_parallelism.so");
    if !module.is_file() {
        return Err(format!("no module at {}", module.display()));
    }
    let lua = Lua::new_with(StdLib::ALL_SAFE, LuaOptions::default()).map_err(|e| e.to_string())?;
    let cpath = module_dir.join("?.so");
    let code = format!(
        "package.cpath = {:?}\nlocal ok, err = pcall(require, 'kumo_parallelism')\n\
         local _, loadlib = pcall(package.loadlib, {:?}, 'luaopen_kumo_parallelism')\n\
         return ok, tostring(err), tostring(loadlib)",
        cpath.display().to_string(),
        module.display().to_string()
    );
    let (ok, error, loadlib): (bool, String, String) =
        lua.load(code).eval().map_err(|e| e.to_string())?;
    if ok || !error.contains("can't load C modules in safe mode") {
        return Err(format!("require in safe mode: {ok}, {error}"));
    }
    if !loadlib.contains("package.loadlib is disabled in safe mode") {
        return Err(format!("package.loadlib in safe mode: {loadlib}"));
    }
    Ok(())
}

fn registered(std_count: i64) -> Result<(), String> {
    let lua = Lua::new();
    kumo_parallelism::register(&lua).map_err(|e| e.to_string())?;
    expect_probe(&lua, std_count)
}

fn four_threads(std_count: i64) -> Result<(), String> {
    let workers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || -> Result<(), String> {
                let lua = Lua::new();
                kumo_parallelism::register(&lua).map_err(|e| e.to_string())?;
                for _ in 0..100 {
                    expect_probe(&lua, std_count)?;
                }
                Ok(())
            })
        })
        .collect();
    workers
        .into_iter()
        .try_for_each(|worker| worker.join().map_err(|_| "a thread panicked".to_string())?)
}

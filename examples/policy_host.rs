//! A kumod-style host: Lua 5.4 compiled in, a safe-mode `Lua::new()` state (where C
//! modules cannot be loaded), the module offered through `register`, and a policy
//! script that sizes its thread pools from `available_parallelism()`.
//!
//! `make run` runs it on `lua/examples/policy.lua`; any other policy path may be given.
//! The case lanes run it as a host with threads of its own does:
//!
//!   policy_host [--main-first | --pinned-first CPU] [--between COMMAND] [--pin-thread CPU]
//!               [--on main] [POLICY]
//!
//! `--main-first`: the main thread asks `available_parallelism()` and `explain()` first, as
//! kumod does when it sizes its pools at start; `--between COMMAND`: then `sh -c COMMAND` runs (a
//! quota changed under the process); then the policy runs on a worker thread, which first
//! pins itself to CPU with `--pin-thread`, or on the main thread again with `--on main`.
//! `--pinned-first CPU`: a worker pinned to CPU asks `available_parallelism()` first, its
//! state kept open, and then the policy runs on the main thread.
//! Without options the policy runs on the main thread.

use std::path::PathBuf;
use std::process::ExitCode;

/// What the command line asked for.
#[derive(Default)]
struct Plan {
    main_first: bool,
    pinned_first: Option<usize>,
    between: Option<String>,
    pin_thread: Option<usize>,
    on_main: bool,
    policy: Option<PathBuf>,
}

const USAGE: &str = "usage: policy_host [--main-first | --pinned-first CPU] [--between COMMAND] \
                     [--pin-thread CPU] [--on main] [POLICY]";

fn parse(mut args: impl Iterator<Item = std::ffi::OsString>) -> Option<Plan> {
    let mut plan = Plan::default();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--main-first") => plan.main_first = true,
            Some("--pinned-first") => {
                plan.pinned_first = Some(args.next()?.to_str()?.parse().ok()?)
            }
            Some("--between") => plan.between = Some(args.next()?.into_string().ok()?),
            Some("--pin-thread") => plan.pin_thread = Some(args.next()?.to_str()?.parse().ok()?),
            Some("--on") => plan.on_main = args.next()?.to_str()? == "main",
            _ if plan.policy.is_none() => plan.policy = Some(PathBuf::from(arg)),
            _ => return None,
        }
    }
    Some(plan)
}

fn main() -> ExitCode {
    let Some(plan) = parse(std::env::args_os().skip(1)) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let policy = plan.policy.clone().unwrap_or_else(|| PathBuf::from("lua/examples/policy.lua"));
    let outcome = run_plan(&plan, &policy);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("policy {}: {err}", policy.display());
            ExitCode::FAILURE
        }
    }
}

fn run_plan(plan: &Plan, policy: &std::path::Path) -> mlua::Result<()> {
    // the pinned worker's state stays open until the policy has run
    let _pinned_state = match plan.pinned_first {
        Some(cpu) => Some(pinned_first(cpu)?),
        None => None,
    };
    if plan.main_first {
        let lua = mlua::Lua::new();
        kumo_parallelism::register(&lua)?;
        lua.load("local m = require('kumo_parallelism') m.available_parallelism() m.explain()")
            .exec()?;
    }
    if let Some(command) = &plan.between {
        let status = std::process::Command::new("sh").arg("-c").arg(command).status();
        match status {
            Ok(status) if status.success() => {}
            other => return Err(mlua::Error::runtime(format!("{command:?}: {other:?}"))),
        }
    }
    let on_worker = (plan.main_first || plan.pin_thread.is_some()) && !plan.on_main;
    if !on_worker {
        return run(policy);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if let Some(cpu) = plan.pin_thread {
                    pin_this_thread(cpu)?;
                }
                run(policy)
            })
            .join()
            .unwrap_or_else(|_| Err(mlua::Error::runtime("the policy thread panicked")))
    })
}

/// A worker pinned to `cpu` asks `available_parallelism()` first: its state, kept open.
fn pinned_first(cpu: usize) -> mlua::Result<mlua::Lua> {
    std::thread::spawn(move || {
        pin_this_thread(cpu)?;
        let lua = mlua::Lua::new();
        kumo_parallelism::register(&lua)?;
        lua.load("require('kumo_parallelism').available_parallelism()").exec()?;
        Ok(lua)
    })
    .join()
    .unwrap_or_else(|_| Err(mlua::Error::runtime("the pinned worker panicked")))
}

/// Restricts the calling thread, and only it, to one CPU.
fn pin_this_thread(cpu: usize) -> mlua::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(mlua::Error::runtime(format!("CPU {cpu} is out of range")));
    }
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays inside it, the CPU id
    // being below CPU_SETSIZE (checked above).
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(mlua::Error::external(std::io::Error::last_os_error()))
    }
}

fn run(policy: &std::path::Path) -> mlua::Result<()> {
    let source = std::fs::read_to_string(policy).map_err(mlua::Error::external)?;
    let lua = mlua::Lua::new();
    kumo_parallelism::register(&lua)?;
    lua.load(source).set_name(format!("@{}", policy.display())).exec()
}

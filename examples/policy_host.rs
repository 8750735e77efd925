//! A kumod-style host: Lua 5.4 compiled in, a safe-mode `Lua::new()` state (where C
//! modules cannot be loaded), the module offered through `register`, and a policy
//! script that sizes its thread pools from `available_parallelism()`.
//!
//! `make run` runs it on `lua/examples/policy.lua`; any other policy path may be given.
//! `--pin-thread CPU` runs the policy on a thread that first pins itself to CPU, as a host
//! that pins its workers does (the real-environment scenarios use it).
//!
//!   policy_host [--pin-thread CPU] [POLICY]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<_> = std::env::args_os().skip(1).collect();
    let pin_thread = match args.first().and_then(|flag| flag.to_str()) {
        Some("--pin-thread") => {
            let cpu = args.get(1).and_then(|cpu| cpu.to_str()).and_then(|cpu| cpu.parse().ok());
            let Some(cpu) = cpu else {
                eprintln!("usage: policy_host [--pin-thread CPU] [POLICY]");
                return ExitCode::from(2);
            };
            args.drain(..2);
            Some(cpu)
        }
        _ => None,
    };
    let policy =
        args.first().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("lua/examples/policy.lua"));
    let outcome = match pin_thread {
        None => run(&policy),
        Some(cpu) => std::thread::scope(|scope| {
            scope
                .spawn(|| pin_this_thread(cpu).and_then(|()| run(&policy)))
                .join()
                .unwrap_or_else(|_| Err(mlua::Error::runtime("the policy thread panicked")))
        }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("policy {}: {err}", policy.display());
            ExitCode::FAILURE
        }
    }
}

/// Restricts the calling thread, and only it, to one CPU.
fn pin_this_thread(cpu: usize) -> mlua::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET is bounds-checked by the
    // caller's CPU id staying below CPU_SETSIZE, which the check below ensures.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(mlua::Error::runtime(format!("CPU {cpu} is out of range")));
        }
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

//! The std reference: prints `std::thread::available_parallelism()` and nothing else,
//! so tests can run it in exactly the environment the module sees and compare.
//! It ignores KUMO_AVAILABLE_PARALLELISM on purpose: it is the detection baseline.
//!
//! `std_parallelism --bench N` instead times N calls and prints nanoseconds per call, in
//! process CPU time: the clock Lua's os.clock() reads, so `make bench` compares like with like.

use std::os::raw::c_long;
use std::process::ExitCode;

extern "C" {
    /// C's clock(): process CPU time in units of CLOCKS_PER_SEC, which POSIX fixes at 10^6.
    fn clock() -> c_long;
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => print_answer(),
        [flag, calls] if flag == "--bench" => match calls.parse::<u32>() {
            Ok(calls) if calls > 0 => bench(calls),
            _ => usage(),
        },
        _ => usage(),
    }
}

fn print_answer() -> ExitCode {
    match std::thread::available_parallelism() {
        Ok(count) => {
            println!("{count}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("std::thread::available_parallelism() failed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn bench(calls: u32) -> ExitCode {
    // SAFETY: clock() has no preconditions.
    let start = unsafe { clock() };
    for _ in 0..calls {
        std::hint::black_box(std::thread::available_parallelism().ok());
    }
    let end = unsafe { clock() };
    println!("{:.1}", (end - start) as f64 * 1000.0 / f64::from(calls));
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: std_parallelism [--bench CALLS]");
    ExitCode::from(2)
}

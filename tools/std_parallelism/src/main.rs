//! The std reference: prints `std::thread::available_parallelism()` and nothing else,
//! so tests can run it in exactly the environment the module sees and compare.
//! It ignores KUMO_AVAILABLE_PARALLELISM on purpose: it is the detection baseline.
//!
//! `std_parallelism --bench N` instead times N calls and prints nanoseconds per call, in
//! wall-clock time (a monotonic clock, as lua/bench/call_cost.lua reads with luv's hrtime),
//! so `make bench` compares what a caller waits for, like with like.
//!
//! `std_parallelism --bench-mountinfo N` times N calls each followed by one whole read of
//! `/proc/self/mountinfo`: the least explain() can cost where std's usual paths do not show
//! the cgroup and it must read the mount table itself.
//!
//! `std_parallelism --exhausted` first takes every file descriptor it can, then prints std's
//! answer: std's answer where a process is at its descriptor limit (the fault lane).

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => print_answer(),
        [flag] if flag == "--exhausted" => {
            let mut held = Vec::new();
            while let Ok(file) = std::fs::File::open("/dev/null") {
                held.push(file);
            }
            print_answer()
        }
        [flag, calls] if flag == "--bench" || flag == "--bench-mountinfo" => {
            match calls.parse::<u32>() {
                Ok(calls) if calls > 0 => bench(calls, flag == "--bench-mountinfo"),
                _ => usage(),
            }
        }
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

fn bench(calls: u32, read_mountinfo: bool) -> ExitCode {
    let start = Instant::now();
    for _ in 0..calls {
        std::hint::black_box(std::thread::available_parallelism().ok());
        if read_mountinfo {
            std::hint::black_box(std::fs::read("/proc/self/mountinfo").ok());
        }
    }
    println!("{:.1}", start.elapsed().as_nanos() as f64 / f64::from(calls));
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: std_parallelism [--bench CALLS | --bench-mountinfo CALLS | --exhausted]");
    ExitCode::from(2)
}

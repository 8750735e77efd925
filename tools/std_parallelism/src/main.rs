//! The std reference: prints `std::thread::available_parallelism()` and nothing else,
//! so tests can run it in exactly the environment the module sees and compare.
//! It ignores KUMO_AVAILABLE_PARALLELISM on purpose: it is the detection baseline.

fn main() -> std::process::ExitCode {
    match std::thread::available_parallelism() {
        Ok(count) => {
            println!("{count}");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("std::thread::available_parallelism() failed: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! Helpers shared by the integration tests: the interpreter list (from the Makefile),
//! the loadable module built for each, and the std reference program.
#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The interpreters to test: `KUMO_LUAS` as exported by the Makefile, else asked of it.
pub fn interpreters() -> Vec<String> {
    let list = std::env::var("KUMO_LUAS").unwrap_or_else(|_| {
        let out = Command::new("make")
            .args(["-s", "--no-print-directory", "luas"])
            .current_dir(repo_root())
            .output()
            .expect("make luas");
        String::from_utf8(out.stdout).expect("interpreter list is UTF-8")
    });
    let interpreters: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
    // an empty list would make every loop over it pass with nothing run
    assert!(!interpreters.is_empty(), "KUMO_LUAS is empty: no interpreter to test");
    interpreters
}

/// The first CPU this process may run on, from the kernel's own list; the tests that pin a
/// thread or an interpreter need at least two allowed, or pinning would change nothing.
pub fn first_of_two_allowed_cpus() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let allowed = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .expect("Cpus_allowed_list")
        .trim()
        .to_owned();
    let count: usize = allowed
        .split(',')
        .map(|range| match range.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
            None => 1,
        })
        .sum();
    assert!(
        count >= 2,
        "this test needs at least 2 CPUs to pin to one; this process has {allowed}"
    );
    allowed.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

/// Builds (or finds up to date) `target/lua/<interpreter>/kumo_parallelism.so`, once per
/// interpreter per test process: tests run in parallel and must not rebuild under each other.
pub fn module_dir(interpreter: &str) -> PathBuf {
    static BUILT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut built = BUILT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !built.contains(interpreter) {
        let status = Command::new("make")
            .args(["-s", "--no-print-directory", "module"])
            .arg(format!("LUA={interpreter}"))
            .current_dir(repo_root())
            .status()
            .expect("make module");
        assert!(status.success(), "make module LUA={interpreter} failed");
        built.insert(interpreter.to_owned());
    }
    repo_root().join("target/lua").join(interpreter)
}

/// The std reference program (tools/std_parallelism), built by `make std-reference`,
/// which prints its path last.
pub fn std_reference() -> PathBuf {
    let out = Command::new("make")
        .args(["-s", "--no-print-directory", "std-reference"])
        .current_dir(repo_root())
        .output()
        .expect("make std-reference");
    let path = stdout_of(out);
    PathBuf::from(path.lines().last().expect("a path"))
}

pub fn stdout_of(output: Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output").trim().to_owned()
}

/// std's answer in the environment the `configure` closure gives a command.
pub fn std_answer(configure: impl Fn(&mut Command) -> &mut Command) -> usize {
    let mut command = Command::new(std_reference());
    configure(&mut command).env_remove("KUMO_AVAILABLE_PARALLELISM");
    stdout_of(command.output().expect("run std reference")).parse().expect("a count")
}

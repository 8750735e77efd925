//! Helpers shared by the integration tests: the interpreter list, the loadable module built
//! for each, and the std reference program, all as the Makefile builds and exports them.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What `make` exports for the integration tests; they never call make themselves.
fn from_make(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is unset: run the integration tests through `make test`, which builds \
             what they load and exports it"
        )
    })
}

/// The interpreters to test: `KUMO_LUAS` as exported by the Makefile.
pub fn interpreters() -> Vec<String> {
    let list = from_make("KUMO_LUAS");
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

/// The directory of the module built for `interpreter` (`make module`):
/// `$KUMO_LUA_MODULES/<interpreter>`.
pub fn module_dir(interpreter: &str) -> PathBuf {
    let dir = PathBuf::from(from_make("KUMO_LUA_MODULES")).join(interpreter);
    let module = dir.join("kumo_parallelism.so");
    assert!(
        module.is_file(),
        "{} is missing: `make module LUA={interpreter}` builds it",
        module.display()
    );
    dir
}

/// The std reference program (tools/std_parallelism, `make std-reference`).
pub fn std_reference() -> PathBuf {
    let path = PathBuf::from(from_make("KUMO_STD_REFERENCE"));
    assert!(path.is_file(), "{} is missing: `make std-reference` builds it", path.display());
    path
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

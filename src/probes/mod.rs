//! Probes: what the kernel tells about this process's CPUs, for `explain()`.
//!
//! They follow Rust std's rules for `available_parallelism()` to the letter, so that the
//! number they derive is the number std returns, while also keeping every intermediate
//! fact a person needs to understand it. Failure to read a kernel file narrows nothing;
//! it is reported, never raised. Filesystem roots are parameters ([`Roots`]) so that the
//! parsers are tested on fixture trees.

mod affinity;
mod cgroup_v1;
mod cgroup_v2;
mod cgroups;
mod mountinfo;

use std::io::Read;
use std::path::Path;

pub use affinity::Affinity;
#[cfg(target_os = "linux")]
pub use affinity::{affinity, online_cpus};
#[cfg(target_os = "linux")]
pub use cgroups::{cgroup, Roots};
#[cfg(test)]
pub(crate) fn cgroup_v2_fraction(limit: &str, period: &str) -> Option<f64> {
    cgroup_v2::fraction(Some(limit), Some(period))
}
pub use cgroups::{CgroupLevel, CgroupReport, CgroupVersion};

/// Reads a small kernel file whole. `fs::read` first asks the file's size (statx, lseek),
/// which kernel files do not know; reading into a stack buffer until EOF skips both, and
/// explain() reads several such files per call.
pub(crate) fn read_kernel_file(path: &Path) -> Option<Vec<u8>> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut content = Vec::new();
    let mut buffer = [0u8; 512];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Some(content),
            Ok(n) => content.extend_from_slice(buffer.get(..n).unwrap_or_default()),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// [`read_kernel_file`] as text; `None` when unreadable or not UTF-8 (std fails there too).
pub(crate) fn read_kernel_text(path: &Path) -> Option<String> {
    String::from_utf8(read_kernel_file(path)?).ok()
}

#[cfg(all(test, target_os = "linux"))]
mod fixture_tests;

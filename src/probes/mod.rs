//! Probes: what the kernel tells about this process's CPUs, for `explain()`.
//!
//! They follow Rust std's rules for `available_parallelism()` to the letter, so that the
//! number they derive is the number std returns, while also keeping every intermediate
//! fact a person needs to understand it. Failure to read a kernel file narrows nothing;
//! it is reported, never raised. Filesystem roots are parameters ([`Roots`]) so that the
//! parsers are tested on fixture trees.
//!
//! The files import one way: `membership` (which hierarchy, and the walk) uses `cgroup_v1`
//! and `cgroup_v2`, which use the shared types in `cgroups` and the file readers here.

mod affinity;
mod cgroup_v1;
mod cgroup_v2;
mod cgroups;
mod membership;
mod mountinfo;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use affinity::Affinity;
#[cfg(target_os = "linux")]
pub use affinity::{affinity, online_cpus, process_affinity};
#[cfg(test)]
pub(crate) use cgroups::fraction as cgroup_fraction;
pub use cgroups::{CgroupLevel, CgroupReport, CgroupVersion, Roots};
#[cfg(target_os = "linux")]
pub use membership::cgroup;
pub use membership::CgroupProbe;

/// A kernel file that std would read, which exists but could not be read. std counts what
/// it would have said as "no limit", so the answer may be larger than intended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableFile {
    /// The file, as the probe read it (under the probe's roots).
    pub path: PathBuf,
    /// The error, such as "Permission denied (os error 13)".
    pub error: String,
}

/// Reads a small kernel file whole. `fs::read` first asks the file's size (statx, lseek),
/// which kernel files do not know; reading into a stack buffer until EOF skips both, and
/// explain() reads several such files per call.
pub(crate) fn read_kernel_file(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut content = Vec::new();
    let mut buffer = [0u8; 512];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok(content),
            Ok(n) => content.extend_from_slice(buffer.get(..n).unwrap_or_default()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

/// Reads a kernel file std would read: its text, or `None` when it is missing, not UTF-8
/// (std fails there too), or unreadable; only the last is recorded in `unreadable`, since
/// a missing file is the normal way to say "no limit".
pub(crate) fn read_limit_file(path: &Path, unreadable: &mut Vec<UnreadableFile>) -> Option<String> {
    match read_kernel_file(path) {
        Ok(content) => String::from_utf8(content).ok(),
        Err(err) => {
            note_unreadable(path, &err, unreadable);
            None
        }
    }
}

/// Records `err` for `path` unless the file simply does not exist.
pub(crate) fn note_unreadable(path: &Path, err: &io::Error, unreadable: &mut Vec<UnreadableFile>) {
    if err.kind() != io::ErrorKind::NotFound {
        unreadable.push(UnreadableFile { path: path.to_path_buf(), error: err.to_string() });
    }
}

#[cfg(all(test, target_os = "linux"))]
mod fixture_tests;

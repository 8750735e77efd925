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
//! `steal` (hypervisor and steal time) and `namespace` (the cgroup namespace) stand alone.

mod affinity;
mod cgroup_v1;
mod cgroup_v2;
mod cgroups;
mod membership;
mod mountinfo;
mod namespace;
mod steal;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

#[cfg(target_os = "linux")]
pub use affinity::{affinity, online_cpus, process_affinity};
pub use affinity::{
    possible_cpus, status_affinity, Affinity, StdFallback, PROC_THREAD_SELF_STATUS, STD_FALLBACK,
    SYS_CPU_ONLINE, SYS_CPU_POSSIBLE,
};
pub use cgroups::{
    CgroupLevel, CgroupReport, CgroupVersion, MissReason, MissedCgroup, Roots, Unshown,
};
#[cfg(target_os = "linux")]
pub use membership::cgroup;
pub use membership::{CgroupProbe, Membership};
pub use namespace::{cgroup_namespace, PROC_CGROUP_INIT_INO, PROC_SELF_NS_CGROUP};
pub use steal::{cpu_steal_now, CpuSteal, StealProbe, STEAL_SHARE_MIN};

/// A kernel file that std would read, which exists but could not be read. std counts what
/// it would have said as "no limit", so the answer may be larger than intended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnreadableFile {
    /// The file, as the probe read it.
    pub path: PathBuf,
    /// The error, such as `Permission denied (os error 13)`.
    pub error: String,
}

/// The read size for small kernel files (a limit, a cgroup list): one read holds them.
const SMALL_READ: usize = 512;

/// Reads a small kernel file whole. `fs::read` first asks the file's size (statx, lseek),
/// which kernel files do not know; reading in chunks skips both, and explain() reads
/// several such files per call.
pub(crate) fn read_kernel_file(path: &Path) -> io::Result<Vec<u8>> {
    read_whole(path, SMALL_READ, Ends::AtShortRead)
}

/// The first `size` bytes of a file, or fewer if it is shorter: one `read`.
pub(crate) fn read_head(path: &Path, size: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0; size];
    let read = std::fs::File::open(path)?.read(&mut head)?;
    head.truncate(read);
    Ok(head)
}

/// `/proc/self/mountinfo` (or a fixture) whole, 64 KiB per `read`, until a read returns
/// nothing: the kernel's seq_file hands over whole records, about a page per `read`
/// whatever the size asked, so a short read is not the end (the size only saves growing
/// the buffer).
pub(crate) fn read_mountinfo(path: &Path) -> io::Result<Vec<u8>> {
    read_whole(path, 64 * 1024, Ends::AtEmptyRead)
}

/// When a file's content ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ends {
    /// At a read shorter than asked: the kernel formats a sysfs or cgroupfs value,
    /// `/proc/self/cgroup`, `/proc/stat` or a status file in one piece and hands over all it
    /// has up to the size asked (a regular file, such as a test fixture, does too), so the
    /// read that would only see the end is not made.
    AtShortRead,
    /// At a read that returns nothing.
    AtEmptyRead,
}

fn read_whole(path: &Path, chunk: usize, ends: Ends) -> io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut content = Vec::new();
    loop {
        let filled = content.len();
        content.resize(filled + chunk, 0);
        let read = file.read(content.get_mut(filled..).unwrap_or_default());
        match read {
            Ok(n) if n == 0 || (n < chunk && ends == Ends::AtShortRead) => {
                content.truncate(filled + n);
                return Ok(content);
            }
            Ok(n) => content.truncate(filled + n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => content.truncate(filled),
            Err(err) => return Err(err),
        }
    }
}

/// A number in a file std never reads (a burst, a weight), or `None` for any failure,
/// which is neither std's concern nor a finding.
pub(crate) fn read_extra_number(path: &Path) -> Option<u64> {
    let content = read_kernel_file(path).ok()?;
    std::str::from_utf8(&content).ok()?.trim().parse().ok()
}

/// What reading a limit file std would read gave.
pub(crate) struct LimitFile {
    /// Its text; `None` when it is missing, not UTF-8 (std fails there too), or unreadable.
    pub(crate) text: Option<String>,
    /// Whether it exists but could not be read (then it is also in `unreadable`).
    pub(crate) unreadable: bool,
}

/// Reads a kernel file std would read. Only a file that exists but cannot be read is
/// recorded in `unreadable`, since a missing file is the normal way to say "no limit".
pub(crate) fn read_limit_file(path: &Path, unreadable: &mut Vec<UnreadableFile>) -> LimitFile {
    match read_kernel_file(path) {
        Ok(content) => LimitFile { text: String::from_utf8(content).ok(), unreadable: false },
        Err(err) => LimitFile { text: None, unreadable: note_unreadable(path, &err, unreadable) },
    }
}

/// Records `err` for `path` unless the file simply does not exist; says whether it did.
pub(crate) fn note_unreadable(
    path: &Path,
    err: &io::Error,
    unreadable: &mut Vec<UnreadableFile>,
) -> bool {
    let exists = err.kind() != io::ErrorKind::NotFound;
    if exists {
        unreadable.push(UnreadableFile { path: path.to_path_buf(), error: err.to_string() });
    }
    exists
}

#[cfg(all(test, target_os = "linux"))]
mod fixture_tests;

#[cfg(all(test, target_os = "linux"))]
mod parser_properties;

#[cfg(test)]
mod scratch;

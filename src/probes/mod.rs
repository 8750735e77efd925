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
//! `namespace` (the cgroup namespace) stands alone.

mod affinity;
mod cgroup_v1;
mod cgroup_v2;
mod cgroups;
mod membership;
mod mountinfo;
mod namespace;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

#[cfg(target_os = "linux")]
pub use affinity::{affinity, online_cpus, process_affinity};
pub use affinity::{
    compact_list, possible_cpus, status_affinity, Affinity, PROC_THREAD_SELF_STATUS,
    SYS_CPU_ONLINE, SYS_CPU_POSSIBLE,
};
pub use cgroups::{
    CgroupLevel, CgroupReport, CgroupVersion, MissReason, MissedCgroup, Roots, Throttling, Unshown,
};
#[cfg(target_os = "linux")]
pub use membership::cgroup;
pub use membership::{CgroupProbe, Membership};
pub use namespace::{cgroup_namespace, PROC_CGROUP_INIT_INO, PROC_SELF_NS_CGROUP};

/// What kind of fault made a read fail, by its errno: each has its own remedy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// EACCES or EPERM: this user, or a sandbox's policy, may not read it.
    Permission,
    /// EMFILE or ENFILE: no file descriptor was left, the process's own (`ulimit -n`,
    /// systemd's `LimitNOFILE=`) or the system's: a passing state, or a descriptor leak.
    Descriptors,
    /// ENOMEM: the kernel could not allocate memory for the read: a passing state under memory
    /// pressure.
    Memory,
    /// EIO and every other error: an I/O or kernel error.
    Io,
}

impl Fault {
    /// Every kind's name, as Lua sees it, in the order of the variants (`as_str` indexes it,
    /// so a new variant does not compile until its name is here).
    pub const NAMES: [&'static str; 4] = ["permission", "descriptors", "memory", "io"];

    /// The kind of fault an error from the kernel is.
    pub fn of(error: &io::Error) -> Fault {
        match error.raw_os_error() {
            Some(libc::EACCES | libc::EPERM) => Fault::Permission,
            Some(libc::EMFILE | libc::ENFILE) => Fault::Descriptors,
            Some(libc::ENOMEM) => Fault::Memory,
            _ => Fault::Io,
        }
    }

    /// The name Lua sees: `"permission"` (EACCES, EPERM), `"descriptors"` (EMFILE, ENFILE),
    /// `"memory"` (ENOMEM) or `"io"` (EIO and every other error).
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Permission => Self::NAMES[0],
            Fault::Descriptors => Self::NAMES[1],
            Fault::Memory => Self::NAMES[2],
            Fault::Io => Self::NAMES[3],
        }
    }
}

/// A kernel file that exists but could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnreadableFile {
    /// The file, as the probe read it.
    pub path: PathBuf,
    /// The error, such as `Permission denied (os error 13)`.
    pub error: String,
    /// What kind of fault the error is.
    pub fault: Fault,
}

impl UnreadableFile {
    /// `error` on reading `path`, unless the file simply does not exist (`None`): a missing file
    /// is the normal way to say "no limit".
    pub(crate) fn of(path: &Path, error: &io::Error) -> Option<UnreadableFile> {
        (error.kind() != io::ErrorKind::NotFound).then(|| UnreadableFile {
            path: path.to_path_buf(),
            error: error.to_string(),
            fault: Fault::of(error),
        })
    }
}

/// The files a probe could not read: those std reads too, whose failure std counts as "no
/// limit", and those explain() reads for itself, whose failure leaves a question open.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadFaults {
    /// Files std reads too.
    pub std: Vec<UnreadableFile>,
    /// Files only explain() reads.
    pub own: Vec<UnreadableFile>,
}

/// The read size for small kernel files (a limit, a cgroup list): one read holds them.
const SMALL_READ: usize = 512;

/// Reads a small kernel file whole. `fs::read` first asks the file's size (statx, lseek),
/// which kernel files do not know; reading in chunks skips both, and explain() reads
/// several such files per call.
pub(crate) fn read_kernel_file(path: &Path) -> io::Result<Vec<u8>> {
    read_whole(path, SMALL_READ, Ends::AtShortRead)
}

/// `/proc/self/mountinfo` (or a fixture) whole, until a read returns nothing: the kernel's
/// seq_file hands over whole records, as many as fit the size asked, so a short read is not
/// the end. The buffer starts at a page and doubles.
pub(crate) fn read_mountinfo(path: &Path) -> io::Result<Vec<u8>> {
    read_whole(path, 4096, Ends::AtEmptyRead)
}

/// When a file's content ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ends {
    /// At a read shorter than asked: the kernel formats a sysfs or cgroupfs value,
    /// `/proc/self/cgroup` or a status file in one piece and hands over all it
    /// has up to the size asked (a regular file, such as a test fixture, does too), so the
    /// read that would only see the end is not made.
    AtShortRead,
    /// At a read that returns nothing.
    AtEmptyRead,
}

/// Reads `path` whole into a buffer of `first` bytes, doubled whenever it is full: only the
/// buffer's growth is zeroed (mountinfo read into a fresh 64 KiB buffer per read zeroed more
/// bytes than it read, a fifth of what explain() cost where std scans mountinfo).
fn read_whole(path: &Path, first: usize, ends: Ends) -> io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = Vec::new();
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            buffer.resize((buffer.len() * 2).max(first), 0);
        }
        let space = buffer.len() - filled;
        match file.read(buffer.get_mut(filled..).unwrap_or_default()) {
            Ok(n) => {
                filled += n;
                if n == 0 || (n < space && ends == Ends::AtShortRead) {
                    buffer.truncate(filled);
                    return Ok(buffer);
                }
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
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
    /// Whether it exists but could not be read (then it is also in the faults).
    pub(crate) unreadable: bool,
}

/// Reads a kernel file std would read. Only a file that exists but cannot be read is
/// recorded in `faults`, since a missing file is the normal way to say "no limit".
pub(crate) fn read_limit_file(path: &Path, faults: &mut ReadFaults) -> LimitFile {
    match read_kernel_file(path) {
        Ok(content) => LimitFile { text: String::from_utf8(content).ok(), unreadable: false },
        Err(err) => {
            let unreadable = UnreadableFile::of(path, &err);
            let exists = unreadable.is_some();
            faults.std.extend(unreadable);
            LimitFile { text: None, unreadable: exists }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod fixture_tests;

#[cfg(all(test, target_os = "linux"))]
mod parser_properties;

#[cfg(test)]
mod scratch;

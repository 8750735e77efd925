//! Which cgroup this process is in, and the CPU quota its hierarchy imposes.

use std::path::{Path, PathBuf};

use super::{cgroup_v1, cgroup_v2};

/// Where the cgroup probes read. [`Roots::default`] is the real system.
#[derive(Debug, Clone)]
pub struct Roots {
    /// `/proc/self/cgroup`: one line per hierarchy, `id:controllers:path`.
    pub proc_self_cgroup: PathBuf,
    /// `/proc/self/mountinfo`: consulted for v1 when the usual mount points fail.
    pub proc_self_mountinfo: PathBuf,
    /// `/sys/fs/cgroup`: the only place std looks for cgroup v2.
    pub sys_fs_cgroup: PathBuf,
}

impl Default for Roots {
    fn default() -> Self {
        Roots {
            proc_self_cgroup: PathBuf::from("/proc/self/cgroup"),
            proc_self_mountinfo: PathBuf::from("/proc/self/mountinfo"),
            sys_fs_cgroup: PathBuf::from("/sys/fs/cgroup"),
        }
    }
}

/// cgroup v1 (per-controller hierarchies) or v2 (one unified hierarchy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// One hierarchy per controller; the `cpu` one counts.
    V1,
    /// The unified hierarchy under `/sys/fs/cgroup`.
    V2,
}

/// One directory of the walk from the process's cgroup up to the hierarchy root.
#[derive(Debug, Clone, PartialEq)]
pub struct CgroupLevel {
    /// The cgroup path of this level, such as `/pod/ctr`; the root is `/`.
    pub path: String,
    /// The quota as read (`cpu.max` first field, or `cpu.cfs_quota_us`), when readable.
    pub limit: Option<String>,
    /// The period as read (`cpu.max` second field, or `cpu.cfs_period_us`), when readable.
    pub period: Option<String>,
    /// limit / period as a fraction of CPUs, when both are numbers and the period is not 0.
    pub cpus: Option<f64>,
    /// Whether this level sets the effective quota (the tightest, nearest the leaf on ties).
    pub binds: bool,
}

impl CgroupLevel {
    /// limit / period rounded down, as std computes it.
    pub(crate) fn whole_cpus(&self) -> Option<usize> {
        let limit = self.limit.as_deref()?.parse::<usize>().ok()?;
        let period = self.period.as_deref()?.parse::<usize>().ok()?;
        limit.checked_div(period)
    }
}

/// What the cgroup hierarchy says about this process's CPUs.
#[derive(Debug, Clone, PartialEq)]
pub struct CgroupReport {
    /// Which hierarchy `/proc/self/cgroup` pointed at.
    pub version: CgroupVersion,
    /// The process's cgroup path, as in `/proc/self/cgroup`.
    pub path: String,
    /// The hierarchy's mount point that was walked, when one was found.
    pub mount: Option<PathBuf>,
    /// The levels walked, leaf first.
    pub levels: Vec<CgroupLevel>,
    /// Why the walk found nothing or stopped early, in std's terms, when it did.
    pub note: Option<String>,
}

impl CgroupReport {
    /// The effective quota in CPUs (the tightest level), `None` when unlimited.
    pub fn quota(&self) -> Option<f64> {
        self.levels.iter().filter_map(|l| l.cpus).reduce(f64::min)
    }

    /// The quota as std applies it: rounded down, `None` when unlimited. Not yet raised
    /// to 1: std does that after taking the minimum.
    pub fn whole_quota(&self) -> Option<usize> {
        self.levels.iter().filter_map(CgroupLevel::whole_cpus).min()
    }

    /// The level that sets the quota.
    pub fn binding_level(&self) -> Option<&CgroupLevel> {
        self.levels.iter().find(|l| l.binds)
    }

    pub(crate) fn new(version: CgroupVersion, path: String) -> Self {
        CgroupReport { version, path, mount: None, levels: Vec::new(), note: None }
    }

    /// Marks the tightest level, nearest the leaf on ties, as the one that binds.
    pub(crate) fn mark_binding_level(&mut self) {
        let Some(quota) = self.quota() else { return };
        if let Some(level) = self.levels.iter_mut().find(|l| l.cpus == Some(quota)) {
            level.binds = true;
        }
    }
}

/// The cgroup this process is in and what its hierarchy limits, read as std reads it;
/// `None` when `/proc/self/cgroup` is unreadable or names no usable hierarchy.
pub fn cgroup(roots: &Roots) -> Option<CgroupReport> {
    let membership = super::read_kernel_file(&roots.proc_self_cgroup)?;
    let (relative_path, version) = parse_membership(&membership)?;
    let mut report = CgroupReport::new(version, format!("/{}", relative_path.display()));
    match version {
        CgroupVersion::V1 => cgroup_v1::walk(roots, &relative_path, &mut report),
        CgroupVersion::V2 => cgroup_v2::walk(roots, &relative_path, &mut report),
    }
    report.mark_binding_level();
    Some(report)
}

/// Picks the hierarchy std uses from `/proc/self/cgroup`: the last v1 line whose
/// controllers include `cpu`, else the v2 line (`0::/path`). Returns the path without its
/// leading `/`. Mirrors std's fold, including that a line with a version but no path field
/// forgets what was found before it.
pub(crate) fn parse_membership(content: &[u8]) -> Option<(PathBuf, CgroupVersion)> {
    let found = content.split(|&byte| byte == b'\n').fold(None, |previous, line| {
        let mut fields = line.splitn(3, |&byte| byte == b':');
        let version = match fields.nth(1) {
            Some(b"") => CgroupVersion::V2,
            Some(controllers)
                if std::str::from_utf8(controllers)
                    .is_ok_and(|list| list.split(',').any(|name| name == "cpu")) =>
            {
                CgroupVersion::V1
            }
            _ => return previous,
        };
        // an already-found v1 line trumps v2, since it names its controllers explicitly
        if previous.is_some() && version == CgroupVersion::V2 {
            return previous;
        }
        let path = fields.next()?;
        // std skips the first byte, the leading '/'
        Some((path.get(1..).unwrap_or_default().to_vec(), version))
    })?;
    let (path, version) = found;
    Some((path_from_bytes(path), version))
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

/// The cgroup path of `dir` below `mount`: `/` for the mount itself.
pub(crate) fn level_path(mount: &Path, dir: &Path) -> String {
    let below = dir.strip_prefix(mount).unwrap_or(dir);
    format!("/{}", below.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn membership(text: &str) -> Option<(String, CgroupVersion)> {
        parse_membership(text.as_bytes()).map(|(p, v)| (p.display().to_string(), v))
    }

    #[test]
    fn v2_only() {
        assert_eq!(membership("0::/pod/ctr\n"), Some(("pod/ctr".into(), CgroupVersion::V2)));
    }

    #[test]
    fn v1_cpu_line_trumps_v2() {
        let text = "12:memory:/m\n3:cpu,cpuacct:/docker/abc\n0::/other\n";
        assert_eq!(membership(text), Some(("docker/abc".into(), CgroupVersion::V1)));
    }

    #[test]
    fn v1_without_cpu_controller_is_ignored() {
        assert_eq!(membership("4:memory:/m\n2:cpuacct:/a\n"), None);
    }

    #[test]
    fn empty_file_names_nothing() {
        assert_eq!(membership(""), None);
    }

    #[test]
    fn line_without_path_field_forgets_earlier_lines() {
        assert_eq!(membership("0::/pod\n1:cpu\n"), None);
    }

    #[test]
    fn empty_path_is_the_root() {
        assert_eq!(membership("0::\n"), Some((String::new(), CgroupVersion::V2)));
    }
}

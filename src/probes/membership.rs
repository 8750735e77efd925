//! `/proc/self/cgroup`: which cgroup this process is in, and the walk of the hierarchy
//! std reads for it (cgroup v1 or v2), plus a cgroup2 mount that std does not read.

use std::path::{Path, PathBuf};

use super::cgroups::{CgroupReport, CgroupVersion, MissReason, MissedCgroup, Roots};
use super::mountinfo::{self, Hierarchy};
use super::{cgroup_v1, cgroup_v2, ReadFaults, UnreadableFile};

/// What `/proc/self/cgroup` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Membership {
    /// Not read (not Linux).
    #[default]
    Unknown,
    /// The file does not exist while `/proc/self` does: a kernel without cgroups, or a
    /// sandbox whose `/proc` lacks it.
    Missing,
    /// `/proc/self` does not exist: no `/proc` is mounted (a chroot, or a sandbox such as
    /// bwrap without `--proc`).
    NoProc,
    /// The file exists but could not be read.
    Unreadable,
    /// The file is empty, as under gVisor: the sandbox's own limits are outside it.
    Empty,
    /// It lists at least one hierarchy.
    Listed,
}

impl Membership {
    /// Every state, unknown first.
    pub const ALL: [Membership; 6] = [
        Membership::Unknown,
        Membership::Listed,
        Membership::Empty,
        Membership::Missing,
        Membership::NoProc,
        Membership::Unreadable,
    ];

    /// The name Lua sees: "listed", "empty", "missing", "no-proc" or "unreadable" (in the
    /// order of [`Membership::ALL`]); `None` when unknown.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Membership::Unknown => None,
            Membership::Listed => Some("listed"),
            Membership::Empty => Some("empty"),
            Membership::Missing => Some("missing"),
            Membership::NoProc => Some("no-proc"),
            Membership::Unreadable => Some("unreadable"),
        }
    }
}

/// What the cgroup probe found: the hierarchy std walks, the files std would read that
/// could not be read, and a cgroup2 mount std does not read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CgroupProbe {
    /// What `/proc/self/cgroup` said.
    pub membership: Membership,
    /// The hierarchy std walks; `None` when `/proc/self/cgroup` is missing or unreadable,
    /// or names no usable hierarchy.
    pub report: Option<CgroupReport>,
    /// Files that exist but could not be read: those std reads too (`/proc/self/cgroup`, limit
    /// files, mountinfo for v1), each counted as "no limit" by std, and those explain() alone
    /// reads (`cpu.stat`, mountinfo for v2).
    pub faults: ReadFaults,
    /// cgroup2 mounted somewhere other than `/sys/fs/cgroup`, showing this process's
    /// cgroup where `/sys/fs/cgroup` does not; the walk of it, leaf first, which std never
    /// reads.
    pub cgroup2_elsewhere: Option<CgroupReport>,
    /// The cgroup where explain()'s own lookup of mountinfo finds it and std's does not
    /// walk it (an escaped or hidden v1 mount, a v2 subtree at `/sys/fs/cgroup`).
    pub std_missed: Option<MissedCgroup>,
}

/// The cgroup this process is in and what its hierarchy limits, read as std reads it.
pub fn cgroup(roots: &Roots) -> CgroupProbe {
    let mut probe = CgroupProbe::default();
    let membership = match super::read_kernel_file(&roots.proc_self_cgroup) {
        Ok(content) => content,
        Err(err) => {
            let unreadable = UnreadableFile::of(&roots.proc_self_cgroup, &err);
            let exists = unreadable.is_some();
            probe.faults.std.extend(unreadable);
            // no /proc/self at all is no /proc, not a kernel without cgroups
            let proc_self = roots.proc_self_cgroup.parent().map(Path::exists);
            probe.membership = match (exists, proc_self) {
                (true, _) => Membership::Unreadable,
                (false, Some(false)) => Membership::NoProc,
                (false, _) => Membership::Missing,
            };
            return probe;
        }
    };
    let listed = membership.split(|&byte| byte == b'\n').any(|line| !line.trim_ascii().is_empty());
    probe.membership = if listed { Membership::Listed } else { Membership::Empty };
    let Some((relative_path, version)) = parse_membership(&membership) else { return probe };
    let mut report = CgroupReport::new(version, format!("/{}", relative_path.display()));
    match version {
        CgroupVersion::V1 => {
            probe.std_missed =
                cgroup_v1::walk(roots, &relative_path, &mut report, &mut probe.faults);
        }
        CgroupVersion::V2 => {
            cgroup_v2::walk(
                &roots.sys_fs_cgroup,
                &relative_path,
                None,
                &mut report,
                &mut probe.faults,
                roots.weight_at_root,
            );
            // Only when std found no cgroup2 directory for this process at /sys/fs/cgroup:
            // otherwise a second mount of the one v2 hierarchy shows the same files. This
            // keeps mountinfo, which can be long, off the usual path.
            if report.mount.is_none() {
                v2_elsewhere(roots, &relative_path, &mut report, &mut probe);
            }
        }
    }
    report.mark_binding_level();
    probe.report = Some(report);
    probe
}

/// Where std found no cgroup2 directory for this process at `/sys/fs/cgroup`: what
/// mountinfo shows of it. A cgroup2 mount elsewhere that shows it (the first, or the first
/// with a quota), which std never reads; `/sys/fs/cgroup` itself as a mount of a subtree
/// that holds it, where std looks for the whole path; or why no mount shows it.
fn v2_elsewhere(
    roots: &Roots,
    relative_path: &Path,
    report: &mut CgroupReport,
    probe: &mut CgroupProbe,
) {
    // the whole file is the diagnosis here, read once; std never reads it on v2, so an
    // unreadable mountinfo is not std's concern, only explain()'s
    let content = match super::read_mountinfo(&roots.proc_self_mountinfo) {
        Ok(content) => content,
        Err(err) => {
            probe.faults.own.extend(UnreadableFile::of(&roots.proc_self_mountinfo, &err));
            return;
        }
    };
    let mounts = mountinfo::cgroup_mounts(&content, Hierarchy::V2);
    let walk_at = |mount: &mountinfo::CgroupMount, below: &Path| {
        let mut found = CgroupReport::new(CgroupVersion::V2, report.path.clone());
        // std would not read these files, so what cannot be read there is not recorded
        cgroup_v2::walk(
            &mount.mount_point,
            below,
            Some(mount.root.to_string_lossy().into_owned()),
            &mut found,
            &mut ReadFaults::default(),
            roots.weight_at_root,
        );
        found.mount.as_ref()?;
        found.mark_binding_level();
        Some(found)
    };
    let shown = mounts
        .iter()
        .filter(|mount| mount.hidden_by.is_none())
        .filter_map(|mount| Some((mount, mount.below_root(relative_path)?)));
    // one of each is enough: the subtree at std's path, and elsewhere the first mount that
    // shows the cgroup, or the first with a quota where a later one has it
    let mut elsewhere: Option<CgroupReport> = None;
    for (mount, below) in shown {
        let at_std_path = mount.mount_point == roots.sys_fs_cgroup;
        let settled = if at_std_path {
            probe.std_missed.is_some()
        } else {
            elsewhere.as_ref().is_some_and(|first| first.quota().is_some())
        };
        if settled {
            continue;
        }
        let Some(found) = walk_at(mount, &below) else { continue };
        if at_std_path {
            let listed_mount = mount.listed_mount_point.clone();
            probe.std_missed =
                Some(MissedCgroup { reason: MissReason::Subtree, listed_mount, report: found });
        } else if elsewhere.is_none() || found.quota().is_some() {
            elsewhere = Some(found);
        }
    }
    probe.cgroup2_elsewhere = elsewhere;
    if probe.cgroup2_elsewhere.is_none() && probe.std_missed.is_none() {
        report.unshown = Some(mountinfo::unshown(&report.path, &mounts));
    }
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
            // std takes the list as UTF-8 first; the bytes are looked at before that check,
            // which only a list naming `cpu` needs
            Some(controllers)
                if controllers.split(|&byte| byte == b',').any(|name| name == b"cpu")
                    && std::str::from_utf8(controllers).is_ok() =>
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

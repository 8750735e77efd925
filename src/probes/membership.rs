//! `/proc/self/cgroup`: which cgroup this process is in, and the walk of the hierarchy
//! std reads for it (cgroup v1 or v2), plus a cgroup2 mount that std does not read.

use std::path::{Path, PathBuf};

use super::cgroups::{CgroupReport, CgroupVersion, Roots};
use super::{cgroup_v1, cgroup_v2, mountinfo, UnreadableFile};

/// What the cgroup probe found: the hierarchy std walks, the files std would read that
/// could not be read, and a cgroup2 quota std cannot see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CgroupProbe {
    /// The hierarchy std walks; `None` when `/proc/self/cgroup` is missing or unreadable,
    /// or names no usable hierarchy.
    pub report: Option<CgroupReport>,
    /// Files std would read (`/proc/self/cgroup`, limit files, mountinfo for v1) that exist
    /// but could not be read: std counts each as "no limit".
    pub unreadable: Vec<UnreadableFile>,
    /// cgroup2 mounted somewhere other than `/sys/fs/cgroup`, with a quota on this
    /// process's cgroup there that std never reads; the walk of it, leaf first.
    pub cgroup2_elsewhere: Option<CgroupReport>,
}

/// The cgroup this process is in and what its hierarchy limits, read as std reads it.
pub fn cgroup(roots: &Roots) -> CgroupProbe {
    let mut probe = CgroupProbe::default();
    let membership = match super::read_kernel_file(&roots.proc_self_cgroup) {
        Ok(content) => content,
        Err(err) => {
            super::note_unreadable(&roots.proc_self_cgroup, &err, &mut probe.unreadable);
            return probe;
        }
    };
    let Some((relative_path, version)) = parse_membership(&membership) else { return probe };
    let mut report = CgroupReport::new(version, format!("/{}", relative_path.display()));
    match version {
        CgroupVersion::V1 => {
            cgroup_v1::walk(roots, &relative_path, &mut report, &mut probe.unreadable)
        }
        CgroupVersion::V2 => {
            cgroup_v2::walk(
                &roots.sys_fs_cgroup,
                &relative_path,
                &mut report,
                &mut probe.unreadable,
            );
            // Only when std found no cgroup2 directory for this process at /sys/fs/cgroup:
            // otherwise a second mount of the one v2 hierarchy shows the same files. This
            // keeps mountinfo, which can be long, off the usual path.
            if report.mount.is_none() {
                probe.cgroup2_elsewhere = cgroup2_elsewhere(roots, &relative_path);
            }
        }
    }
    report.mark_binding_level();
    probe.report = Some(report);
    probe
}

/// The first cgroup2 mount other than `roots.sys_fs_cgroup` that holds this process's
/// cgroup and limits it somewhere on the way up, walked as std would walk it there.
fn cgroup2_elsewhere(roots: &Roots, relative_path: &Path) -> Option<CgroupReport> {
    // the whole file is the diagnosis here: read it in large chunks
    let content = super::read_in_chunks(&roots.proc_self_mountinfo, super::LARGE_READ).ok()?;
    mountinfo::cgroup2_mounts(&content)
        .into_iter()
        .filter(|(_, mount_point)| *mount_point != roots.sys_fs_cgroup)
        .find_map(|(root, mount_point)| {
            // the mount shows the subtree at `root`: this cgroup must lie below it
            let below_root = relative_path.strip_prefix(&root).ok()?;
            let mut report =
                CgroupReport::new(CgroupVersion::V2, format!("/{}", relative_path.display()));
            // std would not read these files, so what cannot be read there is not recorded
            cgroup_v2::walk(&mount_point, below_root, &mut report, &mut Vec::new());
            report.quota()?;
            report.mark_binding_level();
            Some(report)
        })
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

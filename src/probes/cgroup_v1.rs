//! cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` in the `cpu` controller hierarchy.

use std::path::{Path, PathBuf};

use super::cgroups::{fraction, level_path, CgroupLevel, CgroupReport, Roots};
use super::{mountinfo, read_limit_file, UnreadableFile};

/// Microseconds of CPU time per period the group may use; -1 when unlimited.
const CFS_QUOTA_US: &str = "cpu.cfs_quota_us";
/// The length of the accounting period in microseconds.
const CFS_PERIOD_US: &str = "cpu.cfs_period_us";

/// Finds the hierarchy as std does (`cpu`, then `cpu,cpuacct` under `/sys/fs/cgroup`,
/// then mountinfo), takes the first whose directory for this cgroup exists, and reads
/// every level from there up to the mount point. Files that exist but cannot be read go
/// to `unreadable`.
pub(crate) fn walk(
    roots: &Roots,
    relative_path: &Path,
    report: &mut CgroupReport,
    unreadable: &mut Vec<UnreadableFile>,
) {
    let usual_mounts = [roots.sys_fs_cgroup.join("cpu"), roots.sys_fs_cgroup.join("cpu,cpuacct")]
        .into_iter()
        .map(|mount| (mount, relative_path.to_path_buf()));
    // mountinfo can be long, so std reads it only when the usual places fail
    let mut mountinfo_error = None;
    let from_mountinfo =
        std::iter::once_with(|| match super::read_kernel_file(&roots.proc_self_mountinfo) {
            Ok(content) => mountinfo::cpu_mount(&content, relative_path),
            Err(err) => {
                mountinfo_error = Some(err);
                None
            }
        })
        .flatten();

    let found = usual_mounts
        .chain(from_mountinfo)
        .find(|(mount, group)| mount.join(group).try_exists().unwrap_or(false));
    if let Some(err) = mountinfo_error {
        super::note_unreadable(&roots.proc_self_mountinfo, &err, unreadable);
    }
    let Some((mount, group)) = found else {
        report.note =
            Some(format!("no cpu controller hierarchy holds {}: no quota applies", report.path));
        return;
    };

    let mut dir: PathBuf = mount.join(&group);
    while dir.starts_with(&mount) {
        let mut read =
            |name| read_limit_file(&dir.join(name), unreadable).map(|text| text.trim().to_owned());
        let limit = read(CFS_QUOTA_US);
        let period = read(CFS_PERIOD_US);
        report.levels.push(CgroupLevel {
            path: level_path(&mount, &dir),
            cpus: fraction(limit.as_deref(), period.as_deref()),
            limit,
            period,
            binds: false,
        });
        if !dir.pop() {
            break;
        }
    }
    report.mount = Some(mount);
}

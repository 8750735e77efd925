//! cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` in the `cpu` controller hierarchy.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::cgroups::{level_path, CgroupLevel, CgroupReport, Roots, CPU_SHARES};
use super::{mountinfo, read_extra_number, read_limit_file, UnreadableFile};

/// Microseconds of CPU time per period the group may use; -1 when unlimited.
const CFS_QUOTA_US: &str = "cpu.cfs_quota_us";
/// The length of the accounting period in microseconds.
const CFS_PERIOD_US: &str = "cpu.cfs_period_us";
/// Microseconds per period the group may run above its quota from time saved earlier.
const CFS_BURST_US: &str = "cpu.cfs_burst_us";
/// std reads mountinfo through a `BufReader` of this (its default) capacity: the same
/// reads, so the kernel formats no more of a long mountinfo for explain() than for std.
const MOUNTINFO_BUFFER: usize = 8 * 1024;

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
    // mountinfo can be long, so std reads it only when the usual places fail, and only up
    // to the first line that names the cpu hierarchy
    let mut mountinfo_error = None;
    let mut mountinfo_lines = None;
    let from_mountinfo = std::iter::once_with(|| {
        let scan = File::open(&roots.proc_self_mountinfo).and_then(|file| {
            let reader = BufReader::with_capacity(MOUNTINFO_BUFFER, file);
            mountinfo::scan_for_cpu_mount(reader, relative_path)
        });
        match scan {
            Ok(scan) => {
                mountinfo_lines = Some(scan.lines);
                scan.found
            }
            Err(err) => {
                mountinfo_error = Some(err);
                None
            }
        }
    })
    .flatten();

    let found = usual_mounts
        .chain(from_mountinfo)
        .find(|(mount, group)| mount.join(group).try_exists().unwrap_or(false));
    report.mountinfo_lines = mountinfo_lines;
    if let Some(err) = mountinfo_error {
        super::note_unreadable(&roots.proc_self_mountinfo, &err, unreadable);
    }
    let Some((mount, group)) = found else {
        report.note =
            Some(format!("no cpu controller hierarchy holds {}: no quota applies", report.path));
        return;
    };

    let leaf: PathBuf = mount.join(&group);
    let mut dir = leaf.clone();
    while dir.starts_with(&mount) {
        let limit_file = read_limit_file(&dir.join(CFS_QUOTA_US), unreadable);
        let period_file = read_limit_file(&dir.join(CFS_PERIOD_US), unreadable);
        let limit = limit_file.text.map(|text| text.trim().to_owned());
        let period = period_file.text.map(|text| text.trim().to_owned());
        let mut level = CgroupLevel::read(level_path(&mount, &dir), limit, period);
        if level.cpus.is_some() {
            level.burst_us = read_extra_number(&dir.join(CFS_BURST_US));
        }
        level.unreadable = limit_file.unreadable;
        report.levels.push(level);
        if !dir.pop() {
            break;
        }
    }
    if report.quota().is_none() && (roots.weight_at_root || report.path != "/") {
        report.weight = read_extra_number(&leaf.join(CPU_SHARES));
    }
    report.mount = Some(mount);
}

//! cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` in the `cpu` controller hierarchy,
//! found as std finds it, and, where std's usual paths do not show the cgroup, as
//! explain()'s own lookup finds it in mountinfo.

use std::path::{Path, PathBuf};

use super::cgroups::{
    level_path, CgroupLevel, CgroupReport, CgroupVersion, MissReason, MissedCgroup, Roots,
    Throttling,
};
use super::mountinfo::{self, CgroupMount, Hierarchy, StdMount};
use super::{read_extra_number, read_limit_file, ReadFaults, UnreadableFile};

/// Microseconds of CPU time per period the group may use; -1 when unlimited.
const CFS_QUOTA_US: &str = "cpu.cfs_quota_us";
/// The length of the accounting period in microseconds.
const CFS_PERIOD_US: &str = "cpu.cfs_period_us";
/// Microseconds per period the group may run above its quota from time saved earlier.
const CFS_BURST_US: &str = "cpu.cfs_burst_us";

/// The mounts std tries before it reads mountinfo, below `/sys/fs/cgroup`.
const USUAL_MOUNTS: [&str; 2] = ["cpu", "cpu,cpuacct"];

/// Finds the hierarchy as std does (`cpu`, then `cpu,cpuacct` under `/sys/fs/cgroup`,
/// then the first fitting line of mountinfo), takes it if its directory for this cgroup
/// exists, and reads every level from there up to the mount point into `report`. Where
/// the usual paths do not show the cgroup, mountinfo is read once, whole, for std's search
/// and for explain()'s own: what that finds where std's walk does not go is returned.
/// Files std would read that exist but cannot be read go to `faults`.
pub(crate) fn walk(
    roots: &Roots,
    relative_path: &Path,
    report: &mut CgroupReport,
    faults: &mut ReadFaults,
) -> Option<MissedCgroup> {
    for usual in USUAL_MOUNTS {
        let mount = roots.sys_fs_cgroup.join(usual);
        if mount.join(relative_path).try_exists().unwrap_or(false) {
            walk_levels(&mount, relative_path, None, report, faults, roots.weight_at_root);
            return None;
        }
    }
    // mountinfo can be long, so std reads it only when the usual places fail; so does
    // explain(), once, for both searches
    let content = match super::read_mountinfo(&roots.proc_self_mountinfo) {
        Ok(content) => content,
        Err(err) => {
            faults.std.extend(UnreadableFile::of(&roots.proc_self_mountinfo, &err));
            report.note = Some(format!(
                "{} could not be read: std finds no cpu controller hierarchy, so no quota \
                 applies",
                roots.proc_self_mountinfo.display()
            ));
            return None;
        }
    };
    let scan = mountinfo::std_cpu_mount(&content, relative_path);
    report.mountinfo_lines = Some(scan.lines);
    let std_dir = scan.found.as_ref().and_then(|found| {
        let dir = Path::new(&found.mount_point).join(&found.below_root);
        dir.try_exists().unwrap_or(false).then_some((found, dir))
    });
    if let Some((found, _)) = &std_dir {
        let mount = PathBuf::from(&found.mount_point);
        let root = mountinfo::unescape(&found.root).to_string_lossy().into_owned();
        walk_levels(&mount, &found.below_root, Some(root), report, faults, roots.weight_at_root);
    }

    let mounts = mountinfo::cgroup_mounts(&content, Hierarchy::V1Cpu);
    let std_walked = std_dir.as_ref().map(|(_, dir)| dir.as_path());
    let shown = best_shown(&mounts, relative_path, std_walked);
    let missed = shown.and_then(|(mount, below)| {
        let dir = mount.mount_point.join(&below);
        if std_walked == Some(dir.as_path()) {
            return None;
        }
        let reason = miss_reason(scan.found.as_ref(), std_dir.is_some(), mount, &mounts, &scan);
        let mut found = CgroupReport::new(report.version, report.path.clone());
        // std would not read these files, so what cannot be read there is not recorded
        walk_levels(
            &mount.mount_point,
            &below,
            Some(mount.root.to_string_lossy().into_owned()),
            &mut found,
            &mut ReadFaults::default(),
            roots.weight_at_root,
        );
        found.mark_binding_level();
        Some(MissedCgroup { reason, listed_mount: mount.listed_mount_point.clone(), report: found })
    });
    if std_dir.is_none() {
        report.note = Some(format!(
            "no cpu controller hierarchy std finds holds {}: no quota applies",
            report.path
        ));
        if missed.is_none() {
            report.unshown = Some(mountinfo::unshown(&report.path, &mounts));
        }
    }
    missed
}

/// The mount that shows the cgroup with the most levels above it: visible, its root
/// containing the cgroup, its directory there; the first of those with the shortest root.
/// The directory std walked (`known`) is known to be there: it is not looked up again.
pub(crate) fn best_shown<'a>(
    mounts: &'a [CgroupMount],
    relative_path: &Path,
    known: Option<&Path>,
) -> Option<(&'a CgroupMount, PathBuf)> {
    let mut shown: Vec<(&CgroupMount, PathBuf)> = mounts
        .iter()
        .filter(|mount| mount.hidden_by.is_none())
        .filter_map(|mount| Some((mount, mount.below_root(relative_path)?)))
        .collect();
    // the shortest root first, the first listed among equals
    shown.sort_by_key(|(mount, _)| mount.root.components().count());
    shown.into_iter().find(|(mount, below)| {
        let dir = mount.mount_point.join(below);
        known == Some(dir.as_path()) || dir.try_exists().unwrap_or(false)
    })
}

/// Why std's search did not walk `mount`, the one explain() found.
fn miss_reason(
    taken: Option<&StdMount>,
    std_walked: bool,
    mount: &CgroupMount,
    mounts: &[CgroupMount],
    scan: &mountinfo::CpuMountScan,
) -> MissReason {
    let Some(taken) = taken else {
        // std found no line: its search stopped early, or the root it compared is escaped
        let stopped = scan.lines < mount.line;
        return if stopped {
            MissReason::StoppedAt { line: scan.lines }
        } else {
            MissReason::EscapedRoot
        };
    };
    let listed = |m: &&CgroupMount| m.listed_mount_point == taken.mount_point;
    let taken_mount = mounts.iter().find(|m| listed(m) && m.listed_root == taken.root);
    if !std_walked && mountinfo::is_escaped(&taken.mount_point) {
        return MissReason::EscapedMountPoint;
    }
    if let Some(by) = taken_mount.and_then(|m| m.hidden_by.clone()).filter(|_| !std_walked) {
        return MissReason::Shadowed { taken: taken.mount_point.clone(), by };
    }
    if mountinfo::is_escaped(&mount.listed_root) && mount.line < taken_mount.map_or(0, |m| m.line) {
        return MissReason::EscapedRoot;
    }
    MissReason::FirstLineOnly { taken: taken.mount_point.clone() }
}

/// Reads every level from `mount/below` up to `mount`, as std does: the quota, and the
/// period where the quota is a number (std reads it too, but without a quota it decides
/// nothing, and each read is a file opened). The leaf's shares where no level has a quota.
fn walk_levels(
    mount: &Path,
    below: &Path,
    mount_root: Option<String>,
    report: &mut CgroupReport,
    faults: &mut ReadFaults,
    weight_at_root: bool,
) {
    let leaf = mount.join(below);
    let mut dir = leaf.clone();
    // the leaf and each directory above it up to the mount, as std's `starts_with` walk
    for _ in 0..=below.components().count() {
        let limit_file = read_limit_file(&dir.join(CFS_QUOTA_US), faults);
        let limit = limit_file.text.map(|text| text.trim().to_owned());
        let period = if limit.as_deref().is_some_and(|limit| limit.parse::<usize>().is_ok()) {
            read_limit_file(&dir.join(CFS_PERIOD_US), faults)
                .text
                .map(|text| text.trim().to_owned())
        } else {
            None
        };
        let path = level_path(mount, &dir, mount_root.as_deref());
        let mut level = CgroupLevel::read(path, limit, period);
        if level.cpus.is_some() {
            level.burst_us = read_extra_number(&dir.join(CFS_BURST_US));
            level.throttling = Throttling::read(&dir, CgroupVersion::V1, faults);
        }
        level.unreadable = limit_file.unreadable;
        report.levels.push(level);
        if !dir.pop() {
            break;
        }
    }
    report.finish_walk(mount, mount_root, &leaf, weight_at_root);
}

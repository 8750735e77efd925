//! cgroup v2: `cpu.max` at every level from the process's cgroup up to `/sys/fs/cgroup`.

use std::path::Path;

use super::cgroups::{level_path, CgroupLevel, CgroupReport, CgroupVersion, Throttling};
use super::{read_extra_number, read_limit_file, ReadFaults};

/// Lists the controllers enabled in a cgroup2 directory; its presence marks cgroup2.
const CGROUP_CONTROLLERS: &str = "cgroup.controllers";
/// `$MAX $PERIOD`: the quota in microseconds per period, `max` when unlimited.
const CPU_MAX: &str = "cpu.max";
/// Microseconds per period the group may run above `cpu.max` from time saved earlier.
const CPU_MAX_BURST: &str = "cpu.max.burst";

/// Walks from the leaf up to `mount`, as std does (std only ever passes `/sys/fs/cgroup`):
/// only when the leaf has `cgroup.controllers`, and stopping at a `cpu.max` whose first
/// line is missing or has a single field (std gives up on the rest of the walk there).
/// A `cpu.max` that exists but cannot be read goes to `faults`; at each level with a quota,
/// the throttling counters are read from `cpu.stat`.
pub(crate) fn walk(
    mount: &Path,
    relative_path: &Path,
    mount_root: Option<String>,
    report: &mut CgroupReport,
    faults: &mut ReadFaults,
    weight_at_root: bool,
) {
    let leaf = mount.join(relative_path);
    if !leaf.join(CGROUP_CONTROLLERS).try_exists().unwrap_or(false) {
        report.note = Some(format!(
            "no {} in {}: not a cgroup2 hierarchy, so no quota applies (std ignores it too)",
            CGROUP_CONTROLLERS,
            leaf.display()
        ));
        return;
    }
    walk_levels(mount, &leaf, mount_root.as_deref(), report, faults);
    report.finish_walk(mount, mount_root, &leaf, weight_at_root);
}

fn walk_levels(
    mount: &Path,
    leaf: &Path,
    mount_root: Option<&str>,
    report: &mut CgroupReport,
    faults: &mut ReadFaults,
) {
    let mut dir = leaf.to_path_buf();
    while dir.starts_with(mount) {
        let cpu_max = read_limit_file(&dir.join(CPU_MAX), faults);
        // the first line's two fields; a file whose first line is missing or has no period
        // stops std's walk
        let (limit, period, stops) = match cpu_max.text.as_deref().map(|c| c.lines().next()) {
            Some(first) => {
                let mut fields = first.unwrap_or_default().split(' ');
                let limit = fields.next().filter(|f| !f.is_empty()).map(str::to_owned);
                let period = fields.next().map(str::to_owned);
                let stops = first.is_none() || period.is_none();
                (limit, period, stops)
            }
            None => (None, None, false),
        };
        let mut level = CgroupLevel::read(level_path(mount, &dir, mount_root), limit, period);
        level.unreadable = cpu_max.unreadable;
        if level.cpus.is_some() {
            level.burst_us = read_extra_number(&dir.join(CPU_MAX_BURST));
            level.throttling = Throttling::read(&dir, CgroupVersion::V2, faults);
        }
        if stops {
            report.note = Some(format!(
                "{} in {} has no period: std stops walking up there",
                CPU_MAX, level.path
            ));
            report.levels.push(level);
            return;
        }
        report.levels.push(level);
        if !dir.pop() {
            break;
        }
    }
}

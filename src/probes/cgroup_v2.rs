//! cgroup v2: `cpu.max` at every level from the process's cgroup up to `/sys/fs/cgroup`.

use std::path::Path;

use super::cgroups::{level_path, CgroupLevel, CgroupReport, Roots};

/// Lists the controllers enabled in a cgroup2 directory; its presence marks cgroup2.
const CGROUP_CONTROLLERS: &str = "cgroup.controllers";
/// `$MAX $PERIOD`: the quota in microseconds per period, `max` when unlimited.
const CPU_MAX: &str = "cpu.max";

/// Walks from the leaf up, as std does: only under `roots.sys_fs_cgroup`, only when the
/// leaf has `cgroup.controllers`, and stopping at a `cpu.max` whose first line is missing
/// or has a single field (std gives up on the rest of the walk there).
pub(crate) fn walk(roots: &Roots, relative_path: &Path, report: &mut CgroupReport) {
    let mount = roots.sys_fs_cgroup.as_path();
    let mut dir = mount.join(relative_path);
    if !dir.join(CGROUP_CONTROLLERS).try_exists().unwrap_or(false) {
        report.note = Some(format!(
            "no {} in {}: not a cgroup2 hierarchy, so no quota applies (std ignores it too)",
            CGROUP_CONTROLLERS,
            dir.display()
        ));
        return;
    }
    report.mount = Some(mount.to_path_buf());
    while dir.starts_with(mount) {
        let mut level = CgroupLevel {
            path: level_path(mount, &dir),
            limit: None,
            period: None,
            cpus: None,
            binds: false,
        };
        if let Some(content) = super::read_kernel_text(&dir.join(CPU_MAX)) {
            let mut fields = content.lines().next().unwrap_or_default().split(' ');
            let limit = fields.next().filter(|f| !f.is_empty());
            let period = fields.next();
            level.limit = limit.map(str::to_owned);
            level.period = period.map(str::to_owned);
            level.cpus = fraction(level.limit.as_deref(), level.period.as_deref());
            if content.lines().next().is_none() || period.is_none() {
                report.note = Some(format!(
                    "{} in {} has no period: std stops walking up there",
                    CPU_MAX, level.path
                ));
                report.levels.push(level);
                return;
            }
        }
        report.levels.push(level);
        if !dir.pop() {
            break;
        }
    }
}

/// limit / period in CPUs when both are unsigned numbers and the period is not zero.
pub(crate) fn fraction(limit: Option<&str>, period: Option<&str>) -> Option<f64> {
    let limit = limit?.parse::<usize>().ok()?;
    let period = period?.parse::<usize>().ok()?;
    (period > 0).then(|| limit as f64 / period as f64)
}

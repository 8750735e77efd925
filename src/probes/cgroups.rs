//! What the cgroup probes share: where they read ([`Roots`]), what they report
//! ([`CgroupReport`], one [`CgroupLevel`] per directory), and the arithmetic of a quota.
//! The version-specific walks (`cgroup_v1`, `cgroup_v2`) import this file, never the reverse.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{read_kernel_file, ReadFaults, UnreadableFile};

/// Where the cgroup probes read. [`Roots::default`] is the real system.
#[derive(Debug, Clone)]
pub struct Roots {
    /// `/proc/self/cgroup`: one line per hierarchy, `id:controllers:path`.
    pub proc_self_cgroup: PathBuf,
    /// `/proc/self/mountinfo`: consulted for v1 when the usual mount points fail (the real
    /// one is read again only when the kernel says the mount table changed).
    pub proc_self_mountinfo: PathBuf,
    /// `/sys/fs/cgroup`: the only place std looks for cgroup v2.
    pub sys_fs_cgroup: PathBuf,
    /// Whether the root cgroup's weight is worth a read: not when the root is the machine's
    /// own (the initial cgroup namespace), whose weight divides nothing.
    pub weight_at_root: bool,
}

impl Default for Roots {
    fn default() -> Self {
        Roots {
            proc_self_cgroup: PathBuf::from("/proc/self/cgroup"),
            proc_self_mountinfo: PathBuf::from("/proc/self/mountinfo"),
            sys_fs_cgroup: PathBuf::from("/sys/fs/cgroup"),
            weight_at_root: true,
        }
    }
}

/// cgroup v1 (per-controller hierarchies) or v2 (one unified hierarchy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CgroupVersion {
    /// One hierarchy per controller; the `cpu` one counts.
    V1,
    /// The unified hierarchy under `/sys/fs/cgroup`.
    V2,
}

/// v1: the group's relative weight under contention; 1024 by default.
const CPU_SHARES: &str = "cpu.shares";
/// v2: the group's relative weight under contention, 1 to 10000; 100 by default.
const CPU_WEIGHT: &str = "cpu.weight";
/// Both: the group's CPU statistics, one `key value` per line; with a quota, `nr_periods`,
/// `nr_throttled` and the time throttled (v1 `throttled_time` in ns, v2 `throttled_usec`).
const CPU_STAT: &str = "cpu.stat";

impl CgroupVersion {
    /// 1 or 2, as the report and Lua say it.
    pub fn number(self) -> u8 {
        match self {
            CgroupVersion::V1 => 1,
            CgroupVersion::V2 => 2,
        }
    }

    /// The file a cgroup's CPU weight is in: `cpu.shares` (v1) or `cpu.weight` (v2).
    pub fn weight_file(self) -> &'static str {
        match self {
            CgroupVersion::V1 => CPU_SHARES,
            CgroupVersion::V2 => CPU_WEIGHT,
        }
    }

    /// `cpu.stat`'s key for the time throttled, and that time from its number.
    fn throttled_time(self) -> (&'static str, fn(u64) -> Duration) {
        match self {
            CgroupVersion::V1 => ("throttled_time", Duration::from_nanos),
            CgroupVersion::V2 => ("throttled_usec", Duration::from_micros),
        }
    }

    /// The weight of a cgroup nobody configured: 1024 shares (v1), weight 100 (v2).
    pub fn default_weight(self) -> u64 {
        match self {
            CgroupVersion::V1 => 1024,
            CgroupVersion::V2 => 100,
        }
    }
}

/// One directory of the walk from the process's cgroup up to the hierarchy's root. The
/// limit and period are kept as the kernel wrote them (the report quotes them), and as
/// numbers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CgroupLevel {
    /// This level's cgroup path, such as `/pod/ctr`; the root is `/`.
    pub path: String,
    /// The quota as read (`cpu.max`'s first field, or `cpu.cfs_quota_us`): `150000`, `max`, `-1`;
    /// absent without a readable limit file.
    pub limit: Option<String>,
    /// The period as read (`cpu.max`'s second field, or `cpu.cfs_period_us`); absent without one, or
    /// on v1 where the quota is not a number (the period is not read then).
    pub period: Option<String>,
    /// The quota in microseconds per period, when `limit` is an unsigned number (not `max`
    /// nor `-1`), parsed as std parses it.
    pub limit_us: Option<usize>,
    /// The period in microseconds, when `period` is an unsigned number.
    pub period_us: Option<usize>,
    /// limit / period in CPUs, when both are numbers and the period is not 0; absent otherwise (no
    /// limit).
    pub cpus: Option<f64>,
    /// Whether this level sets the effective quota (the tightest, nearest the leaf on ties): `true`,
    /// or absent.
    pub binds: bool,
    /// The burst allowance in microseconds per period (`cpu.max.burst` on v2, `cpu.cfs_burst_us` on
    /// v1), read only where the level has a quota; std ignores it (`burst` in Lua). Absent without a
    /// quota or a readable burst file.
    pub burst_us: Option<u64>,
    /// Whether the limit file exists but could not be read (counted as no limit, as std does):
    /// `true`, or absent.
    pub unreadable: bool,
    /// How often this level's own quota held the cgroup back since it was created (`cpu.stat`),
    /// read only where the level has a quota; absent without one, or when the file cannot be read
    /// or lacks the counters. std ignores it.
    pub throttling: Option<Throttling>,
}

/// How often a cgroup's own quota held it back, since the cgroup was created: the kernel's
/// counters in its `cpu.stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Throttling {
    /// `nr_periods`: the quota periods in which the cgroup had threads that ran.
    pub periods: u64,
    /// `nr_throttled`: the periods in which it used up its quota, so that its threads waited for
    /// the next period.
    pub throttled: u64,
    /// How long its threads waited in all: `throttled_usec` on v2, `throttled_time` (in
    /// nanoseconds) on v1; in Lua and JSON, in seconds.
    pub time: Duration,
}

impl Throttling {
    /// The share of periods that were throttled, 0 to 1: throttled / periods.
    pub fn share(&self) -> f64 {
        if self.periods == 0 {
            return 0.0;
        }
        self.throttled as f64 / self.periods as f64
    }

    /// The counters of a `cpu.stat` of `version`; `None` when one of the three is missing or
    /// not a number (a kernel without CFS bandwidth control has none of them).
    pub(crate) fn parse(content: &str, version: CgroupVersion) -> Option<Throttling> {
        let (time_key, time_of) = version.throttled_time();
        let (mut periods, mut throttled, mut time) = (None, None, None);
        for line in content.lines() {
            let Some((key, value)) = line.split_once(' ') else { continue };
            let slot = match key {
                "nr_periods" => &mut periods,
                "nr_throttled" => &mut throttled,
                _ if key == time_key => &mut time,
                _ => continue,
            };
            *slot = Some(value.trim().parse::<u64>().ok()?);
        }
        Some(Throttling { periods: periods?, throttled: throttled?, time: time_of(time?) })
    }

    /// The counters in `dir`'s `cpu.stat`. A file that exists but cannot be read goes to the
    /// faults explain() alone met (std never reads it).
    pub(crate) fn read(
        dir: &Path,
        version: CgroupVersion,
        faults: &mut ReadFaults,
    ) -> Option<Self> {
        let path = dir.join(CPU_STAT);
        match read_kernel_file(&path) {
            Ok(content) => Throttling::parse(std::str::from_utf8(&content).ok()?, version),
            Err(err) => {
                faults.own.extend(UnreadableFile::of(&path, &err));
                None
            }
        }
    }
}

impl CgroupLevel {
    /// limit / period rounded down, as std computes it.
    pub(crate) fn whole_cpus(&self) -> Option<usize> {
        self.limit_us?.checked_div(self.period_us?)
    }

    /// The burst allowance in CPUs, burst / period, when it is positive over a usable period; absent
    /// otherwise.
    pub fn burst_cpus(&self) -> Option<f64> {
        let (burst, period) = (self.burst_us?, self.period_us?);
        (burst > 0 && period > 0).then(|| burst as f64 / period as f64)
    }

    /// A level with nothing read yet.
    pub(crate) fn at(path: String) -> Self {
        CgroupLevel {
            path,
            limit: None,
            period: None,
            limit_us: None,
            period_us: None,
            cpus: None,
            binds: false,
            burst_us: None,
            unreadable: false,
            throttling: None,
        }
    }

    /// A level with this limit and period as read, parsed once.
    pub(crate) fn read(path: String, limit: Option<String>, period: Option<String>) -> Self {
        let limit_us = limit.as_deref().and_then(|text| text.parse().ok());
        let period_us = period.as_deref().and_then(|text| text.parse().ok());
        let cpus = match (limit_us, period_us) {
            (Some(limit), Some(period)) if period > 0 => Some(limit as f64 / period as f64),
            _ => None,
        };
        CgroupLevel { limit, period, limit_us, period_us, cpus, ..CgroupLevel::at(path) }
    }
}

/// What the cgroup hierarchy says about this process's CPUs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CgroupReport {
    /// Which hierarchy `/proc/self/cgroup` pointed at: 1 or 2.
    pub version: CgroupVersion,
    /// The process's cgroup path, as `/proc/self/cgroup` names it, such as `/kubepods/pod1/ctr`.
    pub path: String,
    /// The hierarchy's mount point that was walked; absent where std's lookup walks none: no mount
    /// shows the process's cgroup where std looks (another may: `std_missed`,
    /// `cgroup2_elsewhere`), or the v2 leaf has no `cgroup.controllers`.
    pub mount: Option<PathBuf>,
    /// The levels walked, one per directory, leaf first.
    pub levels: Vec<CgroupLevel>,
    /// Why the walk found nothing or stopped early, in std's terms (for example a v2 leaf without
    /// `cgroup.controllers`); absent when it walked up to the mount's root.
    pub note: Option<String>,
    /// The leaf's CPU weight as read, only when no level has a quota, and not for the machine's own
    /// root cgroup: `cpu.weight` on v2 (default 100), `cpu.shares` on v1 (default 1024). std
    /// ignores it. Absent otherwise, or when it cannot be read.
    pub weight: Option<u64>,
    /// On v1, when std finds the `cpu` hierarchy at neither usual path and searches
    /// `/proc/self/mountinfo`: the lines of it std reads on every call. Absent otherwise.
    pub mountinfo_lines: Option<usize>,
    /// The subtree of the hierarchy the walked mount shows (mountinfo's root field, unescaped),
    /// known only where mountinfo was read: `/` for the whole hierarchy; the levels' paths are the
    /// cgroup's real paths below it. Absent where mountinfo was not read.
    pub mount_root: Option<String>,
    /// Why no mounted cgroup filesystem shows the process's cgroup; absent when one does, or when
    /// mountinfo could not be read to say so.
    pub unshown: Option<Unshown>,
}

/// Why no mounted cgroup filesystem shows the process's cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unshown {
    /// mountinfo lists no mount of the hierarchy at all (a container without the cgroup
    /// mount).
    NoneMounted,
    /// Every mount of the hierarchy is hidden by a later mount at or above it (as
    /// `bwrap --tmpfs /sys/fs/cgroup` leaves it): the first such, and what hides it.
    Hidden {
        /// The hidden mount point.
        mount: PathBuf,
        /// The later mount point that hides it.
        by: PathBuf,
    },
    /// `/proc/self/cgroup` names a path outside this process's cgroup namespace root
    /// (`/../x`): the process was moved out of the namespace's subtree, and no mount made
    /// in the namespace can show its cgroup.
    OutsideNamespaceRoot,
    /// The hierarchy is mounted and visible, but no mount shows this cgroup: each shows
    /// another subtree, or lacks the directory. Their mount points.
    ElsewhereOnly {
        /// The visible mount points of the hierarchy.
        mounts: Vec<PathBuf>,
    },
}

impl Unshown {
    /// Every kind's name, as Lua sees it, in the order of the variants (`as_str` indexes
    /// it, so a new variant does not compile until its name is here).
    pub const NAMES: [&'static str; 4] =
        ["none-mounted", "hidden", "outside-namespace-root", "elsewhere-only"];

    /// The mount point it names: the hidden one, or the first visible one; absent for
    /// `"none-mounted"` and `"outside-namespace-root"`.
    pub fn mount(&self) -> Option<&Path> {
        match self {
            Unshown::Hidden { mount, .. } => Some(mount),
            Unshown::ElsewhereOnly { mounts } => mounts.first().map(PathBuf::as_path),
            Unshown::NoneMounted | Unshown::OutsideNamespaceRoot => None,
        }
    }

    /// The later mount point that hides the mount; absent unless one is hidden.
    pub fn hidden_by(&self) -> Option<&Path> {
        match self {
            Unshown::Hidden { by, .. } => Some(by),
            _ => None,
        }
    }

    /// Which case it is, by the name Lua sees (`reason`): `"none-mounted"` (mountinfo lists no
    /// mount of the hierarchy), `"hidden"` (a later mount hides every one),
    /// `"outside-namespace-root"` (the cgroup lies outside this process's cgroup namespace root) or
    /// `"elsewhere-only"` (the mounts show other subtrees).
    pub fn as_str(&self) -> &'static str {
        match self {
            Unshown::NoneMounted => Self::NAMES[0],
            Unshown::Hidden { .. } => Self::NAMES[1],
            Unshown::OutsideNamespaceRoot => Self::NAMES[2],
            Unshown::ElsewhereOnly { .. } => Self::NAMES[3],
        }
    }
}

/// Why std's lookup did not walk the mount where explain()'s own lookup finds the cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MissReason {
    /// v1: mountinfo writes the mount point escaped (a space as `\040`), and std joins the
    /// escaped text into a path, which does not exist.
    EscapedMountPoint,
    /// v1: mountinfo writes the mount's root escaped, and std compares that text with the
    /// cgroup path `/proc/self/cgroup` names, which is not escaped.
    EscapedRoot,
    /// v1: std takes the first line naming a cpu controller whose root contains the cgroup,
    /// a mount a later mount hides, and finds no directory for the cgroup there.
    Shadowed {
        /// The mount point std takes, as written.
        taken: String,
        /// The later mount point that hides it.
        by: PathBuf,
    },
    /// v1: std takes the first line naming a cpu controller whose root contains the cgroup,
    /// and stops there: another mount (a later one, or one showing more levels) shows it.
    FirstLineOnly {
        /// The mount point std takes, as written.
        taken: String,
    },
    /// v1: std stops reading mountinfo at a line it cannot parse (not UTF-8, too few
    /// fields, or a root that is not absolute), before the mount.
    StoppedAt {
        /// The line std stops at, from 1.
        line: usize,
    },
    /// v2: `/sys/fs/cgroup` is a mount of the subtree at its root, and std looks for the
    /// whole cgroup path below it.
    Subtree,
}

impl MissReason {
    /// Every kind's name, as Lua sees it, in the order of the variants (`as_str` indexes
    /// it, so a new variant does not compile until its name is here).
    pub const NAMES: [&'static str; 6] = [
        "escaped-mount-point",
        "escaped-root",
        "shadowed",
        "first-line-only",
        "stopped-at",
        "subtree",
    ];

    /// The mount point std takes, as written; absent where it takes none.
    pub fn taken(&self) -> Option<&str> {
        match self {
            MissReason::Shadowed { taken, .. } | MissReason::FirstLineOnly { taken } => Some(taken),
            _ => None,
        }
    }

    /// The mount that hides the one std takes; absent unless it is hidden.
    pub fn hidden_by(&self) -> Option<&Path> {
        match self {
            MissReason::Shadowed { by, .. } => Some(by),
            _ => None,
        }
    }

    /// The line std stops reading at; absent unless it stops early.
    pub fn line(&self) -> Option<usize> {
        match self {
            MissReason::StoppedAt { line } => Some(*line),
            _ => None,
        }
    }

    /// The name Lua sees.
    pub fn as_str(&self) -> &'static str {
        match self {
            MissReason::EscapedMountPoint => Self::NAMES[0],
            MissReason::EscapedRoot => Self::NAMES[1],
            MissReason::Shadowed { .. } => Self::NAMES[2],
            MissReason::FirstLineOnly { .. } => Self::NAMES[3],
            MissReason::StoppedAt { .. } => Self::NAMES[4],
            MissReason::Subtree => Self::NAMES[5],
        }
    }
}

/// The process's cgroup where explain()'s own lookup finds it and std's does not walk it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MissedCgroup {
    /// Why std's lookup missed it: `"escaped-mount-point"` and `"escaped-root"` (mountinfo writes a
    /// space as `\040`, std uses the text as written), `"shadowed"` (std takes a mount a later one
    /// hides), `"first-line-only"` (std stops at the first fitting line), `"stopped-at"` (std stops
    /// at a line it cannot parse), `"subtree"` (v2: `/sys/fs/cgroup` shows a subtree).
    pub reason: MissReason,
    /// The mount point as mountinfo writes it, escaped (`mount` in Lua); the walk's `mount` is the
    /// same unescaped.
    pub listed_mount: String,
    /// The walk there, as std would walk it (`cgroup` in Lua).
    pub report: CgroupReport,
}

impl MissedCgroup {
    /// The mount point std takes instead, as written; absent where it takes none.
    pub fn taken(&self) -> Option<&str> {
        self.reason.taken()
    }

    /// The later mount point that hides the one std takes (`by` in Lua); absent unless it is hidden.
    pub fn hidden_by(&self) -> Option<&Path> {
        self.reason.hidden_by()
    }

    /// The line of mountinfo std stops reading at; absent unless it stops early.
    pub fn line(&self) -> Option<usize> {
        self.reason.line()
    }
}

impl CgroupReport {
    /// The effective quota in CPUs as a fraction (`1.5`), the tightest level's; absent when
    /// unlimited.
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
        CgroupReport {
            version,
            path,
            mount: None,
            levels: Vec::new(),
            note: None,
            weight: None,
            mountinfo_lines: None,
            mount_root: None,
            unshown: None,
        }
    }

    /// Whether the walked mount shows only a subtree of the hierarchy, so that the levels
    /// above its root cannot be read.
    pub fn shows_subtree(&self) -> bool {
        self.mount.is_some() && self.mount_root.as_deref().is_some_and(|root| root != "/")
    }

    /// Ends a walk of `mount` (whose root is `mount_root`, where known) from `leaf`: the
    /// mount, and the leaf's CPU weight where no level has a quota, though not for the
    /// machine's own root cgroup unless `weight_at_root` (it has no weight file).
    pub(crate) fn finish_walk(
        &mut self,
        mount: &Path,
        mount_root: Option<String>,
        leaf: &Path,
        weight_at_root: bool,
    ) {
        if self.quota().is_none() && (weight_at_root || self.path != "/") {
            self.weight = super::read_extra_number(&leaf.join(self.version.weight_file()));
        }
        self.mount = Some(mount.to_path_buf());
        self.mount_root = mount_root;
    }

    /// Marks the tightest level, nearest the leaf on ties, as the one that binds.
    pub(crate) fn mark_binding_level(&mut self) {
        let Some(quota) = self.quota() else { return };
        if let Some(level) = self.levels.iter_mut().find(|l| l.cpus == Some(quota)) {
            level.binds = true;
        }
    }
}

/// The cgroup path of `dir` below `mount`, whose root is `mount_root` (`/` when unknown):
/// `/` for the mount itself in the usual case, the mount's root for a subtree mount.
pub(crate) fn level_path(mount: &Path, dir: &Path, mount_root: Option<&str>) -> String {
    let below = dir.strip_prefix(mount).unwrap_or(dir).to_string_lossy();
    let root = mount_root.unwrap_or("/").trim_end_matches('/');
    let mut path = String::with_capacity(root.len() + below.len() + 2);
    path.push_str(root);
    if !below.is_empty() {
        path.push('/');
        path.push_str(&below);
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_stat_gives_the_throttling_counters_of_its_version() {
        let v2 = "usage_usec 9\nnr_periods 16\nnr_throttled 15\nthrottled_usec 1780012\n";
        let read = Throttling::parse(v2, CgroupVersion::V2).unwrap();
        assert_eq!((read.periods, read.throttled), (16, 15));
        assert_eq!(read.time, Duration::from_micros(1_780_012));
        assert_eq!(read.share(), 15.0 / 16.0);
        // v1 counts nanoseconds; a v2 file read as v1 lacks v1's key
        let v1 = "nr_periods 16\nnr_throttled 15\nthrottled_time 1780012345\n";
        assert_eq!(
            Throttling::parse(v1, CgroupVersion::V1).unwrap().time.as_nanos(),
            1_780_012_345
        );
        assert_eq!(Throttling::parse(v2, CgroupVersion::V1), None);
        // a counter that is not a number, and no periods at all
        assert_eq!(
            Throttling::parse(
                "nr_periods x\nnr_throttled 1\nthrottled_usec 1\n",
                CgroupVersion::V2
            ),
            None
        );
        let idle = Throttling::parse(
            "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
            CgroupVersion::V2,
        );
        assert_eq!(idle.unwrap().share(), 0.0);
    }

    #[test]
    fn a_level_s_path_is_the_mount_s_root_and_what_lies_below_it() {
        let mount = Path::new("/sys/fs/cgroup/cpu");
        assert_eq!(level_path(mount, mount, None), "/");
        assert_eq!(level_path(mount, &mount.join("docker/abc"), None), "/docker/abc");
        assert_eq!(level_path(mount, mount, Some("/docker/abc")), "/docker/abc");
        assert_eq!(level_path(mount, &mount.join("x"), Some("/docker/abc")), "/docker/abc/x");
        assert_eq!(level_path(mount, &mount.join("x"), Some("/")), "/x");
    }
}

//! What explain() returns: the facts behind the number, std's rule for deriving it from
//! them, and the report a person reads. Gathering them is `explain.rs`; judging them,
//! `diagnose.rs`. Both import this file; it imports neither.

use std::fmt;
use std::num::NonZeroUsize;

use crate::finding::Finding;
use crate::probes::{Affinity, CgroupReport, CgroupVersion, CpuSteal, UnreadableFile};
use crate::variable::OVERRIDE_VAR;

/// What decided the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `KUMO_AVAILABLE_PARALLELISM` is set (and valid, or the value is an error).
    Override,
    /// A cgroup quota below the CPUs the affinity mask allows.
    Cgroup,
    /// The calling thread's CPU affinity mask.
    Affinity,
    /// The online CPU count, because the affinity mask could not be read.
    Online,
}

impl Source {
    /// The name Lua sees: "override", "cgroup", "affinity" or "online".
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Override => "override",
            Source::Cgroup => "cgroup",
            Source::Affinity => "affinity",
            Source::Online => "online",
        }
    }
}

/// `KUMO_AVAILABLE_PARALLELISM` as set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideSetting {
    /// The value as set (bytes that are not UTF-8 shown as U+FFFD).
    pub raw: String,
    /// Why the value is rejected, when it is.
    pub error: Option<String>,
}

/// Why the number is what it is. Built by [`explain`]; its `Display` is a short report.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Explanation {
    /// Exactly what [`available_parallelism`](crate::available_parallelism) returns here;
    /// `None` when it would fail (an invalid override, or std failing).
    pub value: Option<NonZeroUsize>,
    /// What decided.
    pub source: Source,
    /// The override, `None` when the variable is unset.
    pub override_setting: Option<OverrideSetting>,
    /// The calling thread's affinity mask; `None` when unreadable or not on Linux.
    pub affinity: Option<Affinity>,
    /// Why the calling thread's mask could not be read, when it could not.
    pub affinity_error: Option<String>,
    /// The mask of the process's main thread, to compare with the calling thread's.
    pub process_affinity: Option<Affinity>,
    /// `sysconf(_SC_NPROCESSORS_ONLN)`; `None` when it fails or not on Linux.
    pub online: Option<usize>,
    /// std's own answer, `None` when std failed.
    pub std: Option<NonZeroUsize>,
    /// The cgroup hierarchy's view; `None` without cgroup information.
    pub cgroup: Option<CgroupReport>,
    /// cgroup files std would read that exist but could not be read (std: no limit).
    pub unreadable: Vec<UnreadableFile>,
    /// A cgroup2 hierarchy mounted elsewhere than `/sys/fs/cgroup` that limits this
    /// process's cgroup, which std never reads.
    pub cgroup2_elsewhere: Option<CgroupReport>,
    /// Whether the first CPU's flags in `/proc/cpuinfo` name a hypervisor; read only when
    /// the steal is at least 1% (`None` otherwise, and without x86 flags).
    pub hypervisor: Option<bool>,
    /// Steal time since boot, from `/proc/stat`'s `cpu` line.
    pub steal: Option<CpuSteal>,
    /// The inode of this process's cgroup namespace (`/proc/self/ns/cgroup`), `None` when
    /// the link cannot be read; [`PROC_CGROUP_INIT_INO`](crate::probes::PROC_CGROUP_INIT_INO)
    /// is the kernel's initial one.
    pub cgroup_namespace: Option<u64>,
    /// The number the probes derive by std's rules; equal to [`Explanation::std`] unless
    /// the kernel changed its answer between the two reads.
    pub derived: Option<NonZeroUsize>,
    /// What in these facts misleads, and what to change; empty when nothing does.
    pub findings: Vec<Finding>,
}

/// std's rule: the quota (at least 1) caps the affinity count; without a usable mask, it
/// caps the online count.
pub(crate) fn derive(
    cgroup: Option<&CgroupReport>,
    affinity: Option<&Affinity>,
    online: Option<usize>,
) -> Option<(NonZeroUsize, Source)> {
    let quota = cgroup.and_then(CgroupReport::whole_quota).unwrap_or(usize::MAX).max(1);
    if let Some(mask) = affinity.filter(|mask| mask.fits_std_set && mask.count > 0) {
        // the fractional quota decides the source: 0.5 CPU on a 1-CPU mask still binds
        let binds = cgroup.and_then(CgroupReport::quota).is_some_and(|q| q < mask.count as f64);
        let source = if binds { Source::Cgroup } else { Source::Affinity };
        return Some((NonZeroUsize::new(mask.count.min(quota))?, source));
    }
    Some((NonZeroUsize::new(online?.min(quota))?, Source::Online))
}

/// "1 CPU", "1.5 CPUs", "4 CPUs".
pub(crate) fn cpus(count: impl fmt::Display) -> String {
    let count = count.to_string();
    if count == "1" {
        "1 CPU".to_owned()
    } else {
        format!("{count} CPUs")
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.override_setting {
            None => writeln!(f, "override: {OVERRIDE_VAR} is unset")?,
            Some(setting) => match &setting.error {
                Some(error) => writeln!(f, "override: {error}")?,
                None => writeln!(f, "override: {OVERRIDE_VAR}={:?}", setting.raw)?,
            },
        }
        match &self.affinity {
            Some(mask) => writeln!(f, "affinity: {} ({})", cpus(mask.count), mask.cpus)?,
            None => writeln!(f, "affinity: unknown")?,
        }
        match self.online {
            Some(online) => writeln!(f, "online: {}", cpus(online))?,
            None => writeln!(f, "online: unknown")?,
        }
        if let Some(steal) = &self.steal {
            let hypervisor = match self.hypervisor {
                Some(true) => ", under a hypervisor",
                Some(false) => ", no hypervisor flag",
                None => "",
            };
            writeln!(
                f,
                "steal: {:.2}% of CPU time since boot ({} of {} ticks){hypervisor}",
                steal.share() * 100.0,
                steal.steal_ticks,
                steal.total_ticks
            )?;
        }
        match self.cgroup_namespace {
            Some(crate::probes::PROC_CGROUP_INIT_INO) => writeln!(f, "cgroup namespace: initial")?,
            Some(inode) => writeln!(f, "cgroup namespace: its own (inode {inode})")?,
            None => {}
        }
        match &self.cgroup {
            None => writeln!(f, "cgroup: none")?,
            Some(cgroup) => write_cgroup(f, cgroup)?,
        }
        match self.std {
            Some(count) => writeln!(f, "std: {count}")?,
            None => writeln!(f, "std: failed")?,
        }
        for finding in &self.findings {
            writeln!(f, "finding: {}", finding.text)?;
        }
        write!(f, "decision: {}", self.decision())
    }
}

fn write_cgroup(f: &mut fmt::Formatter<'_>, cgroup: &CgroupReport) -> fmt::Result {
    let version = match cgroup.version {
        CgroupVersion::V1 => 1,
        CgroupVersion::V2 => 2,
    };
    match cgroup.quota() {
        Some(quota) => writeln!(f, "cgroup: v{version} {}, quota {}", cgroup.path, cpus(quota))?,
        None => writeln!(f, "cgroup: v{version} {}, no quota", cgroup.path)?,
    }
    if let Some(lines) = cgroup.mountinfo_lines {
        writeln!(f, "  mountinfo: std reads {lines} lines of it to find the cpu controller")?;
    }
    for level in &cgroup.levels {
        let setting = match (&level.limit, &level.period) {
            (None, _) if level.unreadable => {
                writeln!(f, "  {}: unreadable (counted as no limit)", level.path)?;
                continue;
            }
            (None, _) => {
                writeln!(f, "  {}: no limit file", level.path)?;
                continue;
            }
            (Some(limit), Some(period)) => format!("{limit} {period}"),
            (Some(limit), None) => format!("{limit} (no period)"),
        };
        let meaning = match level.cpus {
            Some(count) => cpus(count),
            None => "no limit".to_owned(),
        };
        let burst = match (&level.burst, level.burst_cpus()) {
            (Some(burst), Some(count)) => format!(", burst {burst} = {}", cpus(count)),
            _ => String::new(),
        };
        let binds = if level.binds { " (binds)" } else { "" };
        writeln!(f, "  {}: {setting} = {meaning}{burst}{binds}", level.path)?;
    }
    if let Some(weight) = cgroup.weight {
        let (file, default) = weight_file(cgroup.version);
        writeln!(f, "  {file}: {weight} (default {default})")?;
    }
    if let Some(note) = &cgroup.note {
        writeln!(f, "  note: {note}")?;
    }
    Ok(())
}

/// The file a leaf's weight comes from in this cgroup version, and its default.
pub(crate) fn weight_file(version: CgroupVersion) -> (&'static str, u64) {
    match version {
        CgroupVersion::V1 => ("cpu.shares", 1024),
        CgroupVersion::V2 => ("cpu.weight", 100),
    }
}

impl Explanation {
    /// The last line of the report: the number and what decided it.
    pub fn decision(&self) -> String {
        let Some(value) = self.value else {
            return match self.source {
                Source::Override => format!("error (invalid {OVERRIDE_VAR})"),
                _ => "error (std::thread::available_parallelism() failed)".to_owned(),
            };
        };
        match self.source {
            Source::Override => format!("{value} (override {OVERRIDE_VAR})"),
            Source::Cgroup => {
                let binding =
                    self.cgroup.as_ref().and_then(|c| Some((c.binding_level()?, c.quota()?)));
                match binding {
                    Some((level, quota)) => {
                        let rounding = if quota < 1.0 {
                            ", raised to 1"
                        } else if quota.fract() != 0.0 {
                            ", floored"
                        } else {
                            ""
                        };
                        format!("{value} (cgroup {}: {}{rounding})", level.path, cpus(quota))
                    }
                    None => format!("{value} (cgroup)"),
                }
            }
            Source::Affinity => match &self.affinity {
                Some(mask) => format!("{value} (affinity: CPUs {})", mask.cpus),
                None => format!("{value} (affinity)"),
            },
            Source::Online => format!("{value} (online CPUs; the affinity mask could not be read)"),
        }
    }
}

#[cfg(test)]
impl Explanation {
    /// For tests: a thread and process on CPUs 0..count, no override, no cgroup, std's
    /// answer; fields are then changed with struct update syntax.
    pub(crate) fn unconfined(count: usize) -> Self {
        let mask = tests::mask(count);
        Explanation {
            value: NonZeroUsize::new(count),
            source: Source::Affinity,
            override_setting: None,
            affinity: Some(mask.clone()),
            affinity_error: None,
            process_affinity: Some(mask),
            online: Some(count),
            std: NonZeroUsize::new(count),
            cgroup: None,
            unreadable: Vec::new(),
            cgroup2_elsewhere: None,
            hypervisor: None,
            steal: Some(CpuSteal { steal_ticks: 0, total_ticks: 1000 }),
            cgroup_namespace: Some(crate::probes::PROC_CGROUP_INIT_INO),
            derived: NonZeroUsize::new(count),
            findings: Vec::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::probes::CgroupLevel;

    pub(crate) fn mask(count: usize) -> Affinity {
        Affinity { count, cpus: format!("0-{}", count - 1), fits_std_set: true }
    }

    /// A cgroup v2 report of `/pod/ctr` with these (path, limit, period) levels, leaf first.
    pub(crate) fn report_with(levels: &[(&str, &str, &str)]) -> CgroupReport {
        let mut report = CgroupReport::new(CgroupVersion::V2, "/pod/ctr".into());
        for (path, limit, period) in levels {
            report.levels.push(CgroupLevel {
                limit: Some((*limit).into()),
                period: Some((*period).into()),
                cpus: crate::probes::cgroup_fraction(Some(limit), Some(period)),
                ..CgroupLevel::at((*path).into())
            });
        }
        report.mark_binding_level();
        report
    }

    /// One level, `/pod/ctr`, with `cpu.max` = `limit period`.
    fn quota_of(limit: &str, period: &str) -> CgroupReport {
        report_with(&[("/pod/ctr", limit, period)])
    }

    fn derived(
        cgroup: Option<&CgroupReport>,
        affinity: Option<&Affinity>,
        online: Option<usize>,
    ) -> (usize, Source) {
        let (count, source) = derive(cgroup, affinity, online).expect("derivable");
        (count.get(), source)
    }

    #[test]
    fn quota_below_the_mask_decides() {
        assert_eq!(
            derived(Some(&quota_of("150000", "100000")), Some(&mask(4)), Some(4)),
            (1, Source::Cgroup)
        );
    }

    #[test]
    fn quota_below_one_is_raised_to_one() {
        assert_eq!(
            derived(Some(&quota_of("50000", "100000")), Some(&mask(4)), Some(4)),
            (1, Source::Cgroup)
        );
    }

    #[test]
    fn half_a_cpu_on_one_cpu_is_still_the_cgroup() {
        assert_eq!(
            derived(Some(&quota_of("50000", "100000")), Some(&mask(1)), Some(1)),
            (1, Source::Cgroup)
        );
    }

    #[test]
    fn quota_equal_to_the_mask_leaves_affinity_deciding() {
        assert_eq!(
            derived(Some(&quota_of("200000", "100000")), Some(&mask(2)), Some(8)),
            (2, Source::Affinity)
        );
    }

    #[test]
    fn without_a_mask_the_online_count_decides() {
        assert_eq!(
            derived(Some(&quota_of("300000", "100000")), None, Some(8)),
            (3, Source::Online)
        );
        assert_eq!(derived(None, None, Some(8)), (8, Source::Online));
    }

    #[test]
    fn a_mask_beyond_std_set_falls_back_to_online_like_std() {
        let wide = Affinity { fits_std_set: false, ..mask(2000) };
        assert_eq!(derived(None, Some(&wide), Some(2048)), (2048, Source::Online));
    }

    #[test]
    fn decision_names_the_binding_level_and_the_rounding() {
        let why = |limit: &str, value: usize| Explanation {
            value: NonZeroUsize::new(value),
            source: Source::Cgroup,
            override_setting: None,
            affinity: Some(mask(4)),
            online: Some(4),
            std: NonZeroUsize::new(value),
            cgroup: Some(quota_of(limit, "100000")),
            derived: NonZeroUsize::new(value),
            ..Explanation::unconfined(4)
        };
        assert_eq!(why("150000", 1).decision(), "1 (cgroup /pod/ctr: 1.5 CPUs, floored)");
        assert_eq!(why("50000", 1).decision(), "1 (cgroup /pod/ctr: 0.5 CPUs, raised to 1)");
        assert_eq!(why("300000", 3).decision(), "3 (cgroup /pod/ctr: 3 CPUs)");
        let report = why("150000", 1).to_string();
        assert!(report.ends_with("decision: 1 (cgroup /pod/ctr: 1.5 CPUs, floored)"), "{report}");
        assert!(report.contains("  /pod/ctr: 150000 100000 = 1.5 CPUs (binds)"), "{report}");
    }
}

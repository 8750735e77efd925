//! The report a person reads: `Display` for [`Explanation`], ending with the decision.

use std::fmt;

use super::explanation::{Explanation, Source, TakenOn};
use super::format::{age, cpus};
use crate::parallelism::quote;
use crate::probes::{CgroupReport, PROC_CGROUP_INIT_INO};
use crate::variable::OVERRIDE_VAR;

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.override_setting {
            None => writeln!(f, "override: {OVERRIDE_VAR} is unset")?,
            Some(setting) => match &setting.error {
                Some(error) => writeln!(f, "override: {error}")?,
                None => writeln!(f, "override: {OVERRIDE_VAR}={}", quote(setting.raw.as_bytes()))?,
            },
        }
        match (&self.affinity, &self.status_affinity) {
            (Some(mask), _) => writeln!(f, "affinity: {} ({})", cpus(mask.count), mask.cpus)?,
            (None, Some(listed)) => writeln!(
                f,
                "affinity: unreadable ({}); Cpus_allowed_list says {} ({})",
                self.affinity_error.as_deref().unwrap_or("?"),
                cpus(listed.count),
                listed.cpus
            )?,
            (None, None) => match &self.affinity_error {
                Some(error) => writeln!(f, "affinity: unreadable ({error})")?,
                None => writeln!(f, "affinity: unknown")?,
            },
        }
        match (self.online, &self.affinity) {
            (Some(online), _) => writeln!(f, "online: {}", cpus(online))?,
            (None, Some(_)) => {}
            (None, None) => writeln!(f, "online: unknown")?,
        }
        if let Some(possible) = self.possible_cpus {
            writeln!(f, "possible: {}, more than std's 1024-CPU set holds", cpus(possible))?;
        }
        match self.cgroup_namespace {
            Some(PROC_CGROUP_INIT_INO) => writeln!(f, "cgroup namespace: initial")?,
            Some(inode) => writeln!(f, "cgroup namespace: its own (inode {inode})")?,
            None => {}
        }
        match (&self.cgroup, self.membership.as_str()) {
            (Some(cgroup), _) => write_cgroup(f, cgroup)?,
            (None, Some("listed") | None) => writeln!(f, "cgroup: none")?,
            (None, Some(membership)) => {
                writeln!(f, "cgroup: none (/proc/self/cgroup {membership})")?
            }
        }
        if let Some(elsewhere) = &self.cgroup2_elsewhere {
            let mount = elsewhere.mount.as_deref().unwrap_or(std::path::Path::new("?"));
            let quota =
                elsewhere.quota().map_or("no quota".to_owned(), |q| format!("quota {}", cpus(q)));
            writeln!(f, "cgroup2 elsewhere: {} at {}, {quota}", elsewhere.path, mount.display())?;
        }
        if let Some(missed) = &self.std_missed {
            let found = &missed.report;
            let mount = found.mount.as_deref().unwrap_or(std::path::Path::new("?"));
            let quota =
                found.quota().map_or("no quota".to_owned(), |q| format!("quota {}", cpus(q)));
            writeln!(
                f,
                "explain() found it where std does not look ({}): at {} (mountinfo: {}), {quota}",
                missed.reason.as_str(),
                mount.display(),
                missed.listed_mount
            )?;
            write_levels(f, found)?;
        }
        match (self.std, self.std_again) {
            (Some(count), Some(again)) => {
                writeln!(f, "std: {count}, then {again} when asked again")?
            }
            (Some(count), None) => writeln!(f, "std: {count}")?,
            (None, _) => writeln!(f, "std: failed")?,
        }
        if let Some(first) = &self.first_answer {
            let under = match (first.by_override, &first.cpus) {
                (true, _) => ", by the override".to_owned(),
                (false, Some(cpus)) => format!(", under the mask {cpus}"),
                (false, None) => String::new(),
            };
            let thread = match first.taken_on {
                TakenOn::ThisThread => "this thread",
                TakenOn::AnotherThread => "another thread",
            };
            writeln!(
                f,
                "first answer: {}, {} ago on {thread}{under}",
                first.count,
                age(first.age)
            )?;
        }
        for finding in &self.findings {
            writeln!(f, "{}: {}", finding.severity(), finding.text)?;
        }
        write!(f, "decision: {}", self.decision())
    }
}

fn write_cgroup(f: &mut fmt::Formatter<'_>, cgroup: &CgroupReport) -> fmt::Result {
    let version = cgroup.version.number();
    match cgroup.quota() {
        Some(quota) => writeln!(f, "cgroup: v{version} {}, quota {}", cgroup.path, cpus(quota))?,
        None => writeln!(f, "cgroup: v{version} {}, no quota", cgroup.path)?,
    }
    if let Some(lines) = cgroup.mountinfo_lines {
        writeln!(f, "  mountinfo: std reads {lines} lines of it to find the cpu controller")?;
    }
    if let (Some(mount), Some(root)) = (&cgroup.mount, &cgroup.mount_root) {
        writeln!(f, "  mounted at {}, showing the hierarchy from {root}", mount.display())?;
    }
    if let Some(unshown) = &cgroup.unshown {
        let detail = match (unshown.mount(), unshown.hidden_by()) {
            (Some(mount), Some(by)) => format!(" ({} under {})", mount.display(), by.display()),
            (Some(mount), None) => format!(" (one at {})", mount.display()),
            _ => String::new(),
        };
        writeln!(f, "  no mount shows it: {}{detail}", unshown.as_str())?;
    }
    write_levels(f, cgroup)?;
    if let Some(weight) = cgroup.weight {
        let version = cgroup.version;
        writeln!(
            f,
            "  {}: {weight} (default {})",
            version.weight_file(),
            version.default_weight()
        )?;
    }
    if let Some(note) = &cgroup.note {
        writeln!(f, "  note: {note}")?;
    }
    Ok(())
}

/// One line per level, leaf first: the setting as read, and what it means.
fn write_levels(f: &mut fmt::Formatter<'_>, cgroup: &CgroupReport) -> fmt::Result {
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
            // a limit that is a number with no period decides nothing; without a number,
            // the period is not read
            (Some(limit), None) if level.limit_us.is_some() => format!("{limit} (no period)"),
            (Some(limit), None) => limit.clone(),
        };
        let meaning = match level.cpus {
            Some(count) => cpus(count),
            None => "no limit".to_owned(),
        };
        let burst = match (level.burst_us, level.burst_cpus()) {
            (Some(burst), Some(count)) => format!(", burst {burst} = {}", cpus(count)),
            _ => String::new(),
        };
        let binds = if level.binds { " (binds)" } else { "" };
        let throttled = match level.throttling {
            Some(t) => format!(
                ", throttled in {} of {} periods, {:.2} s",
                t.throttled,
                t.periods,
                t.time.as_secs_f64()
            ),
            None => String::new(),
        };
        writeln!(f, "  {}: {setting} = {meaning}{burst}{binds}{throttled}", level.path)?;
    }
    Ok(())
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
            Source::Online => format!(
                "{value} (std's fallback, sysconf(_SC_NPROCESSORS_ONLN): std could not read the \
                 affinity mask)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;
    use crate::explain::explanation::tests::{mask, report_with};

    /// One level, `/pod/ctr`, with `cpu.max` = `limit period`.
    fn quota_of(limit: &str, period: &str) -> CgroupReport {
        report_with(&[("/pod/ctr", limit, period)])
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

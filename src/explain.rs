//! explain(): why `available_parallelism()` is what it is.
//!
//! It gathers the override, the affinity masks, the online CPU count and every cgroup
//! level, derives the number by std's rules, names what decided, and lists what misleads.
//! It never fails: a bad override is reported in the result, because explain() is how a
//! person finds it.

use crate::diagnose;
use crate::explanation::{derive, Explanation, OverrideSetting, Source};
use crate::parallelism;
#[cfg(target_os = "linux")]
use crate::probes::{self, Roots};
use crate::probes::{Affinity, CgroupProbe, StealProbe};
use crate::variable::OVERRIDE_VAR;

/// Explains the answer of [`available_parallelism`](crate::available_parallelism) in
/// this process and thread, now.
///
/// # Examples
/// ```
/// let why = kumo_parallelism::explain();
/// println!("{why}");
/// if std::env::var_os("KUMO_AVAILABLE_PARALLELISM").is_none() {
///     assert_eq!(why.value, why.std);
/// }
/// ```
pub fn explain() -> Explanation {
    let std_answer = parallelism::std_parallelism().ok();
    let override_setting = std::env::var_os(OVERRIDE_VAR).map(|raw| {
        let parsed = parallelism::parse_override(raw.as_encoded_bytes());
        (
            OverrideSetting {
                raw: raw.to_string_lossy().into_owned(),
                error: parsed.as_ref().err().map(ToString::to_string),
            },
            parsed.ok().flatten(),
        )
    });
    let probed = probe();
    let cgroup = probed.cgroup.report;
    let affinity = probed.affinity.as_ref().ok().cloned();
    let derivation = derive(cgroup.as_ref(), affinity.as_ref(), probed.online);

    let (value, source) = match &override_setting {
        Some((setting, count)) if count.is_some() || setting.error.is_some() => {
            (*count, Source::Override)
        }
        // unset, or empty/whitespace: detection decides
        _ => (std_answer, derivation.map_or(Source::Online, |(_, source)| source)),
    };
    let mut why = Explanation {
        value,
        source,
        override_setting: override_setting.map(|(setting, _)| setting),
        affinity,
        affinity_error: probed.affinity.err().flatten(),
        process_affinity: probed.process_affinity,
        online: probed.online,
        std: std_answer,
        cgroup,
        unreadable: probed.cgroup.unreadable,
        cgroup2_elsewhere: probed.cgroup.cgroup2_elsewhere,
        hypervisor: probed.steal.hypervisor,
        steal: probed.steal.steal,
        cgroup_namespace: probed.cgroup_namespace,
        derived: derivation.map(|(count, _)| count),
        findings: Vec::new(),
    };
    why.findings = diagnose::findings(&why);
    why
}

/// What the kernel said. `affinity` is `Err(Some(error))` when the calling thread's mask
/// cannot be read, and `Err(None)` where there is no mask to read (not Linux): only the
/// former is a finding.
struct Probed {
    affinity: Result<Affinity, Option<String>>,
    process_affinity: Option<Affinity>,
    online: Option<usize>,
    cgroup: CgroupProbe,
    steal: StealProbe,
    cgroup_namespace: Option<u64>,
}

#[cfg(target_os = "linux")]
fn probe() -> Probed {
    Probed {
        affinity: probes::affinity().map_err(|err| Some(err.to_string())),
        process_affinity: probes::process_affinity().ok(),
        online: probes::online_cpus(),
        cgroup: probes::cgroup(&Roots::default()),
        steal: probes::cpu_steal(
            std::path::Path::new(probes::PROC_STAT),
            std::path::Path::new(probes::PROC_CPUINFO),
        ),
        cgroup_namespace: probes::cgroup_namespace(std::path::Path::new(
            probes::PROC_SELF_NS_CGROUP,
        )),
    }
}

/// Elsewhere std's answer is all there is; explain() reports it with nothing beneath.
#[cfg(not(target_os = "linux"))]
fn probe() -> Probed {
    Probed {
        affinity: Err(None),
        process_affinity: None,
        online: None,
        cgroup: CgroupProbe::default(),
        steal: StealProbe::default(),
        cgroup_namespace: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_here_agrees_with_std() {
        // this process's real environment; the override is not set by any unit test
        let why = explain();
        if why.override_setting.is_none() {
            assert_eq!(why.value, why.std);
            assert_eq!(why.derived, why.std, "{why}");
        }
    }
}

//! explain(): why `available_parallelism()` is what it is.
//!
//! It gathers the override, the affinity masks, the online CPU count and every cgroup
//! level, derives the number by std's rules, names what decided, and lists what misleads.
//! It never fails: a bad override is reported in the result, because explain() is how a
//! person finds it.

pub(crate) mod diagnose;
pub(crate) mod explanation;
pub(crate) mod finding;
mod format;
mod kubernetes;
mod report;
mod std_rule;

use self::explanation::{
    std_counted_mask, Explanation, FirstAnswer, OverrideSetting, Source, TakenOn,
};
use self::std_rule::derive;
use crate::parallelism::{self, Basis};
#[cfg(target_os = "linux")]
use crate::probes::{self, Roots};
use crate::probes::{compact_list, Affinity, CgroupProbe, Fault, ReadFaults};
use crate::variable::OVERRIDE_VAR;

/// Explains the answer of [`available_parallelism`](crate::available_parallelism) in
/// this process and thread, now.
///
/// # Examples
/// ```
/// let why = kumo_parallelism::explain();
/// println!("{why}");
/// for finding in &why.findings {
///     // "warning" where the facts show the number off, "note" for a caveat
///     println!("{}: {}", finding.severity(), finding.code);
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
    let derived = derivation.map(|(count, _)| count);
    // Asked again only when the probes disagree with std: a second, different answer means
    // the kernel's changed between the reads; the same answer, that the rules differ.
    let std_again = if derived.is_some() && derived != std_answer {
        parallelism::std_parallelism().ok()
    } else {
        None
    };
    let first_answer =
        held_against(value, source == Source::Override, std_counted_mask(affinity.as_ref()));
    if let Some(count) = value {
        parallelism::note_answer(count, source == Source::Override);
    }
    let (affinity_error, affinity_fault) = match probed.affinity {
        Err(Some((error, fault))) => (Some(error), Some(fault)),
        _ => (None, None),
    };
    let mut faults = probed.cgroup.faults;
    faults.own.extend(probed.faults.own);
    let mut why = Explanation {
        value,
        source,
        override_setting: override_setting.map(|(setting, _)| setting),
        affinity,
        affinity_error,
        affinity_fault,
        status_affinity: probed.status_affinity,
        process_affinity: probed.process_affinity,
        online: probed.online,
        possible_cpus: probed.possible_cpus,
        std: std_answer,
        membership: probed.cgroup.membership,
        cgroup,
        unreadable: faults.std,
        probe_unreadable: faults.own,
        cgroup2_elsewhere: probed.cgroup.cgroup2_elsewhere,
        std_missed: probed.cgroup.std_missed,
        cgroup_namespace: probed.cgroup_namespace,
        derived,
        std_again,
        first_answer,
        findings: Vec::new(),
    };
    why.findings = diagnose::findings(&why);
    why
}

/// The first answer this one is held against, as it was before this call: the process's,
/// where it was taken under what this answer is (the override, or the same mask: like with
/// like, whichever thread took it), and this thread's own; the first of them that differs
/// from `value`, else the first of them there is.
fn held_against(
    value: Option<std::num::NonZeroUsize>,
    by_override: bool,
    mask: Option<&str>,
) -> Option<FirstAnswer> {
    let (own, process) = parallelism::first_answers();
    let taken_on =
        |answer| if Some(answer) == own { TakenOn::ThisThread } else { TakenOn::AnotherThread };
    let process = process.map(|answer| first(answer, taken_on(answer)));
    let candidates = [
        process.filter(|p| p.same_basis(by_override, mask)),
        own.map(|a| first(a, TakenOn::ThisThread)),
    ];
    let mut candidates = candidates.into_iter().flatten();
    let chosen = candidates.clone().find(|answer| Some(answer.count) != value);
    chosen.or_else(|| candidates.next())
}

/// An answer kept by the core, as explain() reports it.
fn first(answer: parallelism::Answer, taken_on: TakenOn) -> FirstAnswer {
    let cpus = match &answer.basis {
        Basis::Detection(Some(mask)) => Some(compact_list(mask)),
        Basis::Detection(None) | Basis::Override => None,
    };
    FirstAnswer {
        count: answer.count,
        age: answer.taken.elapsed(),
        taken_on,
        by_override: answer.basis == Basis::Override,
        cpus,
    }
}

/// What the kernel said. `affinity` is `Err(Some((error, fault)))` when the calling
/// thread's mask cannot be read, and `Err(None)` where there is no mask to read (not Linux):
/// only the former is a finding. `faults` holds what explain() alone could not read.
struct Probed {
    affinity: Result<Affinity, Option<(String, Fault)>>,
    status_affinity: Option<Affinity>,
    process_affinity: Option<Affinity>,
    online: Option<usize>,
    possible_cpus: Option<usize>,
    cgroup: CgroupProbe,
    cgroup_namespace: Option<u64>,
    faults: ReadFaults,
}

#[cfg(target_os = "linux")]
fn probe() -> Probed {
    let affinity = probes::affinity().map_err(|err| Some((err.to_string(), Fault::of(&err))));
    // the kernel's text for the mask, only when the mask itself is denied
    let status_affinity = affinity.as_ref().err().and_then(|_| {
        use std::path::Path;
        probes::status_affinity(
            Path::new(probes::PROC_THREAD_SELF_STATUS),
            Path::new(probes::SYS_CPU_ONLINE),
            Path::new(probes::SYS_CPU_POSSIBLE),
        )
    });
    let process_affinity = probes::process_affinity().ok();
    // std counts the online CPUs only when the mask is no use to it; neither does explain()
    let mask_decides = affinity.as_ref().is_ok_and(Affinity::usable_by_std);
    let online = if mask_decides { None } else { probes::online_cpus() };
    // the possible CPUs, only where the mask (or the kernel's text for it) does not fit
    // std's set: the cause of std's fallback there
    let too_wide = |mask: &Affinity| !mask.fits_std_set;
    let possible_cpus = (affinity.as_ref().is_ok_and(too_wide)
        || status_affinity.as_ref().is_some_and(too_wide))
    .then(|| probes::possible_cpus(std::path::Path::new(probes::SYS_CPU_POSSIBLE)))
    .flatten();
    let mut faults = ReadFaults::default();
    let cgroup_namespace =
        probes::cgroup_namespace(std::path::Path::new(probes::PROC_SELF_NS_CGROUP), &mut faults);
    // in the initial namespace the root cgroup is the machine's: its weight divides nothing
    let roots = Roots {
        weight_at_root: cgroup_namespace != Some(probes::PROC_CGROUP_INIT_INO),
        ..Roots::default()
    };
    Probed {
        affinity,
        status_affinity,
        process_affinity,
        online,
        possible_cpus,
        cgroup: probes::cgroup(&roots),
        cgroup_namespace,
        faults,
    }
}

/// Elsewhere std's answer is all there is; explain() reports it with nothing beneath.
#[cfg(not(target_os = "linux"))]
fn probe() -> Probed {
    Probed {
        affinity: Err(None),
        status_affinity: None,
        process_affinity: None,
        online: None,
        possible_cpus: None,
        cgroup: CgroupProbe::default(),
        cgroup_namespace: None,
        faults: ReadFaults::default(),
    }
}

#[cfg(test)]
mod tests {
    /// This process's real environment, on any machine (the real-kernel lane runs these on a
    /// kernel with more possible CPUs than std's set too).
    mod on_this_machine {
        use crate::explain::explain;

        #[test]
        fn explain_here_derives_what_std_answers() {
            // the override is not set by any unit test. The derivation is the probes' own,
            // from the kernel's files: it can differ from std.
            let why = explain();
            assert_eq!(why.derived, std::thread::available_parallelism().ok(), "{why}");
            assert_eq!(why.value, why.std, "{why}");
            assert_eq!(why.std_again, None, "{why}");
        }
    }
}

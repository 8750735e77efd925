//! The findings: what in an explanation's facts makes the number mislead, each with its
//! numbers and what to change. Pure: it judges what explain() read and reads nothing.
//!
//! The quota findings describe detection even while a valid override decides, since
//! detection is what the process gets once the override is gone.

use std::path::Path;

use crate::explanation::{derive, Explanation, Source};
use crate::finding::{Finding, FindingCode};
use crate::probes::{CgroupLevel, UnreadableFile};
use crate::variable::OVERRIDE_VAR;

/// Every finding that applies to `why`, in the order of [`FindingCode`].
pub(crate) fn findings(why: &Explanation) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut add = |code, text| found.push(Finding { code, text });
    if let Some(text) = override_invalid(why) {
        add(FindingCode::OverrideInvalid, text);
    }
    if let Some(text) = override_replaces_detection(why) {
        add(FindingCode::OverrideReplacesDetection, text);
    }
    if let Some((code, text)) = quota(why) {
        add(code, text);
    }
    if let Some(text) = thread_pinned(why) {
        add(FindingCode::ThreadPinned, text);
    }
    if let Some(text) = affinity_unreadable(why) {
        add(FindingCode::AffinityUnreadable, text);
    }
    for file in &why.unreadable {
        add(FindingCode::CgroupUnreadable, cgroup_unreadable(file));
    }
    if let Some(text) = cgroup2_elsewhere(why) {
        add(FindingCode::Cgroup2Elsewhere, text);
    }
    if let Some(text) = detection_changed(why) {
        add(FindingCode::DetectionChanged, text);
    }
    found
}

/// How detection is told to stop guessing, in every finding that says so.
fn set_the_override(count: impl std::fmt::Display) -> String {
    format!("set {OVERRIDE_VAR}={count}")
}

fn detection_now(why: &Explanation) -> String {
    match why.std {
        Some(count) => format!("detection would answer {count} here now"),
        None => "detection fails here now".to_owned(),
    }
}

fn override_invalid(why: &Explanation) -> Option<String> {
    let error = why.override_setting.as_ref()?.error.as_ref()?;
    Some(format!("available_parallelism() raises: {error}; {}", detection_now(why)))
}

fn override_replaces_detection(why: &Explanation) -> Option<String> {
    let setting = why.override_setting.as_ref().filter(|setting| setting.error.is_none())?;
    let count = why.value.filter(|_| why.source == Source::Override)?;
    Some(format!(
        "{OVERRIDE_VAR}={:?} replaces detection: the answer is {count}, and {}; unset it to \
         follow this machine's CPUs and cgroup limits",
        setting.raw,
        detection_now(why)
    ))
}

/// The CPUs std caps with the quota: the calling thread's mask, else the online count;
/// with a description for the text.
fn cpus_allowed(why: &Explanation) -> Option<(usize, String)> {
    match why.affinity.as_ref().filter(|mask| mask.fits_std_set && mask.count > 0) {
        Some(mask) => Some((
            mask.count,
            format!("the {} CPUs the affinity mask allows ({})", mask.count, mask.cpus),
        )),
        None => why.online.map(|online| (online, format!("the {online} online CPUs"))),
    }
}

/// "150000 100000 at /pod/ctr": the binding level's setting as read, and where.
fn setting_at(level: &CgroupLevel) -> String {
    let limit = level.limit.as_deref().unwrap_or("?");
    match level.period.as_deref() {
        Some(period) => format!("{limit} {period} at {}", level.path),
        None => format!("{limit} at {}", level.path),
    }
}

/// `cpus` CPUs in the binding level's own terms: "200000 100000".
fn as_setting(level: &CgroupLevel, cpus: f64) -> Option<String> {
    let period = level.period.as_deref()?.parse::<u64>().ok()?;
    Some(format!("{} {period}", (cpus * period as f64).round() as u64))
}

/// At most one of quota-below-one, quota-floored and quota-above-cpus: they describe the
/// one effective quota against the CPUs it caps.
fn quota(why: &Explanation) -> Option<(FindingCode, String)> {
    let cgroup = why.cgroup.as_ref()?;
    let (quota, level) = (cgroup.quota()?, cgroup.binding_level()?);
    let (cpus, cpus_text) = cpus_allowed(why)?;
    let setting = setting_at(level);
    if quota < 1.0 {
        let one = as_setting(level, 1.0).map(|s| format!(" ({s})")).unwrap_or_default();
        return Some((
            FindingCode::QuotaBelowOne,
            format!(
                "the cgroup quota is {quota} CPUs ({setting}), less than one CPU: std answers \
                 1, and one busy thread alone already exceeds the quota, so it will be \
                 throttled; raise the quota to at least 1 CPU{one}, or expect threads to wait"
            ),
        ));
    }
    if quota >= cpus as f64 {
        return Some((
            FindingCode::QuotaAboveCpus,
            format!(
                "the cgroup quota of {quota} CPUs ({setting}) is at or above {cpus_text}, so it \
                 limits nothing and the CPUs decide; for more threads, allow more CPUs \
                 (taskset, cpuset), since raising the quota alone changes nothing"
            ),
        ));
    }
    if quota.fract() == 0.0 {
        return None;
    }
    let (floor, ceil) = (quota.floor(), quota.ceil());
    let whole = as_setting(level, ceil).map(|s| format!(" ({s} for {ceil})")).unwrap_or_default();
    Some((
        FindingCode::QuotaFloored,
        format!(
            "the cgroup quota of {quota} CPUs ({setting}) is not whole and std floors it to \
             {floor}; rounding up, as Go 1.25, .NET and the num_cpus crate do, would give \
             {ceil}: make the quota a whole number of CPUs{whole}, or {} to use the ceiling",
            set_the_override(ceil)
        ),
    ))
}

fn thread_pinned(why: &Explanation) -> Option<String> {
    let (thread, process) = (why.affinity.as_ref()?, why.process_affinity.as_ref()?);
    (thread.count < process.count).then(|| {
        format!(
            "this thread may run on {} CPUs ({}) but the process's main thread on {} ({}); \
             std counts the calling thread, so the answer here is smaller than the \
             process's: size pools from an unpinned thread, or pin threads after sizing",
            thread.count, thread.cpus, process.count, process.cpus
        )
    })
}

fn affinity_unreadable(why: &Explanation) -> Option<String> {
    let error = why.affinity_error.as_ref()?;
    let online =
        why.online.map_or("the online CPUs".to_owned(), |n| format!("the {n} online CPUs"));
    Some(format!(
        "the calling thread's CPU affinity mask could not be read ({error}), so {online} were \
         counted instead; the answer may overcount if this process is confined to fewer \
         CPUs: allow sched_getaffinity in the sandbox, or {}",
        set_the_override("<threads>")
    ))
}

fn cgroup_unreadable(file: &UnreadableFile) -> String {
    let counted = match file.path.file_name().and_then(|name| name.to_str()) {
        Some("cgroup") => "no cgroup at all, so no quota",
        Some("mountinfo") => "no cpu hierarchy, so no quota",
        _ => "that level as unlimited",
    };
    format!(
        "{} exists but could not be read ({}), so std counted {counted}; the answer may \
         overcount: let this user read it, or {}",
        file.path.display(),
        file.error,
        set_the_override("<threads>")
    )
}

fn cgroup2_elsewhere(why: &Explanation) -> Option<String> {
    let elsewhere = why.cgroup2_elsewhere.as_ref()?;
    let (quota, level) = (elsewhere.quota()?, elsewhere.binding_level()?);
    let (would_give, _) = derive(Some(elsewhere), why.affinity.as_ref(), why.online)?;
    let mount = elsewhere.mount.as_deref().unwrap_or(Path::new("?"));
    Some(format!(
        "cgroup v2 is mounted at {}, not at /sys/fs/cgroup where std looks, and this \
         process's cgroup there ({}) has a quota of {quota} CPUs ({}); std never reads it, \
         and with it the answer would be {would_give}: mount cgroup2 at /sys/fs/cgroup, or {}",
        mount.display(),
        elsewhere.path,
        setting_at(level),
        set_the_override(would_give)
    ))
}

fn detection_changed(why: &Explanation) -> Option<String> {
    let (std, derived) = (why.std?, why.derived?);
    (std != derived).then(|| {
        format!(
            "std answered {std}, but the probes, read a moment later, derive {derived}: a \
             cgroup limit or the affinity mask changed between the reads; the number is \
             recomputed on every call, so ask again instead of keeping it"
        )
    })
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;
    use crate::explanation::tests::{mask, report_with};
    use crate::explanation::OverrideSetting;
    use crate::probes::Affinity;

    fn codes(why: &Explanation) -> Vec<&'static str> {
        findings(why).iter().map(|f| f.code.as_str()).collect()
    }

    fn text(why: &Explanation, code: FindingCode) -> String {
        let found = findings(why);
        let finding = found.iter().find(|f| f.code == code);
        finding.unwrap_or_else(|| panic!("no {code} in {found:?}")).text.clone()
    }

    /// 4 CPUs under one cgroup v2 level with `cpu.max` = `limit 100000`.
    fn under_quota(limit: &str, answer: usize) -> Explanation {
        Explanation {
            value: NonZeroUsize::new(answer),
            std: NonZeroUsize::new(answer),
            derived: NonZeroUsize::new(answer),
            source: Source::Cgroup,
            cgroup: Some(report_with(&[("/pod/ctr", limit, "100000")])),
            ..Explanation::unconfined(4)
        }
    }

    #[test]
    fn nothing_misleads_on_an_unconfined_machine() {
        assert_eq!(codes(&Explanation::unconfined(4)), Vec::<&str>::new());
    }

    #[test]
    fn override_invalid_quotes_the_error_and_says_it_raises() {
        let error = crate::parse_override(b"abc").unwrap_err().to_string();
        let why = Explanation {
            value: None,
            source: Source::Override,
            override_setting: Some(OverrideSetting {
                raw: "abc".into(),
                error: Some(error.clone()),
            }),
            ..Explanation::unconfined(4)
        };
        assert_eq!(codes(&why), ["override-invalid"]);
        let text = text(&why, FindingCode::OverrideInvalid);
        assert!(text.contains("available_parallelism() raises"), "{text}");
        assert!(text.contains(&error), "{text}");
    }

    #[test]
    fn override_replaces_detection_gives_both_numbers() {
        let why = Explanation {
            value: NonZeroUsize::new(12),
            source: Source::Override,
            override_setting: Some(OverrideSetting { raw: "12".into(), error: None }),
            ..Explanation::unconfined(4)
        };
        assert_eq!(codes(&why), ["override-replaces-detection"]);
        let text = text(&why, FindingCode::OverrideReplacesDetection);
        assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=\"12\""), "{text}");
        assert!(text.contains("the answer is 12"), "{text}");
        assert!(text.contains("detection would answer 4"), "{text}");
    }

    #[test]
    fn an_empty_override_is_not_a_finding() {
        let why = Explanation {
            override_setting: Some(OverrideSetting { raw: " ".into(), error: None }),
            ..Explanation::unconfined(4)
        };
        assert_eq!(codes(&why), Vec::<&str>::new());
    }

    #[test]
    fn quota_below_one_says_one_thread_is_throttled() {
        let why = under_quota("50000", 1);
        assert_eq!(codes(&why), ["quota-below-one"]);
        let text = text(&why, FindingCode::QuotaBelowOne);
        assert!(text.contains("0.5 CPUs (50000 100000 at /pod/ctr)"), "{text}");
        assert!(text.contains("throttled"), "{text}");
        assert!(text.contains("(100000 100000)"), "{text}");
    }

    #[test]
    fn quota_floored_gives_the_floor_and_the_ceiling() {
        let why = under_quota("150000", 1);
        assert_eq!(codes(&why), ["quota-floored"]);
        let text = text(&why, FindingCode::QuotaFloored);
        assert!(text.contains("1.5 CPUs"), "{text}");
        assert!(text.contains("floors it to 1"), "{text}");
        assert!(text.contains("Go 1.25, .NET and the num_cpus crate do, would give 2"), "{text}");
        assert!(text.contains("(200000 100000 for 2)"), "{text}");
        assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=2"), "{text}");
    }

    #[test]
    fn a_whole_binding_quota_is_not_a_finding() {
        assert_eq!(codes(&under_quota("200000", 2)), Vec::<&str>::new());
    }

    #[test]
    fn quota_at_or_above_the_cpus_limits_nothing() {
        for limit in ["400000", "450000", "800000"] {
            let why = Explanation { source: Source::Affinity, ..under_quota(limit, 4) };
            assert_eq!(codes(&why), ["quota-above-cpus"], "{limit}");
            let text = text(&why, FindingCode::QuotaAboveCpus);
            assert!(text.contains("the 4 CPUs the affinity mask allows (0-3)"), "{text}");
        }
    }

    #[test]
    fn the_quota_is_held_against_the_online_count_without_a_mask() {
        let why = Explanation {
            affinity: None,
            affinity_error: Some("Operation not permitted (os error 1)".into()),
            online: Some(8),
            ..under_quota("800000", 8)
        };
        assert_eq!(codes(&why), ["quota-above-cpus", "affinity-unreadable"]);
        assert!(text(&why, FindingCode::QuotaAboveCpus).contains("the 8 online CPUs"));
    }

    #[test]
    fn thread_pinned_gives_both_masks() {
        let why = Explanation {
            affinity: Some(Affinity { count: 1, cpus: "2".into(), fits_std_set: true }),
            ..Explanation::unconfined(4)
        };
        assert_eq!(codes(&why), ["thread-pinned"]);
        let text = text(&why, FindingCode::ThreadPinned);
        assert!(text.contains("1 CPUs (2) but the process's main thread on 4 (0-3)"), "{text}");
        assert!(text.contains("std counts the calling thread"), "{text}");
    }

    #[test]
    fn a_thread_wider_than_the_main_thread_is_not_pinned() {
        let why = Explanation { process_affinity: Some(mask(2)), ..Explanation::unconfined(4) };
        assert_eq!(codes(&why), Vec::<&str>::new());
    }

    #[test]
    fn affinity_unreadable_says_it_may_overcount() {
        let why = Explanation {
            affinity: None,
            affinity_error: Some("Operation not permitted (os error 1)".into()),
            source: Source::Online,
            ..Explanation::unconfined(4)
        };
        assert_eq!(codes(&why), ["affinity-unreadable"]);
        let text = text(&why, FindingCode::AffinityUnreadable);
        assert!(text.contains("(Operation not permitted (os error 1))"), "{text}");
        assert!(text.contains("the 4 online CPUs"), "{text}");
        assert!(text.contains("may overcount"), "{text}");
    }

    #[test]
    fn cgroup_unreadable_names_each_file_and_its_error() {
        let file = |path: &str| UnreadableFile {
            path: path.into(),
            error: "Permission denied (os error 13)".into(),
        };
        let why = Explanation {
            unreadable: vec![file("/proc/self/cgroup"), file("/sys/fs/cgroup/ctr/cpu.max")],
            ..Explanation::unconfined(4)
        };
        assert_eq!(codes(&why), ["cgroup-unreadable", "cgroup-unreadable"]);
        let found = findings(&why);
        assert!(found[0].text.starts_with("/proc/self/cgroup exists but could not be read"));
        assert!(found[0].text.contains("no cgroup at all"), "{}", found[0].text);
        assert!(found[1].text.contains("/sys/fs/cgroup/ctr/cpu.max"), "{}", found[1].text);
        assert!(found[1].text.contains("(Permission denied (os error 13))"), "{}", found[1].text);
        assert!(found[1].text.contains("that level as unlimited"), "{}", found[1].text);
        assert!(found[1].text.contains("may overcount"), "{}", found[1].text);
    }

    #[test]
    fn cgroup2_elsewhere_gives_the_mount_the_quota_and_the_number() {
        let mut elsewhere = report_with(&[("/ctr", "150000", "100000"), ("/", "max", "100000")]);
        elsewhere.mount = Some("/host/cgroup".into());
        let why = Explanation { cgroup2_elsewhere: Some(elsewhere), ..Explanation::unconfined(4) };
        assert_eq!(codes(&why), ["cgroup2-elsewhere"]);
        let text = text(&why, FindingCode::Cgroup2Elsewhere);
        assert!(text.contains("mounted at /host/cgroup"), "{text}");
        assert!(text.contains("a quota of 1.5 CPUs (150000 100000 at /ctr)"), "{text}");
        assert!(text.contains("the answer would be 1"), "{text}");
    }

    #[test]
    fn detection_changed_gives_both_numbers() {
        let why = Explanation { derived: NonZeroUsize::new(2), ..Explanation::unconfined(4) };
        assert_eq!(codes(&why), ["detection-changed"]);
        let text = text(&why, FindingCode::DetectionChanged);
        assert!(text.contains("std answered 4"), "{text}");
        assert!(text.contains("derive 2"), "{text}");
    }

    #[test]
    fn findings_come_in_the_order_of_their_codes() {
        let why = Explanation {
            value: NonZeroUsize::new(5),
            source: Source::Override,
            override_setting: Some(OverrideSetting { raw: "5".into(), error: None }),
            affinity: Some(mask(2)),
            unreadable: vec![UnreadableFile { path: "/x/cpu.max".into(), error: "EIO".into() }],
            ..under_quota("50000", 1)
        };
        let found = findings(&why);
        assert_eq!(
            codes(&why),
            [
                "override-replaces-detection",
                "quota-below-one",
                "thread-pinned",
                "cgroup-unreadable"
            ]
        );
        assert!(found.windows(2).all(|pair| pair[0].code <= pair[1].code));
    }
}

//! The findings: what in an explanation's facts makes the number mislead, each with its
//! numbers and what to change. Pure: it judges what explain() read and reads nothing.
//!
//! The quota findings describe detection even while a valid override decides, since
//! detection is what the process gets once the override is gone.

use std::path::Path;

use crate::explanation::{cpus, derive, weight_file, Explanation, Source};
use crate::finding::{Finding, FindingCode};
use crate::probes::{
    CgroupLevel, CgroupVersion, UnreadableFile, PROC_CGROUP_INIT_INO, STEAL_SHARE_MIN,
};
use crate::variable::OVERRIDE_VAR;

/// A rule that yields at most one finding of its code.
type Rule = fn(&Explanation) -> Option<String>;

/// The rules in the order of [`FindingCode`], around the two that differ: the quota rule
/// picks one of three codes, and `cgroup-unreadable` comes once per file.
const BEFORE_QUOTA: [(FindingCode, Rule); 2] = [
    (FindingCode::OverrideInvalid, override_invalid),
    (FindingCode::OverrideReplacesDetection, override_replaces_detection),
];
const BEFORE_UNREADABLE: [(FindingCode, Rule); 2] = [
    (FindingCode::ThreadPinned, thread_pinned),
    (FindingCode::AffinityUnreadable, affinity_unreadable),
];
const AFTER_UNREADABLE: [(FindingCode, Rule); 7] = [
    (FindingCode::Cgroup2Elsewhere, cgroup2_elsewhere),
    (FindingCode::DetectionChanged, detection_changed),
    (FindingCode::CpuSteal, cpu_steal),
    (FindingCode::MountinfoScan, mountinfo_scan),
    (FindingCode::QuotaBurst, quota_burst),
    (FindingCode::CgroupNamespace, cgroup_namespace),
    (FindingCode::RequestsOnly, requests_only),
];

/// Every finding that applies to `why`, in the order of [`FindingCode`].
pub(crate) fn findings(why: &Explanation) -> Vec<Finding> {
    let mut found = Vec::new();
    let apply = |rules: &[(FindingCode, Rule)], found: &mut Vec<Finding>| {
        for (code, rule) in rules {
            if let Some(text) = rule(why) {
                found.push(Finding { code: *code, text });
            }
        }
    };
    apply(&BEFORE_QUOTA, &mut found);
    if let Some((code, text)) = quota(why) {
        found.push(Finding { code, text });
    }
    apply(&BEFORE_UNREADABLE, &mut found);
    for file in &why.unreadable {
        found.push(Finding { code: FindingCode::CgroupUnreadable, text: cgroup_unreadable(file) });
    }
    apply(&AFTER_UNREADABLE, &mut found);
    found
}

/// Lines of mountinfo std reads per call from which mountinfo-scan is reported.
pub(crate) const MOUNTINFO_SCAN_LINES_MIN: usize = 1000;

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
            format!("the {} the affinity mask allows ({})", cpus(mask.count), mask.cpus),
        )),
        None => why.online.map(|online| (online, format!("the {} online", cpus(online)))),
    }
}

/// What detection answers here, for the texts that say what it counts.
fn detection_answer(why: &Explanation) -> String {
    why.std.map_or("the answer".to_owned(), |count| format!("the answer, {count},"))
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
    let (allowed, cpus_text) = cpus_allowed(why)?;
    let setting = setting_at(level);
    if quota < 1.0 {
        let one = as_setting(level, 1.0).map(|s| format!(" ({s})")).unwrap_or_default();
        return Some((
            FindingCode::QuotaBelowOne,
            format!(
                "the cgroup quota is {} ({setting}), less than one CPU: std answers \
                 1, and one busy thread alone already exceeds the quota, so it will be \
                 throttled; raise the quota to at least 1 CPU{one}, or expect threads to wait",
                cpus(quota)
            ),
        ));
    }
    if quota >= allowed as f64 {
        return Some((
            FindingCode::QuotaAboveCpus,
            format!(
                "the cgroup quota of {} ({setting}) is at or above {cpus_text}, so it \
                 limits nothing and the CPUs decide; for more threads, allow more CPUs \
                 (taskset, cpuset), since raising the quota alone changes nothing",
                cpus(quota)
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
            "the cgroup quota of {} ({setting}) is not whole and std floors it to \
             {floor}; rounding up, as Go 1.25, .NET and the num_cpus crate do, would give \
             {ceil}: make the quota a whole number of CPUs{whole}, or {} to use the ceiling",
            cpus(quota),
            set_the_override(ceil)
        ),
    ))
}

fn thread_pinned(why: &Explanation) -> Option<String> {
    let (thread, process) = (why.affinity.as_ref()?, why.process_affinity.as_ref()?);
    (thread.count < process.count).then(|| {
        format!(
            "this thread may run on {} ({}) but the process's main thread on {} ({}); \
             std counts the calling thread, so the answer here is smaller than the \
             process's: size pools from an unpinned thread, or pin threads after sizing",
            cpus(thread.count),
            thread.cpus,
            process.count,
            process.cpus
        )
    })
}

fn affinity_unreadable(why: &Explanation) -> Option<String> {
    let error = why.affinity_error.as_ref()?;
    let online =
        why.online.map_or("the online CPUs".to_owned(), |n| format!("the {} online", cpus(n)));
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
         process's cgroup there ({}) has a quota of {} ({}); std never reads it, \
         and with it the answer would be {would_give}: mount cgroup2 at /sys/fs/cgroup, or {}",
        mount.display(),
        elsewhere.path,
        cpus(quota),
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

fn cpu_steal(why: &Explanation) -> Option<String> {
    let steal = why.steal.filter(|steal| steal.share() >= STEAL_SHARE_MIN)?;
    if why.hypervisor != Some(true) {
        return None;
    }
    Some(format!(
        "this machine runs under a hypervisor that took {:.1}% of its CPU time since boot \
         ({} of {} ticks, the steal column of /proc/stat): the CPUs counted may be shared with \
         other guests, so fewer may really be there for this one; {} to size for what this \
         guest really gets",
        steal.share() * 100.0,
        steal.steal_ticks,
        steal.total_ticks,
        set_the_override("<threads>")
    ))
}

fn mountinfo_scan(why: &Explanation) -> Option<String> {
    let cgroup = why.cgroup.as_ref().filter(|cgroup| cgroup.version == CgroupVersion::V1)?;
    let lines = cgroup.mountinfo_lines.filter(|&lines| lines >= MOUNTINFO_SCAN_LINES_MIN)?;
    let threads = why.std.map_or("<threads>".to_owned(), |count| count.to_string());
    Some(format!(
        "the cgroup v1 cpu controller is at neither /sys/fs/cgroup/cpu nor \
         /sys/fs/cgroup/cpu,cpuacct, so on every call std reads {lines} lines of \
         /proc/self/mountinfo, one per mount point, to find it: mount the controller at \
         /sys/fs/cgroup/cpu, or {}, and the scan goes away",
        set_the_override(threads)
    ))
}

fn quota_burst(why: &Explanation) -> Option<String> {
    let cgroup = why.cgroup.as_ref()?;
    let (level, burst) =
        cgroup.levels.iter().find_map(|level| Some((level, level.burst_cpus()?)))?;
    let quota = level.cpus?;
    Some(format!(
        "{} may burst {} above its quota of {} ({} over a {} period), from CPU time it left \
         unused before; {} uses the steady-state quota, as std does, so a burst serves \
         short spikes, not more threads: size for the quota, or raise the quota itself if \
         the load is sustained",
        level.path,
        cpus(burst),
        cpus(quota),
        level.burst.as_deref().unwrap_or("?"),
        level.period.as_deref().unwrap_or("?"),
        detection_answer(why)
    ))
}

fn cgroup_namespace(why: &Explanation) -> Option<String> {
    let inode = why.cgroup_namespace.filter(|&inode| inode != PROC_CGROUP_INIT_INO)?;
    let path = why.cgroup.as_ref().map_or("/", |cgroup| cgroup.path.as_str());
    Some(format!(
        "this process is in its own cgroup namespace (inode {inode}, not the initial \
         {PROC_CGROUP_INIT_INO}), so /proc/self/cgroup names {path} from that namespace's \
         root and every cgroup above the root is invisible: a tighter quota on a parent (a \
         pod, a slice) is enforced by the kernel but not counted in {}; if a parent's limit \
         is below it, {}",
        why.std.map_or("the answer".to_owned(), |count| count.to_string()),
        set_the_override("<that limit>")
    ))
}

/// The CPU request a Kubernetes container's weight stands for, and where it comes from.
///
/// The kubelet turns a request into cgroup v1 shares as milliCPU × 1024 / 1000 (its
/// `MilliCPUToShares`, pkg/kubelet/cm/helpers_linux.go), so on v1 the request is
/// shares / 1024 CPUs. On cgroup v2 the OCI runtime converts those shares to `cpu.weight`,
/// by one of two formulas, both inverted here:
/// - linear, KEP-2254 (runc before 1.3.2, crun before 1.23):
///   weight = 1 + (shares − 2) × 9999 / 262142, so shares = 2 + (weight − 1) × 262142 / 9999;
/// - quadratic, the Kubernetes blog's "New Conversion from cgroup v1 CPU Shares to v2 CPU
///   Weight" (runc 1.3.2+, crun 1.23+): weight = ⌈10^((L² + 125·L) / 612 − 7/34)⌉ with
///   L = log2(shares), so L = (−125 + √(125² + 4 · 612 · (log10(weight) + 7/34))) / 2.
///
/// A request of 2 CPUs is 2048 shares: weight 79 by the linear formula (back: 2046.9
/// shares, 2.00 CPUs) and 174 by the quadratic one (back: 2062 shares, 2.01 CPUs).
pub(crate) mod kubernetes {
    /// Shares per CPU in the kubelet's conversion (1024 shares per 1000 millicores).
    const SHARES_PER_CPU: f64 = 1024.0;

    /// The request in CPUs that v1 `cpu.shares` stands for.
    pub(crate) fn cpus_from_shares(shares: f64) -> f64 {
        shares / SHARES_PER_CPU
    }

    /// The request in CPUs by KEP-2254's linear conversion of v2 `cpu.weight`.
    pub(crate) fn cpus_from_weight_linear(weight: f64) -> f64 {
        cpus_from_shares(2.0 + (weight - 1.0) * 262_142.0 / 9_999.0)
    }

    /// The request in CPUs by runc 1.3.2's and crun 1.23's quadratic conversion.
    pub(crate) fn cpus_from_weight_quadratic(weight: f64) -> f64 {
        let exponent = weight.log10() + 7.0 / 34.0;
        let log2_shares = (-125.0 + (125.0f64.powi(2) + 4.0 * 612.0 * exponent).sqrt()) / 2.0;
        cpus_from_shares(log2_shares.exp2())
    }
}

/// "2.01": a request in CPUs, to two places.
fn request(cpus: f64) -> String {
    format!("{:.2}", cpus)
}

fn requests_only(why: &Explanation) -> Option<String> {
    let cgroup = why.cgroup.as_ref().filter(|cgroup| cgroup.quota().is_none())?;
    let (file, default) = weight_file(cgroup.version);
    let weight = cgroup.weight.filter(|&weight| weight != default && weight > 0)?;
    let (reserved, suggestion) = match cgroup.version {
        CgroupVersion::V1 => {
            let cpus = kubernetes::cpus_from_shares(weight as f64);
            (format!("a CPU request of {} CPUs", request(cpus)), cpus)
        }
        CgroupVersion::V2 => {
            let quadratic = kubernetes::cpus_from_weight_quadratic(weight as f64);
            let linear = kubernetes::cpus_from_weight_linear(weight as f64);
            (
                format!(
                    "a CPU request of about {} CPUs by the quadratic conversion of runc 1.3.2+ \
                     and crun 1.23+ ({} by KEP-2254's linear one, before them)",
                    request(quadratic),
                    request(linear)
                ),
                quadratic,
            )
        }
    };
    Some(format!(
        "no cgroup level sets a CPU quota, but {} has {file} {weight} (default {default}): \
         that is how Kubernetes writes {reserved} with no limit; {} counts every CPU the \
         affinity mask allows, since a weight only divides CPU time under contention and \
         caps nothing; to fit pools to the request, {}",
        cgroup.path,
        detection_answer(why),
        // to a tenth first: the inverse of a rounded conversion is off by about 1%, and a
        // request of 2 read back as 2.01 should not suggest 3
        set_the_override(((suggestion * 10.0).round() / 10.0).ceil().max(1.0))
    ))
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;
    use crate::explanation::tests::{mask, report_with};
    use crate::explanation::OverrideSetting;
    use crate::probes::{Affinity, CgroupReport, CpuSteal};

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
        assert!(text(&why, FindingCode::QuotaAboveCpus).contains("the 8 CPUs online"));
    }

    #[test]
    fn thread_pinned_gives_both_masks() {
        let why = Explanation {
            affinity: Some(Affinity { count: 1, cpus: "2".into(), fits_std_set: true }),
            ..Explanation::unconfined(4)
        };
        assert_eq!(codes(&why), ["thread-pinned"]);
        let text = text(&why, FindingCode::ThreadPinned);
        assert!(text.contains("1 CPU (2) but the process's main thread on 4 (0-3)"), "{text}");
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
        assert!(text.contains("the 4 CPUs online"), "{text}");
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

    fn v1_report(lines: Option<usize>) -> CgroupReport {
        let mut report = CgroupReport::new(CgroupVersion::V1, "/docker/abc".into());
        report.mountinfo_lines = lines;
        report
    }

    #[test]
    fn cpu_steal_needs_a_hypervisor_and_one_percent() {
        let under = |hypervisor, steal_ticks| Explanation {
            hypervisor: Some(hypervisor),
            steal: Some(CpuSteal { steal_ticks, total_ticks: 10_000 }),
            ..Explanation::unconfined(4)
        };
        assert_eq!(codes(&under(true, 100)), ["cpu-steal"]);
        let text = text(&under(true, 250), FindingCode::CpuSteal);
        assert!(text.contains("took 2.5% of its CPU time since boot"), "{text}");
        assert!(text.contains("(250 of 10000 ticks"), "{text}");
        assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=<threads>"), "{text}");
        // steal below 1%, and no hypervisor flag: nothing to say
        assert_eq!(codes(&under(true, 99)), Vec::<&str>::new());
        assert_eq!(codes(&under(false, 5_000)), Vec::<&str>::new());
        let unknown = Explanation { hypervisor: None, ..under(true, 5_000) };
        assert_eq!(codes(&unknown), Vec::<&str>::new());
    }

    #[test]
    fn mountinfo_scan_from_a_thousand_lines_on_v1() {
        let with =
            |lines| Explanation { cgroup: Some(v1_report(lines)), ..Explanation::unconfined(4) };
        assert_eq!(codes(&with(Some(MOUNTINFO_SCAN_LINES_MIN))), ["mountinfo-scan"]);
        let text = text(&with(Some(20_012)), FindingCode::MountinfoScan);
        assert!(text.contains("std reads 20012 lines of /proc/self/mountinfo"), "{text}");
        assert!(text.contains("mount the controller at /sys/fs/cgroup/cpu"), "{text}");
        assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=4"), "{text}");
        assert_eq!(codes(&with(Some(999))), Vec::<&str>::new());
        assert_eq!(codes(&with(None)), Vec::<&str>::new());
    }

    #[test]
    fn quota_burst_gives_the_burst_in_cpus() {
        let mut cgroup = report_with(&[("/pod/ctr", "200000", "100000")]);
        cgroup.levels[0].burst = Some("50000".into());
        let why = Explanation { cgroup: Some(cgroup), ..under_quota("200000", 2) };
        assert_eq!(codes(&why), ["quota-burst"]);
        let text = text(&why, FindingCode::QuotaBurst);
        assert!(text.contains("/pod/ctr may burst 0.5 CPUs above its quota of 2 CPUs"), "{text}");
        assert!(text.contains("(50000 over a 100000 period)"), "{text}");
        assert!(text.contains("the answer, 2, uses the steady-state quota"), "{text}");
    }

    #[test]
    fn a_burst_of_zero_is_not_a_finding() {
        let mut cgroup = report_with(&[("/pod/ctr", "200000", "100000")]);
        cgroup.levels[0].burst = Some("0".into());
        let why = Explanation { cgroup: Some(cgroup), ..under_quota("200000", 2) };
        assert_eq!(codes(&why), Vec::<&str>::new());
    }

    #[test]
    fn cgroup_namespace_other_than_the_initial_one() {
        let why = Explanation {
            cgroup_namespace: Some(4026532412),
            cgroup: Some(report_with(&[("/", "500000", "100000")])),
            ..Explanation::unconfined(8)
        };
        assert_eq!(codes(&why), ["cgroup-namespace"]);
        let text = text(&why, FindingCode::CgroupNamespace);
        assert!(text.contains("(inode 4026532412, not the initial 4026531835)"), "{text}");
        assert!(text.contains("enforced by the kernel but not counted in 8"), "{text}");
        let initial = Explanation {
            cgroup_namespace: Some(PROC_CGROUP_INIT_INO),
            ..Explanation::unconfined(8)
        };
        assert_eq!(codes(&initial), Vec::<&str>::new());
        // the link could not be read: nothing is known, nothing is said
        let unknown = Explanation { cgroup_namespace: None, ..Explanation::unconfined(8) };
        assert_eq!(codes(&unknown), Vec::<&str>::new());
    }

    #[test]
    fn kubernetes_conversion_round_trips_a_request_of_two_cpus() {
        // 2 CPUs = 2000m = 2048 shares; weight 79 (linear) or 174 (quadratic)
        assert_eq!(kubernetes::cpus_from_shares(2048.0), 2.0);
        let linear = kubernetes::cpus_from_weight_linear(79.0);
        assert!((linear - 2.0).abs() < 0.01, "{linear}");
        let quadratic = kubernetes::cpus_from_weight_quadratic(174.0);
        assert!((quadratic - 2.0).abs() < 0.02, "{quadratic}");
        // the quadratic formula's fixed points: weight 100 is 1024 shares, 1 is 2 shares
        assert!((kubernetes::cpus_from_weight_quadratic(100.0) - 1.0).abs() < 1e-9);
        assert!((kubernetes::cpus_from_weight_quadratic(1.0) - 2.0 / 1024.0).abs() < 1e-9);
    }

    #[test]
    fn requests_only_on_v2_gives_the_request_by_both_conversions() {
        let mut cgroup = CgroupReport::new(CgroupVersion::V2, "/kubepods/pod/ctr".into());
        cgroup.weight = Some(174);
        let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(64) };
        assert_eq!(codes(&why), ["requests-only"]);
        let text = text(&why, FindingCode::RequestsOnly);
        assert!(text.contains("/kubepods/pod/ctr has cpu.weight 174 (default 100)"), "{text}");
        assert!(text.contains("about 2.01 CPUs by the quadratic conversion"), "{text}");
        assert!(text.contains("(4.43 by KEP-2254's linear one"), "{text}");
        assert!(text.contains("the answer, 64, counts every CPU"), "{text}");
        assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=2"), "{text}");
    }

    #[test]
    fn requests_only_on_v1_reads_shares() {
        let mut cgroup = v1_report(None);
        cgroup.weight = Some(512);
        let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
        assert_eq!(codes(&why), ["requests-only"]);
        let text = text(&why, FindingCode::RequestsOnly);
        assert!(text.contains("cpu.shares 512 (default 1024)"), "{text}");
        assert!(text.contains("a CPU request of 0.50 CPUs"), "{text}");
        assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=1"), "{text}");
    }

    #[test]
    fn the_default_weight_or_a_quota_is_not_requests_only() {
        for (version, default) in [(CgroupVersion::V1, 1024), (CgroupVersion::V2, 100)] {
            let mut cgroup = CgroupReport::new(version, "/ctr".into());
            cgroup.weight = Some(default);
            let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
            assert_eq!(codes(&why), Vec::<&str>::new(), "{version:?}");
        }
        let mut limited = report_with(&[("/pod/ctr", "400000", "100000")]);
        limited.weight = Some(174);
        let why = Explanation { cgroup: Some(limited), ..under_quota("400000", 4) };
        assert_eq!(codes(&why), ["quota-above-cpus"]);
    }

    #[test]
    fn the_new_codes_come_after_the_old_in_the_specified_order() {
        let mut cgroup = v1_report(Some(5_000));
        cgroup.weight = Some(2048);
        let why = Explanation {
            hypervisor: Some(true),
            steal: Some(CpuSteal { steal_ticks: 5, total_ticks: 100 }),
            cgroup_namespace: Some(1),
            cgroup: Some(cgroup),
            derived: NonZeroUsize::new(3),
            ..Explanation::unconfined(4)
        };
        assert_eq!(
            codes(&why),
            [
                "detection-changed",
                "cpu-steal",
                "mountinfo-scan",
                "cgroup-namespace",
                "requests-only"
            ]
        );
    }
}

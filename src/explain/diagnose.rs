//! The findings: what in an explanation's facts makes the number mislead, each with its
//! numbers and what to change. Pure: it judges what explain() read and reads nothing.
//!
//! The quota findings describe detection even while a valid override decides, since
//! detection is what the process gets once the override is gone.

use std::path::Path;

use super::explanation::{std_counted_mask, Explanation, Source, TakenOn};
use super::finding::{finding_table, Finding, FindingCode};
use super::format::{age, cpus};
use super::kubernetes;
use super::std_rule::derive;
use crate::parallelism::quote;
use crate::probes::{
    Affinity, CgroupLevel, CgroupReport, CgroupVersion, Fault, Membership, MissReason,
    UnreadableFile, Unshown, PROC_CGROUP_INIT_INO, SYS_CPU_POSSIBLE,
};
use crate::variable::OVERRIDE_VAR;

/// A rule: the text of each finding of its code (most rules find at most one).
type Rule = fn(&Explanation) -> Vec<String>;

/// What a rule function returns: at most one text, or one per thing found.
trait Texts {
    fn texts(self) -> Vec<String>;
}

impl Texts for Option<String> {
    fn texts(self) -> Vec<String> {
        self.into_iter().collect()
    }
}

impl Texts for Vec<String> {
    fn texts(self) -> Vec<String> {
        self
    }
}

/// The rule of every row of the finding table, in its order.
macro_rules! define_rules {
    ($($variant:ident, $code:literal, $severity:ident, $rule:ident,
       when: $when:literal, says: $says:literal;)*) => {
        const RULES: [(FindingCode, Rule); FindingCode::ALL.len()] =
            [$((FindingCode::$variant, |why| Texts::texts($rule(why)))),*];
    };
}
finding_table!(define_rules);

/// Every finding that applies to `why`, in the order of [`FindingCode`].
pub(crate) fn findings(why: &Explanation) -> Vec<Finding> {
    RULES
        .iter()
        .flat_map(|(code, rule)| rule(why).into_iter().map(|text| Finding { code: *code, text }))
        .collect()
}

/// Lines of mountinfo std reads per call from which mountinfo-scan is reported.
pub(crate) const MOUNTINFO_SCAN_LINES_MIN: usize = 1000;

/// The rustc that built this crate, as `rustc --version` printed it (build.rs).
const RUSTC_VERSION: &str = env!("KUMO_RUSTC_VERSION");

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
        "{OVERRIDE_VAR}={} replaces detection: the answer is {count}, and {}; unset it to \
         follow this machine's CPUs and cgroup limits",
        quote(setting.raw.as_bytes()),
        detection_now(why)
    ))
}

/// The CPUs std caps with the quota: the calling thread's mask, else the online count;
/// with a description for the text.
fn cpus_allowed(why: &Explanation) -> Option<(usize, String)> {
    match why.affinity.as_ref().filter(|mask| mask.usable_by_std()) {
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
    let period = level.period_us?;
    Some(format!("{} {period}", (cpus * period as f64).round() as u64))
}

/// The one effective quota against the CPUs it caps: which of quota-below-one,
/// quota-above-cpus and quota-floored it is, if any.
fn quota_code(quota: f64, allowed: usize) -> Option<FindingCode> {
    if quota < 1.0 {
        Some(FindingCode::QuotaBelowOne)
    } else if quota >= allowed as f64 {
        Some(FindingCode::QuotaAboveCpus)
    } else if quota.fract() != 0.0 {
        Some(FindingCode::QuotaFloored)
    } else {
        None
    }
}

fn quota_below_one(why: &Explanation) -> Option<String> {
    quota_text(why, FindingCode::QuotaBelowOne)
}

fn quota_floored(why: &Explanation) -> Option<String> {
    quota_text(why, FindingCode::QuotaFloored)
}

fn quota_above_cpus(why: &Explanation) -> Option<String> {
    quota_text(why, FindingCode::QuotaAboveCpus)
}

fn quota_text(why: &Explanation, wanted: FindingCode) -> Option<String> {
    let cgroup = why.cgroup.as_ref()?;
    let (quota, level) = (cgroup.quota()?, cgroup.binding_level()?);
    let (allowed, cpus_text) = cpus_allowed(why)?;
    let code = quota_code(quota, allowed).filter(|&code| code == wanted)?;
    let setting = setting_at(level);
    Some(match code {
        FindingCode::QuotaBelowOne => {
            let one = as_setting(level, 1.0).map(|s| format!(" ({s})")).unwrap_or_default();
            format!(
                "the cgroup quota is {} ({setting}), less than one CPU: std answers \
                 1, and one busy thread alone already exceeds the quota, so it will be \
                 throttled; raise the quota to at least 1 CPU{one}, or expect threads to wait",
                cpus(quota)
            )
        }
        FindingCode::QuotaAboveCpus => format!(
            "the cgroup quota of {} ({setting}) is at or above {cpus_text}, so it \
             limits nothing and the CPUs decide; for more threads, allow more CPUs \
             (taskset, cpuset), since raising the quota alone changes nothing",
            cpus(quota)
        ),
        _ => {
            let (floor, ceil) = (quota.floor(), quota.ceil());
            // std answers the ceiling only once no level stays below it
            let next: Vec<String> = cgroup
                .levels
                .iter()
                .filter(|other| !other.binds && other.cpus.is_some_and(|cpus| cpus < ceil))
                .filter_map(|other| {
                    let setting = as_setting(other, ceil)?;
                    Some(format!(
                        "{setting} at {}, whose {} would bind next",
                        other.path,
                        cpus(other.cpus?)
                    ))
                })
                .collect();
            let whole = as_setting(level, ceil)
                .map(|s| {
                    let and = next.iter().map(|n| format!(", and {n}")).collect::<String>();
                    format!(" ({s} for {ceil}{and})")
                })
                .unwrap_or_default();
            format!(
                "the cgroup quota of {} ({setting}) is not whole and std floors it to \
                 {floor}; rounding up, as Go 1.25, .NET and the num_cpus crate do, would give \
                 {ceil}: make the quota a whole number of CPUs{whole}, or {} to use the ceiling",
                cpus(quota),
                set_the_override(ceil)
            )
        }
    })
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

/// What a fault is, in words a person reads: on reading a file, or, with `call`, on a system
/// call.
fn fault_words(fault: Fault, call: bool) -> &'static str {
    match (fault, call) {
        (Fault::Permission, false) => "this user, or the sandbox's policy, may not read it",
        (Fault::Permission, true) => "the sandbox's policy denies the call",
        (Fault::Descriptors, _) => {
            "no file descriptor was left, the process's own (ulimit -n) or the system's \
             (fs.file-max)"
        }
        (Fault::Memory, _) => "the kernel could not allocate memory for it",
        (Fault::Io, _) => "an I/O or kernel error",
    }
}

/// What to do about a fault on reading a file, or, with `call`, on a system call.
fn fault_remedy(fault: Fault, call: bool) -> &'static str {
    match (fault, call) {
        (Fault::Permission, false) => {
            "let this user read it (the file's mode, or the sandbox's AppArmor, SELinux or \
             seccomp policy)"
        }
        (Fault::Permission, true) => "allow sched_getaffinity in the sandbox's seccomp profile",
        (Fault::Descriptors, _) => {
            "raise the open-file limit (ulimit -n, systemd's LimitNOFILE=, fs.file-max) or find \
             the descriptor leak; the fault passes, so ask again once descriptors are free"
        }
        (Fault::Memory, _) => {
            "the fault passes under memory pressure, so ask again once memory is free"
        }
        (Fault::Io, _) => "ask again; if the error stays, the kernel's log (dmesg) may say why",
    }
}

/// "Permission denied (os error 13): this user ... may not read it": an error and its kind.
fn fault_detail(error: &str, fault: Fault, call: bool) -> String {
    format!("{error}: {}", fault_words(fault, call))
}

/// What std's fallback counted, as the findings that name it say it: "4, what
/// sysconf(_SC_NPROCESSORS_ONLN) answers,".
fn fallback_counted(why: &Explanation) -> String {
    match why.online {
        Some(n) => format!("{n}, what sysconf(_SC_NPROCESSORS_ONLN) answers,"),
        None => "what sysconf(_SC_NPROCESSORS_ONLN) answers".to_owned(),
    }
}

fn affinity_unreadable(why: &Explanation) -> Option<String> {
    let (error, fault) = (why.affinity_error.as_ref()?, why.affinity_fault?);
    let counted = fallback_counted(why);
    let remedy = fault_remedy(fault, true);
    let lead = format!(
        "the calling thread's CPU affinity mask could not be read (sched_getaffinity: {}), so \
         std counted {counted} instead of the CPUs this thread may run on",
        fault_detail(error, fault, true)
    );
    // the kernel's own text for the mask (those of its CPUs online), and std's answer with it
    let Some(mask) = why.status_affinity.as_ref() else {
        return Some(format!(
            "{lead}; the answer may be off, and nothing here says by how much: {remedy}, or {}",
            set_the_override("<threads>")
        ));
    };
    let listed = format!(
        "/proc/thread-self/status lists {} ({}) in Cpus_allowed_list, of those online",
        cpus(mask.count),
        mask.cpus
    );
    let usable = Affinity { fits_std_set: true, ..mask.clone() };
    let would_give = derive(why.cgroup.as_ref(), Some(&usable), why.online).map(|(n, _)| n);
    Some(match (would_give, why.std) {
        _ if !mask.fits_std_set => format!(
            "{lead}; {listed}, which std could not count even where sched_getaffinity is \
             allowed: this kernel may have more than 1024 CPUs (see std-missed-affinity)"
        ),
        (Some(count), Some(std)) if count != std => {
            let off = if count < std { "overcounts" } else { "undercounts" };
            format!(
                "{lead}; {listed}, with which std would answer {count}, so the answer, {std}, \
                 {off}: {remedy}, or {}",
                set_the_override(count)
            )
        }
        _ => {
            format!("{lead}; {listed}, which gives the same answer: {remedy}, so that it stays so")
        }
    })
}

fn std_missed_affinity(why: &Explanation) -> Option<String> {
    // the mask std could not get: the calling thread's, else the kernel's text for it
    let (mask, read) = match (&why.affinity, &why.status_affinity) {
        (Some(mask), _) => (mask, true),
        (None, Some(listed)) => (listed, false),
        (None, None) => return None,
    };
    if mask.fits_std_set || mask.count == 0 {
        return None;
    }
    let std = why.std?;
    let usable = Affinity { fits_std_set: true, ..mask.clone() };
    let (count, _) = derive(why.cgroup.as_ref(), Some(&usable), why.online)?;
    if count == std {
        return None;
    }
    let possible = match why.possible_cpus {
        Some(n) => format!("this kernel may have {} ({SYS_CPU_POSSIBLE})", cpus(n)),
        None => "this kernel may have more than 1024 CPUs".to_owned(),
    };
    let counted = fallback_counted(why);
    let (refused, which) = if read {
        (
            "the kernel refuses std's call (EINVAL) whatever the mask",
            "the calling thread's mask, read with a set sized for the possible CPUs, allows"
                .to_owned(),
        )
    } else {
        (
            "the kernel would refuse std's call (EINVAL) whatever the mask, where the call is \
             not denied as it is here",
            format!(
                "the calling thread's mask cannot be read here ({}), and \
                 /proc/thread-self/status lists in Cpus_allowed_list, of those online,",
                why.affinity_error.as_deref().unwrap_or("denied")
            ),
        )
    };
    let quota = match why.cgroup.as_ref().and_then(CgroupReport::whole_quota) {
        Some(quota) => format!(" under the quota of {}", quota.max(1)),
        None => String::new(),
    };
    let off = if count < std { "overcounts" } else { "undercounts" };
    Some(format!(
        "{possible}, more than the 1024 of the fixed set std passes to sched_getaffinity, so \
         {refused}, and std counted {counted} instead; {which} {} ({}), with which std's own rule \
         gives {count}{quota}, so the answer, {std}, {off}: {}",
        cpus(mask.count),
        mask.cpus,
        set_the_override(count)
    ))
}

fn cgroup_unreadable(why: &Explanation) -> Vec<String> {
    why.unreadable.iter().map(|file| unreadable_file(why, file)).collect()
}

fn unreadable_file(why: &Explanation, file: &UnreadableFile) -> String {
    let counted = match file.path.file_name().and_then(|name| name.to_str()) {
        Some("cgroup") => "no cgroup at all, so no quota",
        Some("mountinfo") => "no cpu hierarchy, so no quota",
        _ => "that level as unlimited",
    };
    let answer = why.std.map_or("the answer".to_owned(), |count| format!("the answer, {count},"));
    format!(
        "{} exists but could not be read ({}), so std counted {counted}: {answer} is what this \
         fault made of it, whatever the limits are, and may overcount: {}, or {}",
        file.path.display(),
        fault_detail(&file.error, file.fault, false),
        fault_remedy(file.fault, false),
        set_the_override("<threads>")
    )
}

fn probe_unreadable(why: &Explanation) -> Vec<String> {
    why.probe_unreadable
        .iter()
        .map(|file| {
            let unknown = match file.path.file_name().and_then(|name| name.to_str()) {
                Some("cpu.stat") => format!(
                    "it cannot tell whether the quota at {} throttles this process",
                    file.path.parent().unwrap_or(Path::new("?")).display()
                ),
                Some("mountinfo") => "it cannot tell whether a cgroup2 mount other than \
                                      /sys/fs/cgroup shows a quota std misses, nor why no \
                                      mount shows this cgroup"
                    .to_owned(),
                Some("cgroup") if file.path.ends_with("ns/cgroup") => {
                    "it cannot tell whether this process is in a cgroup namespace of its own, \
                     where a parent's quota would be invisible"
                        .to_owned()
                }
                _ => "what it would say is missing from this report".to_owned(),
            };
            format!(
                "explain() could not read {} ({}), a file std does not read, so {unknown}; \
                 the answer does not depend on it: {}",
                file.path.display(),
                fault_detail(&file.error, file.fault, false),
                fault_remedy(file.fault, false)
            )
        })
        .collect()
}

/// "/docker/abc" where it is, and the mount's own unescaped path.
fn hierarchy_name(version: CgroupVersion) -> &'static str {
    match version {
        CgroupVersion::V1 => "the cgroup v1 cpu controller",
        CgroupVersion::V2 => "cgroup v2",
    }
}

fn std_missed_quota(why: &Explanation) -> Option<String> {
    let missed = why.std_missed.as_ref()?;
    let found = &missed.report;
    let (quota, level, mount) = (found.quota()?, found.binding_level()?, found.mount.as_ref()?);
    let (with_it, _) = derive(Some(found), why.affinity.as_ref(), why.online)?;
    let std = why.std?;
    if with_it >= std {
        return None;
    }
    let shown = mount.display().to_string();
    let written = if missed.listed_mount == shown {
        String::new()
    } else {
        format!(" (mountinfo writes it {})", missed.listed_mount)
    };
    let below = |mount: &str| format!("{}{}", mount.trim_end_matches('/'), found.path);
    let (reason, fix) = match &missed.reason {
        MissReason::EscapedMountPoint => (
            format!(
                "mountinfo writes the mount point escaped, and std joins the text as written \
                 into a path, {}, which does not exist",
                below(&missed.listed_mount)
            ),
            ", or mount the controller at a path without spaces, tabs or backslashes, such \
             as /sys/fs/cgroup/cpu",
        ),
        MissReason::EscapedRoot => (
            format!(
                "the mount's root, {}, has a character mountinfo writes escaped, and std \
                 compares the text as written with the cgroup's path, which /proc/self/cgroup \
                 does not escape, so it passes the mount over",
                found.mount_root.as_deref().unwrap_or("?")
            ),
            ", or name the cgroups without spaces, tabs or backslashes",
        ),
        MissReason::Shadowed { taken, by } => (
            format!(
                "std takes the first line of mountinfo that names a cpu controller, the mount \
                 at {taken}, which the later mount at {} hides, finds no {} under it, and \
                 stops there",
                by.display(),
                below(taken)
            ),
            ", or mount the cpu controller once, where std looks first \
             (/sys/fs/cgroup/cpu)",
        ),
        MissReason::FirstLineOnly { taken } => (
            format!(
                "std walks only the first mount that mountinfo lists with a cpu controller and \
                 this cgroup, the one at {taken}, which shows fewer levels"
            ),
            "",
        ),
        MissReason::StoppedAt { line } => (
            format!(
                "std stops reading mountinfo at line {line}, which it cannot parse (not UTF-8, \
                 too few fields, or a root that is not absolute), before this mount"
            ),
            "",
        ),
        MissReason::Subtree => (
            format!(
                "the cgroup2 mount at {shown} shows only the subtree {} of the hierarchy, and \
                 std looks for the whole path, {}, which does not exist",
                found.mount_root.as_deref().unwrap_or("?"),
                below(&shown)
            ),
            ", or mount cgroup2's root at /sys/fs/cgroup (or run in a private cgroup \
             namespace, where /proc/self/cgroup names the path below its root)",
        ),
    };
    Some(format!(
        "{} shows this process's cgroup {} at {shown}{written}, with a quota of {} ({}), but \
         std's lookup misses it: {reason}; so std answers {std} while the kernel holds the \
         cgroup to {}, and std's own rule with that quota gives {with_it}: {}{fix}",
        hierarchy_name(found.version),
        found.path,
        cpus(quota),
        setting_at(level),
        cpus(quota),
        set_the_override(with_it)
    ))
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

/// Whether the process is known to be in the kernel's initial cgroup namespace, or its
/// namespace cannot be told: then its root cgroup is the machine's, which has no quota.
fn root_is_the_machines(why: &Explanation) -> bool {
    why.cgroup_namespace.is_none_or(|inode| inode == PROC_CGROUP_INIT_INO)
}

fn cgroupfs_unmounted(why: &Explanation) -> Option<String> {
    let cgroup = why.cgroup.as_ref().filter(|cgroup| cgroup.mount.is_none())?;
    let shown_elsewhere = why.cgroup2_elsewhere.is_some() || why.std_missed.is_some();
    if shown_elsewhere || (cgroup.path == "/" && root_is_the_machines(why)) {
        return None;
    }
    // only what mountinfo shows: without it, nothing is known of the mounts
    let unshown = cgroup.unshown.as_ref()?;
    let hierarchy = hierarchy_name(cgroup.version);
    let (case, fix) = match unshown {
        Unshown::NoneMounted => (
            format!(
                "mountinfo lists no mount of {hierarchy} at all, as in a container whose \
                 runtime left the cgroup mount out"
            ),
            "mount cgroupfs read-only at /sys/fs/cgroup, as Docker does",
        ),
        Unshown::Hidden { mount, by } => (
            format!(
                "the mount of {hierarchy} at {} is hidden by the later mount at {}, as bwrap \
                 --tmpfs /sys/fs/cgroup leaves it",
                mount.display(),
                by.display()
            ),
            "leave /sys/fs/cgroup visible (or mount cgroupfs read-only there)",
        ),
        Unshown::OutsideNamespaceRoot => (
            "the path begins with /..: the cgroup lies outside this process's cgroup namespace \
             root (the process was moved out of the namespace's subtree after the namespace \
             was made), so no mount made in the namespace can show it"
                .to_owned(),
            "move the process back below the namespace's root",
        ),
        Unshown::ElsewhereOnly { mounts } => (
            format!(
                "the mounts of {hierarchy} ({}) show other subtrees, or lack its directory",
                mounts.iter().map(|m| m.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
            "mount the hierarchy's root, read-only, at /sys/fs/cgroup",
        ),
    };
    Some(format!(
        "/proc/self/cgroup places this process in {} on {hierarchy}, but no mounted cgroup \
         filesystem shows that cgroup: {case}; so no quota could be read and {} counts only \
         the CPUs, while the kernel may enforce a quota on that cgroup: {fix}, or {}",
        cgroup.path,
        detection_answer(why),
        set_the_override("<the container's CPU limit>")
    ))
}

fn cgroups_invisible(why: &Explanation) -> Option<String> {
    let answer = why.std.map_or("the answer".to_owned(), |count| count.to_string());
    Some(match why.membership {
        Membership::Empty => format!(
            "/proc/self/cgroup is empty, as under gVisor (an older runsc, or one without a \
             cgroupfs in the sandbox), so this process cannot see the cgroup it runs \
             in: a CPU limit on the sandbox is enforced outside it, and the CPUs counted, \
             {answer}, are the sandbox's vCPUs, which runsc sizes from the sandbox cgroup's \
             cpuset or, with --cpu-num-from-quota, from the quota rounded up, at least 2; so \
             {answer} may ignore the quota or round it up: {} to the sandbox's CPU limit, \
             rounded down",
            set_the_override("<threads>")
        ),
        Membership::NoProc => format!(
            "/proc/self does not exist: no /proc is mounted here (a chroot, or a sandbox such \
             as bwrap without --proc), so neither this process's cgroup nor its limits can be \
             read, and {answer} counts only the affinity mask, while a CPU limit on the process \
             is enforced all the same: mount /proc (bwrap --proc /proc), or {}",
            set_the_override("<the CPU limit>")
        ),
        Membership::Missing => format!(
            "/proc/self/cgroup does not exist, though /proc/self does: a kernel built without \
             cgroups, where no cgroup limit applies, or a sandbox whose /proc lacks the file, \
             where a limit is enforced outside it and {answer} cannot count it: in such a \
             sandbox, {}",
            set_the_override("<its CPU limit>")
        ),
        _ => return None,
    })
}

/// Whether the probes derived another number than std's first answer.
fn derived_differs(why: &Explanation) -> Option<(std::num::NonZeroUsize, std::num::NonZeroUsize)> {
    let (std, derived) = (why.std?, why.derived?);
    (std != derived).then_some((std, derived))
}

fn detection_changed(why: &Explanation) -> Option<String> {
    let (std, derived) = derived_differs(why)?;
    if why.std_again == Some(std) {
        return None;
    }
    let again = why.std_again.map_or("failed".to_owned(), |again| format!("answered {again}"));
    Some(format!(
        "std answered {std}, the probes, read a moment later, derive {derived}, and std asked \
         again {again}: a cgroup limit or the affinity mask changed between the reads; the \
         number is recomputed on every call, so ask again instead of keeping it"
    ))
}

fn probe_mismatch(why: &Explanation) -> Option<String> {
    let (std, derived) = derived_differs(why)?;
    (why.std_again == Some(std)).then(|| {
        format!(
            "std answered {std} twice, but explain()'s copy of std's rule derives {derived} \
             from the same kernel files: std's rule in this build ({RUSTC_VERSION}) differs \
             from the copy, so the reasons above may not be std's; the answer itself is \
             std's: please report a bug to kumo_parallelism with this report attached"
        )
    })
}

fn changed_since_first_call(why: &Explanation) -> Option<String> {
    let first = why.first_answer.as_ref()?;
    let now = why.value.filter(|&now| now != first.count)?;
    // a file or call std reads failed: the fault, not the limits, may have made the difference
    // (cgroup-unreadable and affinity-unreadable say so)
    if !why.unreadable.is_empty() || why.affinity_error.is_some() {
        return None;
    }
    let (by_override, mask) =
        (why.source == Source::Override, std_counted_mask(why.affinity.as_ref()));
    let same_basis = first.same_basis(by_override, mask);
    let whose = match first.taken_on {
        TakenOn::ThisThread => format!("this thread's first answer was {}", first.count),
        // like with like only: another thread's answer under another mask says nothing here
        TakenOn::AnotherThread if same_basis => format!(
            "the process's first answer, taken on another thread{}, was {}",
            first
                .cpus
                .as_deref()
                .map(|cpus| format!(" under the same mask ({cpus})"))
                .unwrap_or_default(),
            first.count
        ),
        TakenOn::AnotherThread => return None,
    };
    let cause = match (first.by_override, by_override) {
        (true, true) => format!("{OVERRIDE_VAR} was changed since"),
        (true, false) => format!("{OVERRIDE_VAR} was unset since"),
        (false, true) => format!("{OVERRIDE_VAR} was set since"),
        // the mask std counted is the same: what else std counts changed, or a read std made
        // then failed and counted a level as unlimited
        (false, false) if same_basis && mask.is_some() => "the affinity mask std counts is the \
             same, so a cgroup quota or the cgroup changed (an in-place pod resize, runc \
             update, a move to another cgroup), or a file std read then could not be read and \
             counted as no limit"
            .to_owned(),
        (false, false) if same_basis => "std could not read the affinity mask then nor now and \
             counts sysconf's online CPUs, so a cgroup quota, the cgroup or the CPUs online \
             changed (an in-place pod resize, runc update, a move to another cgroup, a CPU \
             taken offline), or a file std read then could not be read and counted as no limit"
            .to_owned(),
        (false, false) => format!(
            "this thread's affinity mask was {} then and is {} now (sched_setaffinity or \
             taskset -p on it, a cpuset change, or one of its CPUs taken offline), which std \
             counts",
            first.cpus.as_deref().unwrap_or("unreadable"),
            mask.unwrap_or("unreadable")
        ),
    };
    Some(format!(
        "the answer is {now} now, but {whose}, {} ago: {cause}; thread pools sized then are \
         sized for {}: resize them to {now}, or restart the process",
        age(first.age),
        first.count
    ))
}

/// The share of a level's periods throttled from which `cpu-throttled` is reported: the
/// threshold of the Kubernetes monitoring mixin's CPUThrottlingHigh alert (25%).
pub(crate) const THROTTLED_SHARE_MIN: f64 = 0.25;
/// The periods a level must have run in for its share to count: a second of running at the
/// kernel's default 100 ms period, so that one unlucky period is no finding.
pub(crate) const THROTTLED_PERIODS_MIN: u64 = 10;

fn cpu_throttled(why: &Explanation) -> Vec<String> {
    let Some(cgroup) = why.cgroup.as_ref() else { return Vec::new() };
    let answer = why.value.map_or("the answer".to_owned(), |count| format!("the answer, {count},"));
    cgroup
        .levels
        .iter()
        .filter_map(|level| {
            let (quota, throttling) = (level.cpus?, level.throttling?);
            if throttling.periods < THROTTLED_PERIODS_MIN
                || throttling.share() < THROTTLED_SHARE_MIN
            {
                return None;
            }
            Some(format!(
                "the kernel throttled the cgroup {}, whose quota is {} ({}), in {} of the {} \
                 periods it ran in ({:.0}%), {:.2} s in all, counted since the cgroup was \
                 created: its threads wanted more CPU time than the quota gives, and waited for \
                 the next period; threads beyond the quota only wait, and pools sized from \
                 {answer} run at least one thread each (kumod's readyq, smtpsrv, logging and \
                 more): use fewer threads per pool (KUMOD_<POOL>_THREADS), or a larger quota \
                 at {}; the counts only grow, so ask again later to see whether the throttling \
                 goes on",
                level.path,
                cpus(quota),
                setting_at(level),
                throttling.throttled,
                throttling.periods,
                throttling.share() * 100.0,
                throttling.time.as_secs_f64(),
                level.path
            ))
        })
        .collect()
}

fn mountinfo_scan(why: &Explanation) -> Option<String> {
    let cgroup = why.cgroup.as_ref().filter(|cgroup| cgroup.version == CgroupVersion::V1)?;
    let lines = cgroup.mountinfo_lines.filter(|&lines| lines >= MOUNTINFO_SCAN_LINES_MIN)?;
    let threads = why.std.map_or("<threads>".to_owned(), |count| count.to_string());
    // at a usual path, but showing a subtree: the cgroup namespace is what is missing
    let usual = |mount: &Path| {
        mount.ends_with("sys/fs/cgroup/cpu") || mount.ends_with("sys/fs/cgroup/cpu,cpuacct")
    };
    if let (Some(mount), Some(root)) =
        (cgroup.mount.as_deref().filter(|m| usual(m)), cgroup.mount_root.as_deref())
    {
        if cgroup.shows_subtree() {
            return Some(format!(
                "the cgroup v1 cpu controller at {} shows only the subtree {root}, as a \
                 container runtime bind-mounts it without a cgroup namespace, so std, looking \
                 there for {}{} first, does not find it, and on every call reads {lines} lines \
                 of /proc/self/mountinfo to find the mount: run the container in a private \
                 cgroup namespace (docker run --cgroupns=private), where /proc/self/cgroup \
                 names / and std finds the cgroup at once, or {}, and the scan goes away",
                mount.display(),
                mount.display(),
                cgroup.path,
                set_the_override(threads)
            ));
        }
    }
    Some(format!(
        "the cgroup v1 cpu controller is at neither /sys/fs/cgroup/cpu nor \
         /sys/fs/cgroup/cpu,cpuacct, so on every call std reads {lines} lines of \
         /proc/self/mountinfo, one per mount point, to find it: mount the controller at \
         /sys/fs/cgroup/cpu, or {}, and the scan goes away",
        set_the_override(threads)
    ))
}

fn quota_burst(why: &Explanation) -> Option<String> {
    let level = why.cgroup.as_ref()?.binding_level()?;
    let (burst, quota) = (level.burst_cpus()?, level.cpus?);
    // a quota at or above the CPUs limits nothing: its burst neither (quota-above-cpus)
    let (allowed, _) = cpus_allowed(why)?;
    if quota >= allowed as f64 {
        return None;
    }
    Some(format!(
        "{}, the level whose quota binds, may burst {} above its quota of {} ({} over a {} \
         period), from CPU time it left unused before; {} uses the steady-state quota, as \
         std does, so a burst serves short spikes, not more threads: size for the quota, or \
         raise the quota itself if the load is sustained",
        level.path,
        cpus(burst),
        cpus(quota),
        level.burst_us.unwrap_or_default(),
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
         pod, a slice) would be enforced by the kernel but not counted in {}; if a parent's \
         limit is below it, {}",
        why.std.map_or("the answer".to_owned(), |count| count.to_string()),
        set_the_override("<that limit>")
    ))
}

fn mount_shows_subtree(why: &Explanation) -> Option<String> {
    let walked = |report: &CgroupReport| report.shows_subtree();
    let report =
        why.cgroup.as_ref().filter(|report| walked(report)).or_else(|| {
            why.std_missed.as_ref().map(|missed| &missed.report).filter(|r| walked(r))
        })?;
    let (mount, root) = (report.mount.as_deref()?, report.mount_root.as_deref()?);
    let above: Vec<String> =
        Path::new(root).ancestors().skip(1).map(|dir| dir.display().to_string()).collect();
    Some(format!(
        "the mount of {} at {} shows only the subtree {root} of the hierarchy (mountinfo's \
         root field), as runc and Docker mount it without a cgroup namespace, so the walk \
         stops at {root}: the levels above it ({}) cannot be read here, and a tighter quota \
         on one of them (a pod, a slice) would be enforced by the kernel but not counted in \
         {}; if a parent's limit is below it, {}",
        hierarchy_name(report.version),
        mount.display(),
        above.join(", "),
        why.std.map_or("the answer".to_owned(), |count| count.to_string()),
        set_the_override("<that limit>")
    ))
}

/// "2.01": a request in CPUs, to two places.
fn request(cpus: f64) -> String {
    format!("{:.2}", cpus)
}

fn requests_only(why: &Explanation) -> Option<String> {
    let cgroup = why.cgroup.as_ref().filter(|cgroup| cgroup.quota().is_none())?;
    let (file, default) = (cgroup.version.weight_file(), cgroup.version.default_weight());
    let weight = cgroup.weight.filter(|&weight| weight != default && weight > 0)?;
    let facts = format!(
        "no cgroup level sets a CPU quota, but {} has {file} {weight} (default {default})",
        cgroup.path
    );
    let least = match cgroup.version {
        CgroupVersion::V1 => (weight == kubernetes::MIN_SHARES).then_some(
            "the kubelet's least, which it writes for every container without a CPU request \
             (BestEffort or Burstable alike) and for requests below 2m",
        ),
        CgroupVersion::V2 => (weight == kubernetes::MIN_WEIGHT).then_some(
            "the least weight, which the runtime makes of the kubelet's 2 shares for every \
             container without a CPU request (BestEffort or Burstable alike), and of every \
             request below 29m by the linear conversion (below 3m by the quadratic one)",
        ),
    };
    if let Some(least) = least {
        return Some(format!(
            "{facts}: {least}; a weight only divides CPU time among sibling cgroups under \
             contention, so {} counts every CPU the affinity mask allows, and nothing here \
             says how much CPU time this container gets: give it a CPU request and size pools \
             to it, or a CPU limit, which std counts",
            detection_answer(why)
        ));
    }
    let counts_every_cpu = format!(
        "{} counts every CPU the affinity mask allows, since a weight only divides CPU time \
         under contention and caps nothing",
        detection_answer(why)
    );
    Some(match cgroup.version {
        CgroupVersion::V1 => {
            let cpus = kubernetes::cpus_from_shares(weight as f64);
            format!(
                "{facts}: that is how Kubernetes writes a CPU request of {} CPUs with no \
                 limit; {counts_every_cpu}; to fit pools to the request, {}",
                request(cpus),
                set_the_override(kubernetes::threads_for(cpus))
            )
        }
        CgroupVersion::V2 => {
            let quadratic = kubernetes::cpus_from_weight_quadratic(weight as f64);
            let linear = kubernetes::cpus_from_weight_linear(weight as f64);
            let readings = format!(
                "a CPU request of {} CPUs if the runtime converts shares to weight \
                 linearly, as runc before 1.3.2 and crun before 1.23 do, or {} CPUs by the \
                 quadratic conversion of runc 1.3.2+ and crun 1.23+",
                request(linear),
                request(quadratic)
            );
            let (by_linear, by_quadratic) =
                (kubernetes::threads_for(linear), kubernetes::threads_for(quadratic));
            if by_linear == by_quadratic {
                format!(
                    "{facts}: that is how Kubernetes writes {readings}, with no limit; \
                     {counts_every_cpu}; to fit pools to the request, {}",
                    set_the_override(by_linear)
                )
            } else {
                format!(
                    "{facts}: that is how Kubernetes writes {readings}, with no limit; the \
                     two readings give {by_linear} and {by_quadratic} threads, so the weight \
                     alone does not tell the request; {counts_every_cpu}; to fit pools to the \
                     request, set {OVERRIDE_VAR} to the pod's CPU request"
                )
            }
        }
    })
}

#[cfg(test)]
mod tests;

//! The findings: what in an explanation's facts makes the number mislead, each with its
//! numbers and what to change. Pure: it judges what explain() read and reads nothing.
//!
//! The quota findings describe detection even while a valid override decides, since
//! detection is what the process gets once the override is gone.

use std::path::Path;

use super::explanation::{Explanation, Source};
use super::finding::{finding_table, Finding, FindingCode};
use super::format::{age, cpus};
use super::kubernetes;
use super::std_rule::derive;
use crate::probes::{
    CgroupLevel, CgroupVersion, Membership, UnreadableFile, PROC_CGROUP_INIT_INO, STEAL_SHARE_MIN,
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
        "{OVERRIDE_VAR}={:?} replaces detection: the answer is {count}, and {}; unset it to \
         follow this machine's CPUs and cgroup limits",
        setting.raw,
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
            let whole =
                as_setting(level, ceil).map(|s| format!(" ({s} for {ceil})")).unwrap_or_default();
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

fn affinity_unreadable(why: &Explanation) -> Option<String> {
    let error = why.affinity_error.as_ref()?;
    let online =
        why.online.map_or("the online CPUs".to_owned(), |n| format!("the {} online", cpus(n)));
    let counted = format!(
        "the calling thread's CPU affinity mask could not be read ({error}), so {online} were \
         counted instead"
    );
    // the kernel's own text for the mask, and what std would answer with it
    let listed = why.status_affinity.as_ref();
    let would_give = listed.and_then(|mask| derive(why.cgroup.as_ref(), Some(mask), why.online));
    match (listed, would_give) {
        (Some(mask), Some((count, _))) if Some(count) != why.std => Some(format!(
            "{counted}; /proc/thread-self/status lists {} ({}) in Cpus_allowed_list, so the \
             answer overcounts: allow sched_getaffinity in the sandbox, or {}",
            cpus(mask.count),
            mask.cpus,
            set_the_override(count)
        )),
        (Some(mask), _) => Some(format!(
            "{counted}; /proc/thread-self/status lists {} ({}) in Cpus_allowed_list, which \
             gives the same answer: allow sched_getaffinity in the sandbox so that it stays so",
            cpus(mask.count),
            mask.cpus
        )),
        (None, _) => Some(format!(
            "{counted}; the answer may overcount if this process is confined to fewer CPUs: \
             allow sched_getaffinity in the sandbox, or {}",
            set_the_override("<threads>")
        )),
    }
}

fn cgroup_unreadable(why: &Explanation) -> Vec<String> {
    why.unreadable.iter().map(unreadable_file).collect()
}

fn unreadable_file(file: &UnreadableFile) -> String {
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

/// Whether the process is known to be in the kernel's initial cgroup namespace, or its
/// namespace cannot be told: then its root cgroup is the machine's, which has no quota.
fn root_is_the_machines(why: &Explanation) -> bool {
    why.cgroup_namespace.is_none_or(|inode| inode == PROC_CGROUP_INIT_INO)
}

fn cgroupfs_unmounted(why: &Explanation) -> Option<String> {
    let cgroup = why.cgroup.as_ref().filter(|cgroup| cgroup.mount.is_none())?;
    if why.cgroup2_elsewhere.is_some() || (cgroup.path == "/" && root_is_the_machines(why)) {
        return None;
    }
    let (hierarchy, usual) = match cgroup.version {
        CgroupVersion::V1 => ("the cgroup v1 cpu controller", "/sys/fs/cgroup/cpu"),
        CgroupVersion::V2 => ("cgroup v2", "/sys/fs/cgroup"),
    };
    Some(format!(
        "/proc/self/cgroup places this process in {} on {hierarchy}, but no mounted cgroup \
         filesystem shows that cgroup (nothing is mounted at {usual}, or another mount hides \
         it), so no quota could be read and {} counts only the CPUs, while the kernel may \
         enforce a quota on that cgroup: mount cgroupfs read-only at /sys/fs/cgroup, as \
         Docker does, or {}",
        cgroup.path,
        detection_answer(why),
        set_the_override("<the container's CPU limit>")
    ))
}

fn cgroups_invisible(why: &Explanation) -> Option<String> {
    let how = match why.membership {
        Membership::Empty => "is empty",
        Membership::Missing => "does not exist",
        _ => return None,
    };
    Some(format!(
        "/proc/self/cgroup {how}, as under gVisor or on a kernel without cgroups, so this \
         process cannot see the cgroup it runs in: a CPU limit on the sandbox is enforced \
         outside it and cannot be counted, and the CPUs counted are the sandbox's own; {} is \
         the sandbox's CPU count: {} to the sandbox's CPU limit",
        why.std.map_or("the answer".to_owned(), |count| count.to_string()),
        set_the_override("<threads>")
    ))
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
    Some(format!(
        "the answer is {now} now, but the first answer this process got was {}, {} ago: \
         thread pools sized at start are sized for {} (an in-place pod resize, runc update or \
         a move to another cgroup changes the number under a running process); resize them \
         to {now}, or restart the process",
        first.count,
        age(first.age),
        first.count
    ))
}

fn cpu_steal(why: &Explanation) -> Option<String> {
    let steal = why.steal.filter(|steal| steal.share() >= STEAL_SHARE_MIN)?;
    let flag = match why.hypervisor {
        Some(true) => " (its CPUs carry the hypervisor flag)",
        _ => "",
    };
    Some(format!(
        "this machine is a virtual machine whose hypervisor took {:.1}% of its CPU time since \
         boot ({} of {} ticks, the steal column of /proc/stat){flag}: the CPUs counted may \
         be shared with other guests, so fewer may really be there for this one; {} to size \
         for what this guest really gets",
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
    let level = why.cgroup.as_ref()?.binding_level()?;
    let (burst, quota) = (level.burst_cpus()?, level.cpus?);
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

/// "2.01": a request in CPUs, to two places.
fn request(cpus: f64) -> String {
    format!("{:.2}", cpus)
}

fn requests_only(why: &Explanation) -> Option<String> {
    let cgroup = why.cgroup.as_ref().filter(|cgroup| cgroup.quota().is_none())?;
    let (file, default) = (cgroup.version.weight_file(), cgroup.version.default_weight());
    let weight = cgroup.weight.filter(|&weight| weight != default && weight > 0)?;
    let best_effort = match cgroup.version {
        CgroupVersion::V1 => weight == kubernetes::BEST_EFFORT_SHARES,
        CgroupVersion::V2 => weight == kubernetes::BEST_EFFORT_WEIGHT,
    };
    let facts = format!(
        "no cgroup level sets a CPU quota, but {} has {file} {weight} (default {default})",
        cgroup.path
    );
    if best_effort {
        return Some(format!(
            "{facts}: that is how Kubernetes writes a BestEffort pod, with no CPU request and \
             no limit; {} counts every CPU the affinity mask allows, and pools sized to it \
             compete for whatever CPU time other pods leave, which can be almost none: give \
             the pod a CPU request (and size pools to it), or a limit",
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

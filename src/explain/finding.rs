//! What a finding is: a condition that makes the number mislead, with a stable code for
//! programs, a severity, and a sentence for people (the facts with their numbers, then what
//! to change).

use std::fmt;

/// One condition explain() found; [`Explanation::findings`](crate::Explanation::findings)
/// lists them in the order of [`FindingCode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which condition.
    pub code: FindingCode,
    /// What it means here, with its numbers, and what to change.
    pub text: String,
}

impl Finding {
    /// How sure the finding is that the number misleads: its code's severity.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// How much a finding claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The facts explain() read show that the number is off or unreliable now.
    Warning,
    /// A caveat: something the number cannot account for, which no process can check from
    /// inside (a parent's limit above a cgroup namespace, a burst), or a cost.
    Note,
}

impl Severity {
    /// Both, the stronger first.
    pub const ALL: [Severity; 2] = [Severity::Warning, Severity::Note];

    /// The word the report and Lua use: `"warning"` or `"note"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The conditions, in the order explain() reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FindingCode {
    /// `KUMO_AVAILABLE_PARALLELISM` is set and invalid: `available_parallelism()` raises.
    OverrideInvalid,
    /// A valid override replaces what detection would answer.
    OverrideReplacesDetection,
    /// The binding cgroup quota is below 1 CPU: std answers 1, and one thread is throttled.
    QuotaBelowOne,
    /// The binding quota is not whole and std floors it (1.5 CPUs gives 1).
    QuotaFloored,
    /// A quota is set but at or above the CPUs the affinity mask allows: it limits nothing.
    QuotaAboveCpus,
    /// The calling thread may use fewer CPUs than the process's main thread.
    ThreadPinned,
    /// The calling thread's mask could not be read, so the online count was used.
    AffinityUnreadable,
    /// A cgroup file std would read exists but could not be read: counted as no limit.
    CgroupUnreadable,
    /// cgroup2 is mounted elsewhere than `/sys/fs/cgroup` with a quota std never reads.
    Cgroup2Elsewhere,
    /// `/proc/self/cgroup` names a cgroup that no mounted cgroup filesystem shows, so no
    /// quota could be read, though the kernel may enforce one.
    CgroupfsUnmounted,
    /// `/proc/self/cgroup` is empty or missing (gVisor, a kernel without cgroups): a limit
    /// on the sandbox is enforced outside it.
    CgroupsInvisible,
    /// std's answer and the probes' differ, and std itself answered differently when asked
    /// again: the kernel's answer changed between the reads.
    DetectionChanged,
    /// The probes derive another number than std, and std answers the same when asked
    /// again: explain()'s copy of std's rule disagrees with this std.
    ProbeMismatch,
    /// The answer differs from the first one this process got: pools sized at start are
    /// sized for a number that no longer holds.
    ChangedSinceFirstCall,
    /// Steal time of at least 1% of CPU time since boot: the CPUs counted may be shared
    /// with other guests (an overcommitted VM).
    CpuSteal,
    /// On cgroup v1, std scans at least 1,000 lines of mountinfo on every call to find the
    /// cpu controller, which is at neither usual path.
    MountinfoScan,
    /// The binding level may burst above its quota; the answer uses the steady-state quota.
    QuotaBurst,
    /// The process is in its own cgroup namespace: limits above its root are invisible.
    CgroupNamespace,
    /// A CPU weight (a Kubernetes request, or BestEffort) with no quota: the answer is the
    /// whole machine.
    RequestsOnly,
}

impl FindingCode {
    /// Every code, in the order explain() reports them.
    pub const ALL: [FindingCode; 19] = [
        FindingCode::OverrideInvalid,
        FindingCode::OverrideReplacesDetection,
        FindingCode::QuotaBelowOne,
        FindingCode::QuotaFloored,
        FindingCode::QuotaAboveCpus,
        FindingCode::ThreadPinned,
        FindingCode::AffinityUnreadable,
        FindingCode::CgroupUnreadable,
        FindingCode::Cgroup2Elsewhere,
        FindingCode::CgroupfsUnmounted,
        FindingCode::CgroupsInvisible,
        FindingCode::DetectionChanged,
        FindingCode::ProbeMismatch,
        FindingCode::ChangedSinceFirstCall,
        FindingCode::CpuSteal,
        FindingCode::MountinfoScan,
        FindingCode::QuotaBurst,
        FindingCode::CgroupNamespace,
        FindingCode::RequestsOnly,
    ];

    /// The code Lua sees, such as `"quota-floored"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::OverrideInvalid => "override-invalid",
            FindingCode::OverrideReplacesDetection => "override-replaces-detection",
            FindingCode::QuotaBelowOne => "quota-below-one",
            FindingCode::QuotaFloored => "quota-floored",
            FindingCode::QuotaAboveCpus => "quota-above-cpus",
            FindingCode::ThreadPinned => "thread-pinned",
            FindingCode::AffinityUnreadable => "affinity-unreadable",
            FindingCode::CgroupUnreadable => "cgroup-unreadable",
            FindingCode::Cgroup2Elsewhere => "cgroup2-elsewhere",
            FindingCode::CgroupfsUnmounted => "cgroupfs-unmounted",
            FindingCode::CgroupsInvisible => "cgroups-invisible",
            FindingCode::DetectionChanged => "detection-changed",
            FindingCode::ProbeMismatch => "probe-mismatch",
            FindingCode::ChangedSinceFirstCall => "changed-since-first-call",
            FindingCode::CpuSteal => "cpu-steal",
            FindingCode::MountinfoScan => "mountinfo-scan",
            FindingCode::QuotaBurst => "quota-burst",
            FindingCode::CgroupNamespace => "cgroup-namespace",
            FindingCode::RequestsOnly => "requests-only",
        }
    }

    /// `Warning` where the facts read show the number off or unreliable now; `Note` for a
    /// caveat the process cannot check (a parent above its cgroup namespace, a burst, steal
    /// since boot, a request under contention), a cost, or an override set on purpose.
    pub fn severity(self) -> Severity {
        match self {
            FindingCode::OverrideInvalid
            | FindingCode::QuotaBelowOne
            | FindingCode::QuotaFloored
            | FindingCode::ThreadPinned
            | FindingCode::AffinityUnreadable
            | FindingCode::CgroupUnreadable
            | FindingCode::Cgroup2Elsewhere
            | FindingCode::CgroupfsUnmounted
            | FindingCode::CgroupsInvisible
            | FindingCode::DetectionChanged
            | FindingCode::ProbeMismatch
            | FindingCode::ChangedSinceFirstCall => Severity::Warning,
            FindingCode::OverrideReplacesDetection
            | FindingCode::QuotaAboveCpus
            | FindingCode::CpuSteal
            | FindingCode::MountinfoScan
            | FindingCode::QuotaBurst
            | FindingCode::CgroupNamespace
            | FindingCode::RequestsOnly => Severity::Note,
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_code_once_in_order() {
        assert!(FindingCode::ALL.windows(2).all(|pair| pair[0] < pair[1]));
        let names: std::collections::BTreeSet<_> =
            FindingCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(names.len(), FindingCode::ALL.len());
    }
}

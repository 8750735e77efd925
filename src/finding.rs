//! What a finding is: a condition that makes the number mislead, with a stable code for
//! programs and a sentence for people (the facts with their numbers, then what to change).

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
    /// std's answer and the probes' differ: the kernel's answer changed between the reads.
    DetectionChanged,
    /// Under a hypervisor that took at least 1% of CPU time since boot: the CPUs counted
    /// may be shared with other guests (an overcommitted VM).
    CpuSteal,
    /// On cgroup v1, std scans at least 1,000 lines of mountinfo on every call to find the
    /// cpu controller, which is at neither usual path.
    MountinfoScan,
    /// A level may burst above its quota; the answer uses the steady-state quota.
    QuotaBurst,
    /// The process is in its own cgroup namespace: limits above its root are invisible.
    CgroupNamespace,
    /// A CPU weight (a Kubernetes request) with no quota: the answer is the whole machine.
    RequestsOnly,
}

impl FindingCode {
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
            FindingCode::DetectionChanged => "detection-changed",
            FindingCode::CpuSteal => "cpu-steal",
            FindingCode::MountinfoScan => "mountinfo-scan",
            FindingCode::QuotaBurst => "quota-burst",
            FindingCode::CgroupNamespace => "cgroup-namespace",
            FindingCode::RequestsOnly => "requests-only",
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

//! What explain() returns: the facts behind the number. Gathering them is `mod.rs`;
//! std's rule for deriving the number from them, `std_rule.rs`; judging them,
//! `diagnose.rs`; the report a person reads, `report.rs`. All import this file; it imports
//! none of them.

use std::num::NonZeroUsize;
use std::time::Duration;

use super::finding::Finding;
use crate::probes::{Affinity, CgroupReport, Fault, Membership, MissedCgroup, UnreadableFile};

/// What decided the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// `KUMO_AVAILABLE_PARALLELISM` is set (and valid, or the value is an error).
    Override,
    /// A cgroup quota below the CPUs std counts without it: those the affinity mask allows, or
    /// those its fallback counts where std cannot read the mask.
    Cgroup,
    /// The calling thread's CPU affinity mask.
    Affinity,
    /// std's fallback, `sysconf(_SC_NPROCESSORS_ONLN)`, where std could not read the calling
    /// thread's mask (denied, or refused for more than 1024 possible CPUs).
    Online,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 4] =
        [Source::Override, Source::Cgroup, Source::Affinity, Source::Online];

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
#[non_exhaustive]
pub struct OverrideSetting {
    /// The value as set (bytes that are not UTF-8 shown as U+FFFD).
    pub raw: String,
    /// Why the value is rejected; absent when it is valid (or empty: then it does not apply).
    pub error: Option<String>,
}

/// Which thread took a first answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TakenOn {
    /// The thread that asks.
    ThisThread,
    /// Another thread of the process, under what the answer now is taken under.
    AnotherThread,
}

impl TakenOn {
    /// Every kind's name, as Lua sees it, in the order of the variants (`as_str` indexes it,
    /// so a new variant does not compile until its name is here).
    pub const NAMES: [&'static str; 2] = ["this-thread", "another-thread"];

    /// The name Lua sees: `"this-thread"` or `"another-thread"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TakenOn::ThisThread => Self::NAMES[0],
            TakenOn::AnotherThread => Self::NAMES[1],
        }
    }
}

/// A first answer of `available_parallelism()` or `explain()`, what it was taken under, and
/// which thread took it: what pools sized then were sized for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FirstAnswer {
    /// The answer.
    pub count: NonZeroUsize,
    /// How long ago it was taken; in Lua and JSON, in seconds.
    pub age: Duration,
    /// Which thread took it: `"this-thread"` or `"another-thread"`.
    pub taken_on: TakenOn,
    /// Whether `KUMO_AVAILABLE_PARALLELISM` gave it (`override` in Lua: `true`, or absent when std
    /// did).
    pub by_override: bool,
    /// The affinity mask std counted for it, such as `0-3`: the mask of the thread that took it,
    /// with std's 1024-CPU set; absent where the override gave it, or where std could not read the
    /// mask.
    pub cpus: Option<String>,
}

impl FirstAnswer {
    /// Whether it was taken under what an answer now is taken under: both by the override, or
    /// both by std counting the same mask (`mask`, as [`std_counted_mask`] gives it): like with
    /// like, whichever thread took it.
    pub(crate) fn same_basis(&self, by_override: bool, mask: Option<&str>) -> bool {
        self.by_override == by_override && (by_override || self.cpus.as_deref() == mask)
    }
}

/// The calling thread's mask as std counts it: the list of `affinity` where it fits std's
/// 1024-CPU set; `None` where std could not read it (std then counts its fallback).
pub(crate) fn std_counted_mask(affinity: Option<&Affinity>) -> Option<&str> {
    affinity.filter(|mask| mask.fits_std_set).map(|mask| mask.cpus.as_str())
}

/// Why `available_parallelism()` is what it is: what [`explain`](crate::explain) returns.
/// `tostring()` of it is a short report, one fact per line, ending with the decision (in Rust,
/// its `Display`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Explanation {
    /// What [`available_parallelism`](crate::available_parallelism) returns here; absent when it
    /// would raise (an invalid override, or std failing).
    pub value: Option<NonZeroUsize>,
    /// What decided: `"override"` (valid, or invalid and raising); `"cgroup"` when a quota is
    /// strictly below the CPUs std counts without it (the mask's, or its fallback's); `"affinity"`;
    /// `"online"` when std could not use the mask and counted its fallback.
    pub source: Source,
    /// `KUMO_AVAILABLE_PARALLELISM` as set (`override` in Lua); absent when it is unset.
    pub override_setting: Option<OverrideSetting>,
    /// The calling thread's CPU affinity mask; absent when it cannot be read, or not on Linux.
    pub affinity: Option<Affinity>,
    /// Why the calling thread's mask could not be read; absent when it could be, or not on Linux.
    pub affinity_error: Option<String>,
    /// What kind of fault `affinity_error` is; absent with it.
    pub affinity_fault: Option<Fault>,
    /// `Cpus_allowed_list` from `/proc/thread-self/status`, read only when the calling thread's
    /// mask could not be (a sandbox denying `sched_getaffinity`), intersected with the online CPUs
    /// as `sched_getaffinity` would answer it: the kernel's word on the mask std could not get.
    /// Absent otherwise, or when the file cannot be read.
    pub status_affinity: Option<Affinity>,
    /// The mask of the process's main thread, to compare with the calling thread's; absent when
    /// it cannot be read, or not on Linux.
    pub process_affinity: Option<Affinity>,
    /// What std's fallback counts, `sysconf(_SC_NPROCESSORS_ONLN)`, asked only when std cannot use
    /// the calling thread's mask, since only then does std count it (glibc answers the online CPUs;
    /// musl asks `sched_getaffinity` itself and answers 1 when that fails). Absent otherwise, when
    /// it fails, or not on Linux.
    pub online: Option<usize>,
    /// The CPUs the kernel may ever have (`nr_cpu_ids`: the highest id in
    /// `/sys/devices/system/cpu/possible`, plus one), read only when the calling thread's mask does
    /// not fit the 1024-CPU set std passes to `sched_getaffinity`, which the kernel then refuses;
    /// absent otherwise, or when the file cannot be read.
    pub possible_cpus: Option<usize>,
    /// std's own answer; absent when std failed.
    pub std: Option<NonZeroUsize>,
    /// What `/proc/self/cgroup` said: `"listed"`, `"empty"` (gVisor), `"missing"` (`/proc` without
    /// it), `"no-proc"` (no `/proc/self` at all) or `"unreadable"`; absent where it is not read
    /// (not Linux).
    pub membership: Membership,
    /// The cgroup hierarchy std walks; absent without cgroup information.
    pub cgroup: Option<CgroupReport>,
    /// Files std reads that exist but could not be read (std counts each as no limit); empty when
    /// none.
    pub unreadable: Vec<UnreadableFile>,
    /// Of the files explain() reads for itself, which std never reads, those that exist but could not
    /// be read: `/proc/self/ns/cgroup`, `cpu.stat`, and mountinfo on cgroup v2 (a burst or weight
    /// file, which only adds a fact to a finding, is not listed). The answer does not depend on
    /// them, only what explain() can say; empty when none.
    pub probe_unreadable: Vec<UnreadableFile>,
    /// A cgroup2 mount other than `/sys/fs/cgroup` that shows this process's cgroup where
    /// `/sys/fs/cgroup` does not; std never reads it. Absent where `/sys/fs/cgroup` shows it, where
    /// no other mount does or mountinfo cannot be read, and on cgroup v1.
    pub cgroup2_elsewhere: Option<CgroupReport>,
    /// The process's cgroup where explain()'s own lookup of mountinfo finds it and std's lookup
    /// does not walk it (a v1 mount point or root that mountinfo writes escaped, a v1 mount std
    /// takes that a later one hides, a v2 subtree mounted at `/sys/fs/cgroup`); std's answer does
    /// not count its quota. Absent where std's lookup walks it, or no other mount shows it.
    pub std_missed: Option<MissedCgroup>,
    /// The inode of this process's cgroup namespace (`/proc/self/ns/cgroup`); 4026531835
    /// ([`PROC_CGROUP_INIT_INO`](crate::PROC_CGROUP_INIT_INO)) is the kernel's initial one. Absent
    /// when the link cannot be read, or not on Linux.
    pub cgroup_namespace: Option<u64>,
    /// The number explain() derives from what it read, by std's rule; equals `std` unless a finding
    /// says why not. Absent where nothing was read to derive it from (not Linux), or where std could
    /// not use the mask and its fallback, `sysconf`, failed too.
    pub derived: Option<NonZeroUsize>,
    /// std asked once more, only when `derived` differs from `std`: a different second answer means
    /// the kernel's changed between the reads (`detection-changed`), the same one that the rule
    /// differs (`probe-mismatch`). Absent otherwise, or when std failed the second time.
    pub std_again: Option<NonZeroUsize>,
    /// The first answer this one is held against, as it was before this call: the process's first,
    /// where it was taken under what this answer is (the override, or the same affinity mask: like
    /// with like, whichever thread took it), and the calling thread's own first; the one that
    /// differs from `value` where one does (`changed-since-first-call`), else the process's, else
    /// this thread's. Absent where neither was taken, or the process's was taken under another
    /// mask and this thread had none.
    pub first_answer: Option<FirstAnswer>,
    /// What in these facts misleads and what to change, in the order of the codes; empty when
    /// nothing does.
    pub findings: Vec<Finding>,
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
            affinity_fault: None,
            status_affinity: None,
            process_affinity: Some(mask),
            online: Some(count),
            possible_cpus: None,
            std: NonZeroUsize::new(count),
            membership: Membership::Listed,
            cgroup: None,
            unreadable: Vec::new(),
            probe_unreadable: Vec::new(),
            cgroup2_elsewhere: None,
            std_missed: None,
            cgroup_namespace: Some(crate::probes::PROC_CGROUP_INIT_INO),
            derived: NonZeroUsize::new(count),
            std_again: None,
            first_answer: None,
            findings: Vec::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::probes::{CgroupLevel, CgroupVersion};

    pub(crate) fn mask(count: usize) -> Affinity {
        // as the kernel lists it: "0" for one CPU
        let cpus = if count == 1 { "0".to_owned() } else { format!("0-{}", count - 1) };
        Affinity { count, cpus, fits_std_set: true }
    }

    /// A report of a hierarchy mounted where std looks, with no levels read yet.
    pub(crate) fn mounted(version: CgroupVersion, path: &str) -> CgroupReport {
        let mut report = CgroupReport::new(version, path.into());
        report.mount = Some("/sys/fs/cgroup".into());
        report
    }

    /// A cgroup v2 report of `/pod/ctr` with these (path, limit, period) levels, leaf first.
    pub(crate) fn report_with(levels: &[(&str, &str, &str)]) -> CgroupReport {
        let mut report = mounted(CgroupVersion::V2, "/pod/ctr");
        for (path, limit, period) in levels {
            report.levels.push(CgroupLevel::read(
                (*path).into(),
                Some((*limit).into()),
                Some((*period).into()),
            ));
        }
        report.mark_binding_level();
        report
    }
}

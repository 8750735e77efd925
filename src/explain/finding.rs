//! What a finding is: a condition that makes the number mislead, with a stable code for
//! programs, a severity, and a sentence for people (the facts with their numbers, then what
//! to change).
//!
//! Every code is one row of [`finding_table!`]: its name in Rust and in Lua, its severity,
//! the rule that finds it, when it applies and what its text says. The enum, its lists and
//! strings and the rule order in `diagnose.rs` come from that one table; tools/docgen reads
//! its rows as source for the table of findings in docs/reference.md and the codes in the
//! LuaCATS type file.

use std::fmt;

/// The one table of findings, in the order explain() reports them. Each row:
/// `Variant, "code", Severity, rule, when: "...", says: "...";` where `rule` is the function
/// in `diagnose.rs` that finds it, `when` says when it applies (the enum variant's doc, and
/// the reference's "when" column) and `says` what its text gives (the reference's last
/// column; tools/docgen reads it). `finding_table!(callback)` hands the rows to `callback!`.
macro_rules! finding_table {
    ($callback:ident) => {
        $callback! {
    OverrideInvalid, "override-invalid", Warning, override_invalid,
        when: "the override is set and invalid",
        says: "that `available_parallelism()` raises, the error message, and what detection \
            would answer";
    OverrideReplacesDetection, "override-replaces-detection", Note, override_replaces_detection,
        when: "a valid override is set",
        says: "the override, the answer, and what detection would answer now";
    QuotaBelowOne, "quota-below-one", Warning, quota_below_one,
        when: "the effective cgroup quota is below 1 CPU (std answers 1)",
        says: "the quota and where it is set, that one busy thread already exceeds it and will \
            be throttled, and the setting for 1 CPU";
    QuotaFloored, "quota-floored", Warning, quota_floored,
        when: "the effective quota decides and is not whole (1.5 → 1)",
        says: "the quota, the floored answer, that rounding up (Go 1.25, .NET, num_cpus) would \
            give the ceiling, and the settings for it: the binding level's, and those of the \
            other levels that would bind next";
    QuotaAboveCpus, "quota-above-cpus", Note, quota_above_cpus,
        when: "a quota is set but at or above the CPUs the affinity mask allows (the online \
            CPUs when the mask is unreadable)",
        says: "the quota and the CPU count, and that it limits nothing";
    CpuThrottled, "cpu-throttled", Warning, cpu_throttled,
        when: "the kernel throttled a level with a quota in at least 25% of the periods it ran \
            in, and it ran in at least 10 (`cpu.stat`, counted since the cgroup was created); \
            one finding per level",
        says: "the level, its quota, the throttled periods of all with the share, the time \
            throttled, that the counts run since the cgroup was created, that pools sized from \
            the answer put more busy threads on the quota than it runs, and what to change: \
            fewer threads per pool (`KUMOD_<POOL>_THREADS`), or a larger quota";
    ThreadPinned, "thread-pinned", Warning, thread_pinned,
        when: "the calling thread may use fewer CPUs than the process's main thread",
        says: "both counts and CPU lists, and that std counts the calling thread";
    AffinityUnreadable, "affinity-unreadable", Warning, affinity_unreadable,
        when: "the calling thread's mask could not be read (a seccomp profile or firejail \
            denying `sched_getaffinity`, or any other error), so std's fallback counted: what \
            `sysconf(_SC_NPROCESSORS_ONLN)` answers",
        says: "the error and its kind of fault, and what was counted; the CPUs \
            `Cpus_allowed_list` in `/proc/thread-self/status` names, of those online (as \
            `sched_getaffinity` would answer), whether std's answer with them is lower (the \
            answer overcounts) or higher (it undercounts), the remedy for that kind of fault \
            and the exact override, or that they give the same answer; without that file, \
            that the answer may be off";
    StdMissedAffinity, "std-missed-affinity", Warning, std_missed_affinity,
        when: "the kernel may have more than 1024 CPUs (`/sys/devices/system/cpu/possible`, \
            hot-add slots included), so it refuses the 1024-CPU set std passes to \
            `sched_getaffinity` whatever the mask, and std counts its fallback instead, \
            `sysconf(_SC_NPROCESSORS_ONLN)`; explain() reads the calling thread's mask once \
            more with a set sized from the possible CPUs, rounded up to whole words, of at \
            most 8192 CPUs (or, where the call is denied, takes `Cpus_allowed_list`), and \
            std's own rule gives another number with it",
        says: "the possible CPUs, std's 1024-CPU set and what std counted instead, the mask \
            and where it came from (read, or listed where the call is denied, with the \
            error), the number std's rule gives with it, and the exact override; the \
            returned number stays std's";
    CgroupUnreadable, "cgroup-unreadable", Warning, cgroup_unreadable,
        when: "`/proc/self/cgroup`, `/proc/self/mountinfo` (v1) or a limit file std would read \
            exists but could not be read (a missing file is normal); one finding per file",
        says: "the path, the error and its kind of fault (permission, descriptors, memory, or \
            an I/O or kernel error), what std counted instead, that the answer is what the \
            fault made of it and may overcount, and the remedy for that kind of fault (who may \
            read it; the open-file limit, and to ask again; to ask again) or the override";
    ProbeUnreadable, "probe-unreadable", Note, probe_unreadable,
        when: "a file explain() reads for itself, which std never reads (`/proc/self/ns/cgroup`, \
            `cpu.stat`, mountinfo on cgroup v2), exists but could not be read; one finding per \
            file",
        says: "the path, the error and its kind of fault, what explain() cannot tell without \
            it, that the answer does not depend on it, and the remedy for that kind of fault";
    StdMissedQuota, "std-missed-quota", Warning, std_missed_quota,
        when: "explain()'s own lookup of mountinfo finds the process's cgroup where std's does \
            not walk it, and a quota there that gives a lower number: a v1 mount point or \
            root with a space, tab, newline or backslash (mountinfo writes it escaped, std \
            uses the text as written), a v1 mount std takes that a later mount at the same \
            point hides, a line std cannot parse before it, or `/sys/fs/cgroup` as a cgroup2 \
            mount of a subtree",
        says: "the mount point as mountinfo writes it and unescaped, the quota and its level, \
            why std's lookup misses it, the number std's own rule gives with it and the \
            exact override; the returned number stays std's";
    Cgroup2Elsewhere, "cgroup2-elsewhere", Warning, cgroup2_elsewhere,
        when: "std found no cgroup2 directory for this process under `/sys/fs/cgroup`, but \
            cgroup2 is mounted elsewhere and the process's cgroup there has a quota",
        says: "the mount point, the quota there, and the number it would have given";
    CgroupfsUnmounted, "cgroupfs-unmounted", Warning, cgroupfs_unmounted,
        when: "`/proc/self/cgroup` places the process in a cgroup, on the v1 cpu controller or \
            on v2, and mountinfo shows that no mounted cgroup filesystem shows it; not for \
            the machine's own root cgroup, which has no quota, and not when mountinfo could \
            not be read",
        says: "which case it is: no mount of the hierarchy at all (a container without the \
            cgroup mount), every mount hidden by a later one (`bwrap --tmpfs \
            /sys/fs/cgroup`), a cgroup outside the namespace root (`0::/../x`), or mounts of \
            other subtrees; that no quota could be read while the kernel may enforce one, \
            and what to change, or the override";
    CgroupsInvisible, "cgroups-invisible", Warning, cgroups_invisible,
        when: "`/proc/self/cgroup` is empty (gVisor), or missing: from a `/proc` without it (a \
            kernel without cgroups, a sandbox's `/proc`), or with no `/proc/self` at all (a \
            chroot, bwrap without `--proc`)",
        says: "which it is; for gVisor, that a limit on the sandbox is enforced outside it and \
            how runsc sizes its vCPUs (the cpuset, or with `--cpu-num-from-quota` the quota \
            rounded up, at least 2); without `/proc`, to mount it";
    DetectionChanged, "detection-changed", Warning, detection_changed,
        when: "`derived` differs from `std`, and std asked again answers differently: the \
            kernel's answer changed between the reads",
        says: "the numbers, and to ask again rather than keep the number";
    ProbeMismatch, "probe-mismatch", Warning, probe_mismatch,
        when: "`derived` differs from `std`, and std asked again answers the same: explain()'s \
            copy of std's rule disagrees with this std (std's rule is private and has \
            changed before)",
        says: "both numbers, the rustc the module was built with, and to report a bug with the \
            report attached";
    ChangedSinceFirstCall, "changed-since-first-call", Warning, changed_since_first_call,
        when: "the answer differs from the process's first answer taken under the same \
            affinity mask (or both by the override), whichever thread took it, or from the \
            calling thread's own first answer; not where a file or call std reads failed \
            (`cgroup-unreadable`, `affinity-unreadable`: the fault may make the difference)",
        says: "both numbers, whose first answer it was and how long ago, what changed since: \
            the override; this thread's own mask (both masks named: `sched_setaffinity`, a \
            cpuset, or one of its CPUs taken offline); or, under the same mask, a quota or the \
            cgroup (an in-place pod resize, `runc update`, a move), or a file std read then \
            that failed (and, where std counted its fallback both times, the CPUs online); and \
            that pools sized then are stale: resize them or restart";
    MountinfoScan, "mountinfo-scan", Note, mountinfo_scan,
        when: "on cgroup v1 the cpu controller's usual paths (`/sys/fs/cgroup/cpu`, \
            `cpu,cpuacct`) do not show the cgroup, and std reads at least 1,000 lines of \
            mountinfo to find it",
        says: "how many lines std reads on every call, and what makes the scan go away: \
            mounting the controller at `/sys/fs/cgroup/cpu`, or, where it is mounted there \
            showing only a subtree (a runtime without a cgroup namespace), a private cgroup \
            namespace; or the override";
    QuotaBurst, "quota-burst", Note, quota_burst,
        when: "the level whose quota binds, below the CPUs the affinity mask allows, has a \
            burst allowance (`cpu.max.burst`, or v1 `cpu.cfs_burst_us` > 0)",
        says: "that level, its burst in CPUs over its quota, and that the answer uses the \
            steady-state quota";
    CgroupNamespace, "cgroup-namespace", Note, cgroup_namespace,
        when: "`/proc/self/ns/cgroup` names a namespace other than the initial one (inode \
            4026531835, `PROC_CGROUP_INIT_INO`); nothing when the link cannot be read",
        says: "that cgroups above the namespace's root are invisible, so a tighter quota on a \
            pod or slice would be enforced but not counted, and to set the override if it is \
            below the answer";
    MountShowsSubtree, "mount-shows-subtree", Note, mount_shows_subtree,
        when: "the walked mount shows only a subtree of the hierarchy (mountinfo's root field \
            is not `/`), as runc and Docker bind-mount a container's own cgroup on v1 \
            without a cgroup namespace",
        says: "the mount point and the subtree, the levels above it that cannot be read, that a \
            tighter quota there would be enforced but not counted, and to set the override \
            if it is below the answer";
    RequestsOnly, "requests-only", Note, requests_only,
        when: "no level has a quota, but the leaf's weight is not the default (a Kubernetes \
            request without a limit, or the least weight)",
        says: "see below; the number itself never follows the weight (see JDK-8281181)";
        }
    };
}
pub(crate) use finding_table;

/// One condition explain() found; explain()'s `findings` list them in the order of their codes
/// (in Rust, [`FindingCode`]'s).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// Which condition, such as `quota-floored`.
    pub code: FindingCode,
    /// What it means here, with its numbers, and what to change.
    pub text: String,
}

impl Finding {
    /// How much it claims, its code's: a warning says the facts read show the number off or
    /// unreliable now; a note is a caveat no process can check from inside, what explain() could
    /// not read for itself, a cost, or an override set on purpose.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// How much a finding claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// The facts explain() read show that the number is off or unreliable now.
    Warning,
    /// A caveat: something the number cannot account for, which no process can check from
    /// inside (a parent's limit above a cgroup namespace, a burst), what explain() could not
    /// read for itself, a cost, or an override set on purpose.
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

/// The enum and its lists, from the table's rows.
macro_rules! define_codes {
    ($($variant:ident, $code:literal, $severity:ident, $rule:ident,
       when: $when:literal, says: $says:literal;)*) => {
        /// The conditions, in the order explain() reports them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum FindingCode {
            $(
                #[doc = concat!("`", $code, "` (", stringify!($severity), "): ", $when, ".")]
                $variant,
            )*
        }

        impl FindingCode {
            /// Every code, in the order explain() reports them.
            pub const ALL: [FindingCode; [$($code),*].len()] = [$(FindingCode::$variant),*];

            /// The code Lua sees, such as `"quota-floored"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $code,)*
                }
            }

            /// `Warning` where the facts read show the number off or unreliable now; `Note`
            /// for a caveat the process cannot check (a parent above its cgroup namespace, a
            /// burst, a request under contention), a cost, or an override
            /// set on purpose.
            pub fn severity(self) -> Severity {
                match self {
                    $(FindingCode::$variant => Severity::$severity,)*
                }
            }
        }
    };
}
finding_table!(define_codes);

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

    #[test]
    fn codes_are_kebab_case() {
        for code in FindingCode::ALL {
            let name = code.as_str();
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
        }
    }
}

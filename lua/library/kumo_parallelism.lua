---@meta kumo_parallelism
-- LuaCATS type definitions for editors (lua-language-server): add lua/library to
-- `workspace.library`. A test (src/lua.rs, annotations) fails when a key the module
-- exports has no annotation here, or an annotation names a key that does not exist.

---How many threads this program should use, and why.
---@class kumo_parallelism
---@field _VERSION string "kumo_parallelism X.Y.Z"
local kumo_parallelism = {}

---The number of threads to use: `KUMO_AVAILABLE_PARALLELISM` when it holds a whole number
---from 1 to 4294967295 (surrounding whitespace and one leading `+` allowed; unset, empty or
---only whitespace means "not set"), otherwise Rust std's `available_parallelism()`:
---the calling thread's CPU affinity, capped by the tightest cgroup v1/v2 quota, floored,
---at least 1. Recomputed on every call.
---
---Raises a string error naming the variable and quoting its value when it is invalid, or
---when std cannot count the CPUs.
---@return integer count at least 1
function kumo_parallelism.available_parallelism() end

---Why `available_parallelism()` is what it is. Never raises, not even for a bad override.
---`tostring()` of the result is a short report ending with the decision.
---@return kumo_parallelism.Explanation
function kumo_parallelism.explain() end

---@class kumo_parallelism.Explanation
---@field value integer? what available_parallelism() returns here; nil when it would raise
---@field source "override"|"cgroup"|"affinity"|"online" what decided
---@field override kumo_parallelism.Override? nil when KUMO_AVAILABLE_PARALLELISM is unset
---@field affinity kumo_parallelism.Affinity? the calling thread's mask; nil when it cannot be read
---@field affinity_error string? why the calling thread's mask could not be read
---@field status_affinity kumo_parallelism.Affinity? Cpus_allowed_list from /proc/thread-self/status, read only when the mask could not be
---@field process_affinity kumo_parallelism.Affinity? the mask of the process's main thread
---@field online integer? the number of online CPUs, read only when the calling thread's mask cannot be used (std counts them only then)
---@field std integer? std's own answer; nil if std failed
---@field std_again integer? std asked once more, only when derived differs from std
---@field derived integer? the number derived from the probes by std's rules
---@field membership "listed"|"empty"|"missing"|"unreadable"|nil what /proc/self/cgroup said
---@field cgroup kumo_parallelism.Cgroup? nil without cgroup information
---@field unreadable kumo_parallelism.UnreadableFile[] cgroup files std would read that exist but could not be read; empty when none
---@field cgroup2_elsewhere kumo_parallelism.Cgroup? a cgroup2 mount other than /sys/fs/cgroup that shows this cgroup where /sys/fs/cgroup does not
---@field hypervisor boolean? whether /proc/cpuinfo's flags name a hypervisor; read only when steal is at least 1%, else nil
---@field steal kumo_parallelism.Steal? steal time since boot, from /proc/stat; nil where CPUID says no hypervisor
---@field cgroup_namespace integer? the inode of /proc/self/ns/cgroup; 4026531835 is the initial namespace
---@field first_answer kumo_parallelism.FirstAnswer? the first answer this process got
---@field findings kumo_parallelism.Finding[] what misleads and what to change, possibly empty

---@class kumo_parallelism.Override
---@field raw string the value as set
---@field error string? why it is rejected, only when it is

---@class kumo_parallelism.Affinity
---@field count integer CPUs in the mask
---@field cpus string the mask as a compact list, such as "0-3,8"

---@class kumo_parallelism.UnreadableFile
---@field path string the file
---@field error string the error, such as "Permission denied (os error 13)"

---@class kumo_parallelism.Steal
---@field ticks integer the steal column of /proc/stat's cpu line
---@field total integer all CPU time in ticks since boot (guest time is inside user and nice)
---@field share number ticks / total, 0 to 1

---@class kumo_parallelism.FirstAnswer
---@field count integer the first answer available_parallelism() or explain() gave this process
---@field age number seconds since it was taken

---@class kumo_parallelism.Cgroup
---@field version 1|2
---@field path string the process's cgroup path, such as "/kubepods/pod1/ctr"
---@field mount string? the hierarchy's mount point that was walked; nil when no mount shows the cgroup
---@field quota number? the effective quota in CPUs (1.5); nil when unlimited
---@field note string? why the walk found nothing or stopped early
---@field weight integer? the leaf's cpu.weight (v2, default 100) or cpu.shares (v1, default 1024), read when no level has a quota
---@field mountinfo_lines integer? v1 only: the lines of /proc/self/mountinfo std reads on every call, when it must search it
---@field levels kumo_parallelism.CgroupLevel[] leaf first

---@class kumo_parallelism.CgroupLevel
---@field path string this level's cgroup path; the root is "/"
---@field limit string? the quota as read: "150000", "max", "-1"; nil without a limit file
---@field period string? the period as read
---@field cpus number? limit / period in CPUs, when both are numbers and the period is not 0
---@field binds true? set on the level that sets the quota
---@field burst integer? the burst allowance in microseconds (cpu.max.burst, cpu.cfs_burst_us), read where the level has a quota
---@field burst_cpus number? burst / period in CPUs, when positive
---@field unreadable true? set when the limit file exists but could not be read (counted as no limit)

---One condition that makes the number mislead, in the order of the codes below. A
---"warning" says the facts read show the number off or unreliable now; a "note" is a caveat
---no process can check from inside, or a cost.
---@class kumo_parallelism.Finding
---@field code "override-invalid"|"override-replaces-detection"|"quota-below-one"|"quota-floored"|"quota-above-cpus"|"thread-pinned"|"affinity-unreadable"|"cgroup-unreadable"|"cgroup2-elsewhere"|"cgroupfs-unmounted"|"cgroups-invisible"|"detection-changed"|"probe-mismatch"|"changed-since-first-call"|"cpu-steal"|"mountinfo-scan"|"quota-burst"|"cgroup-namespace"|"requests-only"
---@field severity "warning"|"note"
---@field text string the facts with their numbers, and what to change

return kumo_parallelism

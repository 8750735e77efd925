//! explain()'s table: every class and field once, in one list ([`lua_tables!`] below).
//! From it come `Serialize` for each class, which is both the Lua table (through mlua's
//! serializer, `mod.rs`) and the JSON a host writes, so the two are the same by
//! construction; and, for the documentation, each class's field descriptors, from which
//! the LuaCATS type file and the field tables are generated (`annotations.rs`). No other
//! file lists the fields or their order. Each class is named as its Rust type.

use std::num::NonZeroUsize;

use crate::explain::explanation::{Explanation, FirstAnswer, OverrideSetting};
use crate::explain::finding::Finding;
#[cfg(test)]
use crate::explain::{explanation::Source, finding::FindingCode, finding::Severity};
use crate::probes::{
    Affinity, CgroupLevel, CgroupReport, CpuSteal, MissedCgroup, UnreadableFile, Unshown,
};
#[cfg(test)]
use crate::probes::{Membership, MissReason};

/// What the type file and docs/reference.md say of a class and its fields.
#[cfg(test)]
pub(crate) struct ClassDoc {
    pub(crate) class: &'static Class,
    /// Its doc comment, one line per line, each with its leading space.
    pub(crate) doc: &'static str,
    /// Per field, in order: its LuaCATS type and what it means.
    pub(crate) fields: Vec<(String, &'static str)>,
}

/// A LuaCATS union of string literals, such as `"warning"|"note"`.
#[cfg(test)]
fn one_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names.into_iter().map(|name| format!("{name:?}")).collect::<Vec<_>>().join("|")
}

/// What a field holds, for the documentation: the classes themselves are listed below.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A number, a boolean or a string; absent when nil.
    Value,
    /// `true`, or absent.
    Flag,
    /// A table of this class, or absent.
    Table(&'static Class),
    /// A sequence of tables of this class, possibly empty.
    List(&'static Class),
}

/// One field of a class: its Lua name and what it holds.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
}

/// One class of table: `kumo_parallelism.<name>`, named as its Rust type.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Class {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [Field],
}

#[cfg(test)]
macro_rules! kind {
    (value) => {
        Kind::Value
    };
    (text) => {
        Kind::Value
    };
    (flag) => {
        Kind::Flag
    };
    (table $class:ident) => {
        Kind::Table(&$class)
    };
    (list $class:ident) => {
        Kind::List(&$class)
    };
}

/// Writes one field: absent (skipped) when it is `None` or an unset flag, as nil is in Lua.
macro_rules! serialize_field {
    ($state:ident, $name:expr, value, $value:expr) => {
        match $value {
            Some(value) => $state.serialize_field($name, &value)?,
            None => $state.skip_field($name)?,
        }
    };
    ($state:ident, $name:expr, text, $value:expr) => {
        match $value {
            Some(text) => $state.serialize_field($name, AsRef::<str>::as_ref(&text))?,
            None => $state.skip_field($name)?,
        }
    };
    ($state:ident, $name:expr, flag, $value:expr) => {
        if $value {
            $state.serialize_field($name, &true)?
        } else {
            $state.skip_field($name)?
        }
    };
    ($state:ident, $name:expr, table, $value:expr) => {
        match $value {
            Some(table) => $state.serialize_field($name, table)?,
            None => $state.skip_field($name)?,
        }
    };
    ($state:ident, $name:expr, list, $value:expr) => {
        $state.serialize_field($name, $value)?
    };
}

/// The list. Each class: its doc, `Name for RustType, as this { fields }`, leaf classes
/// first (a class names only classes above it); each field: `name: kind = value, LuaCATS
/// type, doc;`, where `value` reads the field from `this` (an `Option` for values and
/// texts, a `bool` for flags, an `Option<&T>` for tables, a `&[T]` for lists). The last
/// class is what explain() returns.
macro_rules! lua_tables {
    ($(
        $(#[doc = $class_doc:literal])+
        $class:ident, as $this:ident {
            $( $field:ident: $kind:ident $(($inner:ident))? = $value:expr, $lua_type:expr, $doc:literal; )*
        }
    )*) => {
        $(
            impl serde::Serialize for $class {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    use serde::ser::SerializeStruct;
                    let $this = self;
                    let fields = [$(stringify!($field)),*].len();
                    let mut state = serializer.serialize_struct(stringify!($class), fields)?;
                    $( serialize_field!(state, stringify!($field), $kind, $value); )*
                    state.end()
                }
            }
        )*

        /// Each class's field descriptors, for the documentation.
        #[cfg(test)]
        #[allow(non_upper_case_globals)]
        pub(crate) mod class {
            use super::{Class, Field, Kind};
            $(
                pub(crate) static $class: Class = Class {
                    name: stringify!($class),
                    fields: &[$(
                        Field { name: stringify!($field), kind: kind!($kind $($inner)?) },
                    )*],
                };
            )*
        }

        /// Every class with its documentation, in the list's order.
        #[cfg(test)]
        pub(crate) fn class_docs() -> Vec<ClassDoc> {
            vec![$(
                ClassDoc {
                    class: &class::$class,
                    doc: concat!($($class_doc, "\n"),+),
                    fields: vec![$( (($lua_type).to_string(), $doc), )*],
                },
            )*]
        }
    };
}

lua_tables! {
    /// `KUMO_AVAILABLE_PARALLELISM` as set.
    OverrideSetting, as setting {
        raw: text = Some(&setting.raw), "string", "the value as set";
        error: text = setting.error.as_deref(), "string?", "why it is rejected, only when it is";
    }

    /// A CPU affinity mask.
    Affinity, as mask {
        count: value = Some(mask.count), "integer", "CPUs in the mask";
        cpus: text = Some(&mask.cpus), "string", "the mask as a compact list, such as `\"0-3,8\"`";
    }

    /// A file std would read that exists but could not be read.
    UnreadableFile, as file {
        path: text = Some(file.path.to_string_lossy()), "string", "the file";
        error: text = Some(&file.error), "string",
            "the error, such as `\"Permission denied (os error 13)\"`";
    }

    /// Steal time since boot, from `/proc/stat`'s `cpu` line.
    CpuSteal, as steal {
        ticks: value = Some(steal.steal_ticks), "integer", "the steal column, in clock ticks";
        total: value = Some(steal.total_ticks), "integer",
            "all CPU time in ticks since boot (guest time is inside user and nice)";
        share: value = Some(steal.share()), "number", "ticks / total, 0 to 1";
    }

    /// The first answer this process got: what pools sized at start were sized for.
    FirstAnswer, as first {
        count: value = Some(first.count.get()), "integer",
            "the first answer `available_parallelism()` or `explain()` gave this process";
        age: value = Some(first.age.as_secs_f64()), "number", "seconds since it was taken";
    }

    /// Why no mounted cgroup filesystem shows the process's cgroup.
    Unshown, as unshown {
        reason: text = Some(unshown.as_str()), one_of(Unshown::NAMES),
            "`\"none-mounted\"` (mountinfo lists no mount of the hierarchy), `\"hidden\"` (a \
             later mount hides every one), `\"outside-namespace-root\"` (the cgroup lies \
             outside this process's cgroup namespace root) or `\"elsewhere-only\"` (the mounts \
             show other subtrees)";
        mount: text = unshown.mount().map(|mount| mount.to_string_lossy()), "string?",
            "the hidden mount point, or the first visible one";
        by: text = unshown.hidden_by().map(|by| by.to_string_lossy()), "string?",
            "the later mount point that hides it";
    }

    /// One directory of the walk from the process's cgroup up to the hierarchy's root.
    CgroupLevel, as level {
        path: text = Some(&level.path), "string", "this level's cgroup path; the root is `\"/\"`";
        limit: text = level.limit.as_deref(), "string?",
            "the quota as read (`cpu.max`'s first field, or `cpu.cfs_quota_us`): `\"150000\"`, \
             `\"max\"`, `\"-1\"`; nil without a limit file";
        period: text = level.period.as_deref(), "string?", "the period as read";
        cpus: value = level.cpus, "number?",
            "limit / period in CPUs, when both are numbers and the period is not 0";
        binds: flag = level.binds, "true?", "set on the level that sets the quota";
        burst: value = level.burst_us, "integer?",
            "the burst allowance in microseconds (`cpu.max.burst` on v2, `cpu.cfs_burst_us` on \
             v1), read where the level has a quota";
        burst_cpus: value = level.burst_cpus(), "number?", "burst / period in CPUs, when positive";
        unreadable: flag = level.unreadable, "true?",
            "set when the limit file exists but could not be read (counted as no limit)";
    }

    /// A cgroup hierarchy's view of this process.
    CgroupReport, as cgroup {
        version: value = Some(cgroup.version.number()), "1|2", "1 or 2";
        path: text = Some(&cgroup.path), "string",
            "the process's cgroup path, as `/proc/self/cgroup` names it, such as \
             `\"/kubepods/pod1/ctr\"`";
        quota: value = cgroup.quota(), "number?",
            "the effective quota in CPUs as a fraction (`1.5`); nil when unlimited";
        mount: text = cgroup.mount.as_ref().map(|mount| mount.to_string_lossy()), "string?",
            "the mount point walked; nil when no mounted cgroupfs shows the process's cgroup";
        note: text = cgroup.note.as_deref(), "string?",
            "why the walk found nothing or stopped early (for example a v2 leaf without \
             `cgroup.controllers`)";
        weight: value = cgroup.weight, "integer?",
            "the leaf's `cpu.weight` (v2, default 100) or `cpu.shares` (v1, default 1024), read \
             only when no level has a quota, and not for the machine's own root cgroup";
        mountinfo_lines: value = cgroup.mountinfo_lines, "integer?",
            "v1 only, when std finds the `cpu` hierarchy at neither usual path: the lines of \
             `/proc/self/mountinfo` std reads on every call";
        mount_root: text = cgroup.mount_root.as_deref(), "string?",
            "the subtree of the hierarchy the walked mount shows (mountinfo's root field, \
             unescaped), where mountinfo was read: `\"/\"` for the whole hierarchy; the levels' \
             paths are the real cgroup paths below it";
        unshown: table(Unshown) = cgroup.unshown.as_ref(), "kumo_parallelism.Unshown?",
            "why no mounted cgroup filesystem shows the cgroup, when none does and mountinfo \
             could be read";
        levels: list(CgroupLevel) = &cgroup.levels, "kumo_parallelism.CgroupLevel[]",
            "one per level, leaf first";
    }

    /// The process's cgroup where explain()'s own lookup of mountinfo finds it and std's
    /// lookup does not walk it.
    MissedCgroup, as missed {
        reason: text = Some(missed.reason.as_str()), one_of(MissReason::NAMES),
            "why std's lookup missed it: `\"escaped-mount-point\"` and `\"escaped-root\"` \
             (mountinfo writes a space as `\\040`, std uses the text as written), \
             `\"shadowed\"` (std takes a mount a later one hides), `\"first-line-only\"` (std \
             stops at the first fitting line), `\"stopped-at\"` (std stops at a line it cannot \
             parse), `\"subtree\"` (v2: `/sys/fs/cgroup` shows a subtree)";
        mount: text = Some(&missed.listed_mount), "string",
            "the mount point as mountinfo writes it (`cgroup.mount` is the same unescaped)";
        taken: text = missed.reason.taken(), "string?",
            "the mount point std takes instead, as written";
        by: text = missed.reason.hidden_by().map(|by| by.to_string_lossy()), "string?",
            "the later mount point that hides the one std takes";
        line: value = missed.reason.line(), "integer?", "the line std stops at";
        cgroup: table(CgroupReport) = Some(&missed.report), "kumo_parallelism.CgroupReport",
            "the walk there, as std would walk it";
    }

    /// One condition that makes the number mislead, in the order of the codes. A
    /// `"warning"` says the facts read show the number off or unreliable now; a `"note"` is a
    /// caveat no process can check from inside, or a cost.
    Finding, as finding {
        code: text = Some(finding.code.as_str()),
            one_of(FindingCode::ALL.iter().map(|code| code.as_str())), "the condition";
        severity: text = Some(finding.severity().as_str()),
            one_of(Severity::ALL.iter().map(|severity| severity.as_str())),
            "how much it claims";
        text: text = Some(&finding.text), "string",
            "the facts with their numbers, and what to change";
    }

    /// Why `available_parallelism()` is what it is: what explain() returns.
    Explanation, as why {
        value: value = why.value.map(NonZeroUsize::get), "integer?",
            "what `available_parallelism()` returns here; nil when it would raise";
        source: text = Some(why.source.as_str()),
            one_of(Source::ALL.iter().map(|source| source.as_str())),
            "what decided: `\"override\"`; `\"cgroup\"` when a quota is strictly below the CPUs \
             the affinity mask allows; `\"affinity\"`; `\"online\"` when the mask could not be \
             read";
        override: table(OverrideSetting) = why.override_setting.as_ref(), "kumo_parallelism.OverrideSetting?",
            "nil when `KUMO_AVAILABLE_PARALLELISM` is unset";
        affinity: table(Affinity) = why.affinity.as_ref(), "kumo_parallelism.Affinity?",
            "the calling thread's mask; nil when it cannot be read";
        affinity_error: text = why.affinity_error.as_deref(), "string?",
            "why the calling thread's mask could not be read, when it could not";
        status_affinity: table(Affinity) = why.status_affinity.as_ref(),
            "kumo_parallelism.Affinity?",
            "`Cpus_allowed_list` from `/proc/thread-self/status`, read only when the mask could \
             not be (a sandbox denying `sched_getaffinity`), intersected with the online CPUs as \
             `sched_getaffinity` would answer it";
        process_affinity: table(Affinity) = why.process_affinity.as_ref(),
            "kumo_parallelism.Affinity?", "the mask of the process's main thread";
        online: value = why.online, "integer?",
            "what std's fallback counts, read only when the mask cannot be used, since only \
             then does std count it: the online CPUs (`/sys/devices/system/cpu/online`, as \
             glibc's `sysconf` reads them; under musl, `sysconf` itself, which answers 1 when \
             `sched_getaffinity` fails); nil otherwise";
        possible_cpus: value = why.possible_cpus, "integer?",
            "the CPUs the kernel may ever have (`/sys/devices/system/cpu/possible`'s highest id \
             + 1), read only when the calling thread's mask does not fit the 1024-CPU set std \
             passes to `sched_getaffinity`, which the kernel then refuses; nil otherwise";
        std: value = why.std.map(NonZeroUsize::get), "integer?",
            "std's own answer; nil if std failed";
        std_again: value = why.std_again.map(NonZeroUsize::get), "integer?",
            "std asked once more, only when `derived` differs from `std`: a different second \
             answer means the kernel's changed between the reads (`detection-changed`), the \
             same one that the rule differs (`probe-mismatch`)";
        derived: value = why.derived.map(NonZeroUsize::get), "integer?",
            "the number explain() derives from what it read, by std's rule; equals `std` \
             unless a finding says why not";
        membership: text = why.membership.as_str(),
            format!("{}|nil", one_of(Membership::ALL.iter().filter_map(|m| m.as_str()))),
            "what `/proc/self/cgroup` said: `\"listed\"`, `\"empty\"` (gVisor), `\"missing\"` \
             (`/proc` without it), `\"no-proc\"` (no `/proc/self` at all) or \
             `\"unreadable\"`";
        cgroup: table(CgroupReport) = why.cgroup.as_ref(), "kumo_parallelism.CgroupReport?",
            "the hierarchy std walks; nil without cgroup information";
        unreadable: list(UnreadableFile) = &why.unreadable, "kumo_parallelism.UnreadableFile[]",
            "files std would read that exist but could not be read; empty when none";
        cgroup2_elsewhere: table(CgroupReport) = why.cgroup2_elsewhere.as_ref(),
            "kumo_parallelism.CgroupReport?",
            "a cgroup2 mount other than `/sys/fs/cgroup` that shows this process's cgroup where \
             `/sys/fs/cgroup` does not; std never reads it";
        std_missed: table(MissedCgroup) = why.std_missed.as_ref(), "kumo_parallelism.MissedCgroup?",
            "the cgroup where explain()'s own lookup of mountinfo finds it and std's does not \
             walk it; std's answer does not count its quota";
        hypervisor: value = why.hypervisor, "boolean?",
            "whether the first CPU's `flags` in `/proc/cpuinfo` name `hypervisor`; read only \
             when steal is at least 1%, nil otherwise and without x86 flags";
        steal: table(CpuSteal) = why.steal.as_ref(), "kumo_parallelism.CpuSteal?",
            "steal time since boot; read only where a hypervisor may be present (CPUID's \
             hypervisor bit on x86; always elsewhere)";
        cgroup_namespace: value = why.cgroup_namespace, "integer?",
            "the inode of `/proc/self/ns/cgroup`; 4026531835 is the kernel's initial namespace";
        first_answer: table(FirstAnswer) = why.first_answer.as_ref(),
            "kumo_parallelism.FirstAnswer?", "the first answer this process got, and how long ago";
        findings: list(Finding) = &why.findings, "kumo_parallelism.Finding[]",
            "what misleads and what to change, in the order of the codes; empty when nothing does";
    }
}

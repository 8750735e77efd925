//! explain()'s table: every class and field once, in one list ([`lua_tables!`] below): each
//! class is a Rust type, each field a Lua name, the value it holds, read from the Rust
//! value, and its LuaCATS type. From it come `Serialize` for each class, the JSON a host
//! writes, and the Lua table, each field from the same expression, so the two are the same by
//! construction. No other file lists the fields or their order.
//!
//! The Lua table is built by one small Lua function per class (`Constructors`), made once
//! per state, which takes the fields' values in the list's order: in a loaded module every
//! table, field and string mlua makes through its API is a protected call, and a call per
//! class instead of three per field halved what explain() cost (`make bench`).
//!
//! tools/docgen reads this list as source, with the rustdoc of what each value is read from
//! (the first `.name` after the class's binding): that rustdoc is the one description of a
//! field, in the LuaCATS type file and docs/reference.md alike. A type `one_of:Type` is the
//! union of the strings Lua sees for `Type`.

use std::num::NonZeroUsize;

use mlua::{Function, IntoLua, Lua, MultiValue, Value};

use crate::explain::explanation::{Explanation, FirstAnswer, OverrideSetting};
use crate::explain::finding::Finding;
use crate::probes::{
    Affinity, CgroupLevel, CgroupReport, MissedCgroup, Throttling, UnreadableFile, Unshown,
};

/// What a field holds, for the tests of the binding: the classes are listed below.
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

/// One field's Lua value: nil where absent (a `None`, an unset flag), as in `Serialize`.
macro_rules! lua_value {
    ($lua:ident, $made:ident, value, $value:expr) => {
        match $value {
            Some(value) => value.into_lua($lua)?,
            None => Value::Nil,
        }
    };
    ($lua:ident, $made:ident, text, $value:expr) => {
        match $value {
            Some(text) => Value::String($lua.create_string(AsRef::<str>::as_ref(&text))?),
            None => Value::Nil,
        }
    };
    ($lua:ident, $made:ident, flag, $value:expr) => {
        if $value {
            Value::Boolean(true)
        } else {
            Value::Nil
        }
    };
    ($lua:ident, $made:ident, table, $value:expr) => {
        match $value {
            Some(table) => table.lua_table($lua, $made)?,
            None => Value::Nil,
        }
    };
    ($lua:ident, $made:ident, list, $value:expr) => {{
        let items: mlua::Result<Vec<Value>> =
            $value.iter().map(|item| item.lua_table($lua, $made)).collect();
        Value::Table($lua.create_sequence_from(items?)?)
    }};
}

/// The list. Each class: `RustType, as this { fields }`, leaf classes first (a class names
/// only classes above it); each field: `name: kind = value, "LuaCATS type";`, where `value`
/// reads the field from `this` (an `Option` for values and texts, a `bool` for flags, an
/// `Option<&T>` for tables, a `&[T]` for lists). The last class is what explain() returns.
macro_rules! lua_tables {
    ($(
        $class:ident, as $this:ident {
            $( $field:ident: $kind:ident $(($inner:ident))? = $value:expr, $lua_type:literal; )*
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

        /// Each class's Lua constructor in one state: `function(field, ...) return { field =
        /// field, ... } end`, the fields in the list's order (a nil field is no key).
        #[allow(non_snake_case)]
        #[derive(Clone)]
        pub(crate) struct Constructors {
            $( $class: Function, )*
        }

        impl Constructors {
            /// The constructors, compiled in `lua`, as a sequence in the list's order: kept in
            /// the registry, for [`Constructors::from_sequence`].
            pub(crate) fn compile(lua: &Lua) -> mlua::Result<mlua::Table> {
                let sources = [$(concat!(
                    "return function(", $("_", stringify!($field), ", ",)* "_) return {",
                    $("[\"", stringify!($field), "\"] = _", stringify!($field), ", ",)*
                    "} end"
                ),)*];
                let names = [$(concat!("=kumo_parallelism.", stringify!($class)),)*];
                let compiled: mlua::Result<Vec<Function>> = sources
                    .iter()
                    .zip(names)
                    .map(|(source, name)| lua.load(*source).set_name(name).eval())
                    .collect();
                lua.create_sequence_from(compiled?)
            }

            /// The constructors from what [`Constructors::compile`] made.
            pub(crate) fn from_sequence(sequence: &mlua::Table) -> mlua::Result<Constructors> {
                let mut functions = sequence.sequence_values::<Function>();
                let mut next = || {
                    functions.next().unwrap_or_else(|| {
                        Err(mlua::Error::runtime("a class of explain()'s table has no constructor"))
                    })
                };
                Ok(Constructors { $( $class: next()?, )* })
            }
        }

        $(
            impl $class {
                /// This value as its Lua table: its class's constructor called with its fields.
                pub(crate) fn lua_table(&self, lua: &Lua, made: &Constructors) -> mlua::Result<Value> {
                    let $this = self;
                    let fields = vec![$( lua_value!(lua, made, $kind, $value) ),*];
                    made.$class.call(MultiValue::from_vec(fields))
                }
            }
        )*

        /// Each class's fields, for the tests of the binding.
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

            /// Every class, in the list's order.
            pub(crate) static ALL: &[&Class] = &[$(&$class),*];
        }
    };
}

lua_tables! {
    OverrideSetting, as setting {
        raw: text = Some(&setting.raw), "string";
        error: text = setting.error.as_deref(), "string?";
    }

    Affinity, as mask {
        count: value = Some(mask.count), "integer";
        cpus: text = Some(&mask.cpus), "string";
    }

    UnreadableFile, as file {
        path: text = Some(file.path.to_string_lossy()), "string";
        error: text = Some(&file.error), "string";
        fault: text = Some(file.fault.as_str()), "one_of:Fault";
    }

    FirstAnswer, as first {
        count: value = Some(first.count.get()), "integer";
        age: value = Some(first.age.as_secs_f64()), "number";
        taken_on: text = Some(first.taken_on.as_str()), "one_of:TakenOn";
        override: flag = first.by_override, "true?";
        cpus: text = first.cpus.as_deref(), "string?";
    }

    Throttling, as throttling {
        periods: value = Some(throttling.periods), "integer";
        throttled: value = Some(throttling.throttled), "integer";
        time: value = Some(throttling.time.as_secs_f64()), "number";
        share: value = Some(throttling.share()), "number";
    }

    Unshown, as unshown {
        reason: text = Some(unshown.as_str()), "one_of:Unshown";
        mount: text = unshown.mount().map(|mount| mount.to_string_lossy()), "string?";
        by: text = unshown.hidden_by().map(|by| by.to_string_lossy()), "string?";
    }

    CgroupLevel, as level {
        path: text = Some(&level.path), "string";
        limit: text = level.limit.as_deref(), "string?";
        period: text = level.period.as_deref(), "string?";
        cpus: value = level.cpus, "number?";
        binds: flag = level.binds, "true?";
        burst: value = level.burst_us, "integer?";
        burst_cpus: value = level.burst_cpus(), "number?";
        unreadable: flag = level.unreadable, "true?";
        throttling: table(Throttling) = level.throttling.as_ref(), "kumo_parallelism.Throttling?";
    }

    CgroupReport, as cgroup {
        version: value = Some(cgroup.version.number()), "1|2";
        path: text = Some(&cgroup.path), "string";
        quota: value = cgroup.quota(), "number?";
        mount: text = cgroup.mount.as_ref().map(|mount| mount.to_string_lossy()), "string?";
        note: text = cgroup.note.as_deref(), "string?";
        weight: value = cgroup.weight, "integer?";
        mountinfo_lines: value = cgroup.mountinfo_lines, "integer?";
        mount_root: text = cgroup.mount_root.as_deref(), "string?";
        unshown: table(Unshown) = cgroup.unshown.as_ref(), "kumo_parallelism.Unshown?";
        levels: list(CgroupLevel) = &cgroup.levels, "kumo_parallelism.CgroupLevel[]";
    }

    MissedCgroup, as missed {
        reason: text = Some(missed.reason.as_str()), "one_of:MissReason";
        mount: text = Some(&missed.listed_mount), "string";
        taken: text = missed.taken(), "string?";
        by: text = missed.hidden_by().map(|by| by.to_string_lossy()), "string?";
        line: value = missed.line(), "integer?";
        cgroup: table(CgroupReport) = Some(&missed.report), "kumo_parallelism.CgroupReport";
    }

    Finding, as finding {
        code: text = Some(finding.code.as_str()), "one_of:FindingCode";
        severity: text = Some(finding.severity().as_str()), "one_of:Severity";
        text: text = Some(&finding.text), "string";
    }

    Explanation, as why {
        value: value = why.value.map(NonZeroUsize::get), "integer?";
        source: text = Some(why.source.as_str()), "one_of:Source";
        override: table(OverrideSetting) = why.override_setting.as_ref(),
            "kumo_parallelism.OverrideSetting?";
        affinity: table(Affinity) = why.affinity.as_ref(), "kumo_parallelism.Affinity?";
        affinity_error: text = why.affinity_error.as_deref(), "string?";
        affinity_fault: text = why.affinity_fault.map(|fault| fault.as_str()),
            "one_of:Fault|nil";
        status_affinity: table(Affinity) = why.status_affinity.as_ref(),
            "kumo_parallelism.Affinity?";
        process_affinity: table(Affinity) = why.process_affinity.as_ref(),
            "kumo_parallelism.Affinity?";
        online: value = why.online, "integer?";
        possible_cpus: value = why.possible_cpus, "integer?";
        std: value = why.std.map(NonZeroUsize::get), "integer?";
        std_again: value = why.std_again.map(NonZeroUsize::get), "integer?";
        derived: value = why.derived.map(NonZeroUsize::get), "integer?";
        membership: text = why.membership.as_str(), "one_of:Membership|nil";
        cgroup: table(CgroupReport) = why.cgroup.as_ref(), "kumo_parallelism.CgroupReport?";
        unreadable: list(UnreadableFile) = &why.unreadable, "kumo_parallelism.UnreadableFile[]";
        probe_unreadable: list(UnreadableFile) = &why.probe_unreadable,
            "kumo_parallelism.UnreadableFile[]";
        cgroup2_elsewhere: table(CgroupReport) = why.cgroup2_elsewhere.as_ref(),
            "kumo_parallelism.CgroupReport?";
        std_missed: table(MissedCgroup) = why.std_missed.as_ref(),
            "kumo_parallelism.MissedCgroup?";
        cgroup_namespace: value = why.cgroup_namespace, "integer?";
        first_answer: table(FirstAnswer) = why.first_answer.as_ref(),
            "kumo_parallelism.FirstAnswer?";
        findings: list(Finding) = &why.findings, "kumo_parallelism.Finding[]";
    }
}

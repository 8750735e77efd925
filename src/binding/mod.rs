//! The Lua binding: one builder behind both `require` doors.
//!
//! mlua hands errors returned from a callback to Lua as userdata, while Lua users
//! expect `type(err) == "string"`. Raising with `luaL_error` from Rust would longjmp
//! over Rust frames, so the Rust callbacks return `nil, message` and a few lines of Lua
//! (`WRAPPER`) turn that into `error(message, 2)`, which reports the caller's line.

use std::num::NonZeroUsize;

use std::time::Duration;

use mlua::{Function, IntoLua, Lua, MultiValue, Table, Value};

use crate::explain;
use crate::explain::explanation::{Explanation, FirstAnswer, OverrideSetting, Source};
use crate::explain::finding::{Finding, FindingCode};
use crate::parallelism;
use crate::probes::{
    Affinity, CgroupLevel, CgroupReport, CgroupVersion, CpuSteal, Membership, UnreadableFile,
};

/// The name under which the module is required and registered.
pub const MODULE_NAME: &str = "kumo_parallelism";

/// What `_VERSION` says, in the style of "LuaFileSystem 1.8.0".
pub const VERSION: &str = concat!("kumo_parallelism ", env!("CARGO_PKG_VERSION"));

/// Raises the Rust side's `nil, message` as a plain string error at the caller's level. A
/// sandbox may have removed the global `error` before the module loads: then `raise`, a C
/// function doing what `error(message, 2)` does, stands in.
const WRAPPER: &str = r#"
local raw, raise = ...
local error = error or raise
local available_parallelism = raw.available_parallelism
return {
  available_parallelism = function()
    local count, message = available_parallelism()
    if count == nil then error(message, 2) end
    return count
  end,
  explain = raw.explain,
}
"#;

/// Builds the module table: the same for `luaopen_kumo_parallelism` and [`register`].
pub fn build_module(lua: &Lua) -> mlua::Result<Table> {
    let raw = lua.create_table()?;
    raw.set(
        "available_parallelism",
        lua.create_function(|_, ()| {
            Ok(match parallelism::available_parallelism() {
                Ok(count) => (Some(count.get()), None),
                Err(err) => (None, Some(err.to_string())),
            })
        })?,
    )?;
    // One metatable for every explain() result: __tostring renders the report from the
    // table's own fields when asked, so a call builds no report and keeps nothing aside.
    let metatable = lua.create_table()?;
    metatable.raw_set(
        "__tostring",
        lua.create_function(|_, table: Table| Ok(read_back(&table)?.to_string()))?,
    )?;
    let construct: Function =
        lua.load(CONSTRUCTOR).set_name("=kumo_parallelism.explain").call(())?;
    raw.set(
        "explain",
        lua.create_function(move |lua, ()| {
            let table: Table = construct.call(Wire::of(lua, &explain::explain())?)?;
            table.set_metatable(Some(metatable.clone()))?;
            Ok(table)
        })?,
    )?;
    let wrap: Function = lua.load(WRAPPER).set_name("=kumo_parallelism").into_function()?;
    // SAFETY: raise_at_caller follows the lua_CFunction protocol (one argument, a string).
    let raise = unsafe { lua.create_c_function(raise_at_caller) }?;
    let module: Table = wrap.call((raw, raise))?;
    module.set("_VERSION", VERSION)?;
    Ok(module)
}

/// The Lua function that builds explain()'s table from a [`Wire`].
const CONSTRUCTOR: &str = include_str!("explanation.lua");

/// `error(message, 2)` for the wrapper when the global `error` is gone: prefixes the message
/// with the position of the wrapper's caller and raises it as a plain string. Lua calls it
/// directly, as a C function: no Rust frame with anything to drop lies between it and the
/// Lua call that catches the error, and the "C-unwind" ABI lets the raise pass.
unsafe extern "C-unwind" fn raise_at_caller(state: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    // SAFETY: Lua passed the message at index 1; luaL_where pushes one string, concat pops
    // two and pushes one, lua_error raises the top of the stack and does not return.
    unsafe {
        mlua::ffi::lua_settop(state, 1);
        mlua::ffi::luaL_where(state, 2);
        mlua::ffi::lua_insert(state, 1);
        mlua::ffi::lua_concat(state, 2);
        mlua::ffi::lua_error(state)
    }
}

/// explain()'s fields as src/explanation.lua reads them: every string laid end to end in one
/// buffer, and every number, boolean and nil as one argument, where a string's place holds
/// its length in bytes (nil for a nil string). Numbers go through mlua's own conversions: an
/// integer where it fits, else a float, never a saturated count. Building the table in Lua
/// from these costs one protected call, not one per field.
struct Wire<'lua> {
    lua: &'lua Lua,
    strings: Vec<u8>,
    values: Vec<Value>,
}

impl Wire<'_> {
    fn of(lua: &Lua, why: &Explanation) -> mlua::Result<MultiValue> {
        let mut wire =
            Wire { lua, strings: Vec::with_capacity(1024), values: Vec::with_capacity(80) };
        wire.explanation(why)?;
        let mut args = MultiValue::with_capacity(wire.values.len() + 1);
        args.push_back(Value::String(lua.create_string(&wire.strings)?));
        args.extend(wire.values);
        Ok(args)
    }

    fn text(&mut self, text: Option<&str>) -> mlua::Result<()> {
        if let Some(text) = text {
            self.strings.extend_from_slice(text.as_bytes());
        }
        self.value(text.map(str::len))
    }

    fn value(&mut self, value: impl IntoLua) -> mlua::Result<()> {
        self.values.push(value.into_lua(self.lua)?);
        Ok(())
    }

    /// `true` or nil, for the flags Lua sees only when set.
    fn flag(&mut self, set: bool) {
        self.values.push(if set { Value::Boolean(true) } else { Value::Nil });
    }

    fn affinity(&mut self, mask: Option<&Affinity>) -> mlua::Result<()> {
        self.value(mask.map(|mask| mask.count))?;
        if let Some(mask) = mask {
            self.text(Some(&mask.cpus))?;
        }
        Ok(())
    }

    fn cgroup(&mut self, cgroup: Option<&CgroupReport>) -> mlua::Result<()> {
        let Some(cgroup) = cgroup else { return self.value(Value::Nil) };
        self.value(cgroup.version.number())?;
        self.text(Some(&cgroup.path))?;
        self.value(cgroup.quota())?;
        self.text(cgroup.mount.as_ref().map(|mount| mount.to_string_lossy()).as_deref())?;
        self.text(cgroup.note.as_deref())?;
        self.value(cgroup.weight)?;
        self.value(cgroup.mountinfo_lines)?;
        self.value(cgroup.levels.len())?;
        for level in &cgroup.levels {
            self.text(Some(&level.path))?;
            self.text(level.limit.as_deref())?;
            self.text(level.period.as_deref())?;
            self.value(level.cpus)?;
            self.flag(level.binds);
            self.value(level.burst_us)?;
            self.value(level.burst_cpus())?;
            self.flag(level.unreadable);
        }
        Ok(())
    }

    fn explanation(&mut self, why: &Explanation) -> mlua::Result<()> {
        self.value(why.value.map(NonZeroUsize::get))?;
        self.text(Some(why.source.as_str()))?;
        let setting = why.override_setting.as_ref();
        self.text(setting.map(|setting| setting.raw.as_str()))?;
        self.text(setting.and_then(|setting| setting.error.as_deref()))?;
        self.affinity(why.affinity.as_ref())?;
        self.affinity(why.status_affinity.as_ref())?;
        self.affinity(why.process_affinity.as_ref())?;
        self.text(why.affinity_error.as_deref())?;
        self.value(why.online)?;
        self.value(why.std.map(NonZeroUsize::get))?;
        self.value(why.std_again.map(NonZeroUsize::get))?;
        self.value(why.derived.map(NonZeroUsize::get))?;
        self.text(why.membership.as_str())?;
        self.cgroup(why.cgroup.as_ref())?;
        self.cgroup(why.cgroup2_elsewhere.as_ref())?;
        self.value(why.unreadable.len())?;
        for file in &why.unreadable {
            self.text(Some(&file.path.to_string_lossy()))?;
            self.text(Some(&file.error))?;
        }
        self.value(why.hypervisor)?;
        self.value(why.steal.map(|steal| steal.steal_ticks))?;
        self.value(why.steal.map(|steal| steal.total_ticks))?;
        self.value(why.steal.map(|steal| steal.share()))?;
        self.value(why.cgroup_namespace)?;
        self.value(why.first_answer.map(|first| first.count.get()))?;
        self.value(why.first_answer.map(|first| first.age.as_secs_f64()))?;
        self.value(why.findings.len())?;
        for finding in &why.findings {
            self.text(Some(finding.code.as_str()))?;
            self.text(Some(finding.severity().as_str()))?;
            self.text(Some(&finding.text))?;
        }
        Ok(())
    }
}

/// An [`Explanation`] read back from explain()'s table, for its report: the inverse of
/// [`Wire`] and src/explanation.lua. A field a program changed shows changed; one of the
/// wrong type is an error.
fn read_back(why: &Table) -> mlua::Result<Explanation> {
    let source: String = why.raw_get("source")?;
    let source = Source::ALL.into_iter().find(|s| s.as_str() == source).ok_or_else(|| {
        mlua::Error::runtime(format!("explain() table: unknown source {source:?}"))
    })?;
    let override_setting = why
        .raw_get::<Option<Table>>("override")?
        .map(|entry| -> mlua::Result<_> {
            Ok(OverrideSetting { raw: entry.raw_get("raw")?, error: entry.raw_get("error")? })
        })
        .transpose()?;
    let membership: Option<String> = why.raw_get("membership")?;
    let membership = Membership::ALL
        .into_iter()
        .find(|m| m.as_str() == membership.as_deref())
        .unwrap_or_default();
    let mut findings = Vec::new();
    for entry in why.raw_get::<Table>("findings")?.sequence_values::<Table>() {
        let entry = entry?;
        let code: String = entry.raw_get("code")?;
        let Some(code) = FindingCode::ALL.into_iter().find(|c| c.as_str() == code) else {
            continue;
        };
        findings.push(Finding { code, text: entry.raw_get("text")? });
    }
    let mut unreadable = Vec::new();
    for entry in why.raw_get::<Table>("unreadable")?.sequence_values::<Table>() {
        let entry = entry?;
        let path: String = entry.raw_get("path")?;
        unreadable.push(UnreadableFile { path: path.into(), error: entry.raw_get("error")? });
    }
    Ok(Explanation {
        value: count_back(why, "value")?,
        source,
        override_setting,
        affinity: affinity_back(why, "affinity")?,
        affinity_error: why.raw_get("affinity_error")?,
        status_affinity: affinity_back(why, "status_affinity")?,
        process_affinity: affinity_back(why, "process_affinity")?,
        online: why.raw_get("online")?,
        std: count_back(why, "std")?,
        membership,
        cgroup: cgroup_back(why, "cgroup")?,
        unreadable,
        cgroup2_elsewhere: cgroup_back(why, "cgroup2_elsewhere")?,
        hypervisor: why.raw_get("hypervisor")?,
        steal: why
            .raw_get::<Option<Table>>("steal")?
            .map(|steal| -> mlua::Result<_> {
                Ok(CpuSteal {
                    steal_ticks: steal.raw_get("ticks")?,
                    total_ticks: steal.raw_get("total")?,
                })
            })
            .transpose()?,
        cgroup_namespace: why.raw_get("cgroup_namespace")?,
        derived: count_back(why, "derived")?,
        std_again: count_back(why, "std_again")?,
        first_answer: why
            .raw_get::<Option<Table>>("first_answer")?
            .map(|first| -> mlua::Result<_> {
                let age: f64 = first.raw_get("age")?;
                let count = count_back(&first, "count")?;
                let count = count.ok_or_else(|| mlua::Error::runtime("first_answer.count is 0"))?;
                Ok(FirstAnswer { count, age: Duration::try_from_secs_f64(age).unwrap_or_default() })
            })
            .transpose()?,
        findings,
    })
}

fn count_back(table: &Table, field: &'static str) -> mlua::Result<Option<NonZeroUsize>> {
    Ok(table.raw_get::<Option<usize>>(field)?.and_then(NonZeroUsize::new))
}

fn affinity_back(why: &Table, field: &'static str) -> mlua::Result<Option<Affinity>> {
    let Some(mask) = why.raw_get::<Option<Table>>(field)? else { return Ok(None) };
    let count: usize = mask.raw_get("count")?;
    // the table says nothing of std's set size: what std could use is what was reported
    Ok(Some(Affinity { count, cpus: mask.raw_get("cpus")?, fits_std_set: true }))
}

fn cgroup_back(why: &Table, field: &'static str) -> mlua::Result<Option<CgroupReport>> {
    let Some(cgroup) = why.raw_get::<Option<Table>>(field)? else { return Ok(None) };
    let number: u8 = cgroup.raw_get("version")?;
    let version =
        if number == CgroupVersion::V1.number() { CgroupVersion::V1 } else { CgroupVersion::V2 };
    let mut report = CgroupReport::new(version, cgroup.raw_get("path")?);
    report.mount = cgroup.raw_get::<Option<String>>("mount")?.map(Into::into);
    report.note = cgroup.raw_get("note")?;
    report.weight = cgroup.raw_get("weight")?;
    report.mountinfo_lines = cgroup.raw_get("mountinfo_lines")?;
    for level in cgroup.raw_get::<Table>("levels")?.sequence_values::<Table>() {
        let level = level?;
        report.levels.push(CgroupLevel {
            binds: level.raw_get::<Option<bool>>("binds")?.unwrap_or(false),
            burst_us: level.raw_get("burst")?,
            unreadable: level.raw_get::<Option<bool>>("unreadable")?.unwrap_or(false),
            ..CgroupLevel::read(
                level.raw_get("path")?,
                level.raw_get("limit")?,
                level.raw_get("period")?,
            )
        });
    }
    Ok(Some(report))
}

/// Makes `require("kumo_parallelism")` work in a Lua state without loading a C module.
///
/// Stores the module table in `package.loaded`, which `require` consults first. This is
/// how a host in safe mode (`Lua::new()`, where C modules cannot load) offers the module,
/// as kumod does for its policy scripts.
///
/// # Errors
/// Fails only if the Lua state cannot allocate, or `package.loaded` is missing.
///
/// # Examples
/// ```
/// let lua = mlua::Lua::new();
/// kumo_parallelism::register(&lua)?;
/// let n: i64 = lua.load("return require('kumo_parallelism').available_parallelism()").eval()?;
/// assert!(n >= 1);
/// # Ok::<(), mlua::Error>(())
/// ```
pub fn register(lua: &Lua) -> mlua::Result<()> {
    let module = build_module(lua)?;
    let package: Table = lua.globals().get("package")?;
    let loaded: Table = package.get("loaded")?;
    loaded.set(MODULE_NAME, Value::Table(module))
}

/// The entry point Lua calls for `require("kumo_parallelism")` on the loadable module.
#[cfg(feature = "module")]
#[mlua::lua_module(name = "kumo_parallelism")]
fn luaopen(lua: &Lua) -> mlua::Result<Table> {
    build_module(lua)
}

#[cfg(test)]
mod annotation_tests {
    //! lua/library/kumo_parallelism.lua against the tables the module really builds.
    use std::collections::{BTreeMap, BTreeSet};
    use std::num::NonZeroUsize;

    use super::*;
    use crate::explain::explanation::{FirstAnswer, OverrideSetting, Source};
    use crate::explain::finding::{Finding, FindingCode, Severity};
    use crate::probes::{CgroupLevel, CpuSteal, Membership, UnreadableFile};

    type Classes = BTreeMap<String, BTreeSet<String>>;

    const META: &str = include_str!("../../lua/library/kumo_parallelism.lua");

    /// `---@class Name` opens a class; `---@field name` and `function module.name(` add to it.
    /// A class annotated twice fails: the editor would merge the two silently.
    fn annotated_classes(meta: &str) -> Classes {
        let mut classes = Classes::new();
        let mut current = String::new();
        for line in meta.lines() {
            if let Some(rest) = line.strip_prefix("---@class ") {
                current = rest.split_whitespace().next().unwrap().to_owned();
                assert!(
                    classes.insert(current.clone(), BTreeSet::new()).is_none(),
                    "{current} twice"
                );
            } else if let Some(rest) = line.strip_prefix("---@field ") {
                let field = rest.split_whitespace().next().unwrap().to_owned();
                assert!(classes.get_mut(&current).unwrap().insert(field.clone()), "{field} twice");
            } else if let Some(rest) = line.strip_prefix("function kumo_parallelism.") {
                let name = rest.split('(').next().unwrap().to_owned();
                classes.get_mut(MODULE_NAME).unwrap().insert(name);
            }
        }
        classes
    }

    /// The string literals of a field's annotated type, such as `"warning"|"note"`.
    fn annotated_strings(class: &str, field: &str) -> Vec<String> {
        let mut in_class = false;
        for line in META.lines() {
            if let Some(rest) = line.strip_prefix("---@class ") {
                in_class = rest.split_whitespace().next() == Some(class);
            } else if let Some(rest) = line.strip_prefix("---@field ").filter(|_| in_class) {
                let mut words = rest.split_whitespace();
                if words.next() == Some(field) {
                    let type_ = words.next().unwrap();
                    return type_
                        .split('|')
                        .filter_map(|t| t.strip_prefix('"')?.strip_suffix('"'))
                        .map(str::to_owned)
                        .collect();
                }
            }
        }
        panic!("no field {field} in {class}")
    }

    /// explain()'s table for `why`, built as the module builds it.
    fn explanation_table(lua: &Lua, why: &Explanation) -> mlua::Result<Table> {
        let construct: Function = lua.load(CONSTRUCTOR).call(())?;
        construct.call(Wire::of(lua, why)?)
    }

    fn keys(table: &Table) -> BTreeSet<String> {
        table.pairs::<String, Value>().map(|pair| pair.unwrap().0).collect()
    }

    /// An explanation with every optional part present, so every key appears.
    fn everything() -> Explanation {
        let mut cgroup = CgroupReport::new(CgroupVersion::V2, "/pod/ctr".into());
        cgroup.mount = Some("/sys/fs/cgroup".into());
        cgroup.note = Some("a note".into());
        cgroup.weight = Some(79);
        cgroup.mountinfo_lines = Some(1000);
        cgroup.levels.push(CgroupLevel {
            burst_us: Some(50000),
            unreadable: true,
            ..CgroupLevel::read("/pod/ctr".into(), Some("150000".into()), Some("100000".into()))
        });
        cgroup.mark_binding_level();
        Explanation {
            value: NonZeroUsize::new(1),
            source: Source::Cgroup,
            override_setting: Some(OverrideSetting { raw: "x".into(), error: Some("bad".into()) }),
            affinity_error: Some("EPERM".into()),
            status_affinity: Some(crate::explain::explanation::tests::mask(2)),
            std: NonZeroUsize::new(1),
            std_again: NonZeroUsize::new(1),
            cgroup2_elsewhere: Some(cgroup.clone()),
            cgroup: Some(cgroup),
            unreadable: vec![UnreadableFile { path: "/x/cpu.max".into(), error: "EIO".into() }],
            derived: NonZeroUsize::new(1),
            hypervisor: Some(true),
            steal: Some(CpuSteal { steal_ticks: 1, total_ticks: 100 }),
            first_answer: Some(FirstAnswer {
                count: NonZeroUsize::new(2).unwrap(),
                age: Default::default(),
            }),
            findings: vec![Finding { code: FindingCode::QuotaFloored, text: "floored".into() }],
            ..Explanation::unconfined(2)
        }
    }

    #[test]
    fn every_exported_key_is_annotated_and_every_annotation_exists() {
        let lua = Lua::new();
        let module = build_module(&lua).unwrap();
        let explanation = explanation_table(&lua, &everything()).unwrap();
        let cgroup: Table = explanation.get("cgroup").unwrap();
        let levels: Table = cgroup.get("levels").unwrap();
        let findings: Table = explanation.get("findings").unwrap();
        let unreadable: Table = explanation.get("unreadable").unwrap();
        let elsewhere: Table = explanation.get("cgroup2_elsewhere").unwrap();
        for affinity in ["affinity", "status_affinity", "process_affinity"] {
            let mask: Table = explanation.get(affinity).unwrap();
            assert_eq!(keys(&mask), keys(&explanation.get("affinity").unwrap()), "{affinity}");
        }
        assert_eq!(keys(&elsewhere), keys(&cgroup));
        let actual: Classes = [
            ("kumo_parallelism", keys(&module)),
            ("kumo_parallelism.Explanation", keys(&explanation)),
            ("kumo_parallelism.Override", keys(&explanation.get("override").unwrap())),
            ("kumo_parallelism.Affinity", keys(&explanation.get("affinity").unwrap())),
            ("kumo_parallelism.UnreadableFile", keys(&unreadable.get(1).unwrap())),
            ("kumo_parallelism.Steal", keys(&explanation.get("steal").unwrap())),
            ("kumo_parallelism.FirstAnswer", keys(&explanation.get("first_answer").unwrap())),
            ("kumo_parallelism.Cgroup", keys(&cgroup)),
            ("kumo_parallelism.CgroupLevel", keys(&levels.get(1).unwrap())),
            ("kumo_parallelism.Finding", keys(&findings.get(1).unwrap())),
        ]
        .into_iter()
        .map(|(class, keys)| (class.to_owned(), keys))
        .collect();
        assert_eq!(annotated_classes(META), actual);
    }

    #[test]
    fn the_annotated_string_lists_are_the_rust_enums() {
        let codes: Vec<_> = FindingCode::ALL.iter().map(|code| code.as_str().to_owned()).collect();
        assert_eq!(annotated_strings("kumo_parallelism.Finding", "code"), codes);
        let severities: Vec<_> = Severity::ALL.iter().map(|s| s.as_str().to_owned()).collect();
        assert_eq!(annotated_strings("kumo_parallelism.Finding", "severity"), severities);
        let sources: Vec<_> = Source::ALL.iter().map(|s| s.as_str().to_owned()).collect();
        assert_eq!(annotated_strings("kumo_parallelism.Explanation", "source"), sources);
        let memberships: Vec<_> =
            Membership::ALL.iter().filter_map(|m| m.as_str()).map(str::to_owned).collect();
        assert_eq!(annotated_strings("kumo_parallelism.Explanation", "membership"), memberships);
    }

    #[test]
    fn a_duplicated_class_or_field_fails_the_check() {
        let doubled_class = format!("{META}\n---@class kumo_parallelism.Steal\n");
        assert!(std::panic::catch_unwind(|| annotated_classes(&doubled_class)).is_err());
        let doubled_field = META
            .replace("---@field share number", "---@field share number\n---@field share number");
        assert_ne!(doubled_field, META);
        assert!(std::panic::catch_unwind(|| annotated_classes(&doubled_field)).is_err());
    }

    #[test]
    fn every_value_reaches_lua_in_its_place() {
        let lua = Lua::new();
        let why = everything();
        let t = explanation_table(&lua, &why).unwrap();
        let get = |path: &str| -> Value {
            let mut value = Value::Table(t.clone());
            for key in path.split('.') {
                let Value::Table(table) = value else { panic!("{path}: not a table") };
                value = match key.parse::<i64>() {
                    Ok(index) => table.raw_get(index).unwrap(),
                    Err(_) => table.raw_get(key).unwrap(),
                };
            }
            value
        };
        let text = |path: &str| match get(path) {
            Value::String(s) => s.to_str().unwrap().to_owned(),
            other => panic!("{path}: {other:?}"),
        };
        let int = |path: &str| match get(path) {
            Value::Integer(n) => n,
            other => panic!("{path}: {other:?}"),
        };
        let num = |path: &str| match get(path) {
            Value::Number(n) => n,
            Value::Integer(n) => n as f64,
            other => panic!("{path}: {other:?}"),
        };
        assert_eq!((int("value"), text("source")), (1, "cgroup".into()));
        assert_eq!((text("override.raw"), text("override.error")), ("x".into(), "bad".into()));
        assert_eq!((int("affinity.count"), text("affinity.cpus")), (2, "0-1".into()));
        assert_eq!(text("status_affinity.cpus"), "0-1");
        assert_eq!(int("process_affinity.count"), 2);
        assert_eq!(text("affinity_error"), "EPERM");
        assert_eq!((int("online"), int("std"), int("std_again"), int("derived")), (2, 1, 1, 1));
        assert_eq!(text("membership"), "listed");
        assert_eq!((int("cgroup.version"), text("cgroup.path")), (2, "/pod/ctr".into()));
        assert_eq!((num("cgroup.quota"), text("cgroup.mount")), (1.5, "/sys/fs/cgroup".into()));
        assert_eq!((text("cgroup.note"), int("cgroup.weight")), ("a note".into(), 79));
        assert_eq!(int("cgroup.mountinfo_lines"), 1000);
        assert_eq!(text("cgroup.levels.1.path"), "/pod/ctr");
        assert_eq!(text("cgroup.levels.1.limit"), "150000");
        assert_eq!(text("cgroup.levels.1.period"), "100000");
        assert_eq!(num("cgroup.levels.1.cpus"), 1.5);
        assert_eq!(get("cgroup.levels.1.binds"), Value::Boolean(true));
        assert_eq!((int("cgroup.levels.1.burst"), num("cgroup.levels.1.burst_cpus")), (50000, 0.5));
        assert_eq!(get("cgroup.levels.1.unreadable"), Value::Boolean(true));
        assert_eq!(text("cgroup2_elsewhere.levels.1.limit"), "150000");
        assert_eq!(text("unreadable.1.path"), "/x/cpu.max");
        assert_eq!(text("unreadable.1.error"), "EIO");
        assert_eq!(get("hypervisor"), Value::Boolean(true));
        assert_eq!((int("steal.ticks"), int("steal.total"), num("steal.share")), (1, 100, 0.01));
        assert_eq!(int("cgroup_namespace"), 4026531835);
        assert_eq!((int("first_answer.count"), num("first_answer.age")), (2, 0.0));
        assert_eq!(text("findings.1.code"), "quota-floored");
        assert_eq!(text("findings.1.severity"), "warning");
        assert_eq!(text("findings.1.text"), "floored");
        // absent parts stay absent, and a count beyond i64 is a float, not a saturated integer
        let bare = Explanation {
            override_setting: None,
            affinity: None,
            cgroup: None,
            steal: None,
            first_answer: None,
            cgroup_namespace: Some(u64::MAX),
            ..everything()
        };
        let t = explanation_table(&lua, &bare).unwrap();
        for key in ["override", "affinity", "cgroup", "steal", "first_answer"] {
            assert_eq!(t.raw_get::<Value>(key).unwrap(), Value::Nil, "{key}");
        }
        assert_eq!(t.raw_get::<Value>("cgroup_namespace").unwrap(), Value::Number(u64::MAX as f64));
    }

    #[test]
    fn the_report_is_rendered_from_the_tables_own_fields() {
        let lua = Lua::new();
        let why = everything();
        let table = explanation_table(&lua, &why).unwrap();
        assert_eq!(read_back(&table).unwrap(), why);
        // through the module's shared metatable, as tostring() in Lua does
        let module = build_module(&lua).unwrap();
        let explain: Function = module.get("explain").unwrap();
        let live: Table = explain.call(()).unwrap();
        let report: String =
            lua.globals().get::<Function>("tostring").unwrap().call(&live).unwrap();
        assert_eq!(report, read_back(&live).unwrap().to_string());
        assert!(report.contains("\ndecision: "), "{report}");
        // a field a program changed shows changed
        live.raw_set("std", 77).unwrap();
        let changed: String =
            lua.globals().get::<Function>("tostring").unwrap().call(&live).unwrap();
        assert!(changed.contains("\nstd: 77"), "{changed}");
    }
}

//! The Lua binding: one builder behind both `require` doors.
//!
//! mlua hands errors returned from a callback to Lua as userdata, while Lua users
//! expect `type(err) == "string"`. Raising with `luaL_error` from Rust would longjmp
//! over Rust frames, so the Rust callbacks return `nil, message` and a few lines of Lua
//! (`WRAPPER`) turn that into `error(message, 2)`, which reports the caller's line.

use std::num::NonZeroUsize;

use mlua::{AnyUserData, Function, Lua, Table, Value};

use crate::explain;
use crate::explanation::Explanation;
use crate::parallelism;
use crate::probes::{Affinity, CgroupReport, CgroupVersion};

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
    // One metatable for every explain() result, and a weak-keyed table from each result to
    // its Explanation, moved there: __tostring formats the report only when asked.
    let reports = lua.create_table()?;
    let weak_keys = lua.create_table()?;
    weak_keys.raw_set("__mode", "k")?;
    reports.set_metatable(Some(weak_keys))?;
    let metatable = lua.create_table()?;
    metatable.raw_set(
        "__tostring",
        lua.create_function(|lua, table: Table| {
            let reports: Table = lua.named_registry_value(REPORTS)?;
            match reports.raw_get::<Option<AnyUserData>>(table)? {
                Some(report) => Ok(report.borrow::<Explanation>()?.to_string()),
                None => Ok("kumo_parallelism explanation".to_owned()),
            }
        })?,
    )?;
    lua.set_named_registry_value(REPORTS, reports)?;
    lua.set_named_registry_value(METATABLE, metatable)?;
    raw.set(
        "explain",
        lua.create_function(|lua, ()| {
            let why = explain::explain();
            let table = explanation_table(lua, &why)?;
            table.set_metatable(Some(lua.named_registry_value::<Table>(METATABLE)?))?;
            let reports: Table = lua.named_registry_value(REPORTS)?;
            reports.raw_set(&table, lua.create_any_userdata(why)?)?;
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

/// Registry keys of the shared metatable and of the weak table of reports.
const METATABLE: &str = "kumo_parallelism.Explanation";
const REPORTS: &str = "kumo_parallelism.reports";

/// explain()'s result as Lua sees it: every field of [`Explanation`], as plain values.
/// Counts, counters and inodes go through mlua's own conversions: an integer where it
/// fits, else a float, never a saturated number. Fresh tables have no metatables, so
/// `raw_set` skips mlua's protected call.
fn explanation_table(lua: &Lua, why: &Explanation) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(0, 24)?;
    table.raw_set("value", why.value.map(NonZeroUsize::get))?;
    table.raw_set("source", why.source.as_str())?;
    if let Some(setting) = &why.override_setting {
        let entry = lua.create_table_with_capacity(0, 2)?;
        entry.raw_set("raw", setting.raw.as_str())?;
        entry.raw_set("error", setting.error.as_deref())?;
        table.raw_set("override", entry)?;
    }
    table.raw_set(
        "affinity",
        why.affinity.as_ref().map(|mask| affinity_table(lua, mask)).transpose()?,
    )?;
    table.raw_set("affinity_error", why.affinity_error.as_deref())?;
    table.raw_set(
        "status_affinity",
        why.status_affinity.as_ref().map(|mask| affinity_table(lua, mask)).transpose()?,
    )?;
    table.raw_set(
        "process_affinity",
        why.process_affinity.as_ref().map(|mask| affinity_table(lua, mask)).transpose()?,
    )?;
    table.raw_set("online", why.online)?;
    table.raw_set("std", why.std.map(NonZeroUsize::get))?;
    table.raw_set("std_again", why.std_again.map(NonZeroUsize::get))?;
    table.raw_set("derived", why.derived.map(NonZeroUsize::get))?;
    table.raw_set("membership", why.membership.as_str())?;
    table.raw_set("cgroup", why.cgroup.as_ref().map(|c| cgroup_table(lua, c)).transpose()?)?;
    let unreadable = lua.create_table_with_capacity(why.unreadable.len(), 0)?;
    for file in &why.unreadable {
        let entry = lua.create_table_with_capacity(0, 2)?;
        entry.raw_set("path", file.path.display().to_string())?;
        entry.raw_set("error", file.error.as_str())?;
        unreadable.raw_push(entry)?;
    }
    table.raw_set("unreadable", unreadable)?;
    table.raw_set(
        "cgroup2_elsewhere",
        why.cgroup2_elsewhere.as_ref().map(|c| cgroup_table(lua, c)).transpose()?,
    )?;
    table.raw_set("hypervisor", why.hypervisor)?;
    if let Some(steal) = &why.steal {
        let entry = lua.create_table_with_capacity(0, 3)?;
        entry.raw_set("ticks", steal.steal_ticks)?;
        entry.raw_set("total", steal.total_ticks)?;
        entry.raw_set("share", steal.share())?;
        table.raw_set("steal", entry)?;
    }
    table.raw_set("cgroup_namespace", why.cgroup_namespace)?;
    if let Some(first) = &why.first_answer {
        let entry = lua.create_table_with_capacity(0, 2)?;
        entry.raw_set("count", first.count.get())?;
        entry.raw_set("age", first.age.as_secs_f64())?;
        table.raw_set("first_answer", entry)?;
    }
    let findings = lua.create_table_with_capacity(why.findings.len(), 0)?;
    for finding in &why.findings {
        let entry = lua.create_table_with_capacity(0, 3)?;
        entry.raw_set("code", finding.code.as_str())?;
        entry.raw_set("severity", finding.severity().as_str())?;
        entry.raw_set("text", finding.text.as_str())?;
        findings.raw_push(entry)?;
    }
    table.raw_set("findings", findings)?;
    Ok(table)
}

fn affinity_table(lua: &Lua, mask: &Affinity) -> mlua::Result<Table> {
    let entry = lua.create_table_with_capacity(0, 2)?;
    entry.raw_set("count", mask.count)?;
    entry.raw_set("cpus", mask.cpus.as_str())?;
    Ok(entry)
}

fn cgroup_table(lua: &Lua, cgroup: &CgroupReport) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(0, 8)?;
    let version: mlua::Integer = match cgroup.version {
        CgroupVersion::V1 => 1,
        CgroupVersion::V2 => 2,
    };
    table.raw_set("version", version)?;
    table.raw_set("path", cgroup.path.as_str())?;
    table.raw_set("quota", cgroup.quota())?;
    table.raw_set("mount", cgroup.mount.as_ref().map(|m| m.display().to_string()))?;
    table.raw_set("note", cgroup.note.as_deref())?;
    table.raw_set("weight", cgroup.weight)?;
    table.raw_set("mountinfo_lines", cgroup.mountinfo_lines)?;
    let levels = lua.create_table_with_capacity(cgroup.levels.len(), 0)?;
    for level in &cgroup.levels {
        let entry = lua.create_table_with_capacity(0, 8)?;
        entry.raw_set("path", level.path.as_str())?;
        entry.raw_set("limit", level.limit.as_deref())?;
        entry.raw_set("period", level.period.as_deref())?;
        entry.raw_set("cpus", level.cpus)?;
        if level.binds {
            entry.raw_set("binds", true)?;
        }
        entry.raw_set("burst", level.burst_us)?;
        entry.raw_set("burst_cpus", level.burst_cpus())?;
        if level.unreadable {
            entry.raw_set("unreadable", true)?;
        }
        levels.raw_push(entry)?;
    }
    table.raw_set("levels", levels)?;
    Ok(table)
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
    use crate::explanation::{FirstAnswer, OverrideSetting, Source};
    use crate::finding::{Finding, FindingCode, Severity};
    use crate::probes::{CgroupLevel, CpuSteal, Membership, UnreadableFile};

    type Classes = BTreeMap<String, BTreeSet<String>>;

    const META: &str = include_str!("../lua/library/kumo_parallelism.lua");

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
            status_affinity: Some(crate::explanation::tests::mask(2)),
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
}

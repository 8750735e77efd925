//! The Lua binding: one builder behind both `require` doors.
//!
//! mlua hands errors returned from a callback to Lua as userdata, while Lua users
//! expect `type(err) == "string"`. Raising with `luaL_error` from Rust would longjmp
//! over Rust frames, so the Rust callbacks return `nil, message` and a few lines of Lua
//! (`WRAPPER`) turn that into `error(message, 2)`, which reports the caller's line.

use mlua::{Function, Lua, Table, Value};

use crate::explain;
use crate::explanation::Explanation;
use crate::parallelism;
use crate::probes::{CgroupReport, CgroupVersion};

/// The name under which the module is required and registered.
pub const MODULE_NAME: &str = "kumo_parallelism";

/// What `_VERSION` says, in the style of "LuaFileSystem 1.8.0".
pub const VERSION: &str = concat!("kumo_parallelism ", env!("CARGO_PKG_VERSION"));

/// Raises the Rust side's `nil, message` as a plain string error at the caller's level.
const WRAPPER: &str = r#"
local raw = ...
local error = error
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
                Ok(count) => (Some(lua_integer(count.get())), None),
                Err(err) => (None, Some(err.to_string())),
            })
        })?,
    )?;
    raw.set(
        "explain",
        lua.create_function(|lua, ()| explanation_table(lua, &explain::explain()))?,
    )?;
    let wrap: Function = lua.load(WRAPPER).set_name("=kumo_parallelism").into_function()?;
    let module: Table = wrap.call(raw)?;
    module.set("_VERSION", VERSION)?;
    Ok(module)
}

/// Converts a count, a kernel counter or an inode to a Lua integer. Counts never exceed
/// 4294967295 (override) or the CPU count, and counters and inodes fit in 63 bits, so
/// saturation is unreachable but keeps the conversion panic-free.
fn lua_integer(value: impl TryInto<mlua::Integer>) -> mlua::Integer {
    value.try_into().unwrap_or(mlua::Integer::MAX)
}

/// explain()'s result as Lua sees it: plain fields, and `__tostring` for the report.
/// Fresh tables have no metatables, so `raw_set` skips mlua's protected call.
fn explanation_table(lua: &Lua, why: &Explanation) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.raw_set("value", why.value.map(|n| lua_integer(n.get())))?;
    table.raw_set("source", why.source.as_str())?;
    if let Some(setting) = &why.override_setting {
        let entry = lua.create_table()?;
        entry.raw_set("raw", setting.raw.as_str())?;
        entry.raw_set("error", setting.error.as_deref())?;
        table.raw_set("override", entry)?;
    }
    if let Some(mask) = &why.affinity {
        let entry = lua.create_table()?;
        entry.raw_set("count", lua_integer(mask.count))?;
        entry.raw_set("cpus", mask.cpus.as_str())?;
        table.raw_set("affinity", entry)?;
    }
    table.raw_set("online", why.online.map(lua_integer))?;
    table.raw_set("std", why.std.map(|n| lua_integer(n.get())))?;
    table.raw_set("derived", why.derived.map(|n| lua_integer(n.get())))?;
    if let Some(cgroup) = &why.cgroup {
        table.raw_set("cgroup", cgroup_table(lua, cgroup)?)?;
    }
    table.raw_set("hypervisor", why.hypervisor)?;
    if let Some(steal) = &why.steal {
        let entry = lua.create_table_with_capacity(0, 3)?;
        entry.raw_set("ticks", lua_integer(steal.steal_ticks))?;
        entry.raw_set("total", lua_integer(steal.total_ticks))?;
        entry.raw_set("share", steal.share())?;
        table.raw_set("steal", entry)?;
    }
    table.raw_set("cgroup_namespace", why.cgroup_namespace.map(lua_integer))?;
    let findings = lua.create_table_with_capacity(why.findings.len(), 0)?;
    for finding in &why.findings {
        let entry = lua.create_table_with_capacity(0, 2)?;
        entry.raw_set("code", finding.code.as_str())?;
        entry.raw_set("text", finding.text.as_str())?;
        findings.raw_push(entry)?;
    }
    table.raw_set("findings", findings)?;
    // The report is formatted only if someone asks for it.
    let why = why.clone();
    let metatable = lua.create_table()?;
    metatable
        .raw_set("__tostring", lua.create_function(move |_, _: Value| Ok(why.to_string()))?)?;
    table.set_metatable(Some(metatable))?;
    Ok(table)
}

fn cgroup_table(lua: &Lua, cgroup: &CgroupReport) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let version: mlua::Integer = match cgroup.version {
        CgroupVersion::V1 => 1,
        CgroupVersion::V2 => 2,
    };
    table.raw_set("version", version)?;
    table.raw_set("path", cgroup.path.as_str())?;
    table.raw_set("quota", cgroup.quota())?;
    table.raw_set("mount", cgroup.mount.as_ref().map(|m| m.display().to_string()))?;
    table.raw_set("note", cgroup.note.as_deref())?;
    table.raw_set("weight", cgroup.weight.map(lua_integer))?;
    table.raw_set("mountinfo_lines", cgroup.mountinfo_lines.map(lua_integer))?;
    let levels = lua.create_table()?;
    for level in &cgroup.levels {
        let entry = lua.create_table()?;
        entry.raw_set("path", level.path.as_str())?;
        entry.raw_set("limit", level.limit.as_deref())?;
        entry.raw_set("period", level.period.as_deref())?;
        entry.raw_set("cpus", level.cpus)?;
        if level.binds {
            entry.raw_set("binds", true)?;
        }
        entry.raw_set("burst", level.burst.as_deref())?;
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
    use crate::explanation::{OverrideSetting, Source};
    use crate::finding::{Finding, FindingCode};
    use crate::probes::{CgroupLevel, CpuSteal};

    type Classes = BTreeMap<String, BTreeSet<String>>;

    /// `---@class Name` opens a class; `---@field name` and `function module.name(` add to it.
    fn annotated_classes() -> Classes {
        let meta = include_str!("../lua/library/kumo_parallelism.lua");
        let mut classes = Classes::new();
        let mut current = String::new();
        for line in meta.lines() {
            if let Some(rest) = line.strip_prefix("---@class ") {
                current = rest.split_whitespace().next().unwrap().to_owned();
                classes.entry(current.clone()).or_default();
            } else if let Some(rest) = line.strip_prefix("---@field ") {
                classes
                    .get_mut(&current)
                    .unwrap()
                    .insert(rest.split_whitespace().next().unwrap().to_owned());
            } else if let Some(rest) = line.strip_prefix("function kumo_parallelism.") {
                let name = rest.split('(').next().unwrap().to_owned();
                classes.get_mut(MODULE_NAME).unwrap().insert(name);
            }
        }
        classes
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
            limit: Some("150000".into()),
            period: Some("100000".into()),
            cpus: Some(1.5),
            burst: Some("50000".into()),
            unreadable: true,
            ..CgroupLevel::at("/pod/ctr".into())
        });
        cgroup.mark_binding_level();
        Explanation {
            value: NonZeroUsize::new(1),
            source: Source::Cgroup,
            override_setting: Some(OverrideSetting { raw: "x".into(), error: Some("bad".into()) }),
            std: NonZeroUsize::new(1),
            cgroup: Some(cgroup),
            derived: NonZeroUsize::new(1),
            hypervisor: Some(true),
            steal: Some(CpuSteal { steal_ticks: 1, total_ticks: 100 }),
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
        let actual: Classes = [
            ("kumo_parallelism", keys(&module)),
            ("kumo_parallelism.Explanation", keys(&explanation)),
            ("kumo_parallelism.Override", keys(&explanation.get("override").unwrap())),
            ("kumo_parallelism.Affinity", keys(&explanation.get("affinity").unwrap())),
            ("kumo_parallelism.Steal", keys(&explanation.get("steal").unwrap())),
            ("kumo_parallelism.Cgroup", keys(&cgroup)),
            ("kumo_parallelism.CgroupLevel", keys(&levels.get(1).unwrap())),
            ("kumo_parallelism.Finding", keys(&findings.get(1).unwrap())),
        ]
        .into_iter()
        .map(|(class, keys)| (class.to_owned(), keys))
        .collect();
        assert_eq!(annotated_classes(), actual);
    }
}

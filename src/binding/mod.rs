//! The Lua binding: one builder behind both `require` doors.
//!
//! mlua hands errors returned from a callback to Lua as userdata, while Lua users
//! expect `type(err) == "string"`. Raising with `luaL_error` from Rust would longjmp
//! over Rust frames, so the Rust callbacks return `nil, message` and a few lines of Lua
//! (`WRAPPER`) turn that into `error(message, 2)`, which reports the caller's line.
//!
//! explain()'s table has one field list (`table.rs`), from which come both the table (each
//! class through its Lua constructor) and `Serialize`; tools/docgen generates the type file
//! and the reference tables from it and the rustdoc.

mod table;
#[cfg(test)]
mod tests;

use mlua::{AnyUserData, Function, IntoLua, Lua, RegistryKey, Table, Value};

use crate::explain;
use crate::explain::explanation::Explanation;
use crate::parallelism;

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
    let tables = Tables::of(lua)?;
    raw.set("explain", lua.create_function(move |lua, ()| tables.table(lua, explain::explain()))?)?;
    let wrap: Function = lua.load(WRAPPER).set_name("=kumo_parallelism").into_function()?;
    // SAFETY: raise_at_caller follows the lua_CFunction protocol (one argument, a string).
    let raise = unsafe { lua.create_c_function(raise_at_caller) }?;
    let module: Table = wrap.call((raw, raise))?;
    module.set("_VERSION", VERSION)?;
    Ok(module)
}

/// What explain()'s tables share in one Lua state: their metatable, whose `__tostring`
/// renders the report from the Rust value each table was written from, the weak-keyed
/// table that keeps those values, so that each goes with its table, and the constructors of
/// the tables' classes. The report is what explain() found, whatever a program later does to
/// the table.
#[derive(Clone)]
struct Tables {
    metatable: Table,
    reports: Table,
    constructors: table::Constructors,
}

/// Where a state keeps its [`Tables`] for [`IntoLua`]: registry keys, which hold no
/// reference to the state itself.
struct TablesKeys {
    metatable: RegistryKey,
    reports: RegistryKey,
    constructors: RegistryKey,
}

impl Tables {
    /// The state's tables, made on first use and kept in its app data.
    fn of(lua: &Lua) -> mlua::Result<Tables> {
        if let Some(keys) = lua.app_data_ref::<TablesKeys>() {
            return Ok(Tables {
                metatable: lua.registry_value(&keys.metatable)?,
                reports: lua.registry_value(&keys.reports)?,
                constructors: table::Constructors::from_sequence(
                    &lua.registry_value(&keys.constructors)?,
                )?,
            });
        }
        let reports = lua.create_table()?;
        let weak_keys = lua.create_table()?;
        weak_keys.raw_set("__mode", "k")?;
        reports.set_metatable(Some(weak_keys))?;
        let metatable = lua.create_table()?;
        let kept = reports.clone();
        metatable.raw_set(
            "__tostring",
            lua.create_function(move |_, table: Table| render(&kept, &table))?,
        )?;
        let compiled = table::Constructors::compile(lua)?;
        let constructors = table::Constructors::from_sequence(&compiled)?;
        lua.set_app_data(TablesKeys {
            metatable: lua.create_registry_value(&metatable)?,
            reports: lua.create_registry_value(&reports)?,
            constructors: lua.create_registry_value(&compiled)?,
        });
        Ok(Tables { metatable, reports, constructors })
    }

    /// explain()'s table for `why`, its report kept beside it: the fields `Serialize` writes,
    /// with nil for an absent field and plain tables for lists.
    fn table(&self, lua: &Lua, why: Explanation) -> mlua::Result<Table> {
        let Value::Table(table) = why.lua_table(lua, &self.constructors)? else {
            return Err(mlua::Error::runtime("explain()'s table is not a table"));
        };
        table.set_metatable(Some(self.metatable.clone()))?;
        self.reports.raw_set(&table, lua.create_any_userdata(why)?)?;
        Ok(table)
    }
}

/// `tostring()` of an explain() table: the report of the value it was written from.
fn render(reports: &Table, table: &Table) -> mlua::Result<String> {
    match reports.raw_get::<Option<AnyUserData>>(table)? {
        Some(report) => Ok(report.borrow::<Explanation>()?.to_string()),
        None => Ok("kumo_parallelism.Explanation (a copy: no report)".to_owned()),
    }
}

/// explain()'s table, as Lua sees it: a host that calls [`explain`](crate::explain) in Rust
/// can hand the result to a policy, with the fields, metatable and report of
/// `kumo_parallelism.explain()`.
impl IntoLua for Explanation {
    fn into_lua(self, lua: &Lua) -> mlua::Result<Value> {
        Ok(Value::Table(Tables::of(lua)?.table(lua, self)?))
    }
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

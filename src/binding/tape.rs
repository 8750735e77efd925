//! How a value of one of explain()'s classes becomes a Lua table, cheaply. mlua guards
//! every table write and every string it makes with a protected call of its own; building
//! the table that way, or in Lua from a list of arguments, cost more than std's whole call.
//! So the Rust side first writes the fields, in the order of `table.rs`, to a [`Tape`] of
//! plain data: every string laid end to end in one buffer, and one [`Slot`] per field.
//! Then one protected call ([`Tape::build`], through `Lua::exec_raw`) walks the class's
//! field list and the tape together and makes the tables with the C API.
//!
//! A Lua error inside that call (only a memory error can happen) returns to its protected
//! boundary with `longjmp`, over the builder's frames: they hold nothing with a destructor
//! (references into the tape, integers), so nothing is skipped but plain data, and the
//! tape itself, owned outside the call, is dropped as usual.

use std::ffi::c_int;

use mlua::ffi;
use mlua::{AnyUserData, Lua, Table};

/// What a field holds, as the tape carries it and Lua sees it; the classes themselves are
/// listed in `table.rs`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A number or a boolean; absent when nil.
    Value,
    /// A string; absent when nil.
    Text,
    /// `true`, or absent.
    Flag,
    /// A table of this class, or absent.
    Table(&'static Class),
    /// A sequence of tables of this class, possibly empty.
    List(&'static Class),
}

/// One field of a class: its Lua name (`key`, the same with a NUL for the C API) and what
/// it holds. (The plain names are read by the document generator, a test.)
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) key: &'static str,
    pub(crate) kind: Kind,
}

/// One class of table: `kumo_parallelism.<name>`.
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Class {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [Field],
}

/// A Rust value that is one of the classes: writes its fields to the tape, in the list's
/// order.
pub(crate) trait LuaTable {
    /// The class it is.
    const CLASS: &'static Class;
    fn write(&self, tape: &mut Tape);
}

/// One field as written: what Lua will hold, or whether a table is there, or how long a
/// list is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Slot {
    Nil,
    Boolean(bool),
    Integer(i64),
    Number(f64),
    /// A string: its start and length in the tape's buffer.
    Text(usize, usize),
    /// The start of a table, with how many of its fields are present; its fields follow.
    /// A table field that is absent is nil.
    Table(usize),
    /// A list field: how many tables follow.
    Length(usize),
}

/// The fields of one value, written in the list's order.
#[derive(Debug, Default)]
pub(crate) struct Tape {
    strings: Vec<u8>,
    slots: Vec<Slot>,
}

/// A number or boolean as Lua holds it: an integer where it fits (mlua's own rule), else a
/// float, never a saturated count.
pub(crate) trait IntoSlot {
    fn into_slot(self) -> Slot;
}

macro_rules! integer_slots {
    ($($integer:ty),*) => {$(
        impl IntoSlot for $integer {
            fn into_slot(self) -> Slot {
                match i64::try_from(self) {
                    Ok(integer) => Slot::Integer(integer),
                    Err(_) => Slot::Number(self as f64),
                }
            }
        }
    )*};
}
integer_slots!(u8, u32, u64, usize, i64);

impl IntoSlot for f64 {
    fn into_slot(self) -> Slot {
        Slot::Number(self)
    }
}

impl IntoSlot for bool {
    fn into_slot(self) -> Slot {
        Slot::Boolean(self)
    }
}

impl Tape {
    /// `value` written out, ready to [`build`](Tape::build).
    pub(crate) fn of<T: LuaTable>(value: &T) -> Tape {
        let mut tape = Tape { strings: Vec::with_capacity(1024), slots: Vec::with_capacity(96) };
        value.write(&mut tape);
        tape
    }

    /// A number or boolean, or nil; whether it is there.
    pub(crate) fn value(&mut self, value: Option<impl IntoSlot>) -> bool {
        let slot = value.map_or(Slot::Nil, IntoSlot::into_slot);
        self.slots.push(slot);
        slot != Slot::Nil
    }

    /// A string, or nil; whether it is there.
    pub(crate) fn text(&mut self, text: Option<impl AsRef<str>>) -> bool {
        let slot = match text {
            Some(text) => {
                let start = self.strings.len();
                self.strings.extend_from_slice(text.as_ref().as_bytes());
                Slot::Text(start, text.as_ref().len())
            }
            None => Slot::Nil,
        };
        self.slots.push(slot);
        slot != Slot::Nil
    }

    /// `true`, or nil; whether it is set.
    pub(crate) fn flag(&mut self, set: bool) -> bool {
        self.slots.push(if set { Slot::Boolean(true) } else { Slot::Nil });
        set
    }

    /// An absent table field.
    pub(crate) fn absent(&mut self) -> bool {
        self.slots.push(Slot::Nil);
        false
    }

    /// A list's length, before its tables; a list is always there.
    pub(crate) fn length(&mut self, length: usize) -> bool {
        self.slots.push(Slot::Length(length));
        true
    }

    /// Opens a table: its slot, whose count [`Tape::close`] fills in.
    pub(crate) fn open(&mut self) -> usize {
        self.slots.push(Slot::Table(0));
        self.slots.len() - 1
    }

    /// Closes the table opened at `at`, with `present` of its fields not nil.
    pub(crate) fn close(&mut self, at: usize, present: usize) {
        if let Some(slot) = self.slots.get_mut(at) {
            *slot = Slot::Table(present);
        }
    }

    /// The table of `class` this tape holds, with `metatable`, and `report` stored under it
    /// in the weak-keyed `reports`: one protected call.
    pub(crate) fn build(
        &self,
        lua: &Lua,
        class: &'static Class,
        report: AnyUserData,
        metatable: &Table,
        reports: &Table,
    ) -> mlua::Result<Table> {
        // SAFETY: the closure runs in a protected call, with the three arguments at stack
        // indices 1 to 3, and leaves exactly the table. It uses only the C API on its own
        // stack frame, with room checked first; a memory error longjmps over frames that
        // hold only references and integers (see the module's comment).
        unsafe {
            lua.exec_raw((report, metatable, reports), |state| {
                if ffi::lua_checkstack(state, MAX_DEPTH + 4) == 0 {
                    ffi::lua_settop(state, 0);
                    ffi::lua_pushnil(state);
                    return;
                }
                let mut next = 0;
                build_table(state, self, class, &mut next, 0);
                // the table is at 4: its metatable, then reports[table] = report
                ffi::lua_pushvalue(state, 2);
                ffi::lua_setmetatable(state, 4);
                ffi::lua_pushvalue(state, 4);
                ffi::lua_pushvalue(state, 1);
                ffi::lua_rawset(state, 3);
                ffi::lua_replace(state, 1);
                ffi::lua_settop(state, 1);
            })
        }
    }

    fn slot(&self, index: usize) -> Slot {
        self.slots.get(index).copied().unwrap_or(Slot::Nil)
    }
}

/// How deep classes nest (Explanation, Cgroup, CgroupLevel): the stack room the builder
/// needs, one slot per open table and one for the value being set.
const MAX_DEPTH: c_int = 8;

/// Pushes the table of `class` from the tape, starting at slot `*next`.
///
/// # Safety
/// `state` has room for `MAX_DEPTH - depth + 2` more values.
unsafe fn build_table(
    state: *mut ffi::lua_State,
    tape: &Tape,
    class: &'static Class,
    next: &mut usize,
    depth: c_int,
) {
    // a table's own slot says how many of its fields are present: nil ones leave no key
    let present = match tape.slot(*next) {
        Slot::Table(present) => present,
        _ => class.fields.len(),
    };
    *next += 1;
    let fields = c_int::try_from(present).unwrap_or(0);
    // SAFETY (this block and below): the caller checked the stack room; every index used
    // is the new table at the top (-1) or the value above it (-2 after a push).
    unsafe {
        ffi::lua_createtable(state, 0, fields);
        for field in class.fields {
            let slot = tape.slot(*next);
            *next += 1;
            let pushed = match (field.kind, slot) {
                (Kind::Table(inner), Slot::Table(_)) if depth < MAX_DEPTH => {
                    *next -= 1;
                    build_table(state, tape, inner, next, depth + 1);
                    true
                }
                (Kind::List(inner), Slot::Length(length)) if depth < MAX_DEPTH => {
                    let items = c_int::try_from(length).unwrap_or(0);
                    ffi::lua_createtable(state, items, 0);
                    for index in 1..=length {
                        build_table(state, tape, inner, next, depth + 1);
                        ffi::lua_rawseti(state, -2, index as ffi::lua_Integer);
                    }
                    true
                }
                (Kind::Value | Kind::Text | Kind::Flag, slot) => push_slot(state, tape, slot),
                _ => false,
            };
            if pushed {
                ffi::lua_setfield(state, -2, field.key.as_ptr().cast());
            }
        }
    }
}

/// Pushes a value slot; false (nothing pushed) for nil, which leaves the key absent.
unsafe fn push_slot(state: *mut ffi::lua_State, tape: &Tape, slot: Slot) -> bool {
    // SAFETY: the caller checked the stack room for one more value; a text slot lies within
    // the buffer, or is pushed empty.
    unsafe {
        match slot {
            Slot::Boolean(value) => {
                ffi::lua_pushboolean(state, c_int::from(value));
            }
            Slot::Integer(value) => {
                ffi::lua_pushinteger(state, value as ffi::lua_Integer);
            }
            Slot::Number(value) => {
                ffi::lua_pushnumber(state, value);
            }
            Slot::Text(start, length) => {
                let bytes = tape.strings.get(start..start + length).unwrap_or_default();
                ffi::lua_pushlstring(state, bytes.as_ptr().cast(), bytes.len());
            }
            Slot::Nil | Slot::Table(_) | Slot::Length(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_beyond_i64_are_floats_and_the_rest_integers() {
        assert_eq!(u64::MAX.into_slot(), Slot::Number(u64::MAX as f64));
        assert_eq!(4026531835u64.into_slot(), Slot::Integer(4026531835));
        assert_eq!(2usize.into_slot(), Slot::Integer(2));
        assert_eq!(1.5.into_slot(), Slot::Number(1.5));
    }
}

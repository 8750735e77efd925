//! The binding's tables against the field list: every listed field of every class reaches
//! Lua with its value in its place, the module exports what the committed type file
//! annotates, and the type file's unions are the Rust enums' strings. (tools/docgen writes
//! the type file and docs/reference.md's tables; `make test` checks they are current.)

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Duration;

use mlua::{Function, IntoLua, Lua, Table, Value};

use crate::binding::table::{class, Kind};
use crate::binding::{build_module, MODULE_NAME};
use crate::explain::explanation::{Explanation, FirstAnswer, OverrideSetting, Source, TakenOn};
use crate::explain::finding::{Finding, FindingCode, Severity};
use crate::probes::{
    Affinity, CgroupLevel, CgroupReport, CgroupVersion, Fault, Membership, MissReason,
    MissedCgroup, Throttling, UnreadableFile, Unshown,
};

/// The committed type file, which tools/docgen writes from the list (`make docs`).
fn type_file() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("lua/library/kumo_parallelism.lua");
    std::fs::read_to_string(path).unwrap()
}

/// An explanation with every field written out (a new field fails to compile here until
/// it is given a value) and every optional part present, so that every key appears.
fn everything() -> Explanation {
    let mut cgroup = CgroupReport::new(CgroupVersion::V2, "/pod/ctr".into());
    cgroup.mount = Some("/sys/fs/cgroup".into());
    cgroup.note = Some("a note".into());
    cgroup.weight = Some(79);
    cgroup.mountinfo_lines = Some(1000);
    cgroup.mount_root = Some("/".into());
    cgroup.unshown = Some(Unshown::Hidden { mount: "/a".into(), by: "/".into() });
    cgroup.levels.push(CgroupLevel {
        burst_us: Some(50000),
        unreadable: true,
        throttling: Some(Throttling {
            periods: 16,
            throttled: 4,
            time: Duration::from_micros(1_780_000),
        }),
        ..CgroupLevel::read("/pod/ctr".into(), Some("150000".into()), Some("100000".into()))
    });
    cgroup.mark_binding_level();
    let mask =
        |count: usize| Affinity { count, cpus: format!("0-{}", count - 1), fits_std_set: true };
    Explanation {
        value: NonZeroUsize::new(1),
        source: Source::Cgroup,
        override_setting: Some(OverrideSetting { raw: "x".into(), error: Some("bad".into()) }),
        affinity: Some(mask(2)),
        affinity_error: Some("EPERM".into()),
        affinity_fault: Some(Fault::Permission),
        status_affinity: Some(mask(3)),
        process_affinity: Some(mask(4)),
        online: Some(2),
        possible_cpus: Some(1100),
        std: NonZeroUsize::new(1),
        membership: Membership::Listed,
        cgroup2_elsewhere: Some(cgroup.clone()),
        std_missed: Some(MissedCgroup {
            reason: MissReason::Shadowed { taken: "/mnt/x".into(), by: "/mnt".into() },
            listed_mount: "/mnt/a\\040b".into(),
            report: cgroup.clone(),
        }),
        cgroup: Some(cgroup),
        unreadable: vec![UnreadableFile {
            path: "/x/cpu.max".into(),
            error: "EIO".into(),
            fault: Fault::Io,
        }],
        probe_unreadable: vec![UnreadableFile {
            path: "/x/cpu.stat".into(),
            error: "EMFILE".into(),
            fault: Fault::Descriptors,
        }],
        cgroup_namespace: Some(crate::probes::PROC_CGROUP_INIT_INO),
        derived: NonZeroUsize::new(1),
        std_again: NonZeroUsize::new(1),
        first_answer: Some(FirstAnswer {
            count: NonZeroUsize::new(2).unwrap(),
            age: Duration::from_millis(1500),
            taken_on: TakenOn::AnotherThread,
            by_override: true,
            cpus: Some("0-1".into()),
        }),
        findings: vec![Finding { code: FindingCode::QuotaFloored, text: "floored".into() }],
    }
}

fn keys(table: &Table) -> BTreeSet<String> {
    table.pairs::<String, Value>().map(|pair| pair.unwrap().0).collect()
}

fn table_of(lua: &Lua, why: Explanation) -> Table {
    match why.into_lua(lua).unwrap() {
        Value::Table(table) => table,
        other => panic!("explain() gave {other:?}"),
    }
}

#[test]
fn every_listed_field_reaches_lua_with_everything_present() {
    let lua = Lua::new();
    // a reason's own fields exclude each other: a second value holds the others
    let mut stopped = everything();
    if let Some(missed) = stopped.std_missed.as_mut() {
        missed.reason = MissReason::StoppedAt { line: 7 };
    }
    // one table of each class, reached through the fields that hold them
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending: Vec<_> = [everything(), stopped]
        .into_iter()
        .map(|why| (&class::Explanation, table_of(&lua, why)))
        .collect();
    while let Some((class, table)) = pending.pop() {
        for field in class.fields {
            let value: Value = table.raw_get(field.name).unwrap();
            match (field.kind, value) {
                (Kind::Table(inner), Value::Table(t)) => pending.push((inner, t)),
                (Kind::List(inner), Value::Table(t)) => {
                    pending.push((inner, t.raw_get(1).unwrap()))
                }
                _ => {}
            }
        }
        seen.entry(class.name.to_owned()).or_default().extend(keys(&table));
    }
    let listed: BTreeMap<String, BTreeSet<String>> = class::ALL
        .iter()
        .map(|class| {
            let fields = class.fields.iter().map(|f| f.name.to_owned()).collect();
            (class.name.to_owned(), fields)
        })
        .collect();
    assert_eq!(seen, listed);
}

#[test]
fn the_module_exports_what_the_type_file_annotates() {
    let lua = Lua::new();
    let module = build_module(&lua).unwrap();
    let mut annotated = BTreeSet::new();
    for line in type_file().lines() {
        if let Some(rest) = line.strip_prefix("function kumo_parallelism.") {
            annotated.insert(rest.split('(').next().unwrap().to_owned());
        }
    }
    annotated.insert("_VERSION".to_owned());
    assert_eq!(keys(&module), annotated, "{MODULE_NAME}");
}

#[test]
fn the_type_unions_are_the_rust_enums() {
    let file = type_file();
    let codes: Vec<_> =
        FindingCode::ALL.iter().map(|code| format!("{:?}", code.as_str())).collect();
    assert!(file.contains(&format!("---@field code {} ", codes.join("|"))), "{file}");
    let severities: Vec<_> = Severity::ALL.iter().map(|s| format!("{:?}", s.as_str())).collect();
    assert!(file.contains(&format!("---@field severity {} ", severities.join("|"))));
    assert!(file.contains("---@field source \"override\"|\"cgroup\"|\"affinity\"|\"online\" "));
    let membership = "\"listed\"|\"empty\"|\"missing\"|\"no-proc\"|\"unreadable\"|nil";
    assert!(file.contains(&format!("---@field membership {membership} ")));
    let union =
        |names: &[&str]| names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join("|");
    let faults = union(&Fault::NAMES);
    assert!(file.contains(&format!("---@field fault {faults} ")), "{file}");
    assert!(file.contains(&format!("---@field affinity_fault {faults}|nil ")), "{file}");
    assert!(file.contains(&format!("---@field taken_on {} ", union(&TakenOn::NAMES))), "{file}");
}

#[test]
fn every_value_reaches_lua_in_its_place() {
    let lua = Lua::new();
    let t = table_of(&lua, everything());
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
    assert_eq!((int("status_affinity.count"), text("status_affinity.cpus")), (3, "0-2".into()));
    assert_eq!((int("process_affinity.count"), text("process_affinity.cpus")), (4, "0-3".into()));
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
    assert_eq!(text("unreadable.1.fault"), "io");
    assert_eq!(text("probe_unreadable.1.path"), "/x/cpu.stat");
    assert_eq!(text("probe_unreadable.1.fault"), "descriptors");
    assert_eq!(text("affinity_fault"), "permission");
    assert_eq!(
        (int("cgroup.levels.1.throttling.periods"), int("cgroup.levels.1.throttling.throttled")),
        (16, 4)
    );
    assert_eq!(
        (num("cgroup.levels.1.throttling.time"), num("cgroup.levels.1.throttling.share")),
        (1.78, 0.25)
    );
    assert_eq!(int("cgroup_namespace"), 4026531835);
    assert_eq!((int("first_answer.count"), num("first_answer.age")), (2, 1.5));
    assert_eq!(
        (text("first_answer.taken_on"), text("first_answer.cpus")),
        ("another-thread".into(), "0-1".into())
    );
    assert_eq!(get("first_answer.override"), Value::Boolean(true));
    assert_eq!(text("cgroup.mount_root"), "/");
    assert_eq!(
        (text("cgroup.unshown.reason"), text("cgroup.unshown.mount")),
        ("hidden".into(), "/a".into())
    );
    assert_eq!(text("cgroup.unshown.by"), "/");
    assert_eq!(
        (text("std_missed.reason"), text("std_missed.mount")),
        ("shadowed".into(), "/mnt/a\\040b".into())
    );
    assert_eq!((text("std_missed.taken"), text("std_missed.by")), ("/mnt/x".into(), "/mnt".into()));
    assert_eq!(text("std_missed.cgroup.levels.1.limit"), "150000");
    assert_eq!(text("findings.1.code"), "quota-floored");
    assert_eq!(text("findings.1.severity"), "warning");
    assert_eq!(text("findings.1.text"), "floored");
    // absent parts stay absent, and a count beyond i64 is a float, not a saturated integer
    let bare = Explanation {
        override_setting: None,
        affinity: None,
        cgroup: None,
        first_answer: None,
        cgroup_namespace: Some(u64::MAX),
        ..everything()
    };
    let t = table_of(&lua, bare);
    for key in ["override", "affinity", "cgroup", "first_answer"] {
        assert_eq!(t.raw_get::<Value>(key).unwrap(), Value::Nil, "{key}");
    }
    assert_eq!(t.raw_get::<Value>("cgroup_namespace").unwrap(), Value::Number(u64::MAX as f64));
}

#[test]
fn tostring_is_the_report_of_the_rust_value_it_was_written_from() {
    let lua = Lua::new();
    let tostring: Function = lua.globals().get("tostring").unwrap();
    for why in [everything(), crate::explain::explain()] {
        let table = table_of(&lua, why.clone());
        let report: String = tostring.call(&table).unwrap();
        assert_eq!(report, why.to_string());
        // what explain() found, whatever a program later does to the table
        table.raw_set("std", 77).unwrap();
        assert_eq!(tostring.call::<String>(&table).unwrap(), why.to_string());
    }
    // the module's own explain() shares the metatable
    let module = build_module(&lua).unwrap();
    let live: Table = module.get::<Function>("explain").unwrap().call(()).unwrap();
    let report: String = tostring.call(&live).unwrap();
    assert!(report.contains("\ndecision: "), "{report}");
    let made_here = table_of(&lua, everything());
    assert_eq!(live.metatable(), made_here.metatable());
}

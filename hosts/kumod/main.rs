//! A kumod-shaped host: KumoMTA's own mlua feature set (`vendored lua54 async send
//! serialize`), safe-mode states (`Lua::new()`, where C modules cannot load), the module
//! offered through `register`, and policies run the ways kumod runs them: called
//! synchronously, from `call_async` on a tokio runtime, and on several threads that each
//! own a state. Built once per mlua line (hosts/kumod-mlua-0.11, hosts/kumod-mlua-0.12);
//! `scripts/kumod-hosts.sh` builds both, checks which mlua each resolved to, and runs them.
//!
//! A test binary in libtest's own format (libtest-mimic). The environment is process-wide,
//! so the checks run one at a time, in order: those that set the override come before any
//! thread or runtime starts.

use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use mlua::{Function, IntoLua, Lua, LuaSerdeExt, Value};

const OVERRIDE_VAR: &str = "KUMO_AVAILABLE_PARALLELISM";

/// A policy in kumod's style: sizes a pool from the answer as kumod sizes readyq, `cpus / 2`
/// in integer arithmetic, at least 1.
const POLICY: &str = r#"
    local kumo_parallelism = require 'kumo_parallelism'
    local n = kumo_parallelism.available_parallelism()
    local readyq = math.max(1, n // 2)
    return n, math.type(n), kumo_parallelism.explain().value, readyq
"#;

/// What a policy run saw: the answer, its math.type, explain().value, the pool size.
type Seen = (i64, String, i64, i64);

/// One check, given std's answer.
type Check = fn(i64) -> Result<(), String>;

fn main() -> ExitCode {
    let std_count = match std::thread::available_parallelism() {
        Ok(count) => count.get() as i64,
        Err(err) => {
            eprintln!("std cannot count the CPUs here: {err}");
            return ExitCode::FAILURE;
        }
    };
    let lua_version =
        policy_state().and_then(|lua| lua.globals().get::<String>("_VERSION")).unwrap_or_default();
    let checks: [(&str, Check); 7] = [
        ("safe mode cannot load C modules; require works through register", safe_mode),
        ("explain() in JSON through serde is its Lua table, field for field", explain_as_json),
        ("the answer is std's, as an integer, and explain().value agrees", answers_std),
        ("KUMO_AVAILABLE_PARALLELISM=12 gives 12", override_twelve),
        ("KUMO_AVAILABLE_PARALLELISM=abc raises a plain string; the state goes on", override_abc),
        ("the policy runs through call_async on a tokio runtime", async_policy),
        ("4 threads, each with its own state, agree", threads),
    ];
    let trials = checks
        .into_iter()
        .map(|(name, check)| {
            Trial::test(format!("{lua_version}: {name}"), move || {
                check(std_count).map_err(Failed::from)
            })
        })
        .collect();
    let mut arguments = Arguments::from_args();
    arguments.test_threads = Some(1);
    if libtest_mimic::run(&arguments, trials).has_failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// A state as kumod makes one for a policy: safe mode, the module registered.
fn policy_state() -> mlua::Result<Lua> {
    let lua = Lua::new();
    kumo_parallelism::register(&lua)?;
    Ok(lua)
}

fn run_policy(lua: &Lua) -> Result<Seen, String> {
    lua.load(POLICY).set_name("=policy").eval().map_err(|e| e.to_string())
}

fn expect_std(seen: Seen, std_count: i64) -> Result<(), String> {
    let want: Seen = (std_count, "integer".into(), std_count, (std_count / 2).max(1));
    if seen == want {
        Ok(())
    } else {
        Err(format!("saw {seen:?}, expected {want:?}"))
    }
}

fn set_override(value: Option<&str>) {
    // Safe here: main runs these checks before any other thread exists.
    match value {
        Some(value) => std::env::set_var(OVERRIDE_VAR, value),
        None => std::env::remove_var(OVERRIDE_VAR),
    }
}

/// Safe mode refuses the real module, built for this Lua (`KUMO_MODULE`, the `.so`):
/// `require` finds it on `package.cpath` and refuses C modules, and `package.loadlib` on
/// it raises the safe-mode error, not a failure to open the file or find its symbols; the
/// module comes through register.
fn safe_mode(_: i64) -> Result<(), String> {
    let module = std::env::var("KUMO_MODULE").map_err(|_| "KUMO_MODULE is not set".to_owned())?;
    if !std::path::Path::new(&module).is_file() {
        return Err(format!("no module at {module}: run make module LUA=lua5.4"));
    }
    let dir = std::path::Path::new(&module).parent().unwrap_or(std::path::Path::new("."));
    let lua = Lua::new();
    let (required, error, loadlib): (bool, String, String) = lua
        .load(format!(
            r#"
            package.cpath = {:?}
            local ok, err = pcall(require, 'kumo_parallelism')
            local _, loadlib = pcall(package.loadlib, {module:?}, 'luaopen_kumo_parallelism')
            return ok, tostring(err), tostring(loadlib)
            "#,
            dir.join("?.so").display().to_string()
        ))
        .eval()
        .map_err(|e| e.to_string())?;
    if required || !error.contains("can't load C modules in safe mode") {
        return Err(format!("require of the real .so in safe mode: {required}, {error}"));
    }
    if !loadlib.contains("package.loadlib is disabled in safe mode") {
        return Err(format!("package.loadlib of the real .so in safe mode: {loadlib}"));
    }
    let lua = policy_state().map_err(|e| e.to_string())?;
    let registered: bool = lua
        .load("return require('kumo_parallelism') == package.loaded.kumo_parallelism")
        .eval()
        .map_err(|e| e.to_string())?;
    registered.then_some(()).ok_or_else(|| "require did not give the registered module".into())
}

/// kumod answers its HTTP API and kcli in JSON through serde: the JSON of an explanation
/// must be the table a policy gets for the same explanation, key for key and value for
/// value, with the codes and severities as their strings.
fn explain_as_json(std_count: i64) -> Result<(), String> {
    let lua = policy_state().map_err(|e| e.to_string())?;
    let why = kumo_parallelism::explain();
    let json = serde_json::to_value(&why).map_err(|e| e.to_string())?;
    let table = why.clone().into_lua(&lua).map_err(|e| e.to_string())?;
    let from_lua: serde_json::Value = lua.from_value(table).map_err(|e| e.to_string())?;
    let (json, from_lua) = (empty_as_array(json), empty_as_array(from_lua));
    if json != from_lua {
        return Err(format!("serde: {json}\nLua:   {from_lua}"));
    }
    if json["value"] != serde_json::json!(std_count) || json["std"] != serde_json::json!(std_count)
    {
        return Err(format!("value and std are not std's {std_count}: {json}"));
    }
    // every finding's code and severity as Lua sees them, in order
    let expected: Vec<_> = why
        .findings
        .iter()
        .map(|f| serde_json::json!({"code": f.code.as_str(), "severity": f.severity().as_str(), "text": f.text}))
        .collect();
    if json["findings"] != serde_json::Value::Array(expected) {
        return Err(format!("findings: {}", json["findings"]));
    }
    Ok(())
}

/// An empty table reads back from Lua as an empty map, and an empty list serializes as an
/// empty array: the same nothing. (No class of explain()'s table is a map that can be empty.)
fn empty_as_array(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Json::Object(map) if map.is_empty() => Json::Array(Vec::new()),
        Json::Object(map) => {
            Json::Object(map.into_iter().map(|(k, v)| (k, empty_as_array(v))).collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(empty_as_array).collect()),
        other => other,
    }
}

fn answers_std(std_count: i64) -> Result<(), String> {
    set_override(None);
    let lua = policy_state().map_err(|e| e.to_string())?;
    expect_std(run_policy(&lua)?, std_count)
}

fn override_twelve(_: i64) -> Result<(), String> {
    set_override(Some("12"));
    let seen = policy_state().map_err(|e| e.to_string()).and_then(|lua| run_policy(&lua));
    set_override(None);
    match seen? {
        (12, kind, 12, 6) if kind == "integer" => Ok(()),
        other => Err(format!("saw {other:?} with the override 12")),
    }
}

fn override_abc(std_count: i64) -> Result<(), String> {
    let lua = policy_state().map_err(|e| e.to_string())?;
    set_override(Some("abc"));
    let raised: mlua::Result<(bool, Value)> =
        lua.load("return pcall(require('kumo_parallelism').available_parallelism)").eval();
    set_override(None);
    let (ok, error) = raised.map_err(|e| e.to_string())?;
    let message = match (ok, error) {
        (false, Value::String(message)) => message.to_str().map_err(|e| e.to_string())?.to_owned(),
        (ok, other) => return Err(format!("pcall gave {ok}, {other:?}: not a string error")),
    };
    if !message.contains(&format!("{OVERRIDE_VAR} \"abc\"")) {
        return Err(format!("the message does not name the variable and value: {message}"));
    }
    // the same state goes on answering once the override is gone
    expect_std(run_policy(&lua)?, std_count)
}

fn async_policy(std_count: i64) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        // tokio::spawn needs Send futures: the state moves to whichever worker runs it,
        // which mlua's `send` feature allows, as in kumod.
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                tokio::spawn(async {
                    let lua = policy_state().map_err(|e| e.to_string())?;
                    let policy: Function = lua
                        .load(POLICY)
                        .set_name("=policy")
                        .into_function()
                        .map_err(|e| e.to_string())?;
                    let mut seen = Vec::new();
                    for _ in 0..25 {
                        seen.push(policy.call_async::<Seen>(()).await.map_err(|e| e.to_string())?);
                        tokio::task::yield_now().await;
                    }
                    Ok::<_, String>(seen)
                })
            })
            .collect();
        for task in tasks {
            for seen in task.await.map_err(|e| e.to_string())?? {
                expect_std(seen, std_count)?;
            }
        }
        Ok(())
    })
}

fn threads(std_count: i64) -> Result<(), String> {
    let workers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || -> Result<(), String> {
                let lua = policy_state().map_err(|e| e.to_string())?;
                (0..100).try_for_each(|_| expect_std(run_policy(&lua)?, std_count))
            })
        })
        .collect();
    workers
        .into_iter()
        .try_for_each(|worker| worker.join().map_err(|_| "a thread panicked".to_string())?)
}

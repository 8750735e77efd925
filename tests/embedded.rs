//! The Rust host path: a safe-mode `Lua::new()` state (C modules cannot load there)
//! gets the module through `register`, as kumod's policy configs do.
//!
//! The environment is process-wide and the test harness runs tests on several threads, so
//! every test that sets the override runs its body in a child process of this binary
//! (`in_child`), where it is the only test: no other thread reads the environment there.

use mlua::{Lua, Value};

fn host() -> Lua {
    let lua = Lua::new();
    kumo_parallelism::register(&lua).expect("register");
    lua
}

/// Marks the child process that runs one test's body alone.
const CHILD: &str = "KUMO_EMBEDDED_CHILD";

/// In the parent: runs `test` alone in a child process of this binary with `env` set, and
/// returns its standard output after checking that it passed. In the child: `None`, and
/// the caller runs the body.
fn in_child(test: &str, env: &[(&str, &str)]) -> Option<String> {
    if std::env::var_os(CHILD).is_some() {
        return None;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{test} failed in its child:\n{stdout}\n{stderr}");
    // the filter must have matched: a child that ran nothing would pass vacuously
    assert!(stdout.contains("1 passed"), "{test} did not run in its child:\n{stdout}");
    Some(stdout)
}

fn set_override(value: Option<&str>) {
    // Only called in a child process where the calling test is the only one (in_child).
    match value {
        Some(value) => std::env::set_var("KUMO_AVAILABLE_PARALLELISM", value),
        None => std::env::remove_var("KUMO_AVAILABLE_PARALLELISM"),
    }
}

#[test]
fn register_serves_require_in_a_safe_mode_state() {
    let lua = host();
    let (version, kind, no_global): (String, String, bool) = lua
        .load(
            r#"
            local m = require('kumo_parallelism')
            assert(m == require('kumo_parallelism'))
            return m._VERSION, math.type(m.available_parallelism()), rawget(_G, 'kumo_parallelism') == nil
            "#,
        )
        .eval()
        .expect("policy runs");
    assert_eq!(version, format!("kumo_parallelism {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(kind, "integer");
    assert!(no_global);
}

#[test]
fn the_override_and_its_errors_through_register() {
    if in_child("the_override_and_its_errors_through_register", &[]).is_some() {
        return;
    }
    let lua = host();
    let call = "return pcall(require('kumo_parallelism').available_parallelism)";

    set_override(None);
    let std_count = std::thread::available_parallelism().unwrap().get() as i64;
    let (ok, count): (bool, i64) = lua.load(call).eval().unwrap();
    assert!(ok);
    assert_eq!(count, std_count);

    set_override(Some("7"));
    let (ok, count): (bool, i64) = lua.load(call).eval().unwrap();
    assert!(ok);
    assert_eq!(count, 7);

    // Each class of error: a plain string naming the variable and quoting the value,
    // and the state still answers afterwards.
    for bad in ["abc", "0", "-3", "1.5", "4294967296", " 4 4 "] {
        set_override(Some(bad));
        let (ok, err): (bool, Value) = lua.load(call).eval().unwrap();
        assert!(!ok, "{bad:?}");
        let Value::String(message) = err else { panic!("{bad:?}: error is {err:?}, not a string") };
        let message = message.to_str().unwrap().to_owned();
        assert!(message.contains("KUMO_AVAILABLE_PARALLELISM"), "{message}");
        assert!(message.contains(&format!("\"{bad}\"")), "{message}");

        set_override(Some("3"));
        let answer: i64 =
            lua.load("return require('kumo_parallelism').available_parallelism()").eval().unwrap();
        assert_eq!(answer, 3, "state unusable after {bad:?}");
    }

    // Bytes that are not UTF-8: escaped in the message, and the state still answers.
    {
        use std::os::unix::ffi::OsStrExt;
        std::env::set_var("KUMO_AVAILABLE_PARALLELISM", std::ffi::OsStr::from_bytes(b"4\xff"));
        let (ok, err): (bool, String) = lua.load(call).eval().unwrap();
        assert!(!ok);
        assert!(err.contains("\"4\\xff\": the value is not valid UTF-8"), "{err}");
        set_override(Some("3"));
        let answer: i64 =
            lua.load("return require('kumo_parallelism').available_parallelism()").eval().unwrap();
        assert_eq!(answer, 3, "state unusable after a non-UTF-8 value");
    }

    // explain() never raises for a bad override: it is how a person finds the problem.
    set_override(Some("banana"));
    let (value, source, error): (Option<i64>, String, String) = lua
        .load("local why = require('kumo_parallelism').explain() return why.value, why.source, why.override.error")
        .eval()
        .unwrap();
    assert_eq!((value, source.as_str()), (None, "override"));
    assert!(error.starts_with("invalid KUMO_AVAILABLE_PARALLELISM \"banana\""), "{error}");

    // Changes are seen at once: nothing is cached.
    set_override(Some("5"));
    let (_, count): (bool, i64) = lua.load(call).eval().unwrap();
    assert_eq!(count, 5);
    set_override(None);
    let (_, count): (bool, i64) = lua.load(call).eval().unwrap();
    assert_eq!(count, std_count);
}

#[test]
fn an_uncaught_error_blames_the_policy_line() {
    let env = [("KUMO_AVAILABLE_PARALLELISM", "banana")];
    if let Some(stdout) = in_child("an_uncaught_error_blames_the_policy_line", &env) {
        assert!(
            stdout.contains(
                "RESULT runtime error: policy:2: invalid KUMO_AVAILABLE_PARALLELISM \"banana\""
            ),
            "{stdout}"
        );
        return;
    }
    let lua = host();
    let err = lua
        .load(
            "local m = require('kumo_parallelism')\nlocal n = m.available_parallelism()\nreturn n",
        )
        .set_name("=policy")
        .exec()
        .unwrap_err();
    println!("RESULT {err}");
}

#[test]
fn errors_stay_strings_where_a_sandbox_removed_the_global_error() {
    let env = [("KUMO_AVAILABLE_PARALLELISM", "0")];
    if let Some(stdout) =
        in_child("errors_stay_strings_where_a_sandbox_removed_the_global_error", &env)
    {
        assert!(
            stdout.contains("RESULT string invalid KUMO_AVAILABLE_PARALLELISM \"0\""),
            "{stdout}"
        );
        assert!(stdout.contains("UNCAUGHT runtime error: policy:4: invalid"), "{stdout}");
        return;
    }
    let lua = Lua::new();
    lua.load("error, assert = nil, nil").exec().unwrap();
    kumo_parallelism::register(&lua).unwrap();
    let (kind, message): (String, String) = lua
        .load("local pcall, type = pcall, type\nlocal m = require('kumo_parallelism')\nlocal ok, err = pcall(m.available_parallelism)\nreturn type(err), err")
        .set_name("=policy")
        .eval()
        .unwrap();
    println!("RESULT {kind} {message}");
    let err = lua
        .load("\n\n\nrequire('kumo_parallelism').available_parallelism()")
        .set_name("=policy")
        .exec()
        .unwrap_err();
    println!("UNCAUGHT {err}");
}

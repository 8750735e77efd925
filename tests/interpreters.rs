//! The real loadable module, built by `make module`, loaded by each real interpreter.

mod support;

use std::process::Command;

use support::{
    first_of_two_allowed_cpus, interpreters, module_dir, std_answer, std_reference, stdout_of,
};

/// Runs `code` in `interpreter` with the module on its cpath; `configure` sets the rest.
fn lua(interpreter: &str, code: &str, configure: impl Fn(&mut Command) -> &mut Command) -> String {
    let cpath = module_dir(interpreter).join("?.so");
    let prelude = format!("package.cpath = {:?}\n", cpath.display().to_string());
    let mut command = Command::new(interpreter);
    command.arg("-e").arg(prelude + code).env_remove("KUMO_AVAILABLE_PARALLELISM");
    configure(&mut command);
    stdout_of(command.output().unwrap_or_else(|e| panic!("run {interpreter}: {e}")))
}

const PRINT_ANSWER: &str = "print(require('kumo_parallelism').available_parallelism())";

#[test]
fn answer_equals_std_on_every_interpreter() {
    let std_count = std_answer(|c| c);
    for interpreter in interpreters() {
        let answer = lua(&interpreter, PRINT_ANSWER, |c| c);
        assert_eq!(answer, std_count.to_string(), "{interpreter}");
    }
}

#[test]
fn override_seven_gives_seven_on_every_interpreter() {
    for interpreter in interpreters() {
        let answer = lua(&interpreter, PRINT_ANSWER, |c| c.env("KUMO_AVAILABLE_PARALLELISM", "7"));
        assert_eq!(answer, "7", "{interpreter}");
    }
}

#[test]
fn pinned_to_one_cpu_gives_one_on_every_interpreter() {
    // with one CPU allowed the answer is 1 pinned or not: the test needs two
    let cpu = first_of_two_allowed_cpus().to_string();
    // std itself, pinned the same way, answers 1: the module's answer is std's
    let std_pinned = Command::new("taskset")
        .args(["-c", &cpu])
        .arg(std_reference())
        .env_remove("KUMO_AVAILABLE_PARALLELISM")
        .output()
        .expect("taskset (util-linux) runs");
    assert_eq!(stdout_of(std_pinned), "1");
    for interpreter in interpreters() {
        let cpath = module_dir(&interpreter).join("?.so");
        let unpinned = lua(&interpreter, PRINT_ANSWER, |c| c);
        assert_ne!(unpinned, "1", "{interpreter}: unpinned already 1");
        let output = Command::new("taskset")
            .args(["-c", &cpu, &interpreter, "-e"])
            .arg(format!("package.cpath = {:?}\n{PRINT_ANSWER}", cpath.display().to_string()))
            .env_remove("KUMO_AVAILABLE_PARALLELISM")
            .output()
            .expect("taskset (util-linux) runs");
        assert_eq!(stdout_of(output), "1", "{interpreter}");
    }
}

#[test]
fn bad_override_is_a_string_error_and_the_state_stays_usable() {
    let code = r#"
        local m = require('kumo_parallelism')
        local ok, err = pcall(m.available_parallelism)
        local again_ok, again_err = pcall(m.available_parallelism)
        collectgarbage()
        print(tostring(ok), type(err), tostring(again_ok), again_err == err, #tostring({}) > 0)
        print(err)
    "#;
    for interpreter in interpreters() {
        let output = lua(&interpreter, code, |c| c.env("KUMO_AVAILABLE_PARALLELISM", "abc"));
        let (status, message) = output.split_once('\n').expect("two lines");
        assert_eq!(status, "false\tstring\tfalse\ttrue\ttrue", "{interpreter}");
        assert!(message.contains("KUMO_AVAILABLE_PARALLELISM"), "{interpreter}: {message}");
        assert!(message.contains("\"abc\""), "{interpreter}: {message}");
    }
}

#[test]
fn uncaught_error_names_the_callers_line() {
    for interpreter in interpreters() {
        let cpath = module_dir(&interpreter).join("?.so");
        let output = Command::new(&interpreter)
            .arg("-e")
            .arg(format!(
                "package.cpath = {:?}\nlocal m = require('kumo_parallelism')\nm.available_parallelism()",
                cpath.display().to_string()
            ))
            .env("KUMO_AVAILABLE_PARALLELISM", "0")
            .output()
            .expect("run interpreter");
        assert!(!output.status.success(), "{interpreter}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        // error(message, 2) blames line 3 of the caller's chunk, not the module
        assert!(
            stderr.contains(":3: invalid KUMO_AVAILABLE_PARALLELISM \"0\""),
            "{interpreter}: {stderr}"
        );
    }
}

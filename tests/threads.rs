//! Many threads, each with its own Lua state, calling at once; a thread that changes its own
//! CPU affinity while the others call; and the first answers held like with like, whichever
//! thread asked first, each order in a process of its own. Nothing is shared but the process.

mod support;

use std::sync::{Arc, Barrier};

use mlua::Lua;

fn state() -> Lua {
    let lua = Lua::new();
    kumo_parallelism::register(&lua).expect("register");
    lua
}

fn answer(lua: &Lua) -> i64 {
    lua.load("return require('kumo_parallelism').available_parallelism()").eval().expect("answer")
}

fn baseline() -> i64 {
    assert!(
        std::env::var_os("KUMO_AVAILABLE_PARALLELISM").is_none(),
        "these tests compare detection across threads: unset KUMO_AVAILABLE_PARALLELISM"
    );
    let count = std::thread::available_parallelism().unwrap().get() as i64;
    // on one CPU a pinned thread and the others agree by accident: the test needs two
    assert!(count >= 2, "these tests need at least 2 CPUs; std answers {count}");
    count
}

#[test]
fn eight_threads_ten_thousand_calls_each_agree() {
    let expected = baseline();
    let start = Arc::new(Barrier::new(8));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let lua = state();
                let calls = lua
                    .load("local m = require('kumo_parallelism') return function(n, want) for i = 1, n do assert(m.available_parallelism() == want) end return n end")
                    .eval::<mlua::Function>()
                    .unwrap();
                start.wait();
                calls.call::<i64>((10_000, expected)).expect("10^4 consistent answers")
            })
        })
        .collect();
    let total: i64 = workers.into_iter().map(|w| w.join().expect("no panic")).sum();
    assert_eq!(total, 80_000);
}

#[cfg(target_os = "linux")]
fn pin_calling_thread_to(cpu: usize) {
    // SAFETY: cpu_set_t is plain data; pid 0 is the calling thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        assert_eq!(libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set), 0);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_pins_itself_sees_its_own_mask_while_others_call() {
    let expected = baseline();
    let cpu = support::first_of_two_allowed_cpus();
    let pinned = Arc::new(Barrier::new(5));

    let pinner = {
        let pinned = Arc::clone(&pinned);
        std::thread::spawn(move || {
            let lua = state();
            let before = answer(&lua);
            pin_calling_thread_to(cpu);
            pinned.wait();
            let mut after = Vec::new();
            for _ in 0..2_000 {
                after.push(answer(&lua));
            }
            let mask: (i64, String) = lua
                .load("local a = require('kumo_parallelism').explain().affinity return a.count, a.cpus")
                .eval()
                .unwrap();
            // its smaller answer is its own pinning, and a change since its own first answer
            let codes: String = lua
                .load(
                    "local codes = {} for _, f in ipairs(require('kumo_parallelism').explain().findings) \
                     do codes[#codes + 1] = f.code end return table.concat(codes, ',')",
                )
                .eval()
                .unwrap();
            assert!(codes.contains("thread-pinned"), "{codes}");
            assert!(codes.contains("changed-since-first-call"), "{codes}");
            (before, after, mask)
        })
    };
    let others: Vec<_> = (0..4)
        .map(|_| {
            let pinned = Arc::clone(&pinned);
            std::thread::spawn(move || {
                let lua = state();
                pinned.wait();
                (0..2_000).map(|_| answer(&lua)).collect::<Vec<_>>()
            })
        })
        .collect();

    let (before, after, mask) = pinner.join().expect("pinning thread");
    assert_eq!(before, expected);
    assert!(after.iter().all(|&n| n == 1), "the pinned thread saw {after:?}");
    assert_eq!(mask, (1, cpu.to_string()));
    for other in others {
        let seen = other.join().expect("calling thread");
        assert!(seen.iter().all(|&n| n == expected), "an unpinned thread saw its neighbour's mask");
    }
    // the process as a whole keeps its mask
    assert_eq!(kumo_parallelism::available_parallelism().unwrap().get() as i64, expected);
}

/// The finding codes of `explain()` in `lua`, and its value.
fn explained(lua: &Lua) -> (i64, Vec<String>) {
    lua.load(
        "local why = require('kumo_parallelism').explain() local codes = {} \
         for _, f in ipairs(why.findings) do codes[#codes + 1] = f.code end return why.value, codes",
    )
    .eval()
    .expect("explain()")
}

/// Runs `body` in a fresh process: this test binary again, with only the test `name`, so that
/// the process's first answer is the one the test takes. The test passes there or fails here.
fn in_a_fresh_process(name: &str, body: impl FnOnce()) {
    if std::env::var_os("KUMO_FRESH_PROCESS").is_some() {
        return body();
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture"])
        .env("KUMO_FRESH_PROCESS", "1")
        .output()
        .expect("run the test binary again");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && text.contains("1 passed"), "{text}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_pinned_worker_first_is_no_change_for_the_thread_that_asks_next() {
    in_a_fresh_process("a_pinned_worker_first_is_no_change_for_the_thread_that_asks_next", || {
        let expected = baseline();
        let cpu = support::first_of_two_allowed_cpus();
        // a worker pinned to one CPU takes the process's first answer, its state kept open
        let (worker_answer, _kept) = std::thread::spawn(move || {
            pin_calling_thread_to(cpu);
            let lua = state();
            (answer(&lua), lua)
        })
        .join()
        .unwrap();
        assert_eq!(worker_answer, 1);
        // this thread, never pinned, asks next: nothing changed for it
        let lua = state();
        let (value, codes) = explained(&lua);
        assert_eq!(value, expected);
        assert!(!codes.iter().any(|c| c == "changed-since-first-call"), "{codes:?}");
        // then it narrows its own mask: its own answer changed since its first
        pin_calling_thread_to(cpu);
        let (value, codes) = explained(&lua);
        assert_eq!(value, 1);
        assert!(codes.iter().any(|c| c == "changed-since-first-call"), "{codes:?}");
    });
}

#[cfg(target_os = "linux")]
#[test]
fn a_worker_that_pins_itself_after_the_first_answer_is_pinned_not_changed() {
    in_a_fresh_process(
        "a_worker_that_pins_itself_after_the_first_answer_is_pinned_not_changed",
        || {
            let expected = baseline();
            let cpu = support::first_of_two_allowed_cpus();
            // this thread takes the process's first answer, its state kept open
            let lua = state();
            assert_eq!(answer(&lua), expected);
            // a worker pins itself, then asks for the first time
            let (value, codes) = std::thread::spawn(move || {
                pin_calling_thread_to(cpu);
                explained(&state())
            })
            .join()
            .unwrap();
            assert_eq!(value, 1);
            assert!(codes.iter().any(|c| c == "thread-pinned"), "{codes:?}");
            assert!(!codes.iter().any(|c| c == "changed-since-first-call"), "{codes:?}");
            // the first thread again: nothing changed for it
            let (value, codes) = explained(&lua);
            assert_eq!(value, expected);
            assert!(!codes.iter().any(|c| c == "changed-since-first-call"), "{codes:?}");
        },
    );
}

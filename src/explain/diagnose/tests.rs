//! The finding rules against hand-built explanations: each rule, its numbers, and the
//! cases where it must stay silent.
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Duration;

use super::*;
use crate::explain::explanation::tests::{mask, mounted, report_with};
use crate::explain::explanation::{FirstAnswer, OverrideSetting, TakenOn};
use crate::explain::finding::{Finding, Severity};
use crate::probes::{
    Affinity, CgroupLevel, CgroupReport, Fault, MissReason, MissedCgroup, Throttling, Unshown,
};

fn codes(why: &Explanation) -> Vec<&'static str> {
    findings(why).iter().map(|f| f.code.as_str()).collect()
}

fn text(why: &Explanation, code: FindingCode) -> String {
    let found = findings(why);
    let finding = found.iter().find(|f| f.code == code);
    finding.unwrap_or_else(|| panic!("no {code} in {found:?}")).text.clone()
}

/// Golden files: the words of the findings are not checked by fragments here but as a
/// whole, in `src/explain/diagnose/snapshots/<test name>.txt`, one file per test, so that a
/// change to a finding's wording shows as a diff to review. For each labelled case a file
/// has a line `== <label>`, then one line per finding, `<code> (<severity>): <text>`, or
/// `(no findings)`. The rustc that built the crate (probe-mismatch) is written
/// `<rustc version>`, so that a new toolchain changes no file.
///
/// After changing a text, run `make docs`: with `KUMO_WRITE_DOCS=1` this writes the files
/// instead of comparing them. Then read the diff of the snapshots, and commit it with the
/// change. What a text must never say stays an `assert!(!text.contains(..))` in the test.
fn golden<L: AsRef<str>>(name: &str, cases: &[(L, Vec<Finding>)]) {
    // libtest runs each test on a thread named after it: the file must be the test's own
    if let Some(test) = std::thread::current().name().filter(|test| test.contains("::")) {
        assert!(test.ends_with(&format!("::{name}")), "{name}.txt is not named after {test}");
    }
    let mut generated = String::new();
    for (label, found) in cases {
        writeln!(generated, "== {}", label.as_ref()).unwrap();
        if found.is_empty() {
            generated.push_str("(no findings)\n");
        }
        for finding in found {
            let text = finding.text.replace(env!("KUMO_RUSTC_VERSION"), "<rustc version>");
            let (code, severity) = (finding.code.as_str(), finding.severity().as_str());
            writeln!(generated, "{code} ({severity}): {text}").unwrap();
        }
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/explain/diagnose/snapshots");
    let path = dir.join(format!("{name}.txt"));
    if std::env::var_os("KUMO_WRITE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!("{}: {error}: run `make docs` to write it, then review it", path.display())
    });
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        let at = |text: &str| text.lines().nth(line).unwrap_or("(end of file)").to_owned();
        panic!(
            "{} is not what the findings say now, from line {}:\ncommitted: {}\ngenerated: {}\n\
             if the change is meant, run `make docs` to rewrite the golden files, then review \
             their diff (git diff src/explain/diagnose/snapshots)",
            path.display(),
            line + 1,
            at(&committed),
            at(&generated)
        );
    }
}

/// 4 CPUs under one cgroup v2 level with `cpu.max` = `limit 100000`.
fn under_quota(limit: &str, answer: usize) -> Explanation {
    Explanation {
        value: NonZeroUsize::new(answer),
        std: NonZeroUsize::new(answer),
        derived: NonZeroUsize::new(answer),
        source: Source::Cgroup,
        cgroup: Some(report_with(&[("/pod/ctr", limit, "100000")])),
        ..Explanation::unconfined(4)
    }
}

#[test]
fn nothing_misleads_on_an_unconfined_machine() {
    assert_eq!(codes(&Explanation::unconfined(4)), Vec::<&str>::new());
}

#[test]
fn override_invalid_quotes_the_error_and_says_it_raises() {
    let error = crate::parse_override(b"abc").unwrap_err().to_string();
    let why = Explanation {
        value: None,
        source: Source::Override,
        override_setting: Some(OverrideSetting { raw: "abc".into(), error: Some(error) }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["override-invalid"]);
    golden(
        "override_invalid_quotes_the_error_and_says_it_raises",
        &[("the override is abc, on 4 CPUs", findings(&why))],
    );
}

#[test]
fn override_replaces_detection_gives_both_numbers() {
    let why = Explanation {
        value: NonZeroUsize::new(12),
        source: Source::Override,
        override_setting: Some(OverrideSetting { raw: "12".into(), error: None }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["override-replaces-detection"]);
    golden(
        "override_replaces_detection_gives_both_numbers",
        &[("the override is 12, on 4 CPUs", findings(&why))],
    );
}

#[test]
fn an_empty_override_is_not_a_finding() {
    let why = Explanation {
        override_setting: Some(OverrideSetting { raw: " ".into(), error: None }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), Vec::<&str>::new());
}

#[test]
fn quota_below_one_says_one_thread_is_throttled() {
    let why = under_quota("50000", 1);
    assert_eq!(codes(&why), ["quota-below-one"]);
    golden(
        "quota_below_one_says_one_thread_is_throttled",
        &[("cpu.max 50000 100000 at /pod/ctr, on 4 CPUs", findings(&why))],
    );
}

#[test]
fn quota_floored_gives_the_floor_and_the_ceiling() {
    let why = under_quota("150000", 1);
    assert_eq!(codes(&why), ["quota-floored"]);
    golden(
        "quota_floored_gives_the_floor_and_the_ceiling",
        &[("cpu.max 150000 100000 at /pod/ctr, on 4 CPUs", findings(&why))],
    );
}

#[test]
fn quota_floored_names_the_level_that_would_bind_next() {
    // 1.5 binds; raising it to 2 alone would leave /pod's 1.8 binding, floored to 1 again
    let cgroup = report_with(&[("/pod/ctr", "150000", "100000"), ("/pod", "180000", "100000")]);
    let next = Explanation { cgroup: Some(cgroup), ..under_quota("150000", 1) };
    // a level already at or above the ceiling is not named
    let cgroup = report_with(&[("/pod/ctr", "150000", "100000"), ("/pod", "300000", "100000")]);
    let above = Explanation { cgroup: Some(cgroup), ..under_quota("150000", 1) };
    assert!(!text(&above, FindingCode::QuotaFloored).contains("/pod,"));
    golden(
        "quota_floored_names_the_level_that_would_bind_next",
        &[
            ("1.5 CPUs at /pod/ctr, 1.8 at /pod", findings(&next)),
            ("1.5 CPUs at /pod/ctr, 3 at /pod", findings(&above)),
        ],
    );
}

#[test]
fn a_whole_binding_quota_is_not_a_finding() {
    assert_eq!(codes(&under_quota("200000", 2)), Vec::<&str>::new());
}

#[test]
fn quota_at_or_above_the_cpus_limits_nothing() {
    let mut cases = Vec::new();
    for limit in ["400000", "450000", "800000"] {
        let why = Explanation { source: Source::Affinity, ..under_quota(limit, 4) };
        assert_eq!(codes(&why), ["quota-above-cpus"], "{limit}");
        cases.push((format!("cpu.max {limit} 100000, a mask of 4 CPUs"), findings(&why)));
    }
    golden("quota_at_or_above_the_cpus_limits_nothing", &cases);
}

#[test]
fn the_quota_is_held_against_the_online_count_without_a_mask() {
    let why = Explanation {
        affinity: None,
        affinity_error: Some("Operation not permitted (os error 1)".into()),
        affinity_fault: Some(Fault::Permission),
        online: Some(8),
        ..under_quota("800000", 8)
    };
    assert_eq!(codes(&why), ["quota-above-cpus", "affinity-unreadable"]);
    golden(
        "the_quota_is_held_against_the_online_count_without_a_mask",
        &[("cpu.max 800000 100000, the mask denied, 8 CPUs online", findings(&why))],
    );
}

#[test]
fn thread_pinned_gives_both_masks() {
    let why = Explanation {
        affinity: Some(Affinity { count: 1, cpus: "2".into(), fits_std_set: true }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["thread-pinned"]);
    golden(
        "thread_pinned_gives_both_masks",
        &[("the thread on CPU 2, the main thread on 0-3", findings(&why))],
    );
}

#[test]
fn a_thread_wider_than_the_main_thread_is_not_pinned() {
    let why = Explanation { process_affinity: Some(mask(2)), ..Explanation::unconfined(4) };
    assert_eq!(codes(&why), Vec::<&str>::new());
}

/// An error of each kind of fault, as the kernel words it.
const FAULTS: [(&str, Fault); 4] = [
    ("Permission denied (os error 13)", Fault::Permission),
    ("Too many open files (os error 24)", Fault::Descriptors),
    ("Cannot allocate memory (os error 12)", Fault::Memory),
    ("Input/output error (os error 5)", Fault::Io),
];

/// A file at `path` that could not be read, with an error of that kind.
fn file(path: &str, (error, fault): (&str, Fault)) -> UnreadableFile {
    UnreadableFile { path: path.into(), error: error.into(), fault }
}

#[test]
fn affinity_unreadable_names_the_fault_and_its_remedy() {
    let denied_by = |(error, fault): (&str, Fault)| Explanation {
        affinity: None,
        affinity_error: Some(error.into()),
        affinity_fault: Some(fault),
        source: Source::Online,
        ..Explanation::unconfined(4)
    };
    let cases: Vec<_> = FAULTS
        .iter()
        .map(|&(error, fault)| {
            let why = denied_by((error, fault));
            assert_eq!(codes(&why), ["affinity-unreadable"]);
            (format!("{}, 4 CPUs online", fault.as_str()), findings(&why))
        })
        .collect();
    // each kind of fault its own remedy: the sandbox's policy only for a permission fault
    let descriptors = text(&denied_by(FAULTS[1]), FindingCode::AffinityUnreadable);
    assert!(!descriptors.contains("seccomp"), "{descriptors}");
    golden("affinity_unreadable_names_the_fault_and_its_remedy", &cases);
}

#[test]
fn cgroup_unreadable_names_each_file_its_fault_and_its_remedy() {
    let why = Explanation {
        unreadable: vec![
            file("/proc/self/cgroup", FAULTS[0]),
            file("/sys/fs/cgroup/ctr/cpu.max", FAULTS[0]),
        ],
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["cgroup-unreadable", "cgroup-unreadable"]);
    let mut cases = vec![("/proc/self/cgroup and a cpu.max unreadable".to_owned(), findings(&why))];
    for fault in FAULTS {
        let why = Explanation {
            unreadable: vec![file("/sys/fs/cgroup/cpu/ctr/cpu.cfs_quota_us", fault)],
            ..Explanation::unconfined(4)
        };
        // a permission fault is the only one a user's read rights mend
        let text = text(&why, FindingCode::CgroupUnreadable);
        assert_eq!(text.contains("let this user read it"), fault.1 == Fault::Permission, "{text}");
        cases.push((format!("cpu.cfs_quota_us: {}", fault.1.as_str()), findings(&why)));
    }
    golden("cgroup_unreadable_names_each_file_its_fault_and_its_remedy", &cases);
}

#[test]
fn probe_unreadable_says_what_explain_cannot_tell() {
    let why = Explanation {
        probe_unreadable: vec![
            file("/proc/self/ns/cgroup", FAULTS[0]),
            file("/sys/fs/cgroup/pod/cpu.stat", FAULTS[1]),
            file("/proc/self/mountinfo", FAULTS[2]),
        ],
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["probe-unreadable", "probe-unreadable", "probe-unreadable"]);
    // std reads none of them: the answer is no one's fault here
    for finding in findings(&why) {
        assert_eq!(finding.severity(), Severity::Note);
    }
    golden(
        "probe_unreadable_says_what_explain_cannot_tell",
        &[("the namespace link, a cpu.stat and mountinfo unreadable", findings(&why))],
    );
}

#[test]
fn cgroup2_elsewhere_gives_the_mount_the_quota_and_the_number() {
    let mut elsewhere = report_with(&[("/ctr", "150000", "100000"), ("/", "max", "100000")]);
    elsewhere.mount = Some("/host/cgroup".into());
    let why = Explanation { cgroup2_elsewhere: Some(elsewhere), ..Explanation::unconfined(4) };
    assert_eq!(codes(&why), ["cgroup2-elsewhere"]);
    golden(
        "cgroup2_elsewhere_gives_the_mount_the_quota_and_the_number",
        &[("cgroup2 at /host/cgroup, 1.5 CPUs at /ctr", findings(&why))],
    );
}

#[test]
fn detection_changed_when_std_answers_differently_the_second_time() {
    let why = Explanation {
        derived: NonZeroUsize::new(2),
        std_again: NonZeroUsize::new(2),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["detection-changed"]);
    let failed = Explanation { std_again: None, ..why.clone() };
    assert_eq!(codes(&failed), ["detection-changed"]);
    golden(
        "detection_changed_when_std_answers_differently_the_second_time",
        &[
            ("std 4, derived 2, std asked again 2", findings(&why)),
            ("std 4, derived 2, std asked again failed", findings(&failed)),
        ],
    );
}

#[test]
fn probe_mismatch_when_std_answers_the_same_twice() {
    let why = Explanation {
        derived: NonZeroUsize::new(2),
        std_again: NonZeroUsize::new(4),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["probe-mismatch"]);
    golden(
        "probe_mismatch_when_std_answers_the_same_twice",
        &[("std 4, derived 2, std asked again 4", findings(&why))],
    );
}

#[test]
fn findings_come_in_the_order_of_their_codes() {
    let why = Explanation {
        value: NonZeroUsize::new(5),
        source: Source::Override,
        override_setting: Some(OverrideSetting { raw: "5".into(), error: None }),
        affinity: Some(mask(2)),
        unreadable: vec![UnreadableFile {
            path: "/x/cpu.max".into(),
            error: "EIO".into(),
            fault: Fault::Io,
        }],
        ..under_quota("50000", 1)
    };
    let found = findings(&why);
    assert_eq!(
        codes(&why),
        ["override-replaces-detection", "quota-below-one", "thread-pinned", "cgroup-unreadable"]
    );
    assert!(found.windows(2).all(|pair| pair[0].code <= pair[1].code));
}

fn v1_report(lines: Option<usize>) -> CgroupReport {
    let mut report = mounted(CgroupVersion::V1, "/docker/abc");
    report.mountinfo_lines = lines;
    report
}

#[test]
fn mountinfo_scan_from_a_thousand_lines_on_v1() {
    let with = |lines| Explanation { cgroup: Some(v1_report(lines)), ..Explanation::unconfined(4) };
    assert_eq!(codes(&with(Some(MOUNTINFO_SCAN_LINES_MIN))), ["mountinfo-scan"]);
    assert_eq!(codes(&with(Some(999))), Vec::<&str>::new());
    assert_eq!(codes(&with(None)), Vec::<&str>::new());
    golden(
        "mountinfo_scan_from_a_thousand_lines_on_v1",
        &[
            ("v1, 1000 lines of mountinfo", findings(&with(Some(MOUNTINFO_SCAN_LINES_MIN)))),
            ("v1, 20012 lines of mountinfo", findings(&with(Some(20_012)))),
            ("v1, 999 lines of mountinfo", findings(&with(Some(999)))),
            ("v1, mountinfo's lines not counted", findings(&with(None))),
        ],
    );
}

#[test]
fn quota_burst_gives_the_burst_in_cpus() {
    let mut cgroup = report_with(&[("/pod/ctr", "200000", "100000")]);
    cgroup.levels[0].burst_us = Some(50000);
    let why = Explanation { cgroup: Some(cgroup), ..under_quota("200000", 2) };
    assert_eq!(codes(&why), ["quota-burst"]);
    golden(
        "quota_burst_gives_the_burst_in_cpus",
        &[("cpu.max 200000 100000, cpu.max.burst 50000", findings(&why))],
    );
}

#[test]
fn quota_burst_is_silent_where_the_quota_limits_nothing() {
    // a quota of 4 on 4 CPUs: quota-above-cpus, and its burst serves nothing either
    let mut cgroup = report_with(&[("/pod/ctr", "400000", "100000")]);
    cgroup.levels[0].burst_us = Some(50000);
    let why =
        Explanation { cgroup: Some(cgroup), source: Source::Affinity, ..under_quota("400000", 4) };
    assert_eq!(codes(&why), ["quota-above-cpus"]);
}

#[test]
fn a_burst_of_zero_is_not_a_finding() {
    let mut cgroup = report_with(&[("/pod/ctr", "200000", "100000")]);
    cgroup.levels[0].burst_us = Some(0);
    let why = Explanation { cgroup: Some(cgroup), ..under_quota("200000", 2) };
    assert_eq!(codes(&why), Vec::<&str>::new());
}

#[test]
fn cgroup_namespace_other_than_the_initial_one() {
    let why = Explanation {
        cgroup_namespace: Some(4026532412),
        cgroup: Some(report_with(&[("/", "500000", "100000")])),
        ..Explanation::unconfined(8)
    };
    assert_eq!(codes(&why), ["cgroup-namespace"]);
    assert_eq!(FindingCode::CgroupNamespace.severity(), Severity::Note);
    let initial =
        Explanation { cgroup_namespace: Some(PROC_CGROUP_INIT_INO), ..Explanation::unconfined(8) };
    assert_eq!(codes(&initial), Vec::<&str>::new());
    // the link could not be read: nothing is known, nothing is said
    let unknown = Explanation { cgroup_namespace: None, ..Explanation::unconfined(8) };
    assert_eq!(codes(&unknown), Vec::<&str>::new());
    golden(
        "cgroup_namespace_other_than_the_initial_one",
        &[
            ("namespace 4026532412, 5 CPUs at its root, on 8", findings(&why)),
            ("the initial namespace", findings(&initial)),
            ("the namespace link unreadable", findings(&unknown)),
        ],
    );
}

#[test]
fn requests_only_on_v2_gives_the_request_by_both_conversions() {
    let mut cgroup = mounted(CgroupVersion::V2, "/kubepods/pod/ctr");
    cgroup.weight = Some(174);
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(64) };
    assert_eq!(codes(&why), ["requests-only"]);
    let text = text(&why, FindingCode::RequestsOnly);
    // the readings disagree (5 and 2 threads): no number to set
    assert!(!text.contains("KUMO_AVAILABLE_PARALLELISM="), "{text}");
    golden(
        "requests_only_on_v2_gives_the_request_by_both_conversions",
        &[("cpu.weight 174, on 64 CPUs", findings(&why))],
    );
}

#[test]
fn requests_only_on_v2_suggests_a_number_where_both_conversions_agree() {
    // weight 1 is BestEffort; weight 2 is 28 shares linearly, 0.03 CPUs either way
    let mut cases = Vec::new();
    for weight in [2, 5] {
        let mut cgroup = mounted(CgroupVersion::V2, "/ctr");
        cgroup.weight = Some(weight);
        let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
        cases.push((format!("cpu.weight {weight}, on 8 CPUs"), findings(&why)));
    }
    golden("requests_only_on_v2_suggests_a_number_where_both_conversions_agree", &cases);
}

#[test]
fn runc_1_1s_weight_for_two_cpus_reads_as_two_requests() {
    // runc 1.1.5 writes 79 for 2048 shares; the quadratic inverse reads 0.74 CPUs
    let mut cgroup = mounted(CgroupVersion::V2, "/ctr");
    cgroup.weight = Some(79);
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
    let text = text(&why, FindingCode::RequestsOnly);
    assert!(!text.contains("KUMO_AVAILABLE_PARALLELISM="), "{text}");
    golden(
        "runc_1_1s_weight_for_two_cpus_reads_as_two_requests",
        &[("cpu.weight 79, on 8 CPUs", findings(&why))],
    );
}

#[test]
fn the_least_weight_is_named_without_a_qos_guess_and_given_no_number() {
    let mut cases = Vec::new();
    for (version, weight) in [(CgroupVersion::V1, 2), (CgroupVersion::V2, 1)] {
        let mut cgroup = mounted(version, "/kubepods/burstable/pod/ctr");
        cgroup.weight = Some(weight);
        let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
        assert_eq!(codes(&why), ["requests-only"], "{version:?}");
        let text = text(&why, FindingCode::RequestsOnly);
        // no claim that it is a BestEffort pod, nor that it gets only what others leave
        assert!(!text.contains("that is how Kubernetes writes a BestEffort pod"), "{text}");
        assert!(!text.contains("whatever CPU time other pods leave"), "{text}");
        assert!(!text.contains("KUMO_AVAILABLE_PARALLELISM"), "{text}");
        assert!(!text.contains("0.00"), "{text}");
        let file = version.weight_file();
        cases.push((format!("{version:?} {file} {weight} in a burstable pod"), findings(&why)));
    }
    // on v2 the linear conversion makes weight 1 of every request below 29m
    let mut cgroup = mounted(CgroupVersion::V2, "/ctr");
    cgroup.weight = Some(1);
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
    cases.push(("V2 cpu.weight 1 at /ctr".to_owned(), findings(&why)));
    golden("the_least_weight_is_named_without_a_qos_guess_and_given_no_number", &cases);
}

#[test]
fn requests_only_on_v1_reads_shares() {
    let mut cgroup = v1_report(None);
    cgroup.weight = Some(512);
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
    assert_eq!(codes(&why), ["requests-only"]);
    golden("requests_only_on_v1_reads_shares", &[("cpu.shares 512, on 8 CPUs", findings(&why))]);
}

#[test]
fn the_default_weight_or_a_quota_is_not_requests_only() {
    for (version, default) in [(CgroupVersion::V1, 1024), (CgroupVersion::V2, 100)] {
        let mut cgroup = mounted(version, "/ctr");
        cgroup.weight = Some(default);
        let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
        assert_eq!(codes(&why), Vec::<&str>::new(), "{version:?}");
    }
    let mut limited = report_with(&[("/pod/ctr", "400000", "100000")]);
    limited.weight = Some(174);
    let why = Explanation { cgroup: Some(limited), ..under_quota("400000", 4) };
    assert_eq!(codes(&why), ["quota-above-cpus"]);
}

#[test]
fn the_later_codes_come_in_the_order_of_the_enum() {
    let mut cgroup = v1_report(Some(5_000));
    cgroup.weight = Some(2048);
    cgroup.mount = Some("/sys/fs/cgroup/cpu".into());
    let why = Explanation {
        cgroup_namespace: Some(1),
        cgroup: Some(cgroup),
        derived: NonZeroUsize::new(3),
        first_answer: Some(first_answer(8, 0, TakenOn::ThisThread, Some("0-3"))),
        ..Explanation::unconfined(4)
    };
    assert_eq!(
        codes(&why),
        [
            "detection-changed",
            "changed-since-first-call",
            "mountinfo-scan",
            "cgroup-namespace",
            "requests-only"
        ]
    );
}

#[test]
fn the_rule_table_follows_the_code_order() {
    let table: Vec<FindingCode> = RULES.iter().map(|(code, _)| *code).collect();
    assert_eq!(table, FindingCode::ALL);
}

#[test]
fn severities_grade_verdicts_and_caveats() {
    // a few decisions of the finding table that the texts rely on
    assert_eq!(FindingCode::CgroupNamespace.severity().as_str(), "note");
    assert_eq!(FindingCode::QuotaBurst.severity().as_str(), "note");
    assert_eq!(FindingCode::QuotaAboveCpus.severity(), Severity::Note);
    assert_eq!(FindingCode::CgroupfsUnmounted.severity().as_str(), "warning");
    assert_eq!(FindingCode::QuotaFloored.severity(), Severity::Warning);
}

/// A process in `path` on `version`, which no mount shows, for the reason `unshown`.
fn unmounted(version: CgroupVersion, path: &str, unshown: Option<Unshown>) -> Explanation {
    let mut cgroup = CgroupReport::new(version, path.into());
    cgroup.unshown = unshown;
    Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(2) }
}

#[test]
fn cgroupfs_unmounted_names_the_case_mountinfo_shows() {
    let hidden =
        Unshown::Hidden { mount: "/sys/fs/cgroup/unified".into(), by: "/sys/fs/cgroup".into() };
    let why = unmounted(CgroupVersion::V2, "/ctr", Some(hidden));
    assert_eq!(codes(&why), ["cgroupfs-unmounted"]);
    let hidden_text = text(&why, FindingCode::CgroupfsUnmounted);
    // the old text claimed, whatever the case, that nothing was mounted
    assert!(!hidden_text.contains("nothing is mounted at"), "{hidden_text}");

    let none = unmounted(CgroupVersion::V1, "/docker/abc", Some(Unshown::NoneMounted));

    let outside = unmounted(CgroupVersion::V2, "/../x", Some(Unshown::OutsideNamespaceRoot));
    let outside_text = text(&outside, FindingCode::CgroupfsUnmounted);
    assert!(!outside_text.contains("mount cgroupfs"), "{outside_text}");

    let elsewhere = Unshown::ElsewhereOnly { mounts: vec!["/mnt/a".into(), "/mnt/b".into()] };
    let elsewhere = unmounted(CgroupVersion::V1, "/x", Some(elsewhere));
    golden(
        "cgroupfs_unmounted_names_the_case_mountinfo_shows",
        &[
            ("v2 /ctr, its mount hidden by a later one", findings(&why)),
            ("v1 /docker/abc, no mount of the controller", findings(&none)),
            ("v2 /../x, outside the namespace root", findings(&outside)),
            ("v1 /x, mounts elsewhere only", findings(&elsewhere)),
        ],
    );
}

#[test]
fn cgroupfs_unmounted_says_nothing_without_mountinfo_or_where_a_mount_shows_the_cgroup() {
    // mountinfo could not be read: nothing is known of the mounts
    assert_eq!(codes(&unmounted(CgroupVersion::V1, "/docker/abc", None)), Vec::<&str>::new());
    // explain()'s own lookup found the cgroup: a mount does show it
    let missed = Explanation {
        std_missed: Some(missed_at(
            "/mnt/cpu ctl",
            "/mnt/cpu\\040ctl",
            MissReason::EscapedMountPoint,
            "-1",
        )),
        ..unmounted(CgroupVersion::V1, "/docker/abc", Some(Unshown::NoneMounted))
    };
    assert_eq!(codes(&missed), Vec::<&str>::new());
    // the root of a private cgroup namespace may carry the container's quota
    let private_root = Explanation {
        cgroup_namespace: Some(4026532412),
        ..unmounted(CgroupVersion::V1, "/", Some(Unshown::NoneMounted))
    };
    assert_eq!(codes(&private_root), ["cgroupfs-unmounted", "cgroup-namespace"]);
    // the machine's own root cgroup has no quota files: nothing is hidden
    for version in [CgroupVersion::V1, CgroupVersion::V2] {
        assert_eq!(codes(&unmounted(version, "/", Some(Unshown::NoneMounted))), Vec::<&str>::new());
    }
    // mounted: no finding
    let mut mounted = unmounted(CgroupVersion::V2, "/ctr", Some(Unshown::NoneMounted));
    mounted.cgroup.as_mut().unwrap().mount = Some("/sys/fs/cgroup".into());
    assert_eq!(codes(&mounted), Vec::<&str>::new());
}

#[test]
fn cgroups_invisible_tells_no_proc_from_an_empty_or_missing_file() {
    let with = |membership| Explanation { membership, ..Explanation::unconfined(4) };
    // gVisor's vCPUs: the cpuset, or the quota rounded up, at least 2; not "cannot be counted"
    let empty = text(&with(Membership::Empty), FindingCode::CgroupsInvisible);
    assert!(!empty.contains("cannot be counted"), "{empty}");
    let no_proc = text(&with(Membership::NoProc), FindingCode::CgroupsInvisible);
    assert!(!no_proc.contains("gVisor"), "{no_proc}");
    let mut cases = Vec::new();
    for membership in [Membership::Empty, Membership::NoProc, Membership::Missing] {
        cases.push((format!("membership {membership:?}"), findings(&with(membership))));
    }
    for membership in [Membership::Listed, Membership::Unreadable, Membership::Unknown] {
        assert_eq!(codes(&with(membership)), Vec::<&str>::new());
        cases.push((format!("membership {membership:?}"), findings(&with(membership))));
    }
    golden("cgroups_invisible_tells_no_proc_from_an_empty_or_missing_file", &cases);
}

/// What explain()'s own lookup found at `mount` (written `listed`), for `reason`, with a
/// level `/docker/abc` whose quota is `limit` per 100000.
fn missed_at(mount: &str, listed: &str, reason: MissReason, limit: &str) -> MissedCgroup {
    let mut report = CgroupReport::new(CgroupVersion::V1, "/docker/abc".into());
    report.mount = Some(mount.into());
    report.mount_root = Some("/".into());
    report.levels.push(CgroupLevel::read(
        "/docker/abc".into(),
        Some(limit.into()),
        Some("100000".into()),
    ));
    report.levels.push(CgroupLevel::read("/docker".into(), Some("-1".into()), None));
    report.mark_binding_level();
    MissedCgroup { reason, listed_mount: listed.into(), report }
}

/// std found no cpu hierarchy, explain() found `missed`.
fn std_missed(missed: MissedCgroup) -> Explanation {
    let mut cgroup = CgroupReport::new(CgroupVersion::V1, "/docker/abc".into());
    cgroup.mountinfo_lines = Some(40);
    Explanation { cgroup: Some(cgroup), std_missed: Some(missed), ..Explanation::unconfined(2) }
}

#[test]
fn std_missed_quota_names_the_mount_both_ways_the_reason_and_the_number() {
    let why = std_missed(missed_at(
        "/mnt/cpu ctl",
        "/mnt/cpu\\040ctl",
        MissReason::EscapedMountPoint,
        "100000",
    ));
    assert_eq!(codes(&why), ["std-missed-quota"]);
    assert_eq!(FindingCode::StdMissedQuota.severity(), Severity::Warning);
    // the returned number stays std's: nothing here changes the value
    assert_eq!(why.value, NonZeroUsize::new(2));
    golden(
        "std_missed_quota_names_the_mount_both_ways_the_reason_and_the_number",
        &[("the mount at /mnt/cpu ctl, 1 CPU at /docker/abc, on 2", findings(&why))],
    );
}

#[test]
fn std_missed_quota_says_why_for_every_reason() {
    let shadowed = MissReason::Shadowed {
        taken: "/sys/fs/cgroup/cpu".into(),
        by: "/sys/fs/cgroup/cpu".into(),
    };
    let reasons = [
        shadowed,
        MissReason::EscapedRoot,
        MissReason::FirstLineOnly { taken: "/mnt/a".into() },
        MissReason::StoppedAt { line: 12 },
        MissReason::Subtree,
    ];
    let mut cases = Vec::new();
    for reason in reasons {
        let label = format!("{reason:?}");
        let why =
            std_missed(missed_at("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu", reason, "100000"));
        let text = text(&why, FindingCode::StdMissedQuota);
        // written as the kernel writes it only where that differs
        assert!(!text.contains("mountinfo writes it"), "{text}");
        cases.push((label, findings(&why)));
    }
    golden("std_missed_quota_says_why_for_every_reason", &cases);
}

#[test]
fn std_missed_quota_is_silent_where_the_quota_would_not_lower_the_number() {
    for limit in ["-1", "200000", "350000"] {
        let why = std_missed(missed_at("/mnt/c", "/mnt/c", MissReason::EscapedRoot, limit));
        assert!(!codes(&why).contains(&"std-missed-quota"), "{limit}: {:?}", codes(&why));
    }
}

#[test]
fn mount_shows_subtree_names_the_levels_that_cannot_be_read() {
    let mut cgroup = mounted(CgroupVersion::V1, "/kumo/ctr");
    cgroup.mount = Some("/sys/fs/cgroup/cpu,cpuacct".into());
    cgroup.mount_root = Some("/kumo/ctr".into());
    cgroup.levels.push(CgroupLevel::read("/kumo/ctr".into(), Some("-1".into()), None));
    let why = Explanation { cgroup: Some(cgroup.clone()), ..Explanation::unconfined(2) };
    assert_eq!(codes(&why), ["mount-shows-subtree"]);
    // the whole hierarchy, or a mount found without mountinfo: nothing to say
    cgroup.mount_root = Some("/".into());
    let whole = Explanation { cgroup: Some(cgroup.clone()), ..Explanation::unconfined(2) };
    assert_eq!(codes(&whole), Vec::<&str>::new());
    cgroup.mount_root = None;
    let usual = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(2) };
    assert_eq!(codes(&usual), Vec::<&str>::new());
    golden(
        "mount_shows_subtree_names_the_levels_that_cannot_be_read",
        &[
            ("v1, the mount's root /kumo/ctr", findings(&why)),
            ("v1, the mount's root /", findings(&whole)),
            ("v1, the mount found without mountinfo", findings(&usual)),
        ],
    );
}

#[test]
fn mountinfo_scan_advises_a_cgroup_namespace_where_the_usual_path_shows_a_subtree() {
    let mut cgroup = v1_report(Some(1_500));
    cgroup.mount = Some("/sys/fs/cgroup/cpu,cpuacct".into());
    cgroup.mount_root = Some("/docker/abc".into());
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(4) };
    let text = text(&why, FindingCode::MountinfoScan);
    // the controller is at a usual path: the old text said it was at neither
    assert!(!text.contains("at neither"), "{text}");
    golden(
        "mountinfo_scan_advises_a_cgroup_namespace_where_the_usual_path_shows_a_subtree",
        &[("v1, 1500 lines, /sys/fs/cgroup/cpu,cpuacct shows /docker/abc", findings(&why))],
    );
}

/// A first answer of `count`, `seconds` ago, taken on `taken_on` under the mask `cpus`
/// (`None`: by the override).
fn first_answer(count: usize, seconds: u64, taken_on: TakenOn, cpus: Option<&str>) -> FirstAnswer {
    FirstAnswer {
        count: NonZeroUsize::new(count).unwrap(),
        age: Duration::from_secs(seconds),
        taken_on,
        by_override: cpus.is_none(),
        cpus: cpus.map(str::to_owned),
    }
}

#[test]
fn changed_since_first_call_names_both_numbers_the_age_and_what_changed() {
    use TakenOn::{AnotherThread, ThisThread};
    let now =
        |count, first| Explanation { first_answer: Some(first), ..Explanation::unconfined(count) };
    // this thread's own answer, under the same mask: a quota or the CPUs online changed
    let resized = now(1, first_answer(2, 125, ThisThread, Some("0")));
    assert_eq!(codes(&resized), ["changed-since-first-call"]);
    // this thread narrowed its own mask since
    let narrowed = now(1, first_answer(2, 9, ThisThread, Some("0-1")));
    assert_eq!(codes(&narrowed), ["changed-since-first-call"]);
    // another thread's first answer, under the same mask: held against it
    let moved = now(2, first_answer(4, 30, AnotherThread, Some("0-1")));
    // another thread's, under another mask: not like with like, nothing said
    let pinned_first = now(2, first_answer(1, 30, AnotherThread, Some("0")));
    assert_eq!(codes(&pinned_first), Vec::<&str>::new());
    // the override set, unset and changed
    let set = Explanation {
        source: Source::Override,
        value: NonZeroUsize::new(8),
        ..now(2, first_answer(2, 5, ThisThread, Some("0-1")))
    };
    let unset = now(2, first_answer(8, 5, ThisThread, None));
    let changed = Explanation {
        source: Source::Override,
        value: NonZeroUsize::new(3),
        ..now(2, first_answer(8, 5, AnotherThread, None))
    };
    let same = now(4, first_answer(4, 9, ThisThread, Some("0-3")));
    assert_eq!(codes(&same), Vec::<&str>::new());
    // a kernel with more possible CPUs than std's set: std counted its fallback then and now
    let wide_mask = Affinity { count: 3, cpus: "0-2".into(), fits_std_set: false };
    let fallback = Explanation {
        affinity: Some(wide_mask.clone()),
        process_affinity: Some(wide_mask),
        online: Some(3),
        value: NonZeroUsize::new(3),
        std: NonZeroUsize::new(3),
        derived: NonZeroUsize::new(3),
        first_answer: Some(FirstAnswer {
            by_override: false,
            ..first_answer(4, 7, ThisThread, None)
        }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&fallback), ["changed-since-first-call"]);
    golden(
        "changed_since_first_call_names_both_numbers_the_age_and_what_changed",
        &[
            ("1 now, 2 first on this thread under the same mask, 125 s ago", findings(&resized)),
            ("1 now on 0, 2 first on this thread under 0-1", findings(&narrowed)),
            ("2 now on 0-1, 4 first on another thread under 0-1", findings(&moved)),
            ("2 now on 0-1, 1 first on another thread under 0", findings(&pinned_first)),
            ("the override 8 set since a first 2", findings(&set)),
            ("the override 8 unset since", findings(&unset)),
            ("the override 8 changed to 3 on another thread", findings(&changed)),
            ("4 now, 4 first", findings(&same)),
            ("3 now, 4 first, std's fallback both times", findings(&fallback)),
        ],
    );
}

#[test]
fn changed_since_first_call_blames_no_resize_for_a_fault() {
    let first = Some(first_answer(1, 60, TakenOn::ThisThread, Some("0-1")));
    let faulted = Explanation {
        unreadable: vec![file("/proc/self/cgroup", FAULTS[1])],
        first_answer: first.clone(),
        ..Explanation::unconfined(2)
    };
    assert_eq!(codes(&faulted), ["cgroup-unreadable"]);
    let denied = Explanation {
        affinity: None,
        affinity_error: Some(FAULTS[3].0.into()),
        affinity_fault: Some(Fault::Io),
        first_answer: first,
        ..Explanation::unconfined(2)
    };
    assert_eq!(codes(&denied), ["affinity-unreadable"]);
}

#[test]
fn cpu_throttled_names_the_level_the_counts_and_what_to_change() {
    let throttled = |periods, throttled, usec| Throttling {
        periods,
        throttled,
        time: Duration::from_micros(usec),
    };
    // the container unlimited, the pod's quota of 0.5 throttled in 15 of 16 periods
    let mut report = report_with(&[("/pod/ctr", "max", "100000"), ("/pod", "50000", "100000")]);
    report.levels[1].throttling = Some(throttled(16, 15, 1_780_012));
    let pod = Explanation { cgroup: Some(report.clone()), ..under_quota("50000", 1) };
    assert_eq!(codes(&pod), ["quota-below-one", "cpu-throttled"]);
    // below the share, or too few periods: nothing said
    report.levels[1].throttling = Some(throttled(100, 24, 1_000));
    let rare = Explanation { cgroup: Some(report.clone()), ..under_quota("50000", 1) };
    assert_eq!(codes(&rare), ["quota-below-one"]);
    report.levels[1].throttling = Some(throttled(9, 9, 1_000));
    let young = Explanation { cgroup: Some(report.clone()), ..under_quota("50000", 1) };
    assert_eq!(codes(&young), ["quota-below-one"]);
    // the threshold itself counts, at both levels of a two-quota walk
    let mut both = report_with(&[("/pod/ctr", "300000", "100000"), ("/pod", "200000", "100000")]);
    both.levels[0].throttling = Some(throttled(40, 10, 250_000));
    both.levels[1].throttling = Some(throttled(10, 3, 30_000));
    let twice = Explanation { cgroup: Some(both), ..under_quota("200000", 2) };
    assert_eq!(codes(&twice), ["cpu-throttled", "cpu-throttled"]);
    golden(
        "cpu_throttled_names_the_level_the_counts_and_what_to_change",
        &[
            ("the pod's 0.5 CPUs, 15 of 16 periods throttled", findings(&pod)),
            ("24 of 100 periods", findings(&rare)),
            ("9 of 9 periods", findings(&young)),
            ("the container 10 of 40, the pod 3 of 10", findings(&twice)),
        ],
    );
}

/// A thread whose mask is denied, with `Cpus_allowed_list` (of those online) `listed`.
fn denied(listed: Option<Affinity>) -> Explanation {
    Explanation {
        affinity: None,
        affinity_error: Some("Operation not permitted (os error 1)".into()),
        affinity_fault: Some(Fault::Permission),
        status_affinity: listed,
        source: Source::Online,
        ..Explanation::unconfined(2)
    }
}

#[test]
fn affinity_unreadable_gives_the_kernels_list_and_the_number_to_set() {
    let confined = denied(Some(Affinity { count: 1, cpus: "0".into(), fits_std_set: true }));
    let whole = denied(Some(mask(2)));
    let whole_text = text(&whole, FindingCode::AffinityUnreadable);
    assert!(!whole_text.contains("KUMO_AVAILABLE_PARALLELISM="), "{whole_text}");
    // a quota below the list caps the number to set, as std would
    let capped = Explanation {
        cgroup: Some(report_with(&[("/ctr", "100000", "100000")])),
        std: NonZeroUsize::new(1),
        derived: NonZeroUsize::new(1),
        ..denied(Some(mask(2)))
    };
    golden(
        "affinity_unreadable_gives_the_kernels_list_and_the_number_to_set",
        &[
            ("the mask denied, the kernel lists CPU 0, 2 online", findings(&confined)),
            ("the mask denied, the kernel lists 0-1, 2 online", findings(&whole)),
            ("the mask denied, the kernel lists 0-1, a quota of 1", findings(&capped)),
        ],
    );
}

#[test]
fn affinity_unreadable_words_follow_the_sign_of_the_difference() {
    // std's answer below what the kernel's list gives (a fallback of 1, as musl's sysconf
    // answers where sched_getaffinity fails): an undercount, never called an overcount
    let under = Explanation {
        std: NonZeroUsize::new(1),
        derived: NonZeroUsize::new(1),
        online: Some(1),
        ..denied(Some(mask(2)))
    };
    let text = text(&under, FindingCode::AffinityUnreadable);
    assert!(!text.contains("overcount"), "{text}");
    golden(
        "affinity_unreadable_words_follow_the_sign_of_the_difference",
        &[
            ("std 1, sysconf 1, the kernel lists 0-1", findings(&under)),
            ("the mask denied, no list, 2 online", findings(&denied(None))),
        ],
    );
}

#[test]
fn quota_burst_names_the_binding_level_not_the_first_with_a_burst() {
    // the leaf (2 CPUs) bursts, but the pod's 1 CPU binds and has no burst
    let mut cgroup = report_with(&[("/pod/ctr", "200000", "100000"), ("/pod", "100000", "100000")]);
    cgroup.levels[0].burst_us = Some(50000);
    let leaf = Explanation { cgroup: Some(cgroup.clone()), ..under_quota("100000", 1) };
    assert!(!codes(&leaf).contains(&"quota-burst"), "{:?}", codes(&leaf));
    cgroup.levels[1].burst_us = Some(25000);
    let why = Explanation { cgroup: Some(cgroup), ..under_quota("100000", 1) };
    golden(
        "quota_burst_names_the_binding_level_not_the_first_with_a_burst",
        &[
            ("2 CPUs at /pod/ctr with a burst, 1 at /pod", findings(&leaf)),
            ("2 CPUs at /pod/ctr with a burst, 1 at /pod with a burst", findings(&why)),
        ],
    );
}

/// A machine of 4 online CPUs and 1100 possible ones: std's 1024-CPU set is refused, so std
/// counts the online CPUs; explain() read the process's mask, `cpus`.
fn wide(cpus: &str, count: usize) -> Explanation {
    let mask = Affinity { count, cpus: cpus.into(), fits_std_set: false };
    Explanation {
        affinity: Some(mask.clone()),
        process_affinity: Some(mask),
        possible_cpus: Some(1100),
        source: Source::Online,
        ..Explanation::unconfined(4)
    }
}

#[test]
fn std_missed_affinity_names_the_cause_the_mask_and_the_number_to_set() {
    let pinned = wide("0", 1);
    assert_eq!(codes(&pinned), ["std-missed-affinity"]);
    // two CPUs under a 3-CPU quota: std answers the quota, the mask allows 2
    let quota = Explanation {
        cgroup: Some(report_with(&[("/pod/ctr", "300000", "100000")])),
        std: NonZeroUsize::new(3),
        value: NonZeroUsize::new(3),
        derived: NonZeroUsize::new(3),
        ..wide("0-1", 2)
    };
    // without the possible list, no number for it
    let unlisted = Explanation { possible_cpus: None, ..wide("0", 1) };
    golden(
        "std_missed_affinity_names_the_cause_the_mask_and_the_number_to_set",
        &[
            ("1100 possible CPUs, the mask 0, 4 online", findings(&pinned)),
            ("1100 possible CPUs, the mask 0-1, a quota of 3", findings(&quota)),
            ("the possible CPUs unknown, the mask 0, 4 online", findings(&unlisted)),
        ],
    );
}

#[test]
fn std_missed_affinity_is_silent_where_the_mask_gives_std_s_answer() {
    // every online CPU in the mask: std's fallback is right
    assert_eq!(codes(&wide("0-3", 4)), Vec::<&str>::new());
    // a quota below the mask decides either way
    let capped = Explanation {
        cgroup: Some(report_with(&[("/pod/ctr", "100000", "100000")])),
        std: NonZeroUsize::new(1),
        value: NonZeroUsize::new(1),
        derived: NonZeroUsize::new(1),
        ..wide("0-1", 2)
    };
    assert!(!codes(&capped).contains(&"std-missed-affinity"), "{:?}", codes(&capped));
    // a mask that fits std's set is std's own
    let fits = Explanation { possible_cpus: None, ..Explanation::unconfined(4) };
    assert!(std_missed_affinity(&fits).is_none());
}

#[test]
fn std_missed_affinity_reads_the_kernel_s_list_where_the_mask_is_denied_too() {
    let listed = Affinity { count: 1, cpus: "0".into(), fits_std_set: false };
    let why = Explanation {
        possible_cpus: Some(1100),
        online: Some(4),
        std: NonZeroUsize::new(4),
        derived: NonZeroUsize::new(4),
        value: NonZeroUsize::new(4),
        ..denied(Some(listed))
    };
    let text = text(&why, FindingCode::StdMissedAffinity);
    // the list is the kernel's text, not a mask this process read
    assert!(!text.contains("calling thread's mask, read"), "{text}");
    // a fallback of 1 (musl's sysconf where sched_getaffinity fails): the mask 0-1 gives 2
    let fallback_of_one = Explanation {
        std: NonZeroUsize::new(1),
        derived: NonZeroUsize::new(1),
        value: NonZeroUsize::new(1),
        online: Some(1),
        ..wide("0-1", 2)
    };
    golden(
        "std_missed_affinity_reads_the_kernel_s_list_where_the_mask_is_denied_too",
        &[
            ("1100 possible CPUs, the mask denied, the kernel lists 0", findings(&why)),
            ("1100 possible CPUs, the mask 0-1, std 1", findings(&fallback_of_one)),
        ],
    );
}

#[test]
fn every_golden_file_belongs_to_a_test() {
    // a renamed or deleted test leaves its file behind: that file would check nothing
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/explain/diagnose/snapshots");
    let source = include_str!("tests.rs");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let test = name.strip_suffix(".txt").unwrap_or_else(|| panic!("{name} is no golden file"));
        assert!(
            source.contains(&format!("fn {test}() {{")),
            "{name} belongs to no test: remove it"
        );
    }
}

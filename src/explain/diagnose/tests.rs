//! The finding rules against hand-built explanations: each rule, its numbers, and the
//! cases where it must stay silent.
use std::num::NonZeroUsize;

use std::time::Duration;

use super::*;
use crate::explain::explanation::tests::{mask, mounted, report_with};
use crate::explain::explanation::{FirstAnswer, OverrideSetting};
use crate::explain::finding::Severity;
use crate::probes::{
    Affinity, CgroupLevel, CgroupReport, CpuSteal, MissReason, MissedCgroup, Unshown,
};

fn codes(why: &Explanation) -> Vec<&'static str> {
    findings(why).iter().map(|f| f.code.as_str()).collect()
}

fn text(why: &Explanation, code: FindingCode) -> String {
    let found = findings(why);
    let finding = found.iter().find(|f| f.code == code);
    finding.unwrap_or_else(|| panic!("no {code} in {found:?}")).text.clone()
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
        override_setting: Some(OverrideSetting { raw: "abc".into(), error: Some(error.clone()) }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["override-invalid"]);
    let text = text(&why, FindingCode::OverrideInvalid);
    assert!(text.contains("available_parallelism() raises"), "{text}");
    assert!(text.contains(&error), "{text}");
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
    let text = text(&why, FindingCode::OverrideReplacesDetection);
    assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=\"12\""), "{text}");
    assert!(text.contains("the answer is 12"), "{text}");
    assert!(text.contains("detection would answer 4"), "{text}");
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
    let text = text(&why, FindingCode::QuotaBelowOne);
    assert!(text.contains("0.5 CPUs (50000 100000 at /pod/ctr)"), "{text}");
    assert!(text.contains("throttled"), "{text}");
    assert!(text.contains("(100000 100000)"), "{text}");
}

#[test]
fn quota_floored_gives_the_floor_and_the_ceiling() {
    let why = under_quota("150000", 1);
    assert_eq!(codes(&why), ["quota-floored"]);
    let text = text(&why, FindingCode::QuotaFloored);
    assert!(text.contains("1.5 CPUs"), "{text}");
    assert!(text.contains("floors it to 1"), "{text}");
    assert!(text.contains("Go 1.25, .NET and the num_cpus crate do, would give 2"), "{text}");
    assert!(text.contains("(200000 100000 for 2)"), "{text}");
    assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=2"), "{text}");
}

#[test]
fn quota_floored_names_the_level_that_would_bind_next() {
    // 1.5 binds; raising it to 2 alone would leave /pod's 1.8 binding, floored to 1 again
    let cgroup = report_with(&[("/pod/ctr", "150000", "100000"), ("/pod", "180000", "100000")]);
    let why = Explanation { cgroup: Some(cgroup), ..under_quota("150000", 1) };
    let both = text(&why, FindingCode::QuotaFloored);
    assert!(
        both.contains(
            "(200000 100000 for 2, and 200000 100000 at /pod, whose 1.8 CPUs would bind next)"
        ),
        "{both}"
    );
    // a level already at or above the ceiling is not named
    let cgroup = report_with(&[("/pod/ctr", "150000", "100000"), ("/pod", "300000", "100000")]);
    let why = Explanation { cgroup: Some(cgroup), ..under_quota("150000", 1) };
    assert!(!text(&why, FindingCode::QuotaFloored).contains("/pod,"));
}

#[test]
fn a_whole_binding_quota_is_not_a_finding() {
    assert_eq!(codes(&under_quota("200000", 2)), Vec::<&str>::new());
}

#[test]
fn quota_at_or_above_the_cpus_limits_nothing() {
    for limit in ["400000", "450000", "800000"] {
        let why = Explanation { source: Source::Affinity, ..under_quota(limit, 4) };
        assert_eq!(codes(&why), ["quota-above-cpus"], "{limit}");
        let text = text(&why, FindingCode::QuotaAboveCpus);
        assert!(text.contains("the 4 CPUs the affinity mask allows (0-3)"), "{text}");
    }
}

#[test]
fn the_quota_is_held_against_the_online_count_without_a_mask() {
    let why = Explanation {
        affinity: None,
        affinity_error: Some("Operation not permitted (os error 1)".into()),
        online: Some(8),
        ..under_quota("800000", 8)
    };
    assert_eq!(codes(&why), ["quota-above-cpus", "affinity-unreadable"]);
    assert!(text(&why, FindingCode::QuotaAboveCpus).contains("the 8 CPUs online"));
}

#[test]
fn thread_pinned_gives_both_masks() {
    let why = Explanation {
        affinity: Some(Affinity { count: 1, cpus: "2".into(), fits_std_set: true }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["thread-pinned"]);
    let text = text(&why, FindingCode::ThreadPinned);
    assert!(text.contains("1 CPU (2) but the process's main thread on 4 (0-3)"), "{text}");
    assert!(text.contains("std counts the calling thread"), "{text}");
}

#[test]
fn a_thread_wider_than_the_main_thread_is_not_pinned() {
    let why = Explanation { process_affinity: Some(mask(2)), ..Explanation::unconfined(4) };
    assert_eq!(codes(&why), Vec::<&str>::new());
}

#[test]
fn affinity_unreadable_says_it_may_overcount() {
    let why = Explanation {
        affinity: None,
        affinity_error: Some("Operation not permitted (os error 1)".into()),
        source: Source::Online,
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["affinity-unreadable"]);
    let text = text(&why, FindingCode::AffinityUnreadable);
    assert!(text.contains("(Operation not permitted (os error 1))"), "{text}");
    assert!(text.contains("the 4 CPUs online"), "{text}");
    assert!(text.contains("may overcount"), "{text}");
}

#[test]
fn cgroup_unreadable_names_each_file_and_its_error() {
    let file = |path: &str| UnreadableFile {
        path: path.into(),
        error: "Permission denied (os error 13)".into(),
    };
    let why = Explanation {
        unreadable: vec![file("/proc/self/cgroup"), file("/sys/fs/cgroup/ctr/cpu.max")],
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["cgroup-unreadable", "cgroup-unreadable"]);
    let found = findings(&why);
    assert!(found[0].text.starts_with("/proc/self/cgroup exists but could not be read"));
    assert!(found[0].text.contains("no cgroup at all"), "{}", found[0].text);
    assert!(found[1].text.contains("/sys/fs/cgroup/ctr/cpu.max"), "{}", found[1].text);
    assert!(found[1].text.contains("(Permission denied (os error 13))"), "{}", found[1].text);
    assert!(found[1].text.contains("that level as unlimited"), "{}", found[1].text);
    assert!(found[1].text.contains("may overcount"), "{}", found[1].text);
}

#[test]
fn cgroup2_elsewhere_gives_the_mount_the_quota_and_the_number() {
    let mut elsewhere = report_with(&[("/ctr", "150000", "100000"), ("/", "max", "100000")]);
    elsewhere.mount = Some("/host/cgroup".into());
    let why = Explanation { cgroup2_elsewhere: Some(elsewhere), ..Explanation::unconfined(4) };
    assert_eq!(codes(&why), ["cgroup2-elsewhere"]);
    let text = text(&why, FindingCode::Cgroup2Elsewhere);
    assert!(text.contains("mounted at /host/cgroup"), "{text}");
    assert!(text.contains("a quota of 1.5 CPUs (150000 100000 at /ctr)"), "{text}");
    assert!(text.contains("the answer would be 1"), "{text}");
}

#[test]
fn detection_changed_when_std_answers_differently_the_second_time() {
    let why = Explanation {
        derived: NonZeroUsize::new(2),
        std_again: NonZeroUsize::new(2),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["detection-changed"]);
    let text = text(&why, FindingCode::DetectionChanged);
    assert!(text.contains("std answered 4"), "{text}");
    assert!(text.contains("derive 2"), "{text}");
    assert!(text.contains("std asked again answered 2"), "{text}");
    let failed = Explanation { std_again: None, ..why };
    assert_eq!(codes(&failed), ["detection-changed"]);
}

#[test]
fn probe_mismatch_when_std_answers_the_same_twice() {
    let why = Explanation {
        derived: NonZeroUsize::new(2),
        std_again: NonZeroUsize::new(4),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&why), ["probe-mismatch"]);
    let text = text(&why, FindingCode::ProbeMismatch);
    assert!(text.contains("std answered 4 twice"), "{text}");
    assert!(text.contains("derives 2"), "{text}");
    assert!(text.contains(&format!("({})", env!("KUMO_RUSTC_VERSION"))), "{text}");
    assert!(text.starts_with("std answered"), "{text}");
    assert!(text.contains("report a bug"), "{text}");
}

#[test]
fn findings_come_in_the_order_of_their_codes() {
    let why = Explanation {
        value: NonZeroUsize::new(5),
        source: Source::Override,
        override_setting: Some(OverrideSetting { raw: "5".into(), error: None }),
        affinity: Some(mask(2)),
        unreadable: vec![UnreadableFile { path: "/x/cpu.max".into(), error: "EIO".into() }],
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
fn cpu_steal_from_one_percent_with_or_without_the_flag() {
    let under = |hypervisor, steal_ticks| Explanation {
        hypervisor: Some(hypervisor),
        steal: Some(CpuSteal { steal_ticks, total_ticks: 10_000 }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(codes(&under(true, 100)), ["cpu-steal"]);
    let flagged = text(&under(true, 250), FindingCode::CpuSteal);
    assert!(flagged.contains("took 2.5% of its CPU time since boot"), "{flagged}");
    assert!(flagged.contains("(250 of 10000 ticks"), "{flagged}");
    assert!(flagged.contains("the hypervisor flag"), "{flagged}");
    assert!(flagged.contains("KUMO_AVAILABLE_PARALLELISM=<threads>"), "{flagged}");
    // steal below 1%: nothing to say
    assert_eq!(codes(&under(true, 99)), Vec::<&str>::new());
    // steal is only accounted under a hypervisor, flag or not (arm64 has none)
    assert_eq!(codes(&under(false, 5_000)), ["cpu-steal"]);
    let flagless = text(&under(false, 5_000), FindingCode::CpuSteal);
    assert!(!flagless.contains("flag"), "{flagless}");
    let unknown = Explanation { hypervisor: None, ..under(true, 5_000) };
    assert_eq!(codes(&unknown), ["cpu-steal"]);
}

#[test]
fn mountinfo_scan_from_a_thousand_lines_on_v1() {
    let with = |lines| Explanation { cgroup: Some(v1_report(lines)), ..Explanation::unconfined(4) };
    assert_eq!(codes(&with(Some(MOUNTINFO_SCAN_LINES_MIN))), ["mountinfo-scan"]);
    let text = text(&with(Some(20_012)), FindingCode::MountinfoScan);
    assert!(text.contains("std reads 20012 lines of /proc/self/mountinfo"), "{text}");
    assert!(text.contains("mount the controller at /sys/fs/cgroup/cpu"), "{text}");
    assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=4"), "{text}");
    assert_eq!(codes(&with(Some(999))), Vec::<&str>::new());
    assert_eq!(codes(&with(None)), Vec::<&str>::new());
}

#[test]
fn quota_burst_gives_the_burst_in_cpus() {
    let mut cgroup = report_with(&[("/pod/ctr", "200000", "100000")]);
    cgroup.levels[0].burst_us = Some(50000);
    let why = Explanation { cgroup: Some(cgroup), ..under_quota("200000", 2) };
    assert_eq!(codes(&why), ["quota-burst"]);
    let text = text(&why, FindingCode::QuotaBurst);
    assert!(
        text.contains(
            "/pod/ctr, the level whose quota binds, may burst 0.5 CPUs above its quota of 2 CPUs"
        ),
        "{text}"
    );
    assert!(text.contains("(50000 over a 100000 period)"), "{text}");
    assert!(text.contains("the answer, 2, uses the steady-state quota"), "{text}");
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
    let text = text(&why, FindingCode::CgroupNamespace);
    assert!(text.contains("(inode 4026532412, not the initial 4026531835)"), "{text}");
    assert!(text.contains("enforced by the kernel but not counted in 8"), "{text}");
    assert_eq!(FindingCode::CgroupNamespace.severity(), Severity::Note);
    let initial =
        Explanation { cgroup_namespace: Some(PROC_CGROUP_INIT_INO), ..Explanation::unconfined(8) };
    assert_eq!(codes(&initial), Vec::<&str>::new());
    // the link could not be read: nothing is known, nothing is said
    let unknown = Explanation { cgroup_namespace: None, ..Explanation::unconfined(8) };
    assert_eq!(codes(&unknown), Vec::<&str>::new());
}

#[test]
fn requests_only_on_v2_gives_the_request_by_both_conversions() {
    let mut cgroup = mounted(CgroupVersion::V2, "/kubepods/pod/ctr");
    cgroup.weight = Some(174);
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(64) };
    assert_eq!(codes(&why), ["requests-only"]);
    let text = text(&why, FindingCode::RequestsOnly);
    assert!(text.contains("/kubepods/pod/ctr has cpu.weight 174 (default 100)"), "{text}");
    assert!(text.contains("2.01 CPUs by the quadratic conversion"), "{text}");
    assert!(text.contains("4.43 CPUs if the runtime converts shares to weight linearly"));
    assert!(text.contains("the answer, 64, counts every CPU"), "{text}");
    // the readings disagree (5 and 2 threads): no number to set
    assert!(text.contains("give 5 and 2 threads"), "{text}");
    assert!(!text.contains("KUMO_AVAILABLE_PARALLELISM="), "{text}");
}

#[test]
fn requests_only_on_v2_suggests_a_number_where_both_conversions_agree() {
    // weight 1 is BestEffort; weight 2 is 28 shares linearly, 0.03 CPUs either way
    for (weight, threads) in [(2, 1), (5, 1)] {
        let mut cgroup = mounted(CgroupVersion::V2, "/ctr");
        cgroup.weight = Some(weight);
        let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
        let text = text(&why, FindingCode::RequestsOnly);
        assert!(text.contains(&format!("KUMO_AVAILABLE_PARALLELISM={threads}")), "{text}");
    }
}

#[test]
fn runc_1_1s_weight_for_two_cpus_reads_as_two_requests() {
    // runc 1.1.5 writes 79 for 2048 shares; the quadratic inverse reads 0.74 CPUs
    let mut cgroup = mounted(CgroupVersion::V2, "/ctr");
    cgroup.weight = Some(79);
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
    let text = text(&why, FindingCode::RequestsOnly);
    assert!(text.contains("2.00 CPUs if the runtime converts shares to weight linearly"));
    assert!(text.contains("0.74 CPUs by the quadratic conversion"), "{text}");
    assert!(text.contains("give 2 and 1 threads"), "{text}");
    assert!(!text.contains("KUMO_AVAILABLE_PARALLELISM="), "{text}");
}

#[test]
fn the_least_weight_is_named_without_a_qos_guess_and_given_no_number() {
    for (version, weight, file) in
        [(CgroupVersion::V1, 2, "cpu.shares 2"), (CgroupVersion::V2, 1, "cpu.weight 1")]
    {
        let mut cgroup = mounted(version, "/kubepods/burstable/pod/ctr");
        cgroup.weight = Some(weight);
        let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
        assert_eq!(codes(&why), ["requests-only"], "{version:?}");
        let text = text(&why, FindingCode::RequestsOnly);
        assert!(text.contains(file), "{text}");
        assert!(text.contains("every container without a CPU request"), "{text}");
        assert!(text.contains("BestEffort or Burstable alike"), "{text}");
        // no claim that it is a BestEffort pod, nor that it gets only what others leave
        assert!(!text.contains("that is how Kubernetes writes a BestEffort pod"), "{text}");
        assert!(!text.contains("whatever CPU time other pods leave"), "{text}");
        assert!(text.contains("among sibling cgroups"), "{text}");
        assert!(!text.contains("KUMO_AVAILABLE_PARALLELISM"), "{text}");
        assert!(!text.contains("0.00"), "{text}");
    }
    // on v2 the linear conversion makes weight 1 of every request below 29m
    let mut cgroup = mounted(CgroupVersion::V2, "/ctr");
    cgroup.weight = Some(1);
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
    assert!(text(&why, FindingCode::RequestsOnly).contains("below 29m by the linear conversion"));
}

#[test]
fn requests_only_on_v1_reads_shares() {
    let mut cgroup = v1_report(None);
    cgroup.weight = Some(512);
    let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
    assert_eq!(codes(&why), ["requests-only"]);
    let text = text(&why, FindingCode::RequestsOnly);
    assert!(text.contains("cpu.shares 512 (default 1024)"), "{text}");
    assert!(text.contains("a CPU request of 0.50 CPUs"), "{text}");
    assert!(text.contains("KUMO_AVAILABLE_PARALLELISM=1"), "{text}");
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
        hypervisor: Some(true),
        steal: Some(CpuSteal { steal_ticks: 5, total_ticks: 100 }),
        cgroup_namespace: Some(1),
        cgroup: Some(cgroup),
        derived: NonZeroUsize::new(3),
        first_answer: Some(FirstAnswer {
            count: NonZeroUsize::new(8).unwrap(),
            age: Duration::ZERO,
        }),
        ..Explanation::unconfined(4)
    };
    assert_eq!(
        codes(&why),
        [
            "detection-changed",
            "changed-since-first-call",
            "cpu-steal",
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
    assert!(hidden_text.contains("places this process in /ctr on cgroup v2"), "{hidden_text}");
    assert!(
        hidden_text.contains("the mount of cgroup v2 at /sys/fs/cgroup/unified is hidden by the later mount at /sys/fs/cgroup"),
        "{hidden_text}"
    );
    assert!(hidden_text.contains("the answer, 2, counts only the CPUs"), "{hidden_text}");
    // the old text claimed, whatever the case, that nothing was mounted
    assert!(!hidden_text.contains("nothing is mounted at"), "{hidden_text}");

    let none = unmounted(CgroupVersion::V1, "/docker/abc", Some(Unshown::NoneMounted));
    let none_text = text(&none, FindingCode::CgroupfsUnmounted);
    assert!(none_text.contains("mountinfo lists no mount of the cgroup v1 cpu controller at all"));
    assert!(none_text.contains("mount cgroupfs read-only at /sys/fs/cgroup"), "{none_text}");

    let outside = unmounted(CgroupVersion::V2, "/../x", Some(Unshown::OutsideNamespaceRoot));
    let outside_text = text(&outside, FindingCode::CgroupfsUnmounted);
    assert!(outside_text.contains("places this process in /../x"), "{outside_text}");
    assert!(outside_text.contains("outside this process's cgroup namespace root"));
    assert!(!outside_text.contains("mount cgroupfs"), "{outside_text}");

    let elsewhere = Unshown::ElsewhereOnly { mounts: vec!["/mnt/a".into(), "/mnt/b".into()] };
    let elsewhere_text =
        text(&unmounted(CgroupVersion::V1, "/x", Some(elsewhere)), FindingCode::CgroupfsUnmounted);
    assert!(elsewhere_text.contains("(/mnt/a, /mnt/b) show other subtrees"), "{elsewhere_text}");
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
    let empty = text(&with(Membership::Empty), FindingCode::CgroupsInvisible);
    assert!(empty.starts_with("/proc/self/cgroup is empty, as under gVisor"), "{empty}");
    // gVisor's vCPUs: the cpuset, or the quota rounded up, at least 2; not "cannot be counted"
    assert!(empty.contains("--cpu-num-from-quota"), "{empty}");
    assert!(empty.contains("rounded up, at least 2"), "{empty}");
    assert!(!empty.contains("cannot be counted"), "{empty}");
    let no_proc = text(&with(Membership::NoProc), FindingCode::CgroupsInvisible);
    assert!(
        no_proc.starts_with("/proc/self does not exist: no /proc is mounted here"),
        "{no_proc}"
    );
    assert!(no_proc.contains("bwrap --proc /proc"), "{no_proc}");
    assert!(!no_proc.contains("gVisor"), "{no_proc}");
    let missing = text(&with(Membership::Missing), FindingCode::CgroupsInvisible);
    assert!(
        missing.contains("though /proc/self does: a kernel built without cgroups"),
        "{missing}"
    );
    for membership in [Membership::Listed, Membership::Unreadable, Membership::Unknown] {
        assert_eq!(codes(&with(membership)), Vec::<&str>::new());
    }
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
    let text = text(&why, FindingCode::StdMissedQuota);
    assert!(text.contains("shows this process's cgroup /docker/abc at /mnt/cpu ctl (mountinfo writes it /mnt/cpu\\040ctl)"), "{text}");
    assert!(text.contains("a quota of 1 CPU (100000 100000 at /docker/abc)"), "{text}");
    assert!(text.contains("std joins the text as written into a path, /mnt/cpu\\040ctl/docker/abc, which does not exist"), "{text}");
    assert!(text.contains("std answers 2 while the kernel holds the cgroup to 1 CPU"), "{text}");
    assert!(
        text.contains("std's own rule with that quota gives 1: set KUMO_AVAILABLE_PARALLELISM=1"),
        "{text}"
    );
    assert_eq!(FindingCode::StdMissedQuota.severity(), Severity::Warning);
    // the returned number stays std's: nothing here changes the value
    assert_eq!(why.value, NonZeroUsize::new(2));
}

#[test]
fn std_missed_quota_says_why_for_every_reason() {
    let shadowed = MissReason::Shadowed {
        taken: "/sys/fs/cgroup/cpu".into(),
        by: "/sys/fs/cgroup/cpu".into(),
    };
    let cases = [
        (shadowed, "the mount at /sys/fs/cgroup/cpu, which the later mount at /sys/fs/cgroup/cpu hides, finds no /sys/fs/cgroup/cpu/docker/abc under it"),
        (MissReason::EscapedRoot, "the mount's root, /, has a character mountinfo writes escaped"),
        (MissReason::FirstLineOnly { taken: "/mnt/a".into() }, "std walks only the first mount that mountinfo lists with a cpu controller and this cgroup, the one at /mnt/a"),
        (MissReason::StoppedAt { line: 12 }, "std stops reading mountinfo at line 12"),
        (MissReason::Subtree, "the cgroup2 mount at /sys/fs/cgroup/cpu shows only the subtree / of the hierarchy"),
    ];
    for (reason, says) in cases {
        let why =
            std_missed(missed_at("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu", reason, "100000"));
        let text = text(&why, FindingCode::StdMissedQuota);
        assert!(text.contains(says), "{text}");
        // written as the kernel writes it only where that differs
        assert!(!text.contains("mountinfo writes it"), "{text}");
    }
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
    let text = text(&why, FindingCode::MountShowsSubtree);
    assert!(text.contains("the mount of the cgroup v1 cpu controller at /sys/fs/cgroup/cpu,cpuacct shows only the subtree /kumo/ctr"), "{text}");
    assert!(text.contains("the levels above it (/kumo, /) cannot be read"), "{text}");
    assert!(text.contains("not counted in 2"), "{text}");
    // the whole hierarchy, or a mount found without mountinfo: nothing to say
    cgroup.mount_root = Some("/".into());
    let whole = Explanation { cgroup: Some(cgroup.clone()), ..Explanation::unconfined(2) };
    assert_eq!(codes(&whole), Vec::<&str>::new());
    cgroup.mount_root = None;
    let usual = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(2) };
    assert_eq!(codes(&usual), Vec::<&str>::new());
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
    assert!(text.contains("shows only the subtree /docker/abc"), "{text}");
    assert!(text.contains("a private cgroup namespace (docker run --cgroupns=private)"), "{text}");
    assert!(text.contains("reads 1500 lines"), "{text}");
}

#[test]
fn changed_since_first_call_names_both_numbers_and_the_age() {
    let first = |count, seconds| FirstAnswer {
        count: NonZeroUsize::new(count).unwrap(),
        age: Duration::from_secs(seconds),
    };
    let why = Explanation { first_answer: Some(first(2, 125)), ..Explanation::unconfined(1) };
    assert_eq!(codes(&why), ["changed-since-first-call"]);
    assert_eq!(
        text(&why, FindingCode::ChangedSinceFirstCall),
        "the answer is 1 now, but the first answer this process got was 2, 2 min 5 s ago: \
         thread pools sized at start are sized for 2 (an in-place pod resize, runc update, a \
         CPU taken offline or a move to another cgroup changes the number under a running \
         process); resize them to 1, or restart the process"
    );
    // a thread that pinned itself answers for its own CPUs: thread-pinned, no change
    let pinned = Explanation {
        first_answer: Some(first(4, 9)),
        process_affinity: Some(mask(4)),
        ..Explanation::unconfined(1)
    };
    assert_eq!(codes(&pinned), ["thread-pinned"]);
    let text = text(&why, FindingCode::ChangedSinceFirstCall);
    assert!(text.contains("the answer is 1 now, but the first answer"), "{text}");
    assert!(text.contains("was 2, 2 min 5 s ago"), "{text}");
    assert!(text.contains("resize them to 1, or restart the process"), "{text}");
    let same = Explanation { first_answer: Some(first(4, 9)), ..Explanation::unconfined(4) };
    assert_eq!(codes(&same), Vec::<&str>::new());
}

/// A thread whose mask is denied, with `Cpus_allowed_list` (of those online) `listed`.
fn denied(listed: Option<Affinity>) -> Explanation {
    Explanation {
        affinity: None,
        affinity_error: Some("Operation not permitted (os error 1)".into()),
        status_affinity: listed,
        source: Source::Online,
        ..Explanation::unconfined(2)
    }
}

#[test]
fn affinity_unreadable_gives_the_kernels_list_and_the_number_to_set() {
    let confined = denied(Some(Affinity { count: 1, cpus: "0".into(), fits_std_set: true }));
    let confined_text = text(&confined, FindingCode::AffinityUnreadable);
    assert!(confined_text.contains("lists 1 CPU (0) in Cpus_allowed_list, of those online"));
    assert!(confined_text.contains("std would answer 1, so the answer, 2, overcounts"));
    assert!(confined_text.contains("set KUMO_AVAILABLE_PARALLELISM=1"), "{confined_text}");
    let whole = denied(Some(mask(2)));
    let whole_text = text(&whole, FindingCode::AffinityUnreadable);
    assert!(whole_text.contains("which gives the same answer"), "{whole_text}");
    assert!(!whole_text.contains("KUMO_AVAILABLE_PARALLELISM="), "{whole_text}");
    // a quota below the list caps the number to set, as std would
    let capped = Explanation {
        cgroup: Some(report_with(&[("/ctr", "100000", "100000")])),
        std: NonZeroUsize::new(1),
        ..denied(Some(mask(2)))
    };
    let capped_text = text(&capped, FindingCode::AffinityUnreadable);
    assert!(capped_text.contains("which gives the same answer"), "{capped_text}");
}

#[test]
fn affinity_unreadable_words_follow_the_sign_of_the_difference() {
    // std's answer below what the kernel's list gives (musl's fallback of 1): an
    // undercount, never called an overcount
    let under = Explanation { std: NonZeroUsize::new(1), online: Some(1), ..denied(Some(mask(2))) };
    let text = affinity_unreadable_under(&under, StdFallback::MuslSysconf).unwrap();
    assert!(text.contains("std counted what musl's sysconf answers then, 1"), "{text}");
    assert!(text.contains("std would answer 2, so the answer, 1, undercounts"), "{text}");
    assert!(!text.contains("overcount"), "{text}");
    assert!(text.contains("set KUMO_AVAILABLE_PARALLELISM=2"), "{text}");
    // glibc's fallback counts the online CPUs
    let glibc = affinity_unreadable_under(&denied(None), StdFallback::OnlineCpus).unwrap();
    assert!(glibc.contains("so the 2 CPUs online were counted instead"), "{glibc}");
    assert!(glibc.contains("may overcount"), "{glibc}");
    let musl = affinity_unreadable_under(&denied(None), StdFallback::MuslSysconf).unwrap();
    assert!(musl.contains("may undercount"), "{musl}");
}

#[test]
fn quota_burst_names_the_binding_level_not_the_first_with_a_burst() {
    // the leaf (2 CPUs) bursts, but the pod's 1 CPU binds and has no burst
    let mut cgroup = report_with(&[("/pod/ctr", "200000", "100000"), ("/pod", "100000", "100000")]);
    cgroup.levels[0].burst_us = Some(50000);
    let why = Explanation { cgroup: Some(cgroup.clone()), ..under_quota("100000", 1) };
    assert!(!codes(&why).contains(&"quota-burst"), "{:?}", codes(&why));
    cgroup.levels[1].burst_us = Some(25000);
    let why = Explanation { cgroup: Some(cgroup), ..under_quota("100000", 1) };
    let text = text(&why, FindingCode::QuotaBurst);
    assert!(text.starts_with("/pod, the level whose quota binds, may burst 0.25 CPUs"), "{text}");
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
    assert_eq!(
        text(&pinned, FindingCode::StdMissedAffinity),
        "this kernel may have 1100 CPUs (/sys/devices/system/cpu/possible), more than the 1024 \
         of the fixed set std passes to sched_getaffinity, so the kernel refuses std's call \
         (EINVAL) whatever the mask, and std counted the 4 CPUs online instead; the calling \
         thread's mask allows 1 CPU (0), with which std's own rule gives 1, so the answer, 4, \
         overcounts: set KUMO_AVAILABLE_PARALLELISM=1"
    );
    // two CPUs under a 3-CPU quota: std answers the quota, the mask allows 2
    let quota = Explanation {
        cgroup: Some(report_with(&[("/pod/ctr", "300000", "100000")])),
        std: NonZeroUsize::new(3),
        value: NonZeroUsize::new(3),
        derived: NonZeroUsize::new(3),
        ..wide("0-1", 2)
    };
    let quota_text = text(&quota, FindingCode::StdMissedAffinity);
    assert!(
        quota_text.ends_with(
            "the calling thread's mask allows 2 CPUs (0-1), with which std's own rule gives 2 \
             under the quota of 3, so the answer, 3, overcounts: set \
             KUMO_AVAILABLE_PARALLELISM=2"
        ),
        "{quota_text}"
    );
    // without the possible list, no number for it
    let unlisted = Explanation { possible_cpus: None, ..wide("0", 1) };
    let unlisted_text = text(&unlisted, FindingCode::StdMissedAffinity);
    assert!(unlisted_text.starts_with("this kernel may have more than 1024 CPUs, "));
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
        ..denied(Some(listed))
    };
    assert!(text(&why, FindingCode::StdMissedAffinity)
        .ends_with("so the answer, 4, overcounts: set KUMO_AVAILABLE_PARALLELISM=1"));
    let unreadable = text(&why, FindingCode::AffinityUnreadable);
    assert!(
        unreadable.ends_with(
            "std could not count even where sched_getaffinity is allowed: \
        this kernel may have more than 1024 CPUs (see std-missed-affinity)"
        ),
        "{unreadable}"
    );
    // musl's fallback: std took sysconf's 1
    let musl = Explanation { std: NonZeroUsize::new(1), ..wide("0-1", 2) };
    let text = std_missed_affinity_under(&musl, StdFallback::MuslSysconf).unwrap();
    assert!(text.contains("took musl's sysconf instead"), "{text}");
    assert!(text.ends_with("so the answer, 1, undercounts: set KUMO_AVAILABLE_PARALLELISM=2"));
}

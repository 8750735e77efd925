//! The finding rules against hand-built explanations: each rule, its numbers, and the
//! cases where it must stay silent.
use std::num::NonZeroUsize;

use std::time::Duration;

use super::*;
use crate::explain::explanation::tests::{mask, mounted, report_with};
use crate::explain::explanation::{FirstAnswer, OverrideSetting};
use crate::explain::finding::Severity;
use crate::probes::{Affinity, CgroupReport, CpuSteal};

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
fn best_effort_is_named_and_given_no_number() {
    for (version, weight, file) in
        [(CgroupVersion::V1, 2, "cpu.shares 2"), (CgroupVersion::V2, 1, "cpu.weight 1")]
    {
        let mut cgroup = mounted(version, "/kubepods/besteffort/pod/ctr");
        cgroup.weight = Some(weight);
        let why = Explanation { cgroup: Some(cgroup), ..Explanation::unconfined(8) };
        assert_eq!(codes(&why), ["requests-only"], "{version:?}");
        let text = text(&why, FindingCode::RequestsOnly);
        assert!(text.contains(file), "{text}");
        assert!(text.contains("BestEffort pod, with no CPU request and no limit"), "{text}");
        assert!(!text.contains("KUMO_AVAILABLE_PARALLELISM"), "{text}");
        assert!(!text.contains("0.00"), "{text}");
    }
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

#[test]
fn cgroupfs_unmounted_when_no_mount_shows_the_cgroup() {
    let unmounted = |version, path: &str, namespace| Explanation {
        cgroup: Some(CgroupReport::new(version, path.into())),
        cgroup_namespace: Some(namespace),
        ..Explanation::unconfined(2)
    };
    let why = unmounted(CgroupVersion::V2, "/ctr", PROC_CGROUP_INIT_INO);
    assert_eq!(codes(&why), ["cgroupfs-unmounted"]);
    let text = text(&why, FindingCode::CgroupfsUnmounted);
    assert!(text.contains("places this process in /ctr on cgroup v2"), "{text}");
    assert!(text.contains("mount cgroupfs read-only at /sys/fs/cgroup"), "{text}");
    assert!(text.contains("the answer, 2, counts only the CPUs"), "{text}");
    let v1 = unmounted(CgroupVersion::V1, "/docker/abc", PROC_CGROUP_INIT_INO);
    assert_eq!(codes(&v1), ["cgroupfs-unmounted"]);
    // the root of a private cgroup namespace may carry the container's quota
    let private_root = unmounted(CgroupVersion::V1, "/", 4026532412);
    assert_eq!(codes(&private_root), ["cgroupfs-unmounted", "cgroup-namespace"]);
    // the machine's own root cgroup has no quota files: nothing is hidden
    for version in [CgroupVersion::V1, CgroupVersion::V2] {
        assert_eq!(codes(&unmounted(version, "/", PROC_CGROUP_INIT_INO)), Vec::<&str>::new());
    }
    // mounted: no finding
    let mut mounted = unmounted(CgroupVersion::V2, "/ctr", PROC_CGROUP_INIT_INO);
    mounted.cgroup.as_mut().unwrap().mount = Some("/sys/fs/cgroup".into());
    assert_eq!(codes(&mounted), Vec::<&str>::new());
}

#[test]
fn cgroups_invisible_when_proc_self_cgroup_is_empty_or_missing() {
    for (membership, how) in
        [(Membership::Empty, "is empty"), (Membership::Missing, "does not exist")]
    {
        let why = Explanation { membership, ..Explanation::unconfined(4) };
        assert_eq!(codes(&why), ["cgroups-invisible"]);
        let text = text(&why, FindingCode::CgroupsInvisible);
        assert!(text.contains(&format!("/proc/self/cgroup {how}, as under gVisor")), "{text}");
        assert!(text.contains("4 is the sandbox's CPU count"), "{text}");
    }
    for membership in [Membership::Listed, Membership::Unreadable, Membership::Unknown] {
        let why = Explanation { membership, ..Explanation::unconfined(4) };
        assert_eq!(codes(&why), Vec::<&str>::new());
    }
}

#[test]
fn changed_since_first_call_names_both_numbers_and_the_age() {
    let first = |count, seconds| FirstAnswer {
        count: NonZeroUsize::new(count).unwrap(),
        age: Duration::from_secs(seconds),
    };
    let why = Explanation { first_answer: Some(first(2, 125)), ..Explanation::unconfined(1) };
    assert_eq!(codes(&why), ["changed-since-first-call"]);
    let text = text(&why, FindingCode::ChangedSinceFirstCall);
    assert!(text.contains("the answer is 1 now, but the first answer"), "{text}");
    assert!(text.contains("was 2, 2 min 5 s ago"), "{text}");
    assert!(text.contains("resize them to 1, or restart the process"), "{text}");
    let same = Explanation { first_answer: Some(first(4, 9)), ..Explanation::unconfined(4) };
    assert_eq!(codes(&same), Vec::<&str>::new());
}

#[test]
fn affinity_unreadable_gives_the_kernels_list_and_the_number_to_set() {
    let denied = |listed: Option<Affinity>| Explanation {
        affinity: None,
        affinity_error: Some("Operation not permitted (os error 1)".into()),
        status_affinity: listed,
        source: Source::Online,
        ..Explanation::unconfined(2)
    };
    let confined = denied(Some(Affinity { count: 1, cpus: "0".into(), fits_std_set: true }));
    let confined_text = text(&confined, FindingCode::AffinityUnreadable);
    assert!(confined_text.contains("lists 1 CPU (0) in Cpus_allowed_list"), "{confined_text}");
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

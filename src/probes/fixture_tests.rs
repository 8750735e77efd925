//! The cgroup parsers on fixture trees under testdata/cgroups/, one per odd kernel answer.

use std::path::{Path, PathBuf};

use super::cgroups::{cgroup, CgroupReport, CgroupVersion, Roots};

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cgroups").join(case)
}

fn roots(case: &str) -> Roots {
    let dir = fixture(case);
    Roots {
        proc_self_cgroup: dir.join("proc_self_cgroup"),
        proc_self_mountinfo: dir.join("mountinfo"),
        sys_fs_cgroup: dir.join("sys/fs/cgroup"),
    }
}

fn report(case: &str) -> CgroupReport {
    cgroup(&roots(case)).unwrap_or_else(|| panic!("{case}: no cgroup report"))
}

/// (level path, limit as read, cpus) for each level, leaf first.
fn levels(report: &CgroupReport) -> Vec<(&str, Option<&str>, Option<f64>)> {
    report.levels.iter().map(|l| (l.path.as_str(), l.limit.as_deref(), l.cpus)).collect()
}

fn binding_path(report: &CgroupReport) -> Option<&str> {
    report.binding_level().map(|l| l.path.as_str())
}

#[test]
fn v2_leaf_fraction_is_floored() {
    let r = report("v2-leaf-fraction");
    assert_eq!(r.version, CgroupVersion::V2);
    assert_eq!(r.path, "/pod/ctr");
    assert_eq!(
        levels(&r),
        [("/pod/ctr", Some("150000"), Some(1.5)), ("/pod", Some("max"), None), ("/", None, None)]
    );
    assert_eq!(
        (r.quota(), r.whole_quota(), binding_path(&r)),
        (Some(1.5), Some(1), Some("/pod/ctr"))
    );
}

#[test]
fn v2_parent_tighter_than_leaf_binds() {
    let r = report("v2-parent-tighter");
    assert_eq!((r.quota(), r.whole_quota(), binding_path(&r)), (Some(0.5), Some(0), Some("/pod")));
}

#[test]
fn v2_max_is_unlimited() {
    let r = report("v2-max");
    assert_eq!((r.quota(), r.whole_quota(), binding_path(&r)), (None, None, None));
    assert_eq!(r.levels[0].limit.as_deref(), Some("max"));
}

#[test]
fn v2_garbage_single_field_stops_the_walk_as_std_does() {
    let r = report("v2-garbage");
    // the parent's 0.5 CPU is never read: std gives up at a cpu.max without a period
    assert_eq!(levels(&r), [("/pod/ctr", Some("garbage"), None)]);
    assert_eq!(r.whole_quota(), None);
    assert!(r.note.as_deref().unwrap().contains("stops walking"));
}

#[test]
fn v2_garbage_pair_is_skipped_and_the_walk_goes_on() {
    let r = report("v2-garbage-pair");
    assert_eq!((r.quota(), binding_path(&r)), (Some(0.5), Some("/pod")));
}

#[test]
fn v2_zero_period_is_skipped() {
    let r = report("v2-zero-period");
    assert_eq!(levels(&r)[0], ("/pod/ctr", Some("100000"), None));
    assert_eq!((r.quota(), r.whole_quota()), (Some(3.0), Some(3)));
}

#[test]
fn v2_too_many_fields_uses_the_first_two() {
    let r = report("v2-too-many-fields");
    assert_eq!((r.quota(), r.whole_quota()), (Some(2.5), Some(2)));
}

#[test]
fn v2_negative_limit_is_not_a_quota() {
    let r = report("v2-negative");
    assert_eq!((r.quota(), r.whole_quota()), (None, None));
}

#[test]
fn v2_missing_controllers_means_not_cgroup2() {
    let r = report("v2-missing-controllers");
    assert!(r.levels.is_empty());
    assert_eq!(r.mount, None);
    assert!(r.note.as_deref().unwrap().contains("cgroup.controllers"));
}

#[test]
fn v2_missing_cpu_max_everywhere_is_unlimited() {
    let r = report("v2-missing-cpu-max");
    assert_eq!(levels(&r), [("/ctr", None, None), ("/", None, None)]);
    assert_eq!(r.whole_quota(), None);
}

#[test]
fn v1_cpu_mount_walks_to_the_mount_root() {
    let r = report("v1-cpu");
    assert_eq!(r.version, CgroupVersion::V1);
    assert_eq!(r.path, "/docker/abc");
    assert_eq!(
        levels(&r),
        [
            ("/docker/abc", Some("250000"), Some(2.5)),
            ("/docker", Some("-1"), None),
            ("/", Some("-1"), None)
        ]
    );
    assert_eq!(r.mount, Some(fixture("v1-cpu").join("sys/fs/cgroup/cpu")));
    assert_eq!((r.whole_quota(), binding_path(&r)), (Some(2), Some("/docker/abc")));
}

#[test]
fn v1_cpu_cpuacct_mount_is_found() {
    let r = report("v1-cpu-cpuacct");
    assert_eq!(r.mount, Some(fixture("v1-cpu-cpuacct").join("sys/fs/cgroup/cpu,cpuacct")));
    assert_eq!((r.quota(), r.whole_quota()), (Some(0.5), Some(0)));
}

#[test]
fn v1_minus_one_is_unlimited() {
    let r = report("v1-unlimited");
    assert_eq!(levels(&r)[0], ("/docker/abc", Some("-1"), None));
    assert_eq!(r.whole_quota(), None);
}

#[test]
fn v1_missing_period_file_is_no_quota() {
    let r = report("v1-missing-period");
    assert_eq!(r.levels[0].period, None);
    assert_eq!(r.whole_quota(), None);
}

#[test]
fn v1_mount_from_mountinfo_with_a_bind_mounted_subtree() {
    let case = "v1-mountinfo-bind";
    let elsewhere = fixture(case).join("elsewhere/cpu");
    let mountinfo = std::env::temp_dir().join(format!("kumo-mountinfo-{}", std::process::id()));
    // a memory mount, a cpu mount of an unrelated subtree, then the one that holds us
    let content = format!(
        "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n\
         31 25 0:27 /other /nowhere rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n\
         32 25 0:27 /kubepods/pod1 {} rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n",
        elsewhere.display()
    );
    std::fs::write(&mountinfo, content).unwrap();
    let mut roots = roots(case);
    roots.proc_self_mountinfo = mountinfo.clone();
    let r = cgroup(&roots).unwrap();
    std::fs::remove_file(&mountinfo).unwrap();
    assert_eq!(r.mount, Some(elsewhere));
    assert_eq!(levels(&r), [("/ctr", Some("150000"), Some(1.5)), ("/", None, None)]);
    assert_eq!(r.whole_quota(), Some(1));
}

#[test]
fn v1_without_any_mount_reports_why() {
    let r = report("v1-mountinfo-bind"); // no mountinfo file in the fixture itself
    assert!(r.levels.is_empty());
    assert!(r.note.as_deref().unwrap().contains("no cpu controller hierarchy"));
}

#[test]
fn empty_proc_self_cgroup_gives_no_report() {
    assert_eq!(cgroup(&roots("empty-proc-cgroup")), None);
}

#[test]
fn missing_proc_self_cgroup_gives_no_report() {
    assert_eq!(cgroup(&roots("missing-proc-cgroup")), None);
}

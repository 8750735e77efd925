//! The cgroup parsers on fixture trees under testdata/cgroups/, one per odd kernel answer.

use std::path::{Path, PathBuf};

use super::cgroups::{CgroupReport, CgroupVersion, MissReason, Roots, Unshown};
use super::membership::{cgroup, CgroupProbe, Membership};
use super::scratch::Scratch;

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/cgroups").join(case)
}

fn roots(case: &str) -> Roots {
    let dir = fixture(case);
    Roots {
        proc_self_cgroup: dir.join("proc_self_cgroup"),
        proc_self_mountinfo: dir.join("mountinfo"),
        sys_fs_cgroup: dir.join("sys/fs/cgroup"),
        weight_at_root: true,
    }
}

/// Fixture-specific scratch trees; `Scratch` itself is in `scratch.rs`.
impl Scratch {
    /// A copy of fixture `case` in which each of `directories` (relative paths) is made a
    /// directory: opening it works, reading it fails (EISDIR), as no mode bit can make a
    /// file fail for root.
    fn tree(case: &str, directories: &[&str]) -> Scratch {
        let scratch = Scratch::dir(case);
        // the fixture's contents into the scratch directory
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(fixture(case).join("."))
            .arg(&scratch.path)
            .status()
            .unwrap();
        assert!(status.success());
        for relative in directories {
            let target = scratch.path.join(relative);
            let _ = std::fs::remove_file(&target);
            std::fs::create_dir_all(&target).unwrap();
        }
        scratch
    }

    fn roots(&self) -> Roots {
        Roots {
            proc_self_cgroup: self.path.join("proc_self_cgroup"),
            proc_self_mountinfo: self.path.join("mountinfo"),
            sys_fs_cgroup: self.path.join("sys/fs/cgroup"),
            weight_at_root: true,
        }
    }
}

fn report(case: &str) -> CgroupReport {
    cgroup(&roots(case)).report.unwrap_or_else(|| panic!("{case}: no cgroup report"))
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
    // a memory mount, a cpu mount of an unrelated subtree, then the one that holds us
    let mountinfo = Scratch::file(
        "mountinfo",
        &format!(
            "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n\
             31 25 0:27 /other /nowhere rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n\
             32 25 0:27 /kubepods/pod1 {} rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n",
            elsewhere.display()
        ),
    );
    let mut roots = roots(case);
    roots.proc_self_mountinfo = mountinfo.path.clone();
    let probe = cgroup(&roots);
    let r = probe.report.unwrap();
    assert_eq!(r.mount, Some(elsewhere));
    // the levels carry the cgroup's real paths, the mount's root the last of them
    assert_eq!(
        levels(&r),
        [("/kubepods/pod1/ctr", Some("150000"), Some(1.5)), ("/kubepods/pod1", None, None)]
    );
    assert_eq!((r.mount_root.as_deref(), r.shows_subtree()), (Some("/kubepods/pod1"), true));
    assert_eq!(r.whole_quota(), Some(1));
    // explain()'s own lookup finds the same mount: nothing missed
    assert_eq!(probe.std_missed, None);
}

#[test]
fn v1_without_any_mount_reports_why() {
    let r = report("v1-mountinfo-bind"); // no mountinfo file in the fixture itself
    assert!(r.levels.is_empty());
    assert!(r.note.as_deref().unwrap().contains("no cpu controller hierarchy"));
}

#[test]
fn empty_proc_self_cgroup_gives_no_report() {
    let expected = CgroupProbe { membership: Membership::Empty, ..Default::default() };
    assert_eq!(cgroup(&roots("empty-proc-cgroup")), expected);
}

#[test]
fn missing_proc_self_cgroup_gives_no_report() {
    // a missing file is how a machine without cgroups says so: nothing is unreadable
    let expected = CgroupProbe { membership: Membership::Missing, ..Default::default() };
    assert_eq!(cgroup(&roots("missing-proc-cgroup")), expected);
}

#[test]
fn unreadable_cpu_max_is_recorded_and_counts_as_no_limit() {
    let tree = Scratch::tree("v2-leaf-fraction", &["sys/fs/cgroup/pod/ctr/cpu.max"]);
    let probe = cgroup(&tree.roots());
    let r = probe.report.unwrap();
    assert_eq!(levels(&r)[0], ("/pod/ctr", None, None));
    assert_eq!(r.whole_quota(), None);
    assert_eq!(probe.faults.std.len(), 1, "{:?}", probe.faults.std);
    assert_eq!(probe.faults.std[0].path, tree.path.join("sys/fs/cgroup/pod/ctr/cpu.max"));
    assert!(probe.faults.std[0].error.contains("os error 21"), "{:?}", probe.faults.std);
}

#[test]
fn unreadable_v1_quota_file_is_recorded() {
    let tree = Scratch::tree("v1-cpu", &["sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us"]);
    let probe = cgroup(&tree.roots());
    assert_eq!(probe.report.unwrap().whole_quota(), None);
    let paths: Vec<_> = probe.faults.std.iter().map(|u| u.path.clone()).collect();
    assert_eq!(paths, [tree.path.join("sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us")]);
}

#[test]
fn unreadable_proc_self_cgroup_is_recorded_with_no_report() {
    let tree = Scratch::tree("v2-leaf-fraction", &["proc_self_cgroup"]);
    let probe = cgroup(&tree.roots());
    assert_eq!(probe.report, None);
    assert_eq!(probe.faults.std.len(), 1);
    assert_eq!(probe.faults.std[0].path, tree.path.join("proc_self_cgroup"));
}

#[test]
fn missing_limit_files_are_not_unreadable() {
    assert_eq!(cgroup(&roots("v2-missing-cpu-max")).faults.std, []);
    assert_eq!(cgroup(&roots("v1-missing-period")).faults.std, []);
}

/// mountinfo naming the fixture's directory `mount` as a cgroup2 mount of subtree `root`.
fn cgroup2_mountinfo(case: &str, root: &str, mount: &str) -> Scratch {
    let mount = fixture(case).join(mount);
    Scratch::file(
        "mountinfo",
        &format!(
            "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
             52 40 0:38 {root} {} rw shared:7 - cgroup2 cgroup2 rw\n",
            mount.display()
        ),
    )
}

#[test]
fn cgroup2_elsewhere_is_walked_when_std_finds_no_cgroup2_at_its_path() {
    let case = "v2-elsewhere";
    let mountinfo = cgroup2_mountinfo(case, "/", "mnt/cgroup2");
    let roots = Roots { proc_self_mountinfo: mountinfo.path.clone(), ..roots(case) };
    let probe = cgroup(&roots);
    // std's own view: no cgroup.controllers at /sys/fs/cgroup/kubepods/ctr, no quota
    let std_view = probe.report.unwrap();
    assert_eq!((std_view.mount.as_ref(), std_view.quota()), (None, None));
    let elsewhere = probe.cgroup2_elsewhere.expect("the cgroup2 mount elsewhere");
    assert_eq!(elsewhere.mount, Some(fixture(case).join("mnt/cgroup2")));
    assert_eq!(
        levels(&elsewhere),
        [
            ("/kubepods/ctr", Some("150000"), Some(1.5)),
            ("/kubepods", Some("max"), None),
            ("/", None, None)
        ]
    );
    assert_eq!(binding_path(&elsewhere), Some("/kubepods/ctr"));
}

#[test]
fn cgroup2_elsewhere_mounted_from_a_subtree() {
    let case = "v2-elsewhere";
    // the mount shows the subtree /kubepods: the process's /kubepods/ctr is ctr below it
    let mountinfo = cgroup2_mountinfo(case, "/kubepods", "mnt/cgroup2/kubepods");
    let roots = Roots { proc_self_mountinfo: mountinfo.path.clone(), ..roots(case) };
    let elsewhere = cgroup(&roots).cgroup2_elsewhere.expect("the subtree mount");
    assert_eq!(
        levels(&elsewhere),
        [("/kubepods/ctr", Some("150000"), Some(1.5)), ("/kubepods", Some("max"), None)]
    );
    assert_eq!(elsewhere.mount_root.as_deref(), Some("/kubepods"));
}

#[test]
fn cgroup2_elsewhere_is_not_looked_for_when_std_reads_cgroup2() {
    let mountinfo = cgroup2_mountinfo("v2-elsewhere", "/", "mnt/cgroup2");
    let roots = Roots { proc_self_mountinfo: mountinfo.path.clone(), ..roots("v2-leaf-fraction") };
    assert_eq!(cgroup(&roots).cgroup2_elsewhere, None);
}

#[test]
fn v2_burst_is_read_where_a_level_has_a_quota() {
    let r = report("v2-burst");
    let bursts: Vec<_> = r.levels.iter().map(|l| (l.burst_us, l.burst_cpus())).collect();
    // /pod says max, so its burst file is not read; the root has no cpu.max
    assert_eq!(bursts, [(Some(50000), Some(0.5)), (None, None), (None, None)]);
    assert_eq!(r.weight, None, "a quota applies: the weight is not read");
}

#[test]
fn v1_burst_is_read_and_shares_are_not_under_a_quota() {
    let r = report("v1-burst");
    assert_eq!(r.levels[0].burst_us, Some(100000));
    assert_eq!(r.levels[0].burst_cpus(), Some(1.0));
    assert_eq!(r.weight, None);
}

#[test]
fn v2_leaf_weight_is_read_when_no_level_has_a_quota() {
    assert_eq!(report("v2-weight-no-quota").weight, Some(174));
}

#[test]
fn v1_leaf_shares_are_read_when_no_level_has_a_quota() {
    assert_eq!(report("v1-shares-no-quota").weight, Some(512));
}

#[test]
fn mountinfo_lines_are_counted_only_when_std_scans_mountinfo() {
    assert_eq!(report("v1-cpu").mountinfo_lines, None, "found at /sys/fs/cgroup/cpu");
    let case = "v1-mountinfo-bind";
    let mut content: String =
        (0..1200).map(|n| format!("{n} 1 0:{n} / /mnt/{n} rw - tmpfs tmpfs rw\n")).collect();
    content.push_str(&format!(
        "9999 25 0:27 /kubepods/pod1 {} rw - cgroup cgroup rw,cpu,cpuacct\n\
         10000 1 0:1 / /after rw - tmpfs tmpfs rw\n",
        fixture(case).join("elsewhere/cpu").display()
    ));
    let mountinfo = Scratch::file("mountinfo", &content);
    let roots = Roots { proc_self_mountinfo: mountinfo.path.clone(), ..roots(case) };
    let r = cgroup(&roots).report.unwrap();
    // the 1200 tmpfs lines and the cpu line; the line after it is never read
    assert_eq!(r.mountinfo_lines, Some(1201));
    assert_eq!(r.whole_quota(), Some(1));
}

#[test]
fn an_unreadable_level_says_so_in_the_report() {
    let tree = Scratch::tree("v2-leaf-fraction", &["sys/fs/cgroup/pod/ctr/cpu.max"]);
    let r = cgroup(&tree.roots()).report.unwrap();
    assert!(r.levels[0].unreadable);
    assert!(!r.levels[1].unreadable);
    let why = crate::Explanation { cgroup: Some(r), ..crate::Explanation::unconfined(1) };
    let report = why.to_string();
    assert!(report.contains("  /pod/ctr: unreadable (counted as no limit)"), "{report}");
    assert!(report.contains("affinity: 1 CPU (0)\n"), "{report}");
    assert!(report.contains("online: 1 CPU\n"), "{report}");
}

/// A scratch tree for explain()'s own lookup: `files` (relative path, content) under it,
/// `/proc/self/cgroup` saying `membership`, and mountinfo made by `mountinfo` from the
/// tree's own path.
fn lookup_tree(
    membership: &str,
    files: &[(&str, &str)],
    mountinfo: impl Fn(&str) -> String,
) -> (Scratch, Roots) {
    let tree = Scratch::dir("lookup");
    for (path, content) in files {
        let file = tree.path.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, content).unwrap();
    }
    std::fs::create_dir_all(tree.path.join("sys/fs/cgroup")).unwrap();
    std::fs::write(tree.path.join("proc_self_cgroup"), membership).unwrap();
    let base = tree.path.display().to_string();
    std::fs::write(tree.path.join("mountinfo"), mountinfo(&base)).unwrap();
    let roots = tree.roots();
    (tree, roots)
}

/// A v1 cpu mount line of mountinfo: `root` at `mount_point`, both as the kernel writes them.
fn cpu_line(id: usize, root: &str, mount_point: &str) -> String {
    format!("{id} 25 0:27 {root} {mount_point} rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n")
}

#[test]
fn explain_finds_a_v1_mount_point_that_mountinfo_writes_escaped() {
    let (tree, roots) = lookup_tree(
        "4:cpu,cpuacct:/docker/abc\n",
        &[
            ("cpu ctl/docker/abc/cpu.cfs_quota_us", "100000\n"),
            ("cpu ctl/docker/abc/cpu.cfs_period_us", "100000\n"),
        ],
        |base| cpu_line(30, "/", &format!("{base}/cpu\\040ctl")),
    );
    let probe = cgroup(&roots);
    // std's view: the text as written is no path
    let std_view = probe.report.unwrap();
    assert_eq!((std_view.mount.as_ref(), std_view.quota()), (None, None));
    assert_eq!(std_view.unshown, None, "a mount shows it: not unshown");
    let missed = probe.std_missed.expect("explain()'s own lookup");
    assert_eq!(missed.reason, MissReason::EscapedMountPoint);
    assert_eq!(missed.listed_mount, format!("{}/cpu\\040ctl", tree.path.display()));
    assert_eq!(missed.report.mount, Some(tree.path.join("cpu ctl")));
    assert_eq!(
        levels(&missed.report),
        [("/docker/abc", Some("100000"), Some(1.0)), ("/docker", None, None), ("/", None, None)]
    );
    assert_eq!(binding_path(&missed.report), Some("/docker/abc"));
}

#[test]
fn explain_finds_a_v1_mount_that_hides_the_one_std_takes() {
    // the hierarchy's root at cpu, then this cgroup bind-mounted over it at the same point
    let (tree, roots) = lookup_tree(
        "4:cpu,cpuacct:/docker/abc\n",
        &[("cpu/cpu.cfs_quota_us", "100000\n"), ("cpu/cpu.cfs_period_us", "100000\n")],
        |base| {
            cpu_line(30, "/", &format!("{base}/cpu"))
                + &cpu_line(31, "/docker/abc", &format!("{base}/cpu"))
        },
    );
    let probe = cgroup(&roots);
    assert_eq!(probe.report.unwrap().mount, None);
    let missed = probe.std_missed.expect("the visible mount");
    let mount = tree.path.join("cpu");
    assert_eq!(
        missed.reason,
        MissReason::Shadowed { taken: mount.display().to_string(), by: mount.clone() }
    );
    assert_eq!(levels(&missed.report), [("/docker/abc", Some("100000"), Some(1.0))]);
    assert!(missed.report.shows_subtree());
}

#[test]
fn explain_finds_a_v1_mount_whose_root_mountinfo_writes_escaped() {
    let (_tree, roots) = lookup_tree(
        "4:cpu,cpuacct:/my app/ctr\n",
        &[("cpu/ctr/cpu.cfs_quota_us", "50000\n"), ("cpu/ctr/cpu.cfs_period_us", "100000\n")],
        |base| cpu_line(30, "/my\\040app", &format!("{base}/cpu")),
    );
    let probe = cgroup(&roots);
    let missed = probe.std_missed.expect("the escaped root, undone");
    assert_eq!(missed.reason, MissReason::EscapedRoot);
    assert_eq!(
        levels(&missed.report),
        [("/my app/ctr", Some("50000"), Some(0.5)), ("/my app", None, None)]
    );
}

#[test]
fn explain_reads_past_a_line_std_stops_at() {
    let (_tree, roots) = lookup_tree(
        "4:cpu,cpuacct:/ctr\n",
        &[("cpu/ctr/cpu.cfs_quota_us", "100000\n"), ("cpu/ctr/cpu.cfs_period_us", "100000\n")],
        |base| format!("1 2 3\n{}", cpu_line(30, "/", &format!("{base}/cpu"))),
    );
    let probe = cgroup(&roots);
    let std_view = probe.report.unwrap();
    assert_eq!(std_view.mountinfo_lines, Some(1));
    assert_eq!(probe.std_missed.unwrap().reason, MissReason::StoppedAt { line: 1 });
}

#[test]
fn explain_prefers_the_mount_that_shows_more_levels() {
    // std takes the first fitting line, a bind of the pod's subtree, and never sees the
    // pod's own quota, which the full mount after it shows
    let (tree, roots) = lookup_tree(
        "4:cpu,cpuacct:/kubepods/pod1/ctr\n",
        &[
            ("sub/ctr/cpu.cfs_quota_us", "-1\n"),
            ("full/kubepods/pod1/ctr/cpu.cfs_quota_us", "-1\n"),
            ("full/kubepods/pod1/cpu.cfs_quota_us", "100000\n"),
            ("full/kubepods/pod1/cpu.cfs_period_us", "100000\n"),
        ],
        |base| {
            cpu_line(30, "/kubepods/pod1", &format!("{base}/sub"))
                + &cpu_line(31, "/", &format!("{base}/full"))
        },
    );
    let probe = cgroup(&roots);
    let std_view = probe.report.unwrap();
    assert_eq!(std_view.mount, Some(tree.path.join("sub")));
    assert_eq!(std_view.quota(), None);
    let missed = probe.std_missed.expect("the full mount");
    assert_eq!(
        missed.reason,
        MissReason::FirstLineOnly { taken: tree.path.join("sub").display().to_string() }
    );
    assert_eq!(missed.report.quota(), Some(1.0));
    assert_eq!(binding_path(&missed.report), Some("/kubepods/pod1"));
}

#[test]
fn explain_finds_a_v2_subtree_mounted_at_sys_fs_cgroup() {
    let (_tree, roots) = lookup_tree(
        "0::/kubepods/pod/ctr\n",
        &[
            ("sys/fs/cgroup/pod/ctr/cgroup.controllers", "cpu\n"),
            ("sys/fs/cgroup/pod/ctr/cpu.max", "100000 100000\n"),
            ("sys/fs/cgroup/pod/cpu.max", "max 100000\n"),
        ],
        |base| format!("41 31 0:38 /kubepods {base}/sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
    );
    let probe = cgroup(&roots);
    assert_eq!(probe.report.unwrap().mount, None);
    assert_eq!(probe.cgroup2_elsewhere, None, "/sys/fs/cgroup itself is no elsewhere");
    let missed = probe.std_missed.expect("the subtree at std's path");
    assert_eq!(missed.reason, MissReason::Subtree);
    assert_eq!(
        levels(&missed.report),
        [
            ("/kubepods/pod/ctr", Some("100000"), Some(1.0)),
            ("/kubepods/pod", Some("max"), None),
            ("/kubepods", None, None)
        ]
    );
}

#[test]
fn mountinfo_says_why_no_mount_shows_the_cgroup() {
    let v2 = |membership: &str, mountinfo: &str| {
        let mountinfo = mountinfo.to_owned();
        let (_tree, roots) = lookup_tree(membership, &[], move |_| mountinfo.clone());
        cgroup(&roots).report.unwrap().unshown
    };
    assert_eq!(v2("0::/ctr\n", "22 1 8:1 / / rw - ext4 /dev/vda rw\n"), Some(Unshown::NoneMounted));
    let hidden = "41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n\
                  50 31 0:40 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n";
    assert_eq!(
        v2("0::/ctr\n", hidden),
        Some(Unshown::Hidden { mount: "/sys/fs/cgroup".into(), by: "/sys/fs/cgroup".into() })
    );
    assert_eq!(v2("0::/../x\n", hidden), Some(Unshown::OutsideNamespaceRoot));
    let other = "41 31 0:38 /other /mnt/cg rw - cgroup2 cgroup2 rw\n";
    assert_eq!(
        v2("0::/ctr\n", other),
        Some(Unshown::ElsewhereOnly { mounts: vec!["/mnt/cg".into()] })
    );
    // v1: the same, from the cpu controller's mounts
    let (_tree, roots) =
        lookup_tree("4:cpu:/docker/abc\n", &[], |_| "22 1 8:1 / / rw - ext4 /dev/vda rw\n".into());
    assert_eq!(cgroup(&roots).report.unwrap().unshown, Some(Unshown::NoneMounted));
}

#[test]
fn without_mountinfo_nothing_is_said_of_the_mounts() {
    for membership in ["0::/ctr\n", "4:cpu:/docker/abc\n"] {
        let (tree, roots) = lookup_tree(membership, &[], |_| String::new());
        std::fs::remove_file(tree.path.join("mountinfo")).unwrap();
        let probe = cgroup(&roots);
        assert_eq!(probe.report.unwrap().unshown, None, "{membership}");
        assert_eq!(probe.std_missed, None);
    }
}

#[test]
fn no_proc_self_is_no_proc_not_a_kernel_without_cgroups() {
    let tree = Scratch::dir("no-proc");
    let roots = Roots { proc_self_cgroup: tree.path.join("proc/self/cgroup"), ..tree.roots() };
    assert_eq!(cgroup(&roots).membership, Membership::NoProc);
    std::fs::create_dir_all(tree.path.join("proc/self")).unwrap();
    assert_eq!(cgroup(&roots).membership, Membership::Missing);
}

#[test]
fn v2_elsewhere_takes_the_first_mount_with_a_quota_and_still_sees_the_subtree_after_it() {
    let (tree, roots) = lookup_tree(
        "0::/kubepods/pod/ctr\n",
        &[
            ("a/kubepods/pod/ctr/cgroup.controllers", "cpu\n"),
            ("b/pod/ctr/cgroup.controllers", "cpu\n"),
            ("b/pod/ctr/cpu.max", "200000 100000\n"),
            ("c/pod/ctr/cgroup.controllers", "cpu\n"),
            ("c/pod/ctr/cpu.max", "300000 100000\n"),
            ("sys/fs/cgroup/pod/ctr/cgroup.controllers", "cpu\n"),
            ("sys/fs/cgroup/pod/ctr/cpu.max", "100000 100000\n"),
        ],
        |base| {
            // no quota at a, the first with one at b, another at c; then /sys/fs/cgroup
            ["a /", "b /kubepods", "c /kubepods", "sys/fs/cgroup /kubepods"]
                .iter()
                .enumerate()
                .map(|(id, line)| {
                    let (at, root) = line.split_once(' ').unwrap();
                    format!("{} 31 0:38 {root} {base}/{at} rw - cgroup2 cgroup2 rw\n", id + 40)
                })
                .collect()
        },
    );
    let probe = cgroup(&roots);
    let elsewhere = probe.cgroup2_elsewhere.expect("a mount elsewhere");
    assert_eq!(elsewhere.mount, Some(tree.path.join("b")));
    assert_eq!(elsewhere.quota(), Some(2.0));
    let missed = probe.std_missed.expect("the subtree at std's path, listed after them");
    assert_eq!((missed.reason, missed.report.quota()), (MissReason::Subtree, Some(1.0)));
}

/// (level path, periods, throttled, time in µs) of each level with throttling counters.
fn throttled(report: &CgroupReport) -> Vec<(&str, u64, u64, u128)> {
    let levels = report.levels.iter();
    levels
        .filter_map(|l| {
            let t = l.throttling?;
            Some((l.path.as_str(), t.periods, t.throttled, t.time.as_micros()))
        })
        .collect()
}

#[test]
fn v2_throttling_is_read_where_a_level_has_a_quota() {
    // the pod's quota of 0.5 throttled 15 of 16 periods; the unlimited container's cpu.stat
    // is not read
    let probe = cgroup(&roots("v2-throttled-parent"));
    assert_eq!(throttled(probe.report.as_ref().unwrap()), [("/pod", 16, 15, 1_780_012)]);
    assert_eq!(probe.faults, Default::default());
}

#[test]
fn v1_throttled_time_is_in_nanoseconds() {
    let r = report("v1-throttled");
    assert_eq!(throttled(&r), [("/docker/abc", 16, 15, 1_780_012)]);
}

#[test]
fn a_cpu_stat_without_the_counters_is_no_throttling_and_no_fault() {
    // a kernel without CFS bandwidth control writes only the usage
    let probe = cgroup(&roots("v2-stat-without-counters"));
    assert_eq!(throttled(probe.report.as_ref().unwrap()), []);
    assert_eq!(probe.faults, Default::default());
}

#[test]
fn an_unreadable_cpu_stat_is_explain_s_own_fault() {
    let tree = Scratch::tree("v2-throttled-parent", &["sys/fs/cgroup/pod/cpu.stat"]);
    let probe = cgroup(&tree.roots());
    assert_eq!(throttled(probe.report.as_ref().unwrap()), []);
    // std never reads it: not one of std's faults
    assert_eq!(probe.faults.std, []);
    let paths: Vec<_> = probe.faults.own.iter().map(|u| u.path.clone()).collect();
    assert_eq!(paths, [tree.path.join("sys/fs/cgroup/pod/cpu.stat")]);
}

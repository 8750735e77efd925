//! Properties of the parsers of kernel text, each against an independent statement of what
//! the text means: a CPU list written from a mask and read back is the mask; a
//! level's CPUs are its limit over its period; a path the kernel escapes is unescaped to
//! itself; a `/proc/self/cgroup` line names its path; `cpu.stat`'s counters are the numbers
//! written, in any order among other keys. Arbitrary bytes and mutated real
//! samples keep every parser from panicking, and std's mountinfo search from claiming more
//! than the text holds.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::affinity::{compact_list, list_words};
use super::cgroups::{CgroupVersion, Roots, Throttling};
use super::scratch::Scratch;
use super::{membership, mountinfo, namespace};

const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
31 23 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n\
41 31 0:38 /kubepods /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n";
const PROC_SELF_CGROUP: &str = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/docker/abc\n";
const CPU_STAT: &str = "usage_usec 1763466\nuser_usec 1608493\nsystem_usec 154972\nnr_periods 16\n\
nr_throttled 15\nthrottled_usec 1780012\nnr_bursts 0\nburst_usec 0\n";
const SAMPLES: [&str; 5] = [MOUNTINFO, PROC_SELF_CGROUP, "150000 100000\n", "-1\n", CPU_STAT];

/// A real sample with bytes overwritten, inserted and removed, and maybe cut short.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..12);
    (0..SAMPLES.len(), edits, any::<Option<usize>>()).prop_map(|(sample, edits, cut)| {
        let mut bytes = SAMPLES[sample].as_bytes().to_vec();
        for (at, byte, kind) in edits {
            let at = at % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => {}
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        bytes
    })
}

fn kernel_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..400), mutated()]
}

/// How the kernel writes a path in mountinfo (fs/proc_namespace.c, `mangle`).
fn kernel_escape(path: &[u8]) -> String {
    path.iter()
        .map(|&byte| match byte {
            b' ' | b'\t' | b'\n' | b'\\' => format!("\\{byte:03o}"),
            _ => (byte as char).to_string(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn a_cpu_list_read_back_is_the_mask(words in prop::collection::vec(any::<u64>(), 0..20)) {
        let words: Vec<libc::c_ulong> = words.into_iter().map(|w| w as libc::c_ulong).collect();
        let list = compact_list(&words);
        let mut read = list_words(&list).unwrap();
        let mut written = words.clone();
        while written.last() == Some(&0) { written.pop(); }
        while read.last() == Some(&0) { read.pop(); }
        prop_assert_eq!(read, written);
    }

    // mountinfo lines are read as UTF-8, as std reads them: the property holds for ASCII
    #[test]
    fn a_path_the_kernel_escapes_unescapes_to_itself(
        path in prop::collection::vec(
            prop_oneof![Just(b' '), Just(b'\t'), Just(b'\n'), Just(b'\\'), 1u8..=127],
            1..40,
        )
    ) {
        use std::os::unix::ffi::OsStrExt;
        let escaped = kernel_escape(&path);
        let unescaped = mountinfo::unescape(&escaped);
        prop_assert_eq!(unescaped.as_os_str().as_bytes(), &path[..]);
        let plain = !path.iter().any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\\'));
        prop_assert_eq!(mountinfo::is_escaped(&escaped), !plain);
    }

    #[test]
    fn a_proc_self_cgroup_line_names_its_path(
        path in "(/[a-z0-9._-]{1,12}){0,5}",
        id in 1u32..20,
    ) {
        let v2 = membership::parse_membership(format!("0::{path}\n").as_bytes());
        let relative = PathBuf::from(path.strip_prefix('/').unwrap_or(&path));
        prop_assert_eq!(v2, Some((relative.clone(), CgroupVersion::V2)));
        // a v1 line naming cpu trumps the v2 line, wherever it is
        let both = format!("0::/other\n{id}:cpu,cpuacct:{path}\n");
        prop_assert_eq!(
            membership::parse_membership(both.as_bytes()),
            Some((relative, CgroupVersion::V1))
        );
    }

    #[test]
    fn cpu_stat_counters_are_the_numbers_written(
        periods in any::<u64>(),
        throttled in any::<u64>(),
        usec in 0u64..1 << 50,
        others in prop::collection::vec(("[a-z_.]{1,24}", any::<u64>()), 0..8),
        at in prop::array::uniform3(any::<usize>()),
        v1 in any::<bool>(),
    ) {
        let (version, time_key, per_usec) = if v1 {
            (CgroupVersion::V1, "throttled_time", 1000)
        } else {
            (CgroupVersion::V2, "throttled_usec", 1)
        };
        let counters = ["nr_periods", "nr_throttled", "throttled_time", "throttled_usec"];
        let mut lines: Vec<String> = others
            .iter()
            .filter(|(key, _)| !counters.contains(&key.as_str()))
            .map(|(key, value)| format!("{key} {value}"))
            .collect();
        let written =
            [format!("nr_periods {periods}"), format!("nr_throttled {throttled}"), format!("{time_key} {}", usec * per_usec)];
        for (line, at) in written.into_iter().zip(at) {
            lines.insert(at % (lines.len() + 1), line);
        }
        let text = lines.join("\n") + "\n";
        let read = Throttling::parse(&text, version).unwrap();
        prop_assert_eq!((read.periods, read.throttled), (periods, throttled), "{}", text);
        prop_assert_eq!(read.time, std::time::Duration::from_micros(usec), "{}", text);
    }

    #[test]
    fn no_parser_panics_and_std_s_search_claims_only_what_the_text_holds(bytes in kernel_text()) {
        // the lines a person counts: one per newline, and an unterminated last one; an empty
        // line is a line
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
        let lines = newlines + usize::from(bytes.last().is_some_and(|&b| b != b'\n'));
        let scan = mountinfo::std_cpu_mount(&bytes, Path::new("docker/abc"));
        prop_assert!(scan.lines <= lines, "{} of {}", scan.lines, lines);
        if let Some(found) = scan.found {
            // the line std stopped at holds the mount point it gives
            let line = bytes.split(|&b| b == b'\n').nth(scan.lines - 1).unwrap();
            let line = String::from_utf8_lossy(line);
            prop_assert!(line.contains(&found.mount_point), "{}", line);
            prop_assert!(line.contains(" cgroup ") && line.contains("cpu"), "{}", line);
        }
        for hierarchy in [mountinfo::Hierarchy::V1Cpu, mountinfo::Hierarchy::V2] {
            for mount in mountinfo::cgroup_mounts(&bytes, hierarchy) {
                prop_assert!(mount.line >= 1 && mount.line <= lines, "{} of {}", mount.line, lines);
                // line N, as a person counts, is the one that names the mount
                let line = bytes.split(|&b| b == b'\n').nth(mount.line - 1).unwrap();
                let line = String::from_utf8_lossy(line);
                let named = line.contains(&mount.listed_mount_point);
                prop_assert!(named, "line {}: {}", mount.line, line);
            }
        }
        let _ = membership::parse_membership(&bytes);
        let _ = namespace::parse_link(&String::from_utf8_lossy(&bytes));
        let _ = Throttling::parse(&String::from_utf8_lossy(&bytes), CgroupVersion::V1);
        let _ = Throttling::parse(&String::from_utf8_lossy(&bytes), CgroupVersion::V2);
    }
}

/// The walks read cpu.max and the v1 quota files from disk: a level's CPUs must be its
/// limit over its period, as the files say, and std's whole quota their floor.
mod on_disk {
    use super::*;

    fn roots(dir: &Path) -> Roots {
        Roots {
            proc_self_cgroup: dir.join("proc_self_cgroup"),
            proc_self_mountinfo: dir.join("mountinfo"),
            sys_fs_cgroup: dir.join("sys/fs/cgroup"),
            weight_at_root: true,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn a_level_s_cpus_are_its_limit_over_its_period(
            limit in 0usize..50_000_000,
            period in 1usize..2_000_000,
        ) {
            let scratch = Scratch::dir("prop");
            let cgroup = scratch.path.join("sys/fs/cgroup");
            std::fs::create_dir_all(cgroup.join("pod/ctr")).unwrap();
            std::fs::create_dir_all(cgroup.join("cpu/pod/ctr")).unwrap();
            std::fs::write(cgroup.join("pod/ctr/cgroup.controllers"), "cpu\n").unwrap();
            std::fs::write(cgroup.join("pod/ctr/cpu.max"), format!("{limit} {period}\n")).unwrap();
            let v1 = cgroup.join("cpu/pod/ctr");
            std::fs::write(v1.join("cpu.cfs_quota_us"), format!("{limit}\n")).unwrap();
            std::fs::write(v1.join("cpu.cfs_period_us"), format!("{period}\n")).unwrap();
            let roots = roots(&scratch.path);
            for membership in ["0::/pod/ctr\n", "4:cpu:/pod/ctr\n"] {
                std::fs::write(&roots.proc_self_cgroup, membership).unwrap();
                let report = membership::cgroup(&roots).report.unwrap();
                let leaf = &report.levels[0];
                prop_assert_eq!(leaf.path.as_str(), "/pod/ctr");
                prop_assert_eq!(leaf.cpus, Some(limit as f64 / period as f64), "{}", membership);
                prop_assert_eq!(report.whole_quota(), Some(limit / period));
                prop_assert!(leaf.binds);
            }
        }
    }
}

/// The case that made the property above fail once in forty runs, when it counted only
/// non-empty lines: a blank line before a cgroup mount is a line of its own.
#[test]
fn a_blank_line_is_a_line() {
    let text = b"22 1 8:1 / / rw - ext4 /dev/vda rw\n\n\
        32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";
    let mounts = mountinfo::cgroup_mounts(text, mountinfo::Hierarchy::V1Cpu);
    assert_eq!(mounts.iter().map(|m| m.line).collect::<Vec<_>>(), [3]);
    // std's search ends at the blank line, which it cannot parse: two lines read
    assert_eq!(mountinfo::std_cpu_mount(text, Path::new("docker/abc")).lines, 2);
}

//! Every parser of kernel text, fed arbitrary bytes and mutated real samples: none may
//! panic, whatever the kernel, a sandbox or a bind mount puts in the file.

use std::path::Path;

use proptest::prelude::*;

use super::cgroups::Roots;
use super::{membership, mountinfo, namespace, steal};

const MOUNTINFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
31 23 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n\
41 31 0:38 /kubepods /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n";
const PROC_SELF_CGROUP: &str = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/docker/abc\n";
const CPU_MAX: &str = "150000 100000\n";
const CFS_QUOTA: &str = "-1\n";
const STAT: &str =
    "cpu  8130 0 2466 178173 1715 0 33 16 0 0\ncpu0 4000 0 1200 89000 800 0 10 8 0 0\nintr 1 2\n";
const CPUINFO: &str =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme hypervisor\n\n";
const SAMPLES: [&str; 6] = [MOUNTINFO, PROC_SELF_CGROUP, CPU_MAX, CFS_QUOTA, STAT, CPUINFO];

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

/// Every pure parser on `bytes`.
fn parse_everything(bytes: &[u8]) {
    let _ = mountinfo::std_cpu_mount(bytes, Path::new("docker/abc"));
    let _ = mountinfo::cgroup_mounts(bytes, mountinfo::Hierarchy::V1Cpu);
    let _ = mountinfo::cgroup_mounts(bytes, mountinfo::Hierarchy::V2);
    let _ = mountinfo::unescape(&String::from_utf8_lossy(bytes));
    let _ = membership::parse_membership(bytes);
    let _ = steal::parse_stat(bytes);
    let _ = steal::hypervisor_flag(bytes);
    let _ = namespace::parse_link(&String::from_utf8_lossy(bytes));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn no_parser_panics(bytes in kernel_text()) {
        parse_everything(&bytes);
    }
}

/// The walks read cpu.max, the v1 quota files, /proc/self/cgroup and mountinfo from disk:
/// lay each generated text out as all of them, and walk both versions.
mod on_disk {
    use super::*;
    use crate::probes::scratch::Scratch;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn no_walk_panics(text in kernel_text(), membership in kernel_text()) {
            let scratch = Scratch::dir("prop");
            let dir = &scratch.path;
            let cgroup = dir.join("sys/fs/cgroup");
            for leaf in ["docker/abc", "cpu/docker/abc", "cpu,cpuacct/docker/abc"] {
                std::fs::create_dir_all(cgroup.join(leaf)).unwrap();
            }
            for file in [
                "docker/abc/cgroup.controllers", "docker/abc/cpu.max", "docker/cpu.max",
                "docker/abc/cpu.max.burst", "docker/abc/cpu.weight",
                "cpu/docker/abc/cpu.cfs_quota_us", "cpu/docker/abc/cpu.cfs_period_us",
                "cpu/docker/abc/cpu.cfs_burst_us", "cpu/docker/abc/cpu.shares",
            ] {
                std::fs::write(cgroup.join(file), &text).unwrap();
            }
            std::fs::write(dir.join("mountinfo"), &text).unwrap();
            let roots = Roots {
                proc_self_cgroup: dir.join("proc_self_cgroup"),
                proc_self_mountinfo: dir.join("mountinfo"),
                sys_fs_cgroup: cgroup,
                weight_at_root: true,
            };
            for content in [&membership[..], b"0::/docker/abc\n", b"4:cpu:/docker/abc\n", b"4:cpu:/nowhere\n"] {
                std::fs::write(&roots.proc_self_cgroup, content).unwrap();
                let _ = membership::cgroup(&roots);
            }
            std::fs::write(dir.join("stat"), &text).unwrap();
            let _ = steal::cpu_steal(&dir.join("stat"), &dir.join("mountinfo"));
        }
    }
}

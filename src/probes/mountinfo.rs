//! `/proc/self/mountinfo`: where a cgroup v1 `cpu` hierarchy is mounted, and where cgroup2
//! is mounted.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

/// One line: `id parent major:minor root mount-point options [optional...] - fstype source
/// super-options`, the fields the cgroup probes use.
struct Mount<'a> {
    /// The subtree of the filesystem this mount shows, such as `/` or `/kubepods/pod1`.
    root: &'a str,
    mount_point: &'a str,
    filesystem_type: &'a str,
    super_options: &'a str,
}

/// One line's fields, or `None` when it has too few: std stops reading there.
fn parse_line(line: &str) -> Option<Mount<'_>> {
    let mut items = line.trim().split(' ');
    let root = items.nth(3)?;
    let mount_point = items.next()?;
    let super_options = items.next_back()?;
    let filesystem_type = items.nth_back(1)?;
    Some(Mount { root, mount_point, filesystem_type, super_options })
}

/// The mounts listed in `content`, in order, until the first line that is not UTF-8 or has
/// too few fields: std stops reading there, and so do the probes.
fn mounts(content: &[u8]) -> impl Iterator<Item = Mount<'_>> {
    content
        .split(|&byte| byte == b'\n')
        .map(|line| std::str::from_utf8(line).ok())
        // the split leaves an empty piece after the last newline
        .filter(|line| line != &Some(""))
        .map_while(|line| parse_line(line?))
}

/// What the search for the v1 `cpu` hierarchy found, and how many lines of mountinfo it
/// read to find it: std reads exactly as many on every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CpuMountScan {
    /// The mount point and the cgroup path below the mount's root.
    pub(crate) found: Option<(PathBuf, PathBuf)>,
    /// Lines read, the one that ended the search included.
    pub(crate) lines: usize,
}

/// Reads mountinfo as std does, buffered and line by line, up to the first v1 cgroup mount
/// with the `cpu` controller whose root contains `group_path`: its mount point and
/// `group_path` relative to that root (for bind mounts of a subtree). A line that is not
/// UTF-8, has too few fields or a root that is not absolute ends the search, as in std.
pub(crate) fn scan_for_cpu_mount(
    mut reader: impl BufRead,
    group_path: &Path,
) -> io::Result<CpuMountScan> {
    let mut scan = CpuMountScan { found: None, lines: 0 };
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(scan);
        }
        scan.lines += 1;
        let Some(mount) = std::str::from_utf8(&line).ok().and_then(parse_line) else {
            return Ok(scan);
        };
        if mount.filesystem_type != "cgroup"
            || !mount.super_options.split(',').any(|opt| opt == "cpu")
        {
            continue;
        }
        let Ok(root) = Path::new(mount.root).strip_prefix("/") else { return Ok(scan) };
        // a bind mount whose subtree does not contain this process's cgroup
        let Ok(below_root) = group_path.strip_prefix(root) else { continue };
        scan.found = Some((PathBuf::from(mount.mount_point), below_root.to_path_buf()));
        return Ok(scan);
    }
}

/// Every cgroup2 mount: (its root without the leading `/`, its mount point).
pub(crate) fn cgroup2_mounts(content: &[u8]) -> Vec<(PathBuf, PathBuf)> {
    mounts(content)
        .filter(|mount| mount.filesystem_type == "cgroup2")
        .filter_map(|mount| {
            let root = Path::new(mount.root).strip_prefix("/").ok()?;
            Some((root.to_path_buf(), PathBuf::from(mount.mount_point)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
        52 40 0:38 /kubepods /host/cgroup rw shared:7 - cgroup2 cgroup2 rw\n";

    #[test]
    fn cgroup2_mounts_with_their_roots() {
        assert_eq!(
            cgroup2_mounts(MOUNTINFO.as_bytes()),
            [
                (PathBuf::new(), PathBuf::from("/sys/fs/cgroup/unified")),
                (PathBuf::from("kubepods"), PathBuf::from("/host/cgroup")),
            ]
        );
    }

    fn scan(content: &str, group: &str) -> CpuMountScan {
        scan_for_cpu_mount(content.as_bytes(), Path::new(group)).unwrap()
    }

    #[test]
    fn a_malformed_line_ends_the_list_as_std_does() {
        let content = format!("1 2 3\n{MOUNTINFO}");
        assert_eq!(cgroup2_mounts(content.as_bytes()), []);
        assert_eq!(scan(&content, "a"), CpuMountScan { found: None, lines: 1 });
    }

    #[test]
    fn the_scan_stops_at_the_first_cpu_hierarchy_and_counts_the_lines() {
        assert_eq!(
            scan(MOUNTINFO, "docker/abc"),
            CpuMountScan {
                found: Some((PathBuf::from("/sys/fs/cgroup/cpu"), PathBuf::from("docker/abc"))),
                lines: 2
            }
        );
    }

    #[test]
    fn without_a_cpu_hierarchy_the_scan_reads_every_line() {
        let content: String =
            (0..1500).map(|n| format!("{n} 1 0:{n} / /mnt/{n} rw - tmpfs tmpfs rw\n")).collect();
        assert_eq!(scan(&content, "ctr"), CpuMountScan { found: None, lines: 1500 });
    }

    #[test]
    fn a_bind_mount_of_another_subtree_is_passed_over() {
        let content = "\
            1 0 0:1 /other /mnt/a rw - cgroup cgroup rw,cpu\n\
            2 0 0:1 /kubepods /mnt/b rw - cgroup cgroup rw,cpu,cpuacct\n";
        assert_eq!(
            scan(content, "kubepods/pod/ctr"),
            CpuMountScan {
                found: Some((PathBuf::from("/mnt/b"), PathBuf::from("pod/ctr"))),
                lines: 2
            }
        );
    }
}

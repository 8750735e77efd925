//! `/proc/self/mountinfo`: where a cgroup v1 `cpu` hierarchy is mounted, and where cgroup2
//! is mounted.

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

/// The mounts listed in `content`, in order, until the first line that is not UTF-8 or has
/// too few fields: std stops reading there, and so do the probes.
fn mounts(content: &[u8]) -> impl Iterator<Item = Mount<'_>> {
    content
        .split(|&byte| byte == b'\n')
        .map(|line| std::str::from_utf8(line).ok().map(str::trim))
        // std stops reading at the end of the file; a blank line is not in real mountinfo
        .filter(|line| line != &Some(""))
        .map_while(|line| {
            let mut items = line?.split(' ');
            let root = items.nth(3)?;
            let mount_point = items.next()?;
            let super_options = items.next_back()?;
            let filesystem_type = items.nth_back(1)?;
            Some(Mount { root, mount_point, filesystem_type, super_options })
        })
}

/// The mount point of the first v1 cgroup mount with the `cpu` controller whose root
/// contains `group_path`, and `group_path` relative to that root (for bind mounts of a
/// subtree). Mirrors std: a malformed line or a root that is not absolute ends the search.
pub(crate) fn cpu_mount(content: &[u8], group_path: &Path) -> Option<(PathBuf, PathBuf)> {
    for mount in mounts(content) {
        if mount.filesystem_type != "cgroup"
            || !mount.super_options.split(',').any(|opt| opt == "cpu")
        {
            continue;
        }
        let root = Path::new(mount.root).strip_prefix("/").ok()?;
        // a bind mount whose subtree does not contain this process's cgroup
        let Ok(below_root) = group_path.strip_prefix(root) else { continue };
        return Some((PathBuf::from(mount.mount_point), below_root.to_path_buf()));
    }
    None
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

    #[test]
    fn a_malformed_line_ends_the_list_as_std_does() {
        let content = format!("1 2 3\n{MOUNTINFO}");
        assert_eq!(cgroup2_mounts(content.as_bytes()), []);
        assert_eq!(cpu_mount(content.as_bytes(), Path::new("a")), None);
    }

    #[test]
    fn cpu_mount_takes_the_first_cpu_hierarchy() {
        assert_eq!(
            cpu_mount(MOUNTINFO.as_bytes(), Path::new("docker/abc")),
            Some((PathBuf::from("/sys/fs/cgroup/cpu"), PathBuf::from("docker/abc")))
        );
    }
}

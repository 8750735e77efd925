//! `/proc/self/mountinfo`: where a cgroup v1 `cpu` hierarchy is mounted.

use std::path::{Path, PathBuf};

/// The mount point of the first v1 cgroup mount with the `cpu` controller whose root
/// contains `group_path`, and `group_path` relative to that root (for bind mounts of a
/// subtree). Mirrors std: a malformed line or a root that is not absolute ends the search.
pub(crate) fn cpu_mount(mountinfo: &Path, group_path: &Path) -> Option<(PathBuf, PathBuf)> {
    let content = super::read_kernel_file(mountinfo)?;
    for line in content.split_inclusive(|&byte| byte == b'\n') {
        let line = std::str::from_utf8(line).ok()?.trim();
        if line.is_empty() {
            // std stops reading at the end of the file; a blank line is not in real mountinfo
            continue;
        }
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        let mut items = line.split(' ');
        let root = items.nth(3)?;
        let mount_point = items.next()?;
        let super_options = items.next_back()?;
        let filesystem_type = items.nth_back(1)?;
        if filesystem_type != "cgroup" || !super_options.split(',').any(|opt| opt == "cpu") {
            continue;
        }
        let root = Path::new(root).strip_prefix("/").ok()?;
        // a bind mount whose subtree does not contain this process's cgroup
        let Ok(below_root) = group_path.strip_prefix(root) else { continue };
        return Some((PathBuf::from(mount_point), below_root.to_path_buf()));
    }
    None
}

//! `/proc/self/mountinfo`: where the cgroup hierarchies are mounted, read two ways. std's
//! way ([`std_cpu_mount`]): the first line whose super options name the v1 `cpu`
//! controller and whose root contains the cgroup, its fields taken as written. And
//! explain()'s own ([`cgroup_mounts`]): every line of a hierarchy, its fields unescaped,
//! with the later mount that hides it, if one does.
//!
//! The kernel writes a space, tab, newline and backslash in the root and mount point
//! fields as `\040`, `\011`, `\012` and `\134` (fs/proc_namespace.c, `mangle`), and lists a
//! mount that a later mount at or above its mount point hides, as it lists every mount.

use std::borrow::Cow;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use super::cgroups::Unshown;

/// One line: `id parent major:minor root mount-point options [optional...] - fstype source
/// super-options`, the fields the cgroup probes use, as written.
struct Line<'a> {
    root: &'a str,
    mount_point: &'a str,
    filesystem_type: &'a str,
    super_options: &'a str,
}

/// One line's fields, or `None` when it has too few: std stops reading there.
fn parse_line(line: &str) -> Option<Line<'_>> {
    let mut items = line.trim().split(' ');
    let root = items.nth(3)?;
    let mount_point = items.next()?;
    let super_options = items.next_back()?;
    let filesystem_type = items.nth_back(1)?;
    Some(Line { root, mount_point, filesystem_type, super_options })
}

/// The lines of `content`, each as UTF-8 if it is; the empty piece after the last newline
/// is not a line.
fn lines(content: &[u8]) -> impl Iterator<Item = Option<&str>> {
    let content = content.strip_suffix(b"\n").unwrap_or(content);
    content
        .split(|&byte| byte == b'\n')
        .filter(move |_| !content.is_empty())
        .map(|line| std::str::from_utf8(line).ok())
}

/// Which hierarchy a search is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hierarchy {
    /// A v1 hierarchy with the `cpu` controller: fstype `cgroup`, `cpu` in the super options.
    V1Cpu,
    /// The unified hierarchy: fstype `cgroup2`.
    V2,
}

impl Hierarchy {
    fn holds(self, line: &Line<'_>) -> bool {
        match self {
            Hierarchy::V1Cpu => {
                line.filesystem_type == "cgroup"
                    && line.super_options.split(',').any(|option| option == "cpu")
            }
            Hierarchy::V2 => line.filesystem_type == "cgroup2",
        }
    }
}

/// What std's search of mountinfo for the v1 `cpu` hierarchy found, and how many lines it
/// read to find it: std reads exactly as many on every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CpuMountScan {
    /// The mount point as written, the root as written, and the cgroup path below the root.
    pub(crate) found: Option<StdMount>,
    /// Lines read, the one that ended the search included.
    pub(crate) lines: usize,
}

/// The mount std's search takes, its fields as mountinfo writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StdMount {
    pub(crate) mount_point: String,
    pub(crate) root: String,
    pub(crate) below_root: PathBuf,
}

/// Searches mountinfo as std does, up to the first v1 cgroup mount with the `cpu`
/// controller whose root contains `group_path`: its mount point and `group_path` relative
/// to that root (for bind mounts of a subtree), both as written, unescaped nowhere. A line
/// that is not UTF-8, has too few fields or a root that is not absolute ends the search, as
/// in std.
pub(crate) fn std_cpu_mount(content: &[u8], group_path: &Path) -> CpuMountScan {
    let mut scan = CpuMountScan { found: None, lines: 0 };
    for line in lines(content) {
        scan.lines += 1;
        let Some(line) = line.and_then(parse_line) else { return scan };
        if !Hierarchy::V1Cpu.holds(&line) {
            continue;
        }
        let Ok(root) = Path::new(line.root).strip_prefix("/") else { return scan };
        // a bind mount whose subtree does not contain this process's cgroup
        let Ok(below_root) = group_path.strip_prefix(root) else { continue };
        scan.found = Some(StdMount {
            mount_point: line.mount_point.to_owned(),
            root: line.root.to_owned(),
            below_root: below_root.to_path_buf(),
        });
        return scan;
    }
    scan
}

/// A mount of a cgroup hierarchy, as explain()'s own search reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupMount {
    /// Its line in mountinfo, from 1.
    pub(crate) line: usize,
    /// The mount point as written (escaped).
    pub(crate) listed_mount_point: String,
    /// The root as written (escaped).
    pub(crate) listed_root: String,
    /// The mount point, unescaped.
    pub(crate) mount_point: PathBuf,
    /// The subtree of the hierarchy it shows, unescaped: `/` for the whole hierarchy.
    pub(crate) root: PathBuf,
    /// The mount point of a later mount at or above this one's, which hides it.
    pub(crate) hidden_by: Option<PathBuf>,
}

impl CgroupMount {
    /// The cgroup `group_path` (relative, as /proc/self/cgroup names it without its leading
    /// `/`) below this mount's root, or `None` when the mount shows another subtree.
    pub(crate) fn below_root(&self, group_path: &Path) -> Option<PathBuf> {
        let root = self.root.strip_prefix("/").ok()?;
        group_path.strip_prefix(root).ok().map(Path::to_path_buf)
    }
}

/// Every mount of `hierarchy` in `content`, in order, with its fields unescaped and the
/// later mount that hides it. Lines that are not UTF-8 or have too few fields are passed
/// over, not ended at: this search is explain()'s, not std's.
pub(crate) fn cgroup_mounts(content: &[u8], hierarchy: Hierarchy) -> Vec<CgroupMount> {
    // every line's mount point as written, in order (no copy): a later one at or above
    // hides an earlier one; mountinfo can have tens of thousands of lines
    let mut all: Vec<(usize, &str)> = Vec::new();
    let mut found = Vec::new();
    for (index, line) in lines(content).enumerate() {
        let Some(line) = line.and_then(parse_line) else { continue };
        if hierarchy.holds(&line) {
            found.push(CgroupMount {
                line: index + 1,
                listed_mount_point: line.mount_point.to_owned(),
                listed_root: line.root.to_owned(),
                mount_point: unescape(line.mount_point),
                root: unescape(line.root),
                hidden_by: None,
            });
        }
        all.push((index + 1, line.mount_point));
    }
    for mount in &mut found {
        mount.hidden_by = all
            .iter()
            .filter(|(line, _)| *line > mount.line)
            .find(|(_, later)| mount.mount_point.starts_with(path_of(later)))
            .map(|(_, later)| path_of(later).into_owned());
    }
    found
}

/// Why no mount shows the cgroup at `path`, from the hierarchy's mounts.
pub(crate) fn unshown(path: &str, mounts: &[CgroupMount]) -> Unshown {
    if path == "/.." || path.starts_with("/../") {
        return Unshown::OutsideNamespaceRoot;
    }
    if let Some(first) = mounts.first().filter(|_| mounts.iter().all(|m| m.hidden_by.is_some())) {
        return Unshown::Hidden {
            mount: first.mount_point.clone(),
            by: first.hidden_by.clone().unwrap_or_default(),
        };
    }
    if mounts.is_empty() {
        return Unshown::NoneMounted;
    }
    let visible = mounts.iter().filter(|m| m.hidden_by.is_none());
    Unshown::ElsewhereOnly { mounts: visible.map(|m| m.mount_point.clone()).collect() }
}

/// A field as the kernel wrote it, with its octal escapes (`\040` and the like) undone.
/// A backslash not followed by three octal digits stays as it is.
pub(crate) fn unescape(field: &str) -> PathBuf {
    if !field.contains('\\') {
        return PathBuf::from(field);
    }
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let octal = bytes.get(index + 1..index + 4).filter(|digits| {
            byte == b'\\' && digits.iter().all(|digit| (b'0'..=b'7').contains(digit))
        });
        match octal {
            Some(digits) => {
                let value =
                    digits.iter().fold(0u32, |value, digit| value * 8 + u32::from(digit - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                index += 4;
            }
            None => {
                out.push(byte);
                index += 1;
            }
        }
    }
    PathBuf::from(OsString::from_vec(out))
}

/// A field as a path: itself where nothing is escaped, without a copy.
fn path_of(field: &str) -> Cow<'_, Path> {
    if field.contains('\\') {
        Cow::Owned(unescape(field))
    } else {
        Cow::Borrowed(Path::new(field))
    }
}

/// Whether a field has an escape the kernel wrote.
pub(crate) fn is_escaped(field: &str) -> bool {
    unescape(field).as_os_str() != field
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
        52 40 0:38 /kubepods /host/cgroup rw shared:7 - cgroup2 cgroup2 rw\n";

    fn scan(content: &str, group: &str) -> CpuMountScan {
        std_cpu_mount(content.as_bytes(), Path::new(group))
    }

    fn found(mount_point: &str, root: &str, below: &str) -> Option<StdMount> {
        Some(StdMount {
            mount_point: mount_point.into(),
            root: root.into(),
            below_root: below.into(),
        })
    }

    #[test]
    fn cgroup2_mounts_with_their_roots() {
        let mounts = cgroup_mounts(MOUNTINFO.as_bytes(), Hierarchy::V2);
        let seen: Vec<_> = mounts.iter().map(|m| (m.root.clone(), m.mount_point.clone())).collect();
        assert_eq!(
            seen,
            [
                (PathBuf::from("/"), PathBuf::from("/sys/fs/cgroup/unified")),
                (PathBuf::from("/kubepods"), PathBuf::from("/host/cgroup")),
            ]
        );
    }

    #[test]
    fn a_malformed_line_ends_std_s_search_but_not_explain_s() {
        let content = format!("1 2 3\n{MOUNTINFO}");
        assert_eq!(scan(&content, "a"), CpuMountScan { found: None, lines: 1 });
        assert_eq!(cgroup_mounts(content.as_bytes(), Hierarchy::V1Cpu).len(), 1);
    }

    #[test]
    fn std_s_search_stops_at_the_first_cpu_hierarchy_and_counts_the_lines() {
        assert_eq!(
            scan(MOUNTINFO, "docker/abc"),
            CpuMountScan { found: found("/sys/fs/cgroup/cpu", "/", "docker/abc"), lines: 2 }
        );
    }

    #[test]
    fn without_a_cpu_hierarchy_std_reads_every_line() {
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
            CpuMountScan { found: found("/mnt/b", "/kubepods", "pod/ctr"), lines: 2 }
        );
    }

    #[test]
    fn std_takes_an_escaped_mount_point_as_written_and_explain_undoes_it() {
        let content = "1 0 0:1 / /mnt/cpu\\040ctl rw - cgroup cgroup rw,cpu\n";
        assert_eq!(scan(content, "ctr").found, found("/mnt/cpu\\040ctl", "/", "ctr"));
        let mounts = cgroup_mounts(content.as_bytes(), Hierarchy::V1Cpu);
        assert_eq!(mounts[0].mount_point, PathBuf::from("/mnt/cpu ctl"));
        assert_eq!(mounts[0].listed_mount_point, "/mnt/cpu\\040ctl");
    }

    #[test]
    fn a_later_mount_at_or_above_hides_an_earlier_one() {
        let content = "\
            1 0 0:1 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
            2 0 0:1 /docker/abc /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
            3 0 0:2 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n\
            4 0 0:3 / /sys/fs rw - tmpfs tmpfs rw\n\
            5 0 0:1 / /mnt/cpu rw - cgroup cgroup rw,cpu\n";
        let mounts = cgroup_mounts(content.as_bytes(), Hierarchy::V1Cpu);
        let hidden: Vec<_> = mounts.iter().map(|m| (m.line, m.hidden_by.clone())).collect();
        // /sys/fs/cgroup/cpuset (line 3) is not at or above /sys/fs/cgroup/cpu
        assert_eq!(
            hidden,
            [
                (1, Some(PathBuf::from("/sys/fs/cgroup/cpu"))),
                (2, Some(PathBuf::from("/sys/fs"))),
                (5, None)
            ]
        );
        assert_eq!(mounts[1].below_root(Path::new("docker/abc/x")), Some(PathBuf::from("x")));
        assert_eq!(mounts[1].below_root(Path::new("docker/other")), None);
    }

    #[test]
    fn the_kernel_s_four_escapes_are_undone() {
        assert_eq!(unescape("/a\\040b\\011c\\012d\\134e"), PathBuf::from("/a b\tc\nd\\e"));
        assert_eq!(unescape("/plain"), PathBuf::from("/plain"));
        // not an escape: left as written
        assert_eq!(unescape("/a\\9b\\04"), PathBuf::from("/a\\9b\\04"));
        assert!(is_escaped("/a\\040b") && !is_escaped("/a b"));
    }
}

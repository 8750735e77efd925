//! The cgroup namespace: inside one, `/proc/self/cgroup` names paths below the namespace's
//! root, and every cgroup above that root, with its limits, is invisible to the process.

use std::path::Path;

use super::{ReadFaults, UnreadableFile};

/// A symlink to the process's cgroup namespace, `cgroup:[INODE]`.
pub const PROC_SELF_NS_CGROUP: &str = "/proc/self/ns/cgroup";
/// The inode of the kernel's initial cgroup namespace: `PROC_CGROUP_INIT_INO` (0xEFFFFFFB)
/// in the kernel's include/linux/proc_ns.h.
pub const PROC_CGROUP_INIT_INO: u64 = 0xEFFF_FFFB;

/// The inode of the cgroup namespace `link` names, `None` when it cannot be read; a link that
/// exists but cannot be read goes to the faults explain() alone met (std never reads it).
pub fn cgroup_namespace(link: &Path, faults: &mut ReadFaults) -> Option<u64> {
    match std::fs::read_link(link) {
        Ok(target) => parse_link(target.to_str()?),
        Err(err) => {
            faults.own.extend(UnreadableFile::of(link, &err));
            None
        }
    }
}

/// `cgroup:[4026531835]` -> 4026531835.
pub(crate) fn parse_link(target: &str) -> Option<u64> {
    target.strip_prefix("cgroup:[")?.strip_suffix(']')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_gives_the_inode() {
        assert_eq!(parse_link("cgroup:[4026531835]"), Some(PROC_CGROUP_INIT_INO));
        assert_eq!(parse_link("cgroup:[4026532412]"), Some(4026532412));
        assert_eq!(parse_link("net:[4026531840]"), None);
        assert_eq!(parse_link("cgroup:[x]"), None);
        assert_eq!(parse_link("cgroup:[4026531835"), None);
    }

    #[test]
    fn a_missing_link_is_no_fault() {
        let mut faults = ReadFaults::default();
        assert_eq!(cgroup_namespace(Path::new("/nonexistent/ns/cgroup"), &mut faults), None);
        assert_eq!(faults, ReadFaults::default());
    }

    mod on_this_machine {
        use super::*;

        #[test]
        fn this_process_has_a_cgroup_namespace() {
            // the link as the kernel gives it to the test itself
            let target = std::fs::read_link(PROC_SELF_NS_CGROUP).unwrap();
            let inode =
                target.to_str().unwrap().trim_start_matches("cgroup:[").trim_end_matches(']');
            let mut faults = ReadFaults::default();
            let read = cgroup_namespace(Path::new(PROC_SELF_NS_CGROUP), &mut faults);
            assert_eq!(read, Some(inode.parse().unwrap()));
            assert_eq!(faults, ReadFaults::default());
        }
    }
}

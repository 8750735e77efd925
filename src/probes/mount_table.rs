//! `/proc/self/mountinfo`, read again only when the mount table changed. The kernel formats
//! every mount into it on every read, which costs as much as half of std's whole call on a
//! machine with a few dozen mounts, and explain() would pay it on top of std's own read
//! wherever std's usual paths do not show the cgroup. The file is pollable: after a mount
//! or an unmount in its namespace, `poll` reports `POLLPRI` on an open descriptor (proc(5)),
//! so one descriptor stays open and its content is read again exactly when the kernel says
//! it changed, or when the process is in another mount namespace, under another root, or a
//! forked child. The answer is what a fresh read would give; only the reading is saved.
//!
//! Any other path (a test's fixture) is read whole every time.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};

/// The real file; only it is watched.
pub(crate) const PROC_SELF_MOUNTINFO: &str = "/proc/self/mountinfo";
/// The process's mount namespace, `mnt:[INODE]`.
const PROC_SELF_NS_MNT: &str = "/proc/self/ns/mnt";
/// The process's root directory, as a path that follows a chroot.
const PROC_SELF_ROOT: &str = "/proc/self/root";

/// The read size: mountinfo grows with the machine; fewer system calls.
const CHUNK: usize = 64 * 1024;

/// What the watched descriptor was opened under, and what it read last.
struct Watched {
    file: File,
    namespace: Option<std::path::PathBuf>,
    root: Option<(u64, u64)>,
    generation: u64,
    content: Arc<[u8]>,
}

static WATCHED: Mutex<Option<Watched>> = Mutex::new(None);
/// Bumped in a forked child (pthread_atfork), whose /proc/self is another process.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static AT_FORK: Once = Once::new();

extern "C" fn forked_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The content of mountinfo at `path`: the real one through the watched descriptor, any
/// other read whole now.
pub(crate) fn read(path: &Path) -> io::Result<Arc<[u8]>> {
    if path != Path::new(PROC_SELF_MOUNTINFO) {
        return super::read_in_chunks(path, CHUNK).map(Arc::from);
    }
    AT_FORK.call_once(|| {
        // SAFETY: the handler only increments an atomic, which is async-signal-safe.
        unsafe { libc::pthread_atfork(None, None, Some(forked_child)) };
    });
    let namespace = std::fs::read_link(PROC_SELF_NS_MNT).ok();
    let root = std::fs::metadata(PROC_SELF_ROOT).ok().map(|meta| (meta.dev(), meta.ino()));
    let generation = GENERATION.load(Ordering::Relaxed);
    let Ok(mut watched) = WATCHED.lock() else {
        return super::read_in_chunks(path, CHUNK).map(Arc::from);
    };
    if let Some(current) = watched
        .as_mut()
        .filter(|w| w.namespace == namespace && w.root == root && w.generation == generation)
    {
        if !changed(&current.file) {
            return Ok(Arc::clone(&current.content));
        }
        // the mount table changed: the same descriptor, read again from the start
        current.file.rewind()?;
        current.content = read_all(&mut current.file)?.into();
        return Ok(Arc::clone(&current.content));
    }
    let mut file = File::open(path)?;
    let content: Arc<[u8]> = read_all(&mut file)?.into();
    *watched = Some(Watched { file, namespace, root, generation, content: Arc::clone(&content) });
    Ok(content)
}

/// Whether the kernel says the mount table changed since the descriptor last looked (it
/// says so once per change); any failure counts as a change.
fn changed(file: &File) -> bool {
    let mut poll = libc::pollfd { fd: file.as_raw_fd(), events: libc::POLLPRI, revents: 0 };
    // SAFETY: one valid pollfd, a timeout of 0: poll only reads and writes it.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready != 0 || poll.revents & (libc::POLLPRI | libc::POLLERR) != 0
}

/// Reads the file from where it stands to its end, in large reads, until a read returns
/// nothing: a read of mountinfo can stop short of the end.
fn read_all(file: &mut File) -> io::Result<Vec<u8>> {
    let mut content = Vec::new();
    let mut chunk = vec![0; CHUNK];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(content),
            Ok(n) => content.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    // That a mount shows in the next read is proven for real by the scenario lane's
    // host_mount_table_changes, in a namespace of its own.
    fn the_watched_mountinfo_is_what_a_fresh_read_gives() {
        let fresh = || std::fs::read(PROC_SELF_MOUNTINFO).unwrap();
        let watched = read(Path::new(PROC_SELF_MOUNTINFO)).unwrap();
        assert_eq!(&watched[..], &fresh()[..]);
        // read again without a change: the same content, not read again (unless the host
        // mounted something in between, when it is what a fresh read gives)
        let again = read(Path::new(PROC_SELF_MOUNTINFO)).unwrap();
        assert!(Arc::ptr_eq(&watched, &again) || again[..] == fresh()[..]);
    }
}

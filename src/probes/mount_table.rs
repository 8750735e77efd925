//! `/proc/self/mountinfo`, read again only when the mount table changed. The kernel formats
//! every mount into it on every read, which costs as much as half of std's whole call on a
//! machine with a few dozen mounts, and explain() would pay it on top of std's own read
//! wherever std's usual paths do not show the cgroup. The file is pollable: after a mount,
//! an unmount, a bind, a move, a remount or a `pivot_root` in its namespace, including one
//! propagated from another namespace, `poll` reports `POLLPRI` on an open descriptor
//! (proc(5); `mounts_poll` and `touch_mnt_namespace` in the kernel). So one descriptor stays
//! open and its content is read again when the kernel says the table changed; when the key
//! the text also depends on changed (the mount namespace and the root the descriptor was
//! opened under, the reading thread's cgroup namespace, which sets the root field of cgroup
//! mounts); in a forked child; after a failed read; and at least once a second.
//!
//! The second bounds what the kernel does not signal, none of which moves a cgroup mount in
//! practice: a rename of a directory above a mount point or of a cgroup a mount shows, a
//! change of a mount's propagation type, superblock options changed through `fsconfig` or
//! from another namespace. Where the key cannot be read, or `poll` is not the kernel's (it
//! reports `POLLOUT` in gVisor), every call reads the file whole.
//!
//! Any other path (a test's fixture) is read whole every time.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::unix::io::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// The real file; only it is watched.
pub(crate) const PROC_SELF_MOUNTINFO: &str = "/proc/self/mountinfo";
/// The process's mount namespace, `mnt:[INODE]`.
const PROC_SELF_NS_MNT: &str = "/proc/self/ns/mnt";
/// The reading thread's cgroup namespace, and the process's where the kernel has no
/// `/proc/thread-self` (before 3.17).
const THREAD_NS_CGROUP: [&str; 2] = ["/proc/thread-self/ns/cgroup", "/proc/self/ns/cgroup"];
/// The process's root directory, as a path that follows a chroot.
const PROC_SELF_ROOT: &str = "/proc/self/root";

/// The buffer of a read. The kernel's seq_file returns about a page per `read` whatever
/// the size asked, so this only saves growing the buffer.
const CHUNK: usize = 64 * 1024;
/// The longest the content is kept without a read, for the changes the kernel does not
/// signal.
const AT_MOST: Duration = Duration::from_secs(1);

/// What the text of mountinfo depends on besides the mount table.
#[derive(Debug, PartialEq, Eq)]
struct Key {
    mount_namespace: PathBuf,
    cgroup_namespace: PathBuf,
    /// The root directory: device, inode and the mount it is on (a chroot into a bind
    /// mount of the same directory changes the paths, not the inode).
    root: (u64, u64, u64),
    generation: u64,
}

/// The open descriptor, what it was opened under, and what it read last, when.
struct Watched {
    file: File,
    key: Key,
    content: Arc<[u8]>,
    read_at: Instant,
}

static WATCHED: Mutex<Option<Watched>> = Mutex::new(None);
/// The watched descriptor's number, for the fork handler; -1 when none.
static WATCHED_FD: AtomicI32 = AtomicI32::new(-1);
/// Bumped in a forked child (pthread_atfork): the descriptor it inherited shares its
/// position and its poll state with the parent's.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static AT_FORK: Once = Once::new();
/// Whether the fork handler is installed; without it nothing is kept.
static AT_FORK_SET: AtomicBool = AtomicBool::new(false);

/// In a forked child: closes the inherited descriptor (the child's `Watched` is forgotten,
/// never dropped, so the number is not closed twice) and moves the generation on.
extern "C" fn forked_child() {
    let fd = WATCHED_FD.swap(-1, Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: close is async-signal-safe; the descriptor is this module's own.
        unsafe { libc::close(fd) };
    }
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The content of mountinfo at `path`: the real one through the watched descriptor, any
/// other read whole now.
pub(crate) fn read(path: &Path) -> io::Result<Arc<[u8]>> {
    let fresh = || super::read_in_chunks(path, CHUNK).map(Arc::from);
    if path != Path::new(PROC_SELF_MOUNTINFO) {
        return fresh();
    }
    AT_FORK.call_once(|| {
        // SAFETY: the handler only swaps and closes its own descriptor and increments an
        // atomic, all async-signal-safe.
        let set = unsafe { libc::pthread_atfork(None, None, Some(forked_child)) } == 0;
        AT_FORK_SET.store(set, Ordering::Relaxed);
    });
    let Some(key) = key_now().filter(|_| AT_FORK_SET.load(Ordering::Relaxed)) else {
        return fresh();
    };
    // a lock held elsewhere (another thread, or the parent's thread at the fork) or
    // poisoned: a read of its own
    let Ok(mut watched) = WATCHED.try_lock() else {
        return fresh();
    };
    if let Some(stale) = watched.take_if(|w| w.key.generation != key.generation) {
        // the fork handler closed its descriptor already
        std::mem::forget(stale.file);
    }
    if let Some(current) = watched.as_mut().filter(|w| w.key == key) {
        if current.read_at.elapsed() < AT_MOST && !changed(&current.file) {
            return Ok(Arc::clone(&current.content));
        }
        // the same descriptor, read again from the start; kept only if the read succeeds
        let reread = current.file.rewind().and_then(|()| read_all(&mut current.file));
        match reread {
            Ok(content) => {
                current.content = content.into();
                current.read_at = Instant::now();
                return Ok(Arc::clone(&current.content));
            }
            Err(_) => drop_watched(&mut watched),
        }
    }
    drop_watched(&mut watched);
    let mut file = File::open(path)?;
    let content: Arc<[u8]> = read_all(&mut file)?.into();
    // the key again: a change between taking it and the open would pair them wrongly
    if key_now().as_ref() == Some(&key) {
        WATCHED_FD.store(file.as_raw_fd(), Ordering::Relaxed);
        let read_at = Instant::now();
        *watched = Some(Watched { file, key, content: Arc::clone(&content), read_at });
    }
    Ok(content)
}

/// Drops the watched descriptor, if any.
fn drop_watched(watched: &mut Option<Watched>) {
    if watched.take().is_some() {
        WATCHED_FD.store(-1, Ordering::Relaxed);
    }
}

/// The key now, with this process's generation; none where a part cannot be read.
fn key_now() -> Option<Key> {
    let mount_namespace = std::fs::read_link(PROC_SELF_NS_MNT).ok()?;
    let cgroup_namespace =
        THREAD_NS_CGROUP.iter().find_map(|link| std::fs::read_link(link).ok())?;
    Some(Key {
        mount_namespace,
        cgroup_namespace,
        root: root_id()?,
        generation: GENERATION.load(Ordering::Relaxed),
    })
}

/// The root directory's device, inode and mount ID (`statx`, Linux 5.8 and later).
#[cfg(any(
    all(target_os = "linux", any(target_env = "gnu", target_env = "musl")),
    target_os = "android"
))]
fn root_id() -> Option<(u64, u64, u64)> {
    let path = std::ffi::CString::new(PROC_SELF_ROOT).ok()?;
    // SAFETY: statx fills the zeroed buffer it is given, nothing else.
    let mut buf: libc::statx = unsafe { std::mem::zeroed() };
    let mask = libc::STATX_INO | libc::STATX_MNT_ID;
    // SAFETY: a valid C string and a valid statx buffer.
    let ret = unsafe { libc::statx(libc::AT_FDCWD, path.as_ptr(), 0, mask, &mut buf) };
    (ret == 0 && buf.stx_mask & mask == mask).then(|| {
        let dev = (u64::from(buf.stx_dev_major) << 32) | u64::from(buf.stx_dev_minor);
        (dev, buf.stx_ino, buf.stx_mnt_id)
    })
}

/// Elsewhere the root cannot be told apart: nothing is kept.
#[cfg(not(any(
    all(target_os = "linux", any(target_env = "gnu", target_env = "musl")),
    target_os = "android"
)))]
fn root_id() -> Option<(u64, u64, u64)> {
    None
}

/// Whether the mount table may have changed since the descriptor last looked: the kernel
/// says so once per change with `POLLPRI`; `POLLOUT`, which Linux never reports on
/// mountinfo, means another `poll` (gVisor's), and any failure counts as a change.
fn changed(file: &File) -> bool {
    let fd: RawFd = file.as_raw_fd();
    let mut poll = libc::pollfd { fd, events: libc::POLLPRI | libc::POLLOUT, revents: 0 };
    // SAFETY: one valid pollfd, a timeout of 0: poll only reads and writes it.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready != 0 || poll.revents != 0
}

/// Reads the file from where it stands to its end until a read returns nothing: a read of
/// mountinfo stops short of the end.
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

    // That a mount shows in the next read is proven for real by the scenario lane's
    // host_mount_table_changes, in a namespace of its own.
    #[test]
    fn the_watched_mountinfo_is_what_a_fresh_read_gives() {
        let fresh = || std::fs::read(PROC_SELF_MOUNTINFO).unwrap();
        let watched = read(Path::new(PROC_SELF_MOUNTINFO)).unwrap();
        assert_eq!(&watched[..], &fresh()[..]);
        // read again without a change: the same content, not read again (unless the host
        // mounted something in between, or another test holds the lock, when it is what a
        // fresh read gives)
        let again = read(Path::new(PROC_SELF_MOUNTINFO)).unwrap();
        assert!(Arc::ptr_eq(&watched, &again) || again[..] == fresh()[..]);
    }

    #[test]
    fn the_key_names_both_namespaces_and_the_root() {
        let key = key_now().expect("a Linux with /proc and statx's mount ID");
        assert!(key.mount_namespace.to_string_lossy().starts_with("mnt:["), "{key:?}");
        assert!(key.cgroup_namespace.to_string_lossy().starts_with("cgroup:["), "{key:?}");
        let root = std::fs::metadata("/").unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(key.root.1, root.ino());
    }
}

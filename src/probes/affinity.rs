//! The CPU affinity masks of the calling thread (what std counts) and of the process's
//! main thread, and the online CPU count.

use std::fmt::Write;

/// The CPUs the calling thread may run on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Affinity {
    /// How many CPUs the mask allows.
    pub count: usize,
    /// The mask as a compact list, such as `0-3,8`.
    pub cpus: String,
    /// Whether the mask fit the 1024-CPU set std passes to `sched_getaffinity`. When it
    /// does not (machines with more CPU ids), std falls back to the online count.
    pub fits_std_set: bool,
}

impl Affinity {
    /// Whether std counts this mask: it fit std's set and allows a CPU. Otherwise std
    /// counts the online CPUs.
    pub fn usable_by_std(&self) -> bool {
        self.fits_std_set && self.count > 0
    }
}

/// Bits in glibc's `cpu_set_t`, the set std uses.
const STD_SET_BITS: usize = 1024;
/// Larger sets are tried up to this many CPU ids before giving up.
const MAX_SET_BITS: usize = 1 << 22;
const WORD_BITS: usize = libc::c_ulong::BITS as usize;

/// The calling thread's affinity mask, the one std counts; the error when the kernel will
/// not say.
#[cfg(target_os = "linux")]
pub fn affinity() -> std::io::Result<Affinity> {
    affinity_of(0)
}

/// The affinity mask of the process's main thread (its pid), to compare with the calling
/// thread's: a thread that pinned itself sees fewer CPUs than the process was given.
#[cfg(target_os = "linux")]
pub fn process_affinity() -> std::io::Result<Affinity> {
    // SAFETY: getpid has no preconditions and cannot fail.
    affinity_of(unsafe { libc::getpid() })
}

/// `sched_getaffinity(pid)`, with a set grown past 1024 CPU ids while the kernel says the
/// ids do not fit; pid 0 is the calling thread.
#[cfg(target_os = "linux")]
fn affinity_of(pid: libc::pid_t) -> std::io::Result<Affinity> {
    let mut bits = STD_SET_BITS;
    loop {
        let mut words: Vec<libc::c_ulong> = vec![0; bits / WORD_BITS];
        let bytes = words.len() * std::mem::size_of::<libc::c_ulong>();
        // SAFETY: the buffer holds `bytes` writable bytes.
        let rc = unsafe { libc::sched_getaffinity(pid, bytes, words.as_mut_ptr().cast()) };
        if rc == 0 {
            return Ok(Affinity {
                count: words.iter().map(|w| w.count_ones() as usize).sum(),
                cpus: compact_list(&words),
                fits_std_set: bits == STD_SET_BITS,
            });
        }
        // EINVAL: the kernel's CPU ids do not fit; anything else will not get better.
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINVAL) || bits >= MAX_SET_BITS {
            return Err(err);
        }
        bits *= 2;
    }
}

/// The online CPUs as the kernel lists them, such as `0-3,8`.
pub const SYS_CPU_ONLINE: &str = "/sys/devices/system/cpu/online";

/// The CPUs that may ever be present (hot-add slots included): the kernel's
/// `nr_cpu_ids` is its highest id + 1, and `sched_getaffinity` fails with EINVAL on a set
/// smaller than that.
pub const SYS_CPU_POSSIBLE: &str = "/sys/devices/system/cpu/possible";

/// The calling thread's status; its `Cpus_allowed_list` is the affinity mask.
pub const PROC_THREAD_SELF_STATUS: &str = "/proc/thread-self/status";

/// The number std's fallback counts when the mask cannot be read: `sysconf(
/// _SC_NPROCESSORS_ONLN)`. glibc reads [`SYS_CPU_ONLINE`] for it, which is read here
/// without stdio (sysconf when the file cannot be read or parsed); musl instead asks
/// `sched_getaffinity` itself and, when that fails, answers 1, so under musl sysconf is
/// asked. `None` when it fails or says zero.
#[cfg(target_os = "linux")]
pub fn online_cpus() -> Option<usize> {
    let listed = if cfg!(target_env = "musl") {
        None
    } else {
        super::read_kernel_file(std::path::Path::new(SYS_CPU_ONLINE))
            .ok()
            .and_then(|content| count_list(std::str::from_utf8(&content).ok()?.trim()))
    };
    listed.filter(|&n| n > 0).or_else(|| {
        // SAFETY: sysconf has no preconditions.
        let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        usize::try_from(online).ok().filter(|&n| n > 0)
    })
}

/// What std's fallback counts where the mask cannot be read, for the findings' words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdFallback {
    /// glibc: the online CPUs.
    OnlineCpus,
    /// musl: `sysconf` asks `sched_getaffinity` itself and answers 1 when it fails.
    MuslSysconf,
}

/// The fallback of the C library this crate was built for.
pub const STD_FALLBACK: StdFallback =
    if cfg!(target_env = "musl") { StdFallback::MuslSysconf } else { StdFallback::OnlineCpus };

/// The calling thread's `Cpus_allowed_list` from `status` (`/proc/thread-self/status`), as
/// `sched_getaffinity` would give it: the kernel prints the task's mask as set, while the
/// system call answers it ANDed with the active CPUs, so the list is intersected with the
/// online CPUs (`online`, when it can be read). It fits std's set when the possible CPUs
/// (`possible`) do, since the kernel refuses a smaller set whatever the mask.
pub fn status_affinity(
    status: &std::path::Path,
    online: &std::path::Path,
    possible: &std::path::Path,
) -> Option<Affinity> {
    let content = super::read_kernel_file(status).ok()?;
    let text = String::from_utf8(content).ok()?;
    let list = text.lines().find_map(|line| line.strip_prefix("Cpus_allowed_list:"))?.trim();
    let mut words = list_words(list)?;
    if let Some(online) = read_list(online) {
        for (word, online) in words.iter_mut().zip(online.iter().chain(std::iter::repeat(&0))) {
            *word &= online;
        }
    }
    let possible_ids = read_list(possible)
        .map_or(words.len() * WORD_BITS, |possible| highest(&possible).map_or(0, |id| id + 1));
    Some(Affinity {
        count: words.iter().map(|w| w.count_ones() as usize).sum(),
        cpus: compact_list(&words),
        fits_std_set: possible_ids <= STD_SET_BITS,
    })
}

/// The CPUs the kernel may ever have (`nr_cpu_ids`): the highest id in `possible` (such as
/// [`SYS_CPU_POSSIBLE`]) plus one; `None` when it cannot be read or names none.
pub fn possible_cpus(possible: &std::path::Path) -> Option<usize> {
    highest(&read_list(possible)?).map(|id| id + 1)
}

/// A kernel CPU list file, as set bits.
fn read_list(path: &std::path::Path) -> Option<Vec<libc::c_ulong>> {
    let content = super::read_kernel_file(path).ok()?;
    list_words(std::str::from_utf8(&content).ok()?.trim())
}

/// The highest set bit.
fn highest(words: &[libc::c_ulong]) -> Option<usize> {
    let (index, word) = words.iter().enumerate().rev().find(|(_, word)| **word != 0)?;
    Some(index * WORD_BITS + (WORD_BITS - 1 - word.leading_zeros() as usize))
}

/// A kernel CPU list such as `0-3,8` as set bits; `None` when it is not one, or names a CPU
/// beyond [`MAX_SET_BITS`].
pub(crate) fn list_words(list: &str) -> Option<Vec<libc::c_ulong>> {
    let mut words: Vec<libc::c_ulong> = Vec::new();
    if list.is_empty() {
        return Some(words);
    }
    for range in list.split(',') {
        let (first, last) = match range.split_once('-') {
            Some((first, last)) => (first.parse::<usize>().ok()?, last.parse::<usize>().ok()?),
            None => {
                let cpu = range.parse::<usize>().ok()?;
                (cpu, cpu)
            }
        };
        if first > last || last >= MAX_SET_BITS {
            return None;
        }
        if words.len() <= last / WORD_BITS {
            words.resize(last / WORD_BITS + 1, 0);
        }
        for cpu in first..=last {
            if let Some(word) = words.get_mut(cpu / WORD_BITS) {
                *word |= 1 << (cpu % WORD_BITS);
            }
        }
    }
    Some(words)
}

/// The CPUs in a kernel CPU list such as `0-3,8`; `None` when it is not one.
pub(crate) fn count_list(list: &str) -> Option<usize> {
    if list.is_empty() {
        return Some(0);
    }
    list.split(',').try_fold(0usize, |total, range| {
        let (first, last) = match range.split_once('-') {
            Some((first, last)) => (first.parse::<usize>().ok()?, last.parse::<usize>().ok()?),
            None => {
                let cpu = range.parse::<usize>().ok()?;
                (cpu, cpu)
            }
        };
        total.checked_add(last.checked_sub(first)?.checked_add(1)?)
    })
}

/// Renders set bits as ranges: words [0b1011_1111] -> "0-5,7". Visits set bits only, so a
/// 1024-bit set with a few CPUs costs a few steps.
pub(crate) fn compact_list(words: &[libc::c_ulong]) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (index, &word) in words.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let cpu = index * WORD_BITS + bits.trailing_zeros() as usize;
            match ranges.last_mut() {
                Some((_, last)) if *last + 1 == cpu => *last = cpu,
                _ => ranges.push((cpu, cpu)),
            }
            bits &= bits - 1;
        }
    }
    let mut list = String::new();
    for (first, last) in ranges {
        let separator = if list.is_empty() { "" } else { "," };
        // writing to a String cannot fail
        let _ = if first == last {
            write!(list, "{separator}{first}")
        } else {
            write!(list, "{separator}{first}-{last}")
        };
    }
    list
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn compact_list_renders_ranges() {
        assert_eq!(compact_list(&[0b1011_1111]), "0-5,7");
        assert_eq!(compact_list(&[0b1]), "0");
        assert_eq!(compact_list(&[0]), "");
        assert_eq!(
            compact_list(&[1 << (WORD_BITS - 1), 1]),
            format!("{}-{}", WORD_BITS - 1, WORD_BITS)
        );
    }

    #[test]
    fn affinity_matches_the_kernels_own_list() {
        // the kernel's text for the same mask, read by the test itself
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let listed = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap();
        let mask = affinity().expect("sched_getaffinity works on Linux");
        assert_eq!(mask.cpus, listed.trim());
        assert!(mask.fits_std_set);
        let online = Path::new(SYS_CPU_ONLINE);
        let possible = Path::new(SYS_CPU_POSSIBLE);
        assert_eq!(
            status_affinity(Path::new(PROC_THREAD_SELF_STATUS), online, possible),
            Some(mask)
        );
    }

    #[test]
    fn online_is_the_count_of_processors_proc_cpuinfo_lists() {
        // /proc/cpuinfo describes the online CPUs, one "processor" line each: a source
        // independent of the online list and of sysconf
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
        let processors = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
        assert!(processors >= 1, "{cpuinfo}");
        assert_eq!(online_cpus(), Some(processors));
    }

    /// A scratch directory with a status file listing `allowed`, and the online and
    /// possible lists.
    fn lists(allowed: &str, online: &str, possible: &str) -> crate::probes::scratch::Scratch {
        let dir = crate::probes::scratch::Scratch::dir("lists");
        std::fs::write(
            dir.path.join("status"),
            format!("Name:\tx\nCpus_allowed_list:\t{allowed}\n"),
        )
        .unwrap();
        std::fs::write(dir.path.join("online"), format!("{online}\n")).unwrap();
        std::fs::write(dir.path.join("possible"), format!("{possible}\n")).unwrap();
        dir
    }

    fn listed(dir: &crate::probes::scratch::Scratch) -> Option<Affinity> {
        let path = |name| dir.path.join(name);
        status_affinity(&path("status"), &path("online"), &path("possible"))
    }

    #[test]
    fn cpus_allowed_list_is_read_as_sched_getaffinity_answers_it() {
        // a VM with 64 hot-add slots and 8 CPUs online: the task's mask names all 64, the
        // system call answers those online
        let hot_add = listed(&lists("0-63", "0-7", "0-63")).unwrap();
        assert_eq!((hot_add.count, hot_add.cpus.as_str(), hot_add.fits_std_set), (8, "0-7", true));
        let pinned = listed(&lists("2,5-6", "0-3,5", "0-7")).unwrap();
        assert_eq!((pinned.count, pinned.cpus.as_str()), (2, "2,5"));
        // the kernel refuses std's 1024-CPU set where more CPUs are possible, whatever the mask
        let dir = lists("0-3", "0-3", "0-2047");
        assert!(!listed(&dir).unwrap().fits_std_set);
        assert_eq!(possible_cpus(&dir.path.join("possible")), Some(2048));
        assert!(listed(&lists("0-3", "0-3", "0-1023")).unwrap().fits_std_set);
        // without the online list, the mask as listed
        let dir = lists("0-3", "0-1", "0-3");
        std::fs::remove_file(dir.path.join("online")).unwrap();
        assert_eq!(listed(&dir).unwrap().count, 4);
    }

    #[test]
    fn kernel_cpu_lists_are_counted() {
        assert_eq!(count_list("0-3,8"), Some(5));
        assert_eq!(count_list("0"), Some(1));
        assert_eq!(count_list("0-63"), Some(64));
        assert_eq!(count_list(""), Some(0));
        assert_eq!(count_list("3-1"), None);
        assert_eq!(count_list("a"), None);
        assert_eq!(count_list("0,,1"), None);
    }

    #[test]
    fn a_thread_that_pins_itself_sees_fewer_cpus_than_its_process() {
        let process = process_affinity().expect("the process's mask");
        let first_cpu: usize =
            process.cpus.split([',', '-']).next().unwrap().parse().expect("a CPU id");
        let (thread, process_seen_from_thread) = std::thread::spawn(move || {
            // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays inside it.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(first_cpu, &mut set);
                assert_eq!(libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set), 0);
            }
            (affinity().unwrap(), process_affinity().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!((thread.count, thread.cpus), (1, first_cpu.to_string()));
        assert_eq!(process_seen_from_thread, process);
    }
}
